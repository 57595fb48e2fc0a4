"""Benchmark: ``build_x_vqd_hash_1`` against ``inner_html_length`` on the emulator's challenges.

Drives the pure ``2025-03`` solver (``sansio_chat.providers.ddg_challenge``) with the
challenges the emulator issues (``sansio_chat.emulator.challenge.issue_challenge``, a fixed
seed): for each challenge it times the whole header builder on the base64 status header and
``inner_html_length`` on the same challenge's HTML snippet (the browser-equivalent parse and
serialization every solver must do). The two are timed alternately, ``--repeat`` times each;
a challenge's figure is the median of its runs, the table shows the median over challenges
(and the 90th percentile), both in µs, and their ratio. Target (issue 16): ratio <= 2.
Run::

    nice .venv/bin/python bench/bench_hash.py               # 200 challenges, seed 2025
    nice .venv/bin/python bench/bench_hash.py -n 500 --seed 7 --repeat 21
    nice .venv/bin/python bench/bench_hash.py --profile     # cProfile of the builder

With ``--profile`` it also prints the functions with the most own time over the builder runs.

About half of ``inner_html_length`` can be system time: glibc hands the memory of each freed
parser back to the system and the next parse maps and faults it in again (about 14 µs per
call on the shared 2-core test machine). Whether a process does so depends on its allocation
history (glibc adjusts its thresholds as it goes), so pin the allocator to compare runs:
``MALLOC_TRIM_THRESHOLD_=131072`` (the faults, as in most runs) or ``MALLOC_TOP_PAD_=16777216``
(no faults: the parse's own cost).
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import random
import statistics
import sys
import time

from sansio_chat.emulator.challenge import IssuedChallenge, issue_challenge
from sansio_chat.providers.ddg_challenge import build_x_vqd_hash_1, inner_html_length

HEADERS = {"User-Agent": "Mozilla/5.0 bench", "sec-ch-ua": '"Chromium";v="156"'}


def challenges(count: int, seed: int) -> list[IssuedChallenge]:
    rng = random.Random(seed)
    return [issue_challenge(rng) for _ in range(count)]


def time_one(issued: IssuedChallenge, repeat: int) -> tuple[float, float]:
    """Median µs of the builder and of ``inner_html_length`` on one challenge, interleaved."""
    clock = time.perf_counter
    build: list[float] = []
    inner: list[float] = []
    for _ in range(repeat):
        start = clock()
        build_x_vqd_hash_1(issued.b64, HEADERS)
        middle = clock()
        inner_html_length(issued.snippet)
        end = clock()
        build.append(middle - start)
        inner.append(end - middle)
    return statistics.median(build) * 1e6, statistics.median(inner) * 1e6


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--emulator", type=int, default=200, help="number of challenges")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=11, help="timed runs per challenge")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile")
    args = parser.parse_args()
    issued = challenges(args.emulator, args.seed)
    for one in issued:  # warm-up, and a check that every answer is produced
        build_x_vqd_hash_1(one.b64, HEADERS)
    results = [time_one(one, args.repeat) for one in issued]
    build = [b for b, _ in results]
    inner = [i for _, i in results]
    ratios = [b / i for b, i in results]
    print(
        f"Python {platform.python_version()} on {platform.machine()}: {len(issued)} emulator "
        f"challenges (seed {args.seed}), median of {args.repeat} interleaved runs each"
    )
    print(f"{'':<22}{'median µs':>10}{'p90 µs':>10}")
    for name, values in (("build_x_vqd_hash_1", build), ("inner_html_length", inner)):
        print(f"{name:<22}{statistics.median(values):>10.1f}{percentile(values, 0.9):>10.1f}")
    ratio = statistics.median(build) / statistics.median(inner)
    print(
        f"ratio (of medians) {ratio:.2f}; per-challenge ratio median "
        f"{statistics.median(ratios):.2f}, p90 {percentile(ratios, 0.9):.2f}"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(20):
            for one in issued:
                build_x_vqd_hash_1(one.b64, HEADERS)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
