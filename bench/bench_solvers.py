"""Benchmark: solve time and memory of the challenge solvers.

Measures, on the hand-written challenges of ``tests/solver_scripts.py`` (every probe family,
plus the async obfuscated string-table shape):

- V8 cold: a new ``V8Solver`` per challenge (nothing cached);
- V8 warm: one ``V8Solver`` reused (a fresh isolate per challenge; parsed snippets cached);
- Chromium warm: one ``ChromiumSolver`` reused (a fresh context and page per challenge).

Reports the median and 95th percentile per challenge and the process RSS growth over the run
(from /proc/self/status). Target: V8 warm median <= 20 ms. Run::

    .venv/bin/python bench/bench_solvers.py [--rounds N] [--no-chromium]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sansio_chat.adapters.solvers import ChromiumSolver, Solver, V8Solver

from sansio_chat import SolveChallenge
from solver_scripts import PROBES, STRING_TABLE, random_page


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def steps(rounds: int) -> list[SolveChallenge]:
    rng = random.Random(2026)
    scripts = [*PROBES.values(), STRING_TABLE]
    return [
        SolveChallenge(script=script, page=random_page(rng))
        for _ in range(rounds)
        for script in scripts
    ]


def measure(
    name: str, work: list[SolveChallenge], make: type[Solver] | None, solver: Solver | None
) -> None:
    times: list[float] = []
    before = rss_kib()
    for step in work:
        started = time.perf_counter()
        if make is not None:
            with make() as fresh:  # type: ignore[attr-defined]
                fresh.solve(step)
        else:
            assert solver is not None
            solver.solve(step)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"{name:14} n={len(times):4}  median {statistics.median(times):7.1f} ms  "
        f"p95 {p95:7.1f} ms  max {times[-1]:7.1f} ms  RSS +{(rss_kib() - before) / 1024:.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-chromium", action="store_true")
    args = parser.parse_args()
    work = steps(args.rounds)
    measure("V8 cold", work, V8Solver, None)
    with V8Solver() as warm:
        warm.solve(work[0])
        measure("V8 warm", work, None, warm)
    if not args.no_chromium:
        with ChromiumSolver() as chromium:
            chromium.solve(work[0])
            measure("Chromium warm", work[: max(len(work) // 4, 1)], None, chromium)


if __name__ == "__main__":
    main()
