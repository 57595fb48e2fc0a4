"""Benchmark: sansio_chat.SSEDecoder against the SSE parsers Python programs use today.

Every decoder gets the same bytes in the same chunks and must produce the same event data
(checked before timing). Peers, all from PyPI:

- httpx-sse: ``SSELineDecoder`` + ``SSEDecoder``, fed text from an incremental UTF-8 decoder
  (what ``EventSource.iter_sse()`` does on top of ``httpx.Response.iter_text()``);
- sseclient-py: ``SSEClient(chunks).events()``;
- openai: ``openai._streaming.SSEDecoder().iter_bytes(chunks)``;
- anthropic: ``anthropic._streaming.SSEDecoder().iter_bytes(chunks)``.

Ours is measured two ways. ``ours`` is one ``SSEDecoder.feed()`` call per chunk: the path
every driver takes, so ``ours/peer`` is the headline ratio. The drivers (``httpx_turn.py`` on
``httpx.Response.iter_bytes()``/``aiter_bytes()``, ``h11.py`` on ``Link.read()``, one
``h11.Data`` per socket read of up to 64 KiB) hand each network chunk to
``ChatSession.receive_data()`` and drain ``session.events()`` right after it, so the session
calls ``feed()`` once per chunk as it arrived. ``ours iter`` is
``SSEDecoder.iter_events(chunks)``, chunks in and events out as the peers are driven (it skips
the call for a chunk that ends no line); no driver uses it.

Each consumer does the same thing with every event (adds up ``len(event.data)``). The "floor"
is the least any line-based parser must do on the same buffer: ``bytes.split`` on the line
break and ``startswith(b"data: ")`` on every line, nothing built. Each decoder's figure is the
best of ``--repeat`` interleaved rounds. The floor moves more than the decoders from one run to
the next, so it is interleaved more finely: in every round it runs once after each decoder's
run, and the median of all those runs is kept (``rounds × decoders`` samples, spread over the
whole row). The floor share ``ours/floor`` pairs each run of ours with the floor run right
after it and keeps the median of those ratios, so a load that changes between rounds or rows
moves both halves of a pair alike. ``--baseline FILE`` loads another version of ``_sse.py``
(e.g. ``git show HEAD~1:src/sansio_chat/_sse.py``) and times it in the same rounds, as
``base`` and ``base iter``. Run::

    nice python bench/bench_sse.py            # the full table (a few minutes)
    nice python bench/bench_sse.py --quick    # smaller inputs, a smoke run
    nice python bench/bench_sse.py --baseline /tmp/old_sse.py   # before/after in one process
    nice python bench/bench_sse.py --call-cost  # what a feed() call per tiny chunk costs
"""

from __future__ import annotations

import argparse
import codecs
import gc
import importlib.metadata
import importlib.util
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anthropic
import httpx_sse
import openai
from anthropic._streaming import SSEDecoder as AnthropicDecoder
from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder as HttpxSSELineDecoder
from openai._streaming import SSEDecoder as OpenAIDecoder
from sseclient import SSEClient

import sansio_chat
from sansio_chat import SSEDecoder

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is an optional extra
    orjson = None

Chunks = list[bytes]
Events = Iterable[Any]


# --- the decoders, each driven the way its library drives it -------------------------------


BASELINE: Any = None  # the decoder class of --baseline, when given


def load_baseline(path: str) -> Any:
    """The ``SSEDecoder`` of another copy of ``_sse.py``, imported inside this package (it
    imports ``._errors``)."""
    spec = importlib.util.spec_from_file_location("sansio_chat._sse_baseline", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.SSEDecoder


def run_base_loop(chunks: Chunks) -> int:
    decoder = BASELINE()
    feed = decoder.feed
    total = 0
    for chunk in chunks:
        for event in feed(chunk):
            total += len(event.data)
    decoder.close()
    return total


def run_base_iter(chunks: Chunks) -> int:
    total = 0
    for event in BASELINE().iter_events(chunks):
        total += len(event.data)
    return total


def run_ours(chunks: Chunks) -> Iterator[Any]:
    decoder = SSEDecoder()
    feed = decoder.feed
    for chunk in chunks:
        yield from feed(chunk)
    yield from decoder.close()


def run_ours_loop(chunks: Chunks) -> int:
    """Our decoder without a generator in between: how a sans-IO caller uses it."""
    decoder = SSEDecoder()
    feed = decoder.feed
    total = 0
    for chunk in chunks:
        for event in feed(chunk):
            total += len(event.data)
    decoder.close()
    return total


def run_ours_iter(chunks: Chunks) -> int:
    """Our decoder through ``iter_events``: the chunks in, the events out, as every peer is
    driven (one call per chunk is the cost ``iter_events`` saves)."""
    total = 0
    for event in SSEDecoder().iter_events(chunks):
        total += len(event.data)
    return total


def run_httpx_sse(chunks: Chunks) -> Iterator[Any]:
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = HttpxSSELineDecoder()
    decoder = HttpxSSEDecoder()
    for chunk in chunks:
        for line in lines.decode(text_decoder.decode(chunk)):
            sse = decoder.decode(line.rstrip("\n"))
            if sse is not None:
                yield sse
    for line in lines.decode(text_decoder.decode(b"", True)) + lines.flush():
        sse = decoder.decode(line.rstrip("\n"))
        if sse is not None:
            yield sse


def run_sseclient(chunks: Chunks) -> Iterator[Any]:
    return SSEClient(iter(chunks)).events()  # type: ignore[no-any-return]


def run_openai(chunks: Chunks) -> Iterator[Any]:
    return OpenAIDecoder().iter_bytes(iter(chunks))


def run_anthropic(chunks: Chunks) -> Iterator[Any]:
    return AnthropicDecoder().iter_bytes(iter(chunks))


PEERS: dict[str, Callable[[Chunks], Iterator[Any]]] = {
    "httpx-sse": run_httpx_sse,
    "sseclient-py": run_sseclient,
    "openai": run_openai,
    "anthropic": run_anthropic,
}


def consume(events: Events) -> int:
    total = 0
    for event in events:
        total += len(event.data)
    return total


def floor(buffer: bytes, newline: bytes) -> int:
    count = 0
    for line in buffer.split(newline):
        if line.startswith(b"data: "):
            count += 1
    return count


# --- inputs ----------------------------------------------------------------------------------


def chat_reply(events: int, newline: bytes) -> bytes:
    """A streamed chat reply in DuckDuckGo's shape, one short token per event."""
    words = ["Hello", " there", ",", " how", " can", " I", " help", " you", " today", "?"]
    parts = []
    for i in range(events):
        payload = {
            "role": "assistant",
            "message": words[i % len(words)],
            "created": 1_732_000_000 + i // 50,
            "id": "chatcmpl-7f3e1c2b-9a4d-4e8b-b1c6-5d2a0f9e8c71",
            "action": "success",
            "model": "gpt-4o-mini-2024-07-18",
        }
        line = "data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        parts.append(line.encode() + newline + newline)
    parts.append(b"data: [DONE]" + newline + newline)
    return b"".join(parts)


def big_events(events: int, size: int) -> bytes:
    body = (b"0123456789abcdef" * (size // 16 + 1))[: size - len(b"data: ") - 2]
    return (b"data: " + body + b"\n\n") * events


def one_huge_event(size: int) -> bytes:
    """One event whose line is exactly ``size`` bytes, the default line limit for 1 MiB."""
    return b"data: " + b"x" * (size - len(b"data: ")) + b"\n\n"


def chunked(buffer: bytes, size: int) -> Chunks:
    return [buffer[i : i + size] for i in range(0, len(buffer), size)]


# --- timing ----------------------------------------------------------------------------------


def time_once(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    return min(time_once(fn) for _ in range(repeat))


def interleaved(
    repeat: int,
    fns: dict[str, tuple[int, Callable[[], object]]],
    between: tuple[str, Callable[[], object]] | None = None,
) -> dict[str, list[float]]:
    """Every time of each function, running them in turns so that a busy spell of the machine
    hits all of them alike. ``fns`` maps a name to (its number of runs per round, 0 for one
    run in the first round only, the function). ``between`` (a name, a function) runs once
    right after every run of the others, so its samples are spread over all the rounds; its
    times are under its name, and those that followed ``name`` under ``"<its name> after
    <name>"`` as well (pairs taken seconds apart, under the same load)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    if between is not None:
        times[between[0]] = []
        for name in fns:
            times[f"{between[0]} after {name}"] = []
    for round_ in range(repeat):
        for name, (runs, fn) in fns.items():
            for _ in range(runs or (round_ == 0)):
                times[name].append(time_once(fn))
                if between is not None:
                    sample = time_once(between[1])
                    times[between[0]].append(sample)
                    times[f"{between[0]} after {name}"].append(sample)
    return times


def check_same(name: str, chunks: Chunks, expected: list[str]) -> None:
    runner = PEERS.get(name, run_ours)
    got = [event.data for event in runner(chunks)]
    if got != expected:
        raise SystemExit(f"{name} decoded different events ({len(got)} vs {len(expected)})")


def row(
    label: str,
    buffer: bytes,
    chunk_size: int,
    newline: bytes,
    repeat: int,
    slow_peer_repeat: int,
) -> dict[str, Any]:
    chunks = chunked(buffer, chunk_size)
    expected = [event.data for event in run_ours(chunks)]
    n_events = len(expected)
    result: dict[str, Any] = {"label": label, "events": n_events, "bytes": len(buffer)}
    for name in PEERS:
        check_same(name, chunks, expected)
    if run_ours_iter(chunks) != sum(map(len, expected)):
        raise SystemExit("iter_events decoded different events")
    # The quadratic peers on the 1 MiB event take seconds: they run in the first round only.
    reps = 0 if n_events == 1 and slow_peer_repeat == 1 else 1
    fns: dict[str, tuple[int, Callable[[], object]]] = {
        "ours": (1, lambda: run_ours_loop(chunks)),
        "ours iter": (1, lambda: run_ours_iter(chunks)),
    }
    if BASELINE is not None:
        if run_base_loop(chunks) != sum(map(len, expected)):
            raise SystemExit("the baseline decoded different events")
        fns["base"] = (1, lambda: run_base_loop(chunks))
        fns["base iter"] = (1, lambda: run_base_iter(chunks))
    for name, runner in PEERS.items():
        fns[name] = (reps, lambda runner=runner: consume(runner(chunks)))
    times = interleaved(repeat, fns, ("floor", lambda: floor(buffer, newline)))
    timings = {name: min(values) for name, values in times.items()}
    timings["floor"] = statistics.median(times["floor"])
    result["timings"] = timings
    result["floor_runs"] = len(times["floor"])
    # The floor share: each run of ours against the floor run right after it, median.
    result["ours/floor"] = statistics.median(
        floor_time / ours_time
        for ours_time, floor_time in zip(times["ours"], times["floor after ours"], strict=True)
    )
    return result


def e2e_rows(buffer: bytes, chunk_size: int, repeat: int) -> list[tuple[str, str, float]]:
    """Bytes to token strings: decode SSE, parse each JSON payload, pick the token."""
    chunks = chunked(buffer, chunk_size)
    loaders: dict[str, Callable[[str], Any]] = {"json": json.loads}
    if orjson is not None:
        loaders["orjson"] = orjson.loads
    rows = []
    for loader_name, loads in loaders.items():

        def ours(loads: Callable[[str], Any] = loads) -> list[str]:
            decoder = SSEDecoder()
            tokens = []
            for chunk in chunks:
                for event in decoder.feed(chunk):
                    if event.data != "[DONE]":
                        tokens.append(loads(event.data)["message"])
            return tokens

        def peer(
            runner: Callable[[Chunks], Iterator[Any]], loads: Callable[[str], Any] = loads
        ) -> list[str]:
            tokens = []
            for event in runner(chunks):
                if event.data != "[DONE]":
                    tokens.append(loads(event.data)["message"])
            return tokens

        expected = ours()
        rows.append((loader_name, "ours", best_of(repeat, ours)))
        for name, runner in PEERS.items():
            if peer(runner) != expected:
                raise SystemExit(f"{name} decoded different tokens")
            rows.append((loader_name, name, best_of(repeat, lambda runner=runner: peer(runner))))
        rows.append((loader_name, "_tokens", float(len(expected))))
    return rows


def fmt_rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.2f}"


# --- --call-cost: what one feed() call per chunk costs before any decoding ------------------


class _CallCost:
    """Stand-ins for ``SSEDecoder.feed`` that show the cost of the drivers' path with tiny
    chunks: a call that does nothing, and a call that does only what a chunk with no line
    break needs (the type check, the CR and LF tests, the bound check, the append)."""

    __slots__ = ("_buf", "_buf_limit")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._buf_limit = 1024 * 1024

    def nothing(self, data: bytes) -> list[Any]:
        return []

    def no_line_end_path(self, data: bytes) -> list[Any]:
        if data.__class__ is not bytes:
            raise TypeError
        if 13 in data:
            pass
        elif 10 not in data:
            buf = self._buf
            if len(buf) + len(data) > self._buf_limit:
                raise ValueError
            buf += data
            return []
        self._buf.clear()  # a line ended: nothing decoded, nothing built
        return []


def _drive(feed: Callable[[bytes], list[Any]], chunks: Chunks) -> int:
    """``chunks`` through ``feed`` one call each, as :func:`run_ours_loop` drives ours."""
    total = 0
    for chunk in chunks:
        for event in feed(chunk):
            total += len(event.data)
    return total


def call_cost_row(chunks: Chunks, repeat: int) -> dict[str, float]:
    """Seconds per event of ours, the stand-ins and every peer on ``chunks``: the best of
    ``repeat`` interleaved rounds."""
    n_events = len(list(run_ours(chunks)))
    fns: dict[str, tuple[int, Callable[[], object]]] = {
        "ours": (1, lambda: run_ours_loop(chunks)),
        "empty call": (1, lambda: _drive(_CallCost().nothing, chunks)),
        "no-line-end path only": (1, lambda: _drive(_CallCost().no_line_end_path, chunks)),
    }
    for name, runner in PEERS.items():
        fns[name] = (1, lambda runner=runner: consume(runner(chunks)))
    times = interleaved(repeat, fns)
    return {name: min(values) / n_events for name, values in times.items()}


def call_cost(repeat: int) -> None:
    """Per event, on the small-chunk rows: the fastest peer, half of it (what 2× allows),
    ours, and the stand-ins above driven the same way as ours."""
    print("\nµs per event, one feed() call per chunk (best of the interleaved rounds)")
    names = ["fastest peer", "2× budget", "ours", "empty call", "no-line-end path only"]
    print(f"{'input / chunk':24}{'chunks/event':>14}" + "".join(f"{n:>23}" for n in names))
    for newline, nl_name in ((b"\n", "LF"), (b"\r\n", "CRLF")):
        reply = chat_reply(20_000, newline)
        for size in (7, 64):
            chunks = chunked(reply, size)
            per_event = call_cost_row(chunks, repeat)
            us = {name: value * 1e6 for name, value in per_event.items()}
            us["fastest peer"] = min(us[name] for name in PEERS)
            us["2× budget"] = us["fastest peer"] / 2
            print(
                f"{nl_name + f' / {size} B':24}{len(chunks) / 20_001:>14.1f}"
                + "".join(f"{us[n]:>23.2f}" for n in names)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, one repeat")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best is kept)")
    parser.add_argument("--baseline", metavar="FILE", help="another _sse.py to time alongside")
    parser.add_argument(
        "--call-cost",
        action="store_true",
        help="only the 7 B and 64 B rows: ours beside an empty feed() and the no-line-end path",
    )
    args = parser.parse_args()
    if args.call_cost:
        call_cost(args.repeat)
        return
    global BASELINE
    if args.baseline:
        BASELINE = load_baseline(args.baseline)
    n_chat = 2_000 if args.quick else 20_000
    n_big = 200 if args.quick else 2_000
    repeat = 1 if args.quick else args.repeat
    slow_repeat = 1 if args.quick else 2

    versions = {
        "sansio-chat": sansio_chat.__version__,
        "httpx-sse": getattr(httpx_sse, "__version__", "?"),
        "sseclient-py": importlib.metadata.version("sseclient-py"),
        "openai": openai.__version__,
        "anthropic": anthropic.__version__,
        "orjson": orjson.__version__ if orjson is not None else "absent",
    }
    print(
        f"Python {platform.python_version()} on {platform.machine()}; "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
    )
    specs = []
    for newline, nl_name in ((b"\n", "LF"), (b"\r\n", "CRLF")):
        reply = chat_reply(n_chat, newline)
        for size in (7, 64, 1500, 16 * 1024):
            specs.append((f"chat {n_chat} ev {nl_name} / {size} B", reply, size, newline))
    specs.append((f"{n_big} × 8 KiB events / 16 KiB", big_events(n_big, 8192), 16384, b"\n"))
    specs.append(("1 × 1 MiB event / 64 B", one_huge_event(1024 * 1024), 64, b"\n"))

    base = ["base", "base iter"] if BASELINE is not None else []
    names = ["ours", "ours iter", *base, *PEERS, "floor"]
    header = f"{'input / chunk':32}" + "".join(f"{n:>13}" for n in names)
    header += f"{'ours/peer':>11}{'iter/peer':>11}{'ours/floor':>12}{'floor runs':>12}"
    if base:
        header += f"{'ours/base':>11}{'iter/base':>11}"
    print("\nevents per second (higher is better); ratios of events/s to the fastest peer")
    print(
        "ours: one feed() call per chunk, the drivers' path (ours/peer is the headline);"
        " ours iter: SSEDecoder.iter_events(chunks)"
    )
    print(
        f"each decoder the best of {repeat} interleaved rounds; the floor (bytes.split +"
        " startswith) run once after every decoder run of every round, median kept;"
        " ours/floor the median over rounds of (floor run right after ours) / (that ours run)"
    )
    print(header)
    print("-" * len(header))
    for label, buffer, size, newline in specs:
        result = row(label, buffer, size, newline, repeat, slow_repeat)
        events = result["events"]
        t = result["timings"]
        rates = {n: events / t[n] for n in names}
        best_peer = max(rates[n] for n in PEERS)
        line = f"{label:32}" + "".join(f"{fmt_rate(rates[n]):>13}" for n in names)
        line += f"{rates['ours'] / best_peer:>10.2f}×{rates['ours iter'] / best_peer:>10.2f}×"
        line += f"{result['ours/floor']:>12.0%}{result['floor_runs']:>12}"
        if base:
            line += f"{rates['ours'] / rates['base']:>10.2f}×"
            line += f"{rates['ours iter'] / rates['base iter']:>10.2f}×"
        print(line, flush=True)
        if events == 1:
            mb = result["bytes"] / 1e6
            print(
                f"{'   (MB/s)':32}"
                + "".join(f"{mb / t[n]:>13.1f}" for n in names)
                + "   (1 MiB in 64 B chunks: the quadratic peers copy the event per chunk)"
            )

    print("\nend to end, bytes → token strings (chat reply, LF, 1500 B chunks), tokens/s")
    rows = e2e_rows(chat_reply(n_chat, b"\n"), 1500, repeat)
    by_loader: dict[str, dict[str, float]] = {}
    for loader, name, value in rows:
        by_loader.setdefault(loader, {})[name] = value
    columns = ["ours", *PEERS]
    print(f"{'json library':32}" + "".join(f"{n:>13}" for n in columns) + f"{'ours/best peer':>16}")
    for loader, values in by_loader.items():
        tokens = values.pop("_tokens")
        rates = {n: tokens / values[n] for n in values}
        best_peer = max(rates[n] for n in PEERS)
        print(
            f"{loader:32}"
            + "".join(f"{fmt_rate(rates[n]):>13}" for n in ["ours", *PEERS])
            + f"{rates['ours'] / best_peer:>15.2f}×"
        )
    print(f"\n(command: {' '.join([sys.executable.split('/')[-1], *sys.argv])})")


if __name__ == "__main__":
    main()
