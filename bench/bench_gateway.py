"""The gateway under load, beside the direct client: req/s, TTFT p50/p99, CPU per request.

An emulator runs in a child process (``--min-interval 0`` on the gateway; the emulator never
paces). For each ``--max-concurrency`` value a real ``sansio-chat serve`` process is started
against it and ``--workers`` tasks of this process send ``--requests`` OpenAI-style streaming
completions each, one after another (each a new conversation; each worker has its own HTTP
connection). TTFT is the time from sending a request to its first content chunk. In the same
run, the same load goes through ``AsyncChatClient`` directly (one client per conversation,
its default), against the same emulator. CPU per request is the serving process's (the
gateway's; for the direct row, this process's, which there is the client).

Usage: ``nice python bench/bench_gateway.py [--workers 200] [--requests 3] [--caps 4 200]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio
import httpx
from bench_concurrency import cpu_seconds, emulator, percentile
from sansio_chat.adapters.httpx import AsyncChatClient, Timeouts

from sansio_chat import TokenEvent


@dataclass
class Results:
    first_token: list[float] = field(default_factory=list)
    done: int = 0
    errors: list[str] = field(default_factory=list)


@contextmanager
def gateway(base_url: str, cap: int) -> Iterator[tuple[str, int]]:
    """Run ``sansio-chat serve`` against ``base_url`` in a child process."""
    command = [
        *(sys.executable, "-m", "sansio_chat.adapters.cli", "serve", "--port", "0"),
        *("--base-url", base_url, "--min-interval", "0", "--max-concurrency", str(cap)),
        *("--queue-timeout", "600", "--timeout", "120"),
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        url = next((word for word in line.split() if word.startswith("http://")), None)
        assert url, f"the gateway did not start: {line!r}"
        yield url.rstrip("/").removesuffix("/v1"), child.pid
    finally:
        child.terminate()
        child.wait(10)


async def gateway_worker(url: str, requests: int, out: Results) -> None:
    body = {
        "model": "ddg/gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": "question"}],
    }
    timeout = httpx.Timeout(600)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as http:
        for _ in range(requests):
            start = anyio.current_time()
            first: float | None = None
            try:
                async with http.stream("POST", "/v1/chat/completions", json=body) as response:
                    if response.status_code != 200:
                        await response.aread()
                        out.errors.append(f"HTTP {response.status_code}: {response.text[:80]}")
                        return
                    async for line in response.aiter_lines():
                        if first is None and line.startswith("data: {"):
                            delta = json.loads(line[6:])["choices"][0]["delta"]
                            if delta.get("content"):
                                first = anyio.current_time() - start
            except Exception as error:  # counted and shown, never hidden
                out.errors.append(f"{type(error).__name__}: {error}")
                return
            if first is not None:
                out.first_token.append(first)
                out.done += 1


async def direct_worker(base_url: str, requests: int, out: Results) -> None:
    timeout = Timeouts(connect=120, read=120)
    for _ in range(requests):
        start = anyio.current_time()
        first: float | None = None
        try:
            client = AsyncChatClient(base_url=base_url, min_interval=0, timeout=timeout)
            async with client, client.events("question") as events:
                async for event in events:
                    if first is None and isinstance(event, TokenEvent):
                        first = anyio.current_time() - start
        except Exception as error:  # counted and shown, never hidden
            out.errors.append(f"{type(error).__name__}: {error}")
            return
        if first is not None:
            out.first_token.append(first)
            out.done += 1


async def load(worker: object, url: str, workers: int, requests: int) -> tuple[Results, float]:
    results = Results()
    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker, url, requests, results)  # type: ignore[arg-type]
    return results, time.perf_counter() - start


def row(name: str, results: Results, wall: float, cpu: float) -> str:
    ttft = results.first_token or [float("nan")]
    p50, p99 = statistics.median(ttft), percentile(ttft, 0.99)
    per_request = cpu / max(results.done, 1) * 1000
    return (
        f"| {name} | {results.done} | {wall:.2f} | {results.done / wall:.1f} "
        f"| {p50 * 1000:.0f} | {p99 * 1000:.0f} | {p99 / p50:.2f} | {per_request:.1f} "
        f"| {len(results.errors)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--caps", type=int, nargs="+", default=[4, 200])
    parser.add_argument("--reply-tokens", type=int, default=50)
    args = parser.parse_args()
    print(
        "| path | requests | wall s | req/s | TTFT p50 ms | TTFT p99 ms | p99/p50 "
        "| server CPU ms/req | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with emulator("--seed", "1", "--reply-tokens", str(args.reply_tokens)) as (base_url, _):
        errors: list[str] = []
        cpu = time.process_time()
        results, wall = anyio.run(load, direct_worker, base_url, args.workers, args.requests)
        print(row("direct AsyncChatClient", results, wall, time.process_time() - cpu))
        errors += results.errors
        for cap in args.caps:
            with gateway(base_url, cap) as (url, pid):
                cpu = cpu_seconds(pid)
                results, wall = anyio.run(load, gateway_worker, url, args.workers, args.requests)
                cpu = cpu_seconds(pid) - cpu
            print(row(f"gateway --max-concurrency {cap}", results, wall, cpu))
            errors += results.errors
        for error in sorted(set(errors))[:5]:
            print(f"  error: {error}")


if __name__ == "__main__":
    main()
