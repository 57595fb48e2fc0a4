"""Benchmark: a whole chat turn through ChatSession against the bare SSE decoder.

The input is one DuckDuckGo reply of ``--tokens`` token events (default 20,000, shaped like
the service's: a JSON object with role, message, created, id, action and model) and
``[DONE]``, cut into ``--chunk``-byte network reads (default 1,500). Rows:

- ``SSEDecoder``: :class:`sansio_chat.SSEDecoder` alone, every event's data touched;
- ``SSEDecoder + json.loads``: the same plus ``json.loads`` of each event and the token
  text collected, the least a chat client must do;
- ``session (ddg)``: ``start_turn`` → chat request → ``receive_response_head`` →
  ``receive_data`` per chunk with ``next_event()`` drained after each → ``receive_eof`` →
  ``TurnComplete``, the committed conversation included (a pre-fetched token and
  challenge, so the turn is the one chat exchange; the real challenge solver runs once);
- ``session (darkai)``: the same turn for a DarkAI reply of as many text-chunks.

Target (issue 4): the DuckDuckGo session costs at most 2× ``SSEDecoder + json.loads``.
Every row must deliver the same reply text (checked before timing). Figures are the best
of ``--repeat`` runs. Run::

    nice python bench/bench_session.py
    nice python bench/bench_session.py --profile   # cProfile of the session row
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import json
import platform
import pstats
import sys
import time
from collections.abc import Callable

import sansio_chat
from sansio_chat import (
    NEED_DATA,
    Conversation,
    HttpRequest,
    Pacer,
    SSEDecoder,
    TokenEvent,
    TurnComplete,
    providers,
)
from sansio_chat.providers.ddg import DuckDuckGoState

_JS = (
    "(function(){const e=document.createElement('div');e.innerHTML='<p>bench <b>x</b></p>';"
    'return {server_hashes:["a","b"],client_hashes:[navigator.userAgent,(function()'
    "{return String(17 + e.innerHTML.length);})()],signals:{}};})();"
)
CHALLENGE = base64.b64encode(_JS.encode()).decode()
WORDS = ("Hello", " world", ",", " the", " quick", " brown", " fox", " é", " 😀", "\n", " jumps")


def ddg_reply(tokens: int) -> tuple[bytes, str]:
    """A DuckDuckGo reply body of ``tokens`` token events, and its text."""
    parts, text = [], []
    for i in range(tokens):
        word = WORDS[i % len(WORDS)]
        payload = {
            "role": "assistant",
            "message": word,
            "created": 1712840811713 + i,
            "id": "compl_7b9a1e2c4d5f60718293a4b5c6d7e8f9",
            "action": "success",
            "model": "gpt-4o-mini-2024-07-18",
        }
        parts.append(b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n")
        text.append(word)
    parts.append(b'data: {"role":"assistant","message":"","created":1,"action":"success"}\n\n')
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts), "".join(text)


def darkai_reply(tokens: int) -> tuple[bytes, str]:
    """A DarkAI reply body of ``tokens`` text-chunks, and its text."""
    parts, text = [], []
    for i in range(tokens):
        word = WORDS[i % len(WORDS)]
        payload = {"event": "text-chunk", "data": {"text": word}}
        parts.append(b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n")
        text.append(word)
    parts.append(b'data: {"event":"stream-end","data":{}}\n\n')
    return b"".join(parts), "".join(text)


def chunked(body: bytes, size: int) -> list[bytes]:
    """``body`` cut into ``size``-byte reads."""
    return [body[i : i + size] for i in range(0, len(body), size)]


# --- the rows -------------------------------------------------------------------------------


def run_decoder(chunks: list[bytes]) -> str:
    """The bare decoder; returns the concatenated data (as a check value)."""
    decoder = SSEDecoder()
    feed = decoder.feed
    total = 0
    for chunk in chunks:
        for event in feed(chunk):
            total += len(event.data)
    decoder.close()
    return str(total)


def run_decoder_json(chunks: list[bytes]) -> str:
    """The bare decoder plus ``json.loads`` of each event: the reply text."""
    decoder = SSEDecoder()
    feed = decoder.feed
    loads = json.loads
    text: list[str] = []
    for chunk in chunks:
        for event in feed(chunk):
            if event.data == "[DONE]":
                continue
            message = loads(event.data).get("message")
            if message:
                text.append(message)
    decoder.close()
    return "".join(text)


def _session_turn(provider: str, chunks: list[bytes]) -> str:
    clock = time.monotonic
    conversation = None
    if provider == "ddg":
        conversation = DuckDuckGoState(
            fe_version="serp_20250401_100419_ET-19d438eb199b2bf7c300",
            vqd="4-12345678901234567890123456789012345678",
            vqd_hash_1=CHALLENGE,
        ).store(Conversation(provider="ddg", model="gpt-4o-mini"))
    session = providers.get(provider).new_session(
        conversation=conversation, pacer=Pacer(min_interval=0.0, clock=clock)
    )
    session.start_turn("Tell me a long story.")
    request = session.next_step()
    assert isinstance(request, HttpRequest)
    session.receive_response_head(200, [("content-type", "text/event-stream")])
    text: list[str] = []
    next_event = session.next_event
    receive_data = session.receive_data
    for chunk in chunks:
        receive_data(chunk)
        while (event := next_event()) is not NEED_DATA:
            if type(event) is TokenEvent:
                text.append(event.text)
    session.receive_eof()
    while (event := next_event()) is not NEED_DATA:
        pass
    assert isinstance(session.next_step(), TurnComplete)
    reply = "".join(text)
    assert session.conversation.messages[-1].content == reply
    return reply


def run_session_ddg(chunks: list[bytes]) -> str:
    """A DuckDuckGo turn through the session; returns the reply text."""
    return _session_turn("ddg", chunks)


def run_session_darkai(chunks: list[bytes]) -> str:
    """A DarkAI turn through the session; returns the reply text."""
    return _session_turn("darkai", chunks)


def best_of(run: Callable[[list[bytes]], str], chunks: list[bytes], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run(chunks)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit status 1 when the session misses the 2× target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1_500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile the ddg session row")
    args = parser.parse_args(argv)

    ddg_body, ddg_text = ddg_reply(args.tokens)
    dark_body, dark_text = darkai_reply(args.tokens)
    ddg_chunks, dark_chunks = chunked(ddg_body, args.chunk), chunked(dark_body, args.chunk)

    assert run_decoder_json(ddg_chunks) == ddg_text
    assert run_session_ddg(ddg_chunks) == ddg_text
    assert run_session_darkai(dark_chunks) == dark_text

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            run_session_ddg(ddg_chunks)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0

    rows = [
        ("SSEDecoder", run_decoder, ddg_chunks, len(ddg_body)),
        ("SSEDecoder + json.loads", run_decoder_json, ddg_chunks, len(ddg_body)),
        ("session (ddg)", run_session_ddg, ddg_chunks, len(ddg_body)),
        ("session (darkai)", run_session_darkai, dark_chunks, len(dark_body)),
    ]
    times = {name: best_of(run, chunks, args.repeat) for name, run, chunks, _ in rows}
    baseline = times["SSEDecoder + json.loads"]
    print(
        f"sansio-chat {sansio_chat.__version__}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.machine()}"
    )
    print(
        f"{args.tokens:,} tokens, DDG body {len(ddg_body):,} bytes in {len(ddg_chunks):,} "
        f"chunks of {args.chunk:,} bytes; best of {args.repeat}"
    )
    print()
    print(f"| {'path':<24} | {'ms':>8} | {'tokens/s':>11} | {'MB/s':>7} | {'× decoder+json':>14} |")
    print(f"|{'-' * 26}|{'-' * 10}|{'-' * 13}|{'-' * 9}|{'-' * 16}|")
    for name, _, _, size in rows:
        seconds = times[name]
        print(
            f"| {name:<24} | {seconds * 1e3:8.2f} | {args.tokens / seconds:11,.0f} | "
            f"{size / seconds / 1e6:7.1f} | {seconds / baseline:14.2f} |"
        )
    ratio = times["session (ddg)"] / baseline
    verdict = "meets" if ratio <= 2.0 else "MISSES"
    print()
    print(f"session (ddg) / (SSEDecoder + json.loads) = {ratio:.2f} → {verdict} the 2× target")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
