"""Benchmark: the challenge solver's worst case, by pattern, for headers up to 100 KiB.

For each hostile pattern (deep nesting of several kinds, many attributes, long text, many
character references, escape-heavy JavaScript literals, random generator markup, and the
known superlinear shapes of HTML tree construction) the snippet (or, in the last rows, the
``server_hashes`` list: plain, escaped, or plain up to a bad end) is grown until the base64
``x-vqd-hash-1`` header reaches each target size, then ``build_x_vqd_hash_1`` is timed on
that header: it must solve it or refuse it with ``ChallengeError``, within 50 ms. Each
figure is the median of ``--repeat`` runs; the last column is the worst over all sizes.
Run::

    nice python bench/bench_challenge.py            # the table
    nice python bench/bench_challenge.py --quick    # smaller sizes, a smoke run
"""

from __future__ import annotations

import argparse
import base64
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable

from sansio_chat import ChallengeError
from sansio_chat.emulator.challenge import generate_snippet, js_string_literal
from sansio_chat.providers.ddg_challenge import build_x_vqd_hash_1

HEADERS = {"User-Agent": "Mozilla/5.0 bench", "sec-ch-ua": '"Chromium";v="156"'}
BUDGET_MS = 50.0


def program(literal: str, hashes: str = '["a", "b"]') -> str:
    return (
        "(function () { const e = document.createElement('div'); "
        f"e.innerHTML = {literal}; return {{server_hashes: {hashes}, "
        "client_hashes: [navigator.userAgent, (function () { "
        "return String(0x1f + e.innerHTML.length); })()], signals: {}}; })();"
    )


def header_for(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _random_markup(n: int) -> str:
    rng = random.Random(n)
    parts: list[str] = []
    size = 0
    while size < n:
        parts.append(generate_snippet(rng))
        size += len(parts[-1])
    return "".join(parts)[:n]


def _js_escapes(n: int) -> str:
    # Every character written as an escape: \uXXXX, \u{...}, surrogate pairs, \xHH, \\.
    unit = "\\u003cb\\u003e\\x41\\u{1F600}\\uD83D\\uDE00\\\\\\'\\n"
    return "'" + unit * (n // len(unit) + 1) + "'"


def plain(make: Callable[[int], str]) -> Callable[[int], str]:
    return lambda n: program(js_string_literal(make(n)))


def hash_list(make: Callable[[int], str]) -> Callable[[int], str]:
    return lambda n: program("'x'", make(n))


PATTERNS: dict[str, Callable[[int], str]] = {
    "nested template": plain(lambda n: "<template>" * (n // 10) + "x"),
    "nested b": plain(lambda n: "<b>" * (n // 3) + "x"),
    "nested div": plain(lambda n: "<div>" * (n // 5) + "x"),
    "nested table": plain(lambda n: "<table><tr><td>" * (n // 15) + "x"),
    "deep mixed": plain(
        lambda n: (
            "<div><b><i><span><table><tr><td><template><svg><g><desc><p>" * (n // 61 + 1) + "x"
        )
    ),
    "nested svg style": plain(lambda n: "<svg>" + "<style>" * (n // 7)),
    "nested li": plain(lambda n: "<ul>" + "<li><ul>" * (n // 8)),
    "select options": plain(lambda n: "<select>" + "<option>" * (n // 8)),
    "many attributes": plain(lambda n: "<b " + " ".join(f"a{i}" for i in range(n // 6)) + ">"),
    "formatting bomb": plain(
        lambda n: (
            "<div>" * (n // 25)
            + "".join(f"<b a={i}>" for i in range(n // 25))
            + "</div>x" * (n // 25)
        )
    ),
    "end tags": plain(lambda n: "<span>" * 500 + "</i>" * (n // 4)),
    "long text": plain(lambda n: "duck " * (n // 5)),
    "many entities": plain(lambda n: "&amp;&copy;&#x1F600;&notin;" * (n // 25)),
    "JS escapes": lambda n: program(_js_escapes(n)),
    "random markup": plain(_random_markup),
    "many hashes": hash_list(lambda n: "[" + '"aGFzaA==", ' * (n // 12) + '"b"]'),
    "escaped hashes": hash_list(lambda n: "[" + '"a\\x41", ' * (n // 10) + '"b"]'),
    "hashes, bad end": hash_list(lambda n: "[" + '"a" , ' * (n // 6) + " " * (n // 4) + "x]"),
}


def fit(make: Callable[[int], str], target: int) -> str:
    """The largest header for this pattern (``make(n)``: a program) that is at most
    ``target`` characters."""
    low, high = 1, 1
    while len(header_for(make(high))) <= target:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if len(header_for(make(middle))) <= target:
            low = middle
        else:
            high = middle
    return header_for(make(low))


def run(header: str) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        build_x_vqd_hash_1(header, HEADERS)
        outcome = "solved"
    except ChallengeError:
        outcome = "refused"
    return (time.perf_counter() - start) * 1000, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = (1024, 8192) if args.quick else (1024, 8192, 16384, 32768, 65536, 102400)
    repeat = 2 if args.quick else args.repeat
    print(f"Python {platform.python_version()} on {platform.machine()}, median of {repeat} runs")
    head = "".join(f"{size // 1024:>7} KiB" for size in sizes)
    print(f"{'pattern':<18}{head}   worst (ms)")
    worst_all = 0.0
    for name, make in PATTERNS.items():
        cells: list[str] = []
        worst = 0.0
        for size in sizes:
            header = fit(make, size)
            runs = [run(header) for _ in range(repeat)]
            median = statistics.median(ms for ms, _ in runs)
            worst = max(worst, median)
            mark = "s" if runs[0][1] == "solved" else "r"
            cells.append(f"{median:>9.2f} {mark}")
        worst_all = max(worst_all, worst)
        print(f"{name:<18}{''.join(cells)}   {worst:8.2f}", flush=True)
    print(f"s = solved, r = refused (ChallengeError); worst of all: {worst_all:.2f} ms")
    return 0 if worst_all <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
