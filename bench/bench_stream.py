"""Streaming overhead: AsyncChatClient beside plain httpx + httpx-sse on the same reply.

An emulator runs in its own process (so it does not share the GIL with the clients) and
streams a reply of ``--tokens`` words, one SSE event per write, over 127.0.0.1. Each run is
one whole turn, timed from the first request to the last token:

- ours: ``AsyncChatClient.ask()`` (the session does every exchange of the turn, solves the
  challenge, decodes SSE incrementally, builds events);
- baseline: the same exchanges by hand with httpx, the chat reply read with httpx-sse and
  ``json.loads`` per event (the challenge solved with the project's pure solver).

Reported: wall-clock time per turn (what a user waits; bounded below by how fast the
emulator writes) and the client process's CPU time per turn (what the client stack costs).

Usage: ``nice python bench/bench_stream.py [--tokens 20000] [--runs 7] [--backend asyncio]``.
"""

from __future__ import annotations

import argparse
import json
import re
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager

import anyio
import httpx
from httpx_sse import aconnect_sse
from sansio_chat.adapters.httpx import AsyncChatClient, aiter_turn

from sansio_chat import HttpRequest, Pacer, TokenEvent, providers
from sansio_chat.providers.ddg_challenge import build_x_vqd_hash_1

Transport = httpx.AsyncBaseTransport | None
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/133.0.0.0 Safari/537.36"
)
SEC_CH_UA = '"Chromium";v="133", "Not_A Brand";v="8"'
# Built once for the baseline too: loading the CA store (~0.1 s) is not streaming work.
TLS = ssl.create_default_context()


@contextmanager
def emulator(*options: str) -> Iterator[str]:
    """Run ``sansio-chat emulator`` in a child process; yield its base URL."""
    command = [sys.executable, "-m", "sansio_chat.adapters.cli", "emulator", "--port", "0"]
    child = subprocess.Popen([*command, *options], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        found = re.search(r"http://[\d.]+:\d+", child.stdout.readline())
        assert found, "the emulator did not start"
        yield found.group(0)
    finally:
        child.terminate()
        child.wait(10)


def _http(transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=60, verify=TLS, transport=transport)


async def ours(base_url: str, provider: str, transport: Transport = None) -> str:
    http = _http(transport) if transport else None  # None: the client's own
    options = {"base_url": base_url, "min_interval": 0, "http": http}
    async with AsyncChatClient(provider, **options) as client:  # type: ignore[arg-type]
        return await client.ask("benchmark")


async def ours_driver(base_url: str, provider: str, transport: Transport = None) -> str:
    session = providers.get(provider).new_session(base_url=base_url, pacer=Pacer(0))
    async with _http(transport) as http:
        events = aiter_turn(session, http, "benchmark")
        return "".join([e.text async for e in events if isinstance(e, TokenEvent)])


async def baseline_ddg(base_url: str, provider: str, transport: Transport = None) -> str:
    browser = {"user-agent": UA, "sec-ch-ua": SEC_CH_UA}
    async with _http(transport) as http:
        page = (await http.get(f"{base_url}/?q=DuckDuckGo+AI+Chat&ia=chat&duckai=1")).text
        markers = [
            re.search(name + r'="([^"]+)"', page)
            for name in ("__DDG_BE_VERSION__", "__DDG_FE_CHAT_HASH__")
        ]
        fe_version = "-".join(m.group(1) for m in markers if m)
        status = await http.get(
            f"{base_url}/duckchat/v1/status",
            headers={**browser, "x-vqd-accept": "1", "cache-control": "no-store"},
        )
        headers = {
            **browser,
            "accept": "text/event-stream",
            "x-vqd-4": status.headers["x-vqd-4"],
            "x-vqd-hash-1": build_x_vqd_hash_1(status.headers["x-vqd-hash-1"], browser),
            "x-fe-version": fe_version,
        }
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "benchmark"}]}
        parts: list[str] = []
        url = f"{base_url}/duckchat/v1/chat"
        async with aconnect_sse(http, "POST", url, headers=headers, json=body) as source:
            async for event in source.aiter_sse():
                if event.data.startswith("[DONE]"):
                    break
                message = json.loads(event.data).get("message")
                if message:
                    parts.append(message)
        return "".join(parts)


async def baseline_darkai(base_url: str, provider: str, transport: Transport = None) -> str:
    parts: list[str] = []
    async with _http(transport) as http:
        body = {"query": "benchmark", "model": "llama-3-70b"}
        headers = {"accept": "text/event-stream", "user-agent": UA}
        url = f"{base_url}/chat"
        async with aconnect_sse(http, "POST", url, headers=headers, json=body) as source:
            async for event in source.aiter_sse():
                payload = json.loads(event.data)
                if payload.get("event") == "text-chunk":
                    parts.append(payload["data"]["text"])
                elif payload.get("event") == "stream-end":
                    break
    return "".join(parts)


Runner = Callable[[str, str, Transport], Awaitable[str]]
Reply = tuple[int, list[tuple[str, str]], list[bytes]]


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


class Recorder(httpx.AsyncBaseTransport):
    """A real transport that keeps each reply (by path) as the chunks the socket gave."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(verify=TLS)
        self.replies: dict[str, Reply] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        chunks = [chunk async for chunk in response.stream]  # type: ignore[union-attr]
        await response.aclose()
        framing = ("content-length", "transfer-encoding")
        headers = [(k, v) for k, v in response.headers.multi_items() if k not in framing]
        self.replies[request.url.path] = (response.status_code, headers, chunks)
        return httpx.Response(response.status_code, headers=headers, stream=_Chunks(chunks))

    def replay(self) -> httpx.MockTransport:
        """A transport that answers each path with its recorded reply, in the same chunks."""

        def answer(request: httpx.Request) -> httpx.Response:
            status, headers, chunks = self.replies[request.url.path]
            return httpx.Response(status, headers=headers, stream=_Chunks(chunks))

        return httpx.MockTransport(answer)


def session_only(base_url: str, provider: str, replies: dict[str, Reply]) -> str:
    """The session alone on the recorded replies: no httpx, no event loop."""
    session = providers.get(provider).new_session(base_url=base_url, pacer=Pacer(0))
    parts: list[str] = []
    session.start_turn("benchmark")
    while isinstance(step := session.next_step(), HttpRequest):
        status, headers, chunks = replies[httpx.URL(step.url).path]
        session.receive_response_head(status, headers)
        for chunk in chunks:
            session.receive_data(chunk)
            parts += [e.text for e in session.events() if isinstance(e, TokenEvent)]
        session.receive_eof()
        parts += [e.text for e in session.events() if isinstance(e, TokenEvent)]
    return "".join(parts)


def best_cpu(run: Callable[[], object], times: int) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def _replayed(args: argparse.Namespace, base_url: str, provider: str, baseline: Runner) -> None:
    recorder = Recorder()
    expected = anyio.run(ours, base_url, provider, recorder, backend=args.backend)
    assert session_only(base_url, provider, recorder.replies) == expected
    replay = recorder.replay()

    def over_httpx(run: Runner) -> Callable[[], object]:
        return lambda: anyio.run(run, base_url, provider, replay, backend=args.backend)

    rows: list[tuple[str, Callable[[], object]]] = [
        ("httpx + httpx-sse + json.loads", over_httpx(baseline)),
        ("session alone (no httpx)", lambda: session_only(base_url, provider, recorder.replies)),
        ("httpx + session (aiter_turn)", over_httpx(ours_driver)),
        ("httpx + session + AsyncChatClient", over_httpx(ours)),
    ]
    base = 0.0
    for name, run in rows:
        seconds = best_cpu(run, args.runs)
        base = base or seconds
        print(f"| {provider} | {name} | {seconds:.3f} | {seconds / base:.2f}× |")


def breakdown(args: argparse.Namespace, base_url: str) -> None:
    """Client CPU per reply, replayed from memory in the same chunks: no sockets, no server."""
    print()
    print(
        f"| provider ({args.backend}, replayed) | layers | CPU s / reply, best of {args.runs} ",
        end="",
    )
    print("| ratio |\n|---|---|---:|---:|")
    for provider, baseline in (("ddg", baseline_ddg), ("darkai", baseline_darkai)):
        _replayed(args, base_url, provider, baseline)


async def measure(run: Runner, base_url: str, provider: str) -> tuple[float, float, str]:
    """Wall-clock and client-process CPU seconds of one turn, and its text."""
    wall, cpu = time.perf_counter(), time.process_time()
    text = await run(base_url, provider, None)
    return time.perf_counter() - wall, time.process_time() - cpu, text


async def main_async(args: argparse.Namespace, base_url: str) -> None:
    print(
        f"| provider ({args.backend}) | client | wall s / turn | tokens/s "
        "| client CPU s / turn | wall ratio | CPU ratio |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for provider, baseline in (("ddg", baseline_ddg), ("darkai", baseline_darkai)):
        await ours(base_url, provider)  # warm up both paths (imports, first connection)
        await baseline(base_url, provider)
        results: dict[str, list[tuple[float, float, str]]] = {"ours": [], "base": []}
        for _ in range(args.runs):  # interleaved, so load changes hit both alike
            results["ours"].append(await measure(ours, base_url, provider))
            results["base"].append(await measure(baseline, base_url, provider))
        assert results["ours"][-1][2] == results["base"][-1][2], "different replies read"
        medians = {
            key: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
            for key, rows in results.items()
        }
        base_wall, base_cpu = medians["base"]
        for key, name in (("base", "httpx + httpx-sse"), ("ours", "AsyncChatClient")):
            wall, cpu = medians[key]
            print(
                f"| {provider} | {name} | {wall:.3f} | {args.tokens / wall:,.0f} | {cpu:.3f} "
                f"| {wall / base_wall:.2f}× | {cpu / base_cpu:.2f}× |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args()
    with emulator("--seed", "1", "--reply-tokens", str(args.tokens)) as base_url:
        anyio.run(main_async, args, base_url, backend=args.backend)
        breakdown(args, base_url)


if __name__ == "__main__":
    main()
