"""The gateway under load, beside the direct client: req/s, TTFT p50/p99, CPU per request.

An emulator runs in a child process (``--min-interval 0`` on the gateway; the emulator never
paces). For each ``--max-concurrency`` value a real ``sansio-chat serve`` process is started
against it and ``--workers`` tasks of this process send ``--requests`` OpenAI-style streaming
completions each, one after another (each a new conversation; each worker has its own HTTP
connection). TTFT is the time from sending a request to its first content chunk. In the same
run, the same load goes through ``AsyncChatClient`` directly (one client per conversation,
its default), against the same emulator. CPU per request is given for each process: the
serving one (the gateway; for the direct row, this process, which there is the client), the
load generator (this process, for the gateway rows) and the emulator, and their sum: on a
machine with N cores, N divided by that sum bounds the requests per second.

The gateway rows' load comes from ``--load``: ``raw`` (default), a lean generator (one
keep-alive socket per worker, a prebuilt request, a byte scan for the first token and the
end of the chunked body), so that the load generator's own CPU does not crowd the gateway on
a small machine; ``httpx`` reads the stream as an OpenAI client would (SSE lines, JSON).

Usage: ``nice python bench/bench_gateway.py [--workers 200] [--requests 3] [--caps 4 200]
[--load raw httpx]``.
"""

from __future__ import annotations

import argparse
import json
import ssl
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
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )  # its access lines are still written, to /dev/null
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        url = next((word for word in line.split() if word.startswith("http://")), None)
        assert url, f"the gateway did not start: {line!r}"
        yield url.rstrip("/").removesuffix("/v1"), child.pid
    finally:
        child.terminate()
        child.wait(10)


_BODY = {
    "model": "ddg/gpt-4o-mini",
    "stream": True,
    "messages": [{"role": "user", "content": "question"}],
}


_TLS = ssl.create_default_context()


async def gateway_worker(url: str, requests: int, out: Results) -> None:
    """Requests through httpx, reading SSE lines and parsing JSON until the first token."""
    body = _BODY
    timeout = httpx.Timeout(600)
    # One TLS context for every worker: httpx builds one per client otherwise (about 16 ms
    # of CPU each, 3 s for 200 workers, all in the first requests' TTFT), though the URL is
    # plain http.
    async with httpx.AsyncClient(base_url=url, timeout=timeout, verify=_TLS) as http:
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


_FIRST_TOKEN = b'"delta":{"content":"'
_LAST_CHUNK = b"\r\n0\r\n\r\n"


async def raw_gateway_worker(url: str, requests: int, out: Results) -> None:
    """A lean load generator: one keep-alive connection, a prebuilt request, and a byte scan
    for the first token event and the chunked body's end (no HTTP client, no JSON)."""
    host, port = httpx.URL(url).host, httpx.URL(url).port or 80
    body = json.dumps(_BODY).encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}:{port}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    try:
        async with await anyio.connect_tcp(host, port) as stream:
            for _ in range(requests):
                start = anyio.current_time()
                first: float | None = None
                await stream.send(request)
                seen = b""
                while True:
                    seen += await stream.receive(65536)
                    if first is None and _FIRST_TOKEN in seen:
                        first = anyio.current_time() - start
                    if seen.endswith(_LAST_CHUNK):
                        break
                if not seen.startswith(b"HTTP/1.1 200"):
                    out.errors.append(seen[:80].decode("latin-1"))
                    return
                if first is not None:
                    out.first_token.append(first)
                    out.done += 1
    except Exception as error:  # counted and shown, never hidden
        out.errors.append(f"{type(error).__name__}: {error}")


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


def row(name: str, results: Results, wall: float, cpu: dict[str, float]) -> str:
    """One table row; ``cpu`` holds the CPU seconds of ``server``, ``client``, ``emulator``."""
    ttft = results.first_token or [float("nan")]
    p50, p99 = statistics.median(ttft), percentile(ttft, 0.99)
    done = max(results.done, 1)
    per = {key: seconds / done * 1000 for key, seconds in cpu.items()}
    return (
        f"| {name} | {results.done} | {wall:.2f} | {results.done / wall:.1f} "
        f"| {p50 * 1000:.0f} | {p99 * 1000:.0f} | {p99 / p50:.2f} | {per['server']:.1f} "
        f"| {per['client']:.1f} | {per['emulator']:.1f} | {sum(per.values()):.1f} "
        f"| {len(results.errors)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--caps", type=int, nargs="+", default=[4, 200])
    parser.add_argument("--reply-tokens", type=int, default=50)
    parser.add_argument(
        "--load",
        choices=["raw", "httpx"],
        nargs="+",
        default=["raw"],
        help="the load generator(s) for the gateway rows: raw (lean sockets) or httpx",
    )
    args = parser.parse_args()
    print(
        "| path | requests | wall s | req/s | TTFT p50 ms | TTFT p99 ms | p99/p50 "
        "| server CPU ms/req | load CPU ms/req | emulator CPU ms/req | all CPU ms/req | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with emulator("--seed", "1", "--reply-tokens", str(args.reply_tokens)) as (base_url, epid):
        errors: list[str] = []
        before = (time.process_time(), cpu_seconds(epid))
        results, wall = anyio.run(load, direct_worker, base_url, args.workers, args.requests)
        cpu = {
            "server": time.process_time() - before[0],  # the direct client is the server
            "client": 0.0,
            "emulator": cpu_seconds(epid) - before[1],
        }
        print(row("direct AsyncChatClient", results, wall, cpu))
        errors += results.errors
        workers = {"raw": raw_gateway_worker, "httpx": gateway_worker}
        for generator in args.load:
            for cap in args.caps:
                with gateway(base_url, cap) as (url, pid):
                    start = (cpu_seconds(pid), time.process_time(), cpu_seconds(epid))
                    worker = workers[generator]
                    results, wall = anyio.run(load, worker, url, args.workers, args.requests)
                    cpu = {
                        "server": cpu_seconds(pid) - start[0],
                        "client": time.process_time() - start[1],
                        "emulator": cpu_seconds(epid) - start[2],
                    }
                name = f"gateway --max-concurrency {cap} ({generator} load)"
                print(row(name, results, wall, cpu))
                errors += results.errors
        for error in sorted(set(errors))[:5]:
            print(f"  error: {error}")


if __name__ == "__main__":
    main()
