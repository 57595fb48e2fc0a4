"""Time to first token of a client at default settings, turn by turn, with the requests each
turn sends.

An emulator runs in a child process (``--dialect`` each of ``--dialects``). Each run makes a
fresh ``AsyncChatClient`` with its defaults (``min_interval`` 1.5 s, the V8 solver, the
dialect discovered) and times three turns: the first turn of a cold client, a later turn of
the same conversation, and the first turn of a new conversation on the same (warm) client.
Between turns the benchmark waits ``--think`` seconds, as a user reading the reply would
(default 2 s, longer than the pacing interval, so no turn waits on pacing; ``--think 0``
shows what pacing adds when turns follow each other at once). TTFT counts from the call to
the first token. Requests are counted with an httpx event hook, by path.

Usage: ``python bench/bench_ttft.py [--runs 5] [--dialects 2026 2025-03] [--think 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from typing import Any

import anyio
import httpx
from bench_concurrency import emulator
from sansio_chat.adapters.httpx import AsyncChatClient, async_http_client

from sansio_chat import TokenEvent

TURNS = (
    "first turn, cold client",
    "later turn, same conversation",
    "new conversation, warm client",
)


def kind(url: httpx.URL) -> str:
    path = url.path.rstrip("/").rsplit("/", 1)[-1]
    return path if path in ("status", "chat", "models") else "page"


async def one_run(base_url: str, think: float) -> list[tuple[float, Counter[str]]]:
    """The three turns of one fresh client: (TTFT s, requests by kind) each."""
    sent: Counter[str] = Counter()

    async def count(request: httpx.Request) -> None:
        sent[kind(request.url)] += 1

    http = async_http_client()
    http.event_hooks = {"request": [count]}
    out: list[tuple[float, Counter[str]]] = []
    async with http, AsyncChatClient(base_url=base_url, http=http) as client:
        for index in range(len(TURNS)):
            if index == 2:
                client.new_conversation()
            if index:
                await anyio.sleep(think)
            sent.clear()
            start = time.perf_counter()
            first = float("nan")
            async with client.events(f"question {index}") as events:
                async for event in events:
                    if first != first and isinstance(event, TokenEvent):
                        first = time.perf_counter() - start
            out.append((first, Counter(sent)))
    return out


def describe(requests: Counter[str]) -> str:
    order = ("page", "status", "chat", "models")
    return " + ".join(f"{requests[k]} {k}" for k in order if requests[k]) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dialects", nargs="+", default=["2026", "2025-03"])
    parser.add_argument("--think", type=float, default=2.0)
    args = parser.parse_args()
    print(f"think time between turns: {args.think:g} s; median of {args.runs} runs")
    print("| dialect | turn | TTFT p50 ms | TTFT min ms | TTFT max ms | requests per turn |")
    print("|---|---|---:|---:|---:|---|")
    for dialect in args.dialects:
        options: list[Any] = ["--dialect", dialect, "--seed", "1", "--reply-tokens", "20"]
        with emulator(*options) as (base_url, _):
            runs = [anyio.run(one_run, base_url, args.think) for _ in range(args.runs)]
        for index, name in enumerate(TURNS):
            ttft = [run[index][0] * 1000 for run in runs]
            shapes = {describe(run[index][1]) for run in runs}
            print(
                f"| {dialect} | {name} | {statistics.median(ttft):.0f} | {min(ttft):.0f} "
                f"| {max(ttft):.0f} | {' / '.join(sorted(shapes))} |"
            )


if __name__ == "__main__":
    main()
