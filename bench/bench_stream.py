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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import anyio
import httpx
from httpx_sse import aconnect_sse
from sansio_chat.adapters.httpx import AsyncChatClient

from sansio_chat.providers.ddg_challenge import build_x_vqd_hash_1

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


async def ours(base_url: str, provider: str) -> str:
    async with AsyncChatClient(provider, base_url=base_url, min_interval=0) as client:
        return await client.ask("benchmark")


async def baseline_ddg(base_url: str, provider: str) -> str:
    browser = {"user-agent": UA, "sec-ch-ua": SEC_CH_UA}
    async with httpx.AsyncClient(timeout=60, verify=TLS) as http:
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


async def baseline_darkai(base_url: str, provider: str) -> str:
    parts: list[str] = []
    async with httpx.AsyncClient(timeout=60, verify=TLS) as http:
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


Runner = Callable[[str, str], Awaitable[str]]


async def measure(run: Runner, base_url: str, provider: str) -> tuple[float, float, str]:
    """Wall-clock and client-process CPU seconds of one turn, and its text."""
    wall, cpu = time.perf_counter(), time.process_time()
    text = await run(base_url, provider)
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


if __name__ == "__main__":
    main()
