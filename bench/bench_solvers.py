"""Benchmark: solve time and memory of the challenge solvers.

Measures, on the hand-written challenges of ``tests/solver_scripts.py`` (every probe family,
plus the async obfuscated string-table shape):

- V8 cold: a new ``V8Solver`` per challenge (nothing cached);
- V8 warm: one ``V8Solver`` reused (a fresh isolate per challenge; parsed snippets cached);
- Chromium warm: one ``ChromiumSolver`` reused (a fresh context and page per challenge).

Reports the median and 95th percentile per challenge and the process RSS growth over the run
(from /proc/self/status). Target: V8 warm median <= 20 ms. Run::

    .venv/bin/python bench/bench_solvers.py [--rounds N] [--no-chromium]

Agreement mode: N fresh emulator ``2026`` challenges under random browser identities (the
cases of ``tests/agreement_support.py``, every probe family forced), each solved by a warm
``V8Solver`` and a warm ``ChromiumSolver``; prints how many resolve to identical values in
both and to the generator's ``.expected``, the disagreements per probe family, and the time.
Target: >= 99.5 % identical. Run::

    .venv/bin/python bench/bench_solvers.py --agreement 1000 [--seed S]
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sansio_chat.adapters.solvers import ChromiumSolver, Solver, V8Solver

from agreement_support import cases, compare
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


def agreement(count: int, seed: int, chromium_path: str) -> bool:
    """Compare the solvers on ``count`` fresh challenges; True when all agree."""
    print(f"agreement: {count} challenges, seed {seed}")
    with_family: collections.Counter[str] = collections.Counter()
    disagree: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    v8_ms: list[float] = []
    chromium_ms: list[float] = []
    identical = 0
    started = time.perf_counter()
    with V8Solver() as v8, ChromiumSolver(chromium_path, time_limit=5.0) as chromium:
        timed_v8, timed_chromium = _Timed(v8, v8_ms), _Timed(chromium, chromium_ms)
        for case in cases(seed, count):
            if case.index and case.index % 100 == 0:
                print(f"  ... {case.index} done, {identical} identical", flush=True)
            outcome = compare(case, timed_v8, timed_chromium)
            families = set(case.challenge.probes)
            with_family.update(families)
            if not outcome.differences:
                identical += 1
                continue
            disagree.update(families)
            expected = case.challenge.expected
            kinds[
                "v8 != chromium"
                if outcome.v8 != outcome.chromium
                else "both != expected"
                if outcome.v8 != expected
                else "types differ"
            ] += 1
            print(outcome.report(), flush=True)
    elapsed = time.perf_counter() - started
    print(
        f"identical: {identical}/{count} ({100 * identical / count:.2f} %) "
        f"in {elapsed:.1f} s; V8 median {statistics.median(v8_ms):.1f} ms, "
        f"Chromium median {statistics.median(chromium_ms):.1f} ms"
    )
    for kind, n in sorted(kinds.items()):
        print(f"  {kind}: {n}")
    print("per family: challenges with it / disagreeing")
    for family, n in sorted(with_family.items()):
        print(f"  {family:11} {n:5} / {disagree[family]}")
    return identical == count


class _Timed:
    """A solver wrapper that records each solve's wall time (ms) in ``times``."""

    def __init__(self, solver: Solver, times: list[float]) -> None:
        self.solver, self.times = solver, times

    def solve(self, step: SolveChallenge) -> object:
        started = time.perf_counter()
        try:
            return self.solver.solve(step)
        finally:
            self.times.append((time.perf_counter() - started) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-chromium", action="store_true")
    parser.add_argument("--agreement", type=int, metavar="N", help="agreement mode: N challenges")
    parser.add_argument("--seed", type=int, help="agreement seed (random when omitted)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    args = parser.parse_args()
    if args.agreement:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
        sys.exit(0 if agreement(args.agreement, seed, args.chromium) else 1)
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
