"""The cost of one ``anyio.to_thread.run_sync`` hop: what the async drivers pay at an
exchange boundary (start of a turn, after a reply's head, at its end) when the session says
CPU-heavy work is ahead (``ChatSession.costly_work_ahead``) and they move it off the loop.

Usage: ``nice python bench/bench_thread_hop.py [--hops 2000]``.
"""

from __future__ import annotations

import argparse
import time

import anyio
import anyio.to_thread


def _nothing() -> None:
    return None


async def hops(count: int) -> tuple[float, float]:
    """Wall and CPU microseconds per hop, after one warm-up hop."""
    await anyio.to_thread.run_sync(_nothing)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await anyio.to_thread.run_sync(_nothing)
    return (
        (time.perf_counter() - wall) / count * 1e6,
        (time.process_time() - cpu) / count * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hops", type=int, default=2000)
    args = parser.parse_args()
    print("| backend | wall µs / hop | CPU µs / hop |\n|---|---:|---:|")
    for backend in ("asyncio", "trio"):
        wall, cpu = anyio.run(hops, args.hops, backend=backend)
        print(f"| {backend} | {wall:.0f} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
