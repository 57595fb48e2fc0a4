"""Many simultaneous conversations in one process: turns/s and time to first token.

An emulator runs in its own process on 127.0.0.1. This process starts ``--conversations``
AsyncChatClients at once (each with its own httpx client, as by default; ``--shared-pool``
gives them one pool; pacing off), each running ``--turns`` turns one after another; the
first turn of each also fetches the fe-version page and a status token and solves a
challenge. Run on asyncio, then on trio. The peak resident set size of this process is taken
over each backend's run (Linux ``VmHWM``, reset before it). Below the table: the first
turns' TTFT by the order the conversations started (each fifth's median and maximum), and
with ``--cpu-per-turn N`` this process's CPU from a turn's start to its first token, for the
first and the second turn, over N conversations run one at a time, and the CPU of the same
two whole turns in the session alone (N conversations' replies recorded from the emulator,
then fed to new sessions: the protocol's share, without I/O). With ``--prepare`` each client
calls ``prepare()`` before its first turn's clock starts: it loads the fe-version page on its
connection, as a browser loads duck.ai before the first message is typed, so a first turn is
the status call and the chat request (the page loads still fall in the same burst). A client
that discovers its era (no ``--dialect``, the default) makes a status call first in
``prepare()``, which names the era and so the page.

Usage: ``nice python bench/bench_concurrency.py [--conversations 200] [--turns 3]
[--cpu-per-turn 200] [--dialect 2025-03] [--prepare]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
from sansio_chat.adapters.httpx import AsyncChatClient, Timeouts, async_http_client

from sansio_chat import (
    ChatSession,
    Conversation,
    HttpRequest,
    Pacer,
    TokenEvent,
    TurnComplete,
    providers,
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def emulator(*options: str) -> Iterator[tuple[str, int]]:
    """Run ``sansio-chat emulator`` in a child process; yield its base URL and pid."""
    command = [sys.executable, "-m", "sansio_chat.adapters.cli", "emulator", "--port", "0"]
    child = subprocess.Popen(
        [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        url = next((word for word in line.split() if word.startswith("http://")), None)
        assert url, f"the emulator did not start: {line!r}"
        yield url, child.pid
    finally:
        child.terminate()
        child.wait(10)


@dataclass
class Results:
    first_token: list[float] = field(default_factory=list)  # seconds, every turn
    first_token_first_turn: list[float] = field(default_factory=list)
    first_token_later_turns: list[float] = field(default_factory=list)
    first_turn_by_start: dict[int, float] = field(default_factory=dict)  # start order → s
    turns: int = 0
    errors: list[str] = field(default_factory=list)


async def conversation(
    http: httpx.AsyncClient | None,
    base_url: str,
    turns: int,
    out: Results,
    order: int = 0,
    dialect: str | None = None,
    prepare: bool = False,
) -> None:
    timeout = Timeouts(connect=30, read=60)
    client = AsyncChatClient(
        base_url=base_url, min_interval=0, http=http, timeout=timeout, dialect=dialect
    )
    async with client:
        if prepare and not await client.prepare():
            out.errors.append("prepare() loaded nothing")
        await _turns(client, turns, out, order)


async def _turns(client: AsyncChatClient, turns: int, out: Results, order: int = 0) -> None:
    for turn in range(turns):
        start = anyio.current_time()
        first: float | None = None
        try:
            async with client.events(f"question {turn}") as events:
                async for event in events:
                    if first is None and isinstance(event, TokenEvent):
                        first = anyio.current_time() - start
        except Exception as error:  # counted and shown, never hidden
            out.errors.append(f"{type(error).__name__}: {error}")
            return
        assert first is not None
        out.first_token.append(first)
        if turn == 0:
            out.first_token_first_turn.append(first)
            out.first_turn_by_start[order] = first
        else:
            out.first_token_later_turns.append(first)
        out.turns += 1


def peak_rss_mib(reset: bool = False) -> float:
    """This process's peak resident set size in MiB since the last reset (Linux)."""
    if reset:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(
    base_url: str,
    conversations: int,
    turns: int,
    shared: bool,
    dialect: str | None = None,
    prepare: bool = False,
) -> tuple[Results, float]:
    results = Results()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=conversations)
    async with async_http_client(limits=limits) as pool:
        http = pool if shared else None  # None: each client has its own connection
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for order in range(conversations):
                group.start_soon(
                    conversation, http, base_url, turns, results, order, dialect, prepare
                )
        return results, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--reply-tokens", type=int, default=50)
    parser.add_argument("--backends", nargs="+", default=["asyncio", "trio"])
    parser.add_argument(
        "--shared-pool",
        action="store_true",
        help="one httpx pool for all (httpcore scans every pooled connection per request)",
    )
    parser.add_argument(
        "--dialect",
        choices=("2024", "2025-03", "2026"),
        default=None,
        help="give every client this era (default: each discovers it)",
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="each client loads the page with prepare() before its first turn's clock starts",
    )
    parser.add_argument(
        "--cpu-per-turn",
        type=int,
        default=0,
        metavar="N",
        help="also measure CPU to first token of first and second turns over N conversations",
    )
    args = parser.parse_args()
    print(
        "| backend | conversations × turns | wall s | turns/s | TTFT p50 ms | TTFT p99 ms "
        "| p99/p50 | first turns p50 / p99 ms | later turns p50 / p99 ms | client CPU s "
        "| emulator CPU s | RSS before MiB | peak RSS MiB | errors |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    by_start: list[str] = []
    dialect = args.dialect
    for backend in args.backends:
        served = ("--dialect", dialect) if dialect else ()
        with emulator("--seed", "1", "--reply-tokens", str(args.reply_tokens), *served) as (
            base_url,
            pid,
        ):
            rss_before = peak_rss_mib(reset=True)
            server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
            results, wall = anyio.run(
                run,
                base_url,
                args.conversations,
                args.turns,
                args.shared_pool,
                dialect,
                args.prepare,
                backend=backend,
            )
            server_cpu = cpu_seconds(pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            rss_peak = peak_rss_mib()
        ttft = results.first_token or [float("nan")]
        first = results.first_token_first_turn or [float("nan")]
        later = results.first_token_later_turns or [float("nan")]
        p50, p99 = statistics.median(ttft), percentile(ttft, 0.99)

        def p50_p99(values: list[float]) -> str:
            return f"{statistics.median(values) * 1000:.0f} / {percentile(values, 0.99) * 1000:.0f}"

        print(
            f"| {backend} | {args.conversations} × {args.turns} | {wall:.2f} "
            f"| {results.turns / wall:.1f} | {p50 * 1000:.0f} | {p99 * 1000:.0f} | {p99 / p50:.2f} "
            f"| {p50_p99(first)} | {p50_p99(later)} | {client_cpu:.1f} | {server_cpu:.1f} "
            f"| {rss_before:.0f} | {rss_peak:.0f} | {len(results.errors)} |"
        )
        for error in sorted(set(results.errors))[:5]:
            print(f"  error: {error}")
        by_start.append(f"| {backend} | {by_fifth(results.first_turn_by_start)} |")
    print("\nFirst turns' TTFT p50 / max ms by the order the conversations started, in fifths:")
    print("| backend | fifths |\n|---|---|")
    print("\n".join(by_start))
    if args.cpu_per_turn:
        with emulator("--seed", "1", "--reply-tokens", str(args.reply_tokens)) as (base_url, _):
            first, later = anyio.run(cpu_to_first_token, base_url, args.cpu_per_turn)
            replies = record_turns(base_url, args.cpu_per_turn)
        print(
            f"\nThis process's CPU from a turn's start to its first token, "
            f"{args.cpu_per_turn} conversations one at a time (asyncio): first turn of a new "
            f"client {first * 1000:.2f} ms, second turn {later * 1000:.2f} ms"
        )
        first, later = replay_turns(base_url, replies)
        print(
            f"The session alone (no I/O: {len(replies)} conversations' replies, recorded, then "
            f"fed to new sessions), whole turns: first {first * 1000:.2f} ms, "
            f"second {later * 1000:.2f} ms"
        )


Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


def _turn(session: ChatSession, prompt: str, answer: Callable[[HttpRequest], Reply]) -> None:
    """One whole turn of ``session``, each request answered by ``answer`` (no pacing)."""
    session.start_turn(prompt)
    while not isinstance(step := session.next_step(), TurnComplete):
        if isinstance(step, HttpRequest):
            status, headers, body = answer(step)
            session.receive_response_head(status, headers)
            list(session.events())
            session.receive_data(body)
            list(session.events())
            session.receive_eof()
            list(session.events())


def _session(base_url: str) -> ChatSession:
    conversation = Conversation(provider="ddg", model="gpt-4o-mini")
    return providers.get("ddg").new_session(
        base_url=base_url, conversation=conversation, pacer=Pacer(0)
    )


def record_turns(base_url: str, conversations: int) -> list[tuple[list[Reply], list[Reply]]]:
    """The emulator's replies to the first and second turns of ``conversations`` sessions."""
    recorded = []
    with httpx.Client() as http:
        for _ in range(conversations):
            session, turns = _session(base_url), ([], [])
            for prompt, replies in zip(("question 0", "question 1"), turns, strict=True):

                def fetch(step: HttpRequest, replies: list[Reply] = replies) -> Reply:
                    headers, body = list(step.headers), step.body or None
                    response = http.request(step.method, step.url, headers=headers, content=body)
                    replies.append((response.status_code, response.headers.raw, response.content))
                    return replies[-1]

                _turn(session, prompt, fetch)
            recorded.append(turns)
    return recorded


def replay_turns(
    base_url: str, recorded: list[tuple[list[Reply], list[Reply]]]
) -> tuple[float, float]:
    """Mean CPU seconds of a whole first and second turn, the session fed recorded replies."""
    first = later = 0.0
    for first_replies, later_replies in recorded:
        session = _session(base_url)
        first += _replayed(session, "question 0", first_replies)
        later += _replayed(session, "question 1", later_replies)
    return first / len(recorded), later / len(recorded)


def _replayed(session: ChatSession, prompt: str, replies: list[Reply]) -> float:
    queue = iter(replies)
    start = time.process_time()
    _turn(session, prompt, lambda step: next(queue))
    return time.process_time() - start


def by_fifth(first_turns: dict[int, float]) -> str:
    """First-turn TTFT p50 / max (ms) of each fifth of the conversations, by start order."""
    ordered = [first_turns[order] for order in sorted(first_turns)]
    size = max(1, len(ordered) // 5)
    parts = [ordered[index : index + size] for index in range(0, len(ordered), size)]
    return " · ".join(
        f"{statistics.median(part) * 1000:.0f} / {max(part) * 1000:.0f}" for part in parts
    )


async def cpu_to_first_token(base_url: str, conversations: int) -> tuple[float, float]:
    """Mean CPU seconds of this process from a turn's start to its first token, for the
    first turn of a new client and for its second turn, one conversation at a time."""
    first = later = 0.0
    for index in range(conversations + 3):  # the first three warm up (imports, TLS context)
        spent = []
        async with AsyncChatClient(base_url=base_url, min_interval=0) as client:
            for turn in range(2):
                start = time.process_time()
                async with client.events(f"question {turn}") as events:
                    async for event in events:
                        if isinstance(event, TokenEvent):
                            spent.append(time.process_time() - start)
                            break
                    async for _event in events:
                        pass
        if index >= 3:
            first, later = first + spent[0], later + spent[1]
    return first / conversations, later / conversations


if __name__ == "__main__":
    main()
