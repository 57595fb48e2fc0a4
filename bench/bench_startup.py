"""Benchmark: start-up of the ``sansio-chat`` command and of ``import sansio_chat``.

Each round starts, as separate processes of one interpreter (``--python``, default this
one; give it twice or more to compare installs side by side):

- ``pass``: ``python -c pass``, the interpreter alone (``site`` and every ``.pth`` file of
  the environment included, an editable install's import hook among them);
- ``import httpx``: ``python -c "import httpx"``, the yardstick of issue 16;
- ``import sansio_chat``: ``python -c "import sansio_chat"``;
- ``--help``, ``models``, ``ask --help``: the ``sansio-chat`` console script installed
  beside the interpreter (``models`` is the offline list; nothing goes to the network).

Every command runs once per round, ``--runs`` rounds (default 21), the order rotated each
round so that the commands share the machine's noise; one round before them is not timed
(it writes the bytecode caches and checks that every command exits 0). Figures are medians
of the wall time (``subprocess.run``, output to ``/dev/null``, ``PYTHON*`` variables
dropped from the environment) and of the CPU time (user + system) of the child, which a
busy machine inflates less than the wall time. Then ``--runs`` more runs of ``python -X
importtime -c "import sansio_chat"`` give the median cumulative time the interpreter
reports for the ``sansio_chat`` package. Unix only (``resource``).

Targets (issue 16, target 4): each command ≤ 1.0× ``import httpx``; ``import sansio_chat``
≤ 30 ms, both as the median wall time less ``pass`` and as the ``-X importtime`` figure.
The script reports whether each target is met; it always exits 0 once every command ran.
Run::

    nice python bench/bench_startup.py
    nice python bench/bench_startup.py --python OLD_VENV/bin/python --python .venv/bin/python
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

TARGET_RATIO = 1.0
TARGET_IMPORT_MS = 30.0
CLI_ROWS = ("--help", "models", "ask --help")


def commands(python: str) -> dict[str, list[str]]:
    """The command line of every row for the interpreter ``python``."""
    script = Path(python).parent / "sansio-chat"
    if not script.exists():
        raise SystemExit(f"no sansio-chat script beside {python}: install sansio-chat there")
    return {
        "pass": [python, "-c", "pass"],
        "import httpx": [python, "-c", "import httpx"],
        "import sansio_chat": [python, "-c", "import sansio_chat"],
        "--help": [str(script), "--help"],
        "models": [str(script), "models"],
        "ask --help": [str(script), "ask", "--help"],
    }


def clean_environment() -> dict[str, str]:
    """This process's environment without the ``PYTHON*`` variables."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU milliseconds of ``argv`` from start to exit; a failure stops the run."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed * 1000, cpu * 1000


def importtime_ms(python: str, env: dict[str, str]) -> float:
    """The cumulative ``-X importtime`` figure of ``sansio_chat``, in milliseconds."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", "import sansio_chat"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    for line in done.stderr.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[2].strip() == "sansio_chat":
            return int(fields[1]) / 1000
    raise SystemExit(f"{python}: -X importtime printed no sansio_chat line")


Times = dict[str, dict[str, list[float]]]
"""Milliseconds by row (``"wall"``, ``"cpu"`` or ``"importtime"``), by command row."""


def run(pythons: Sequence[str], runs: int) -> dict[str, Times]:
    """The figures of every interpreter, every row of every interpreter interleaved."""
    env = clean_environment()
    jobs = [(python, row, argv) for python in pythons for row, argv in commands(python).items()]
    times: dict[str, Times] = {python: {"wall": {}, "cpu": {}} for python in pythons}
    for python, row, argv in jobs:  # untimed: bytecode caches, and every command works
        timed(argv, env)
        times[python]["wall"][row], times[python]["cpu"][row] = [], []
    for round_ in range(runs):
        shift = round_ % len(jobs)
        for python, row, argv in jobs[shift:] + jobs[:shift]:
            wall, cpu = timed(argv, env)
            times[python]["wall"][row].append(wall)
            times[python]["cpu"][row].append(cpu)
    for python in pythons:
        times[python]["importtime"] = {"sansio_chat": []}
    for _ in range(runs):
        for python in pythons:
            times[python]["importtime"]["sansio_chat"].append(importtime_ms(python, env))
    return times


def report(python: str, times: Times) -> None:
    """Print the medians, the ratios and whether each target is met (by wall time)."""
    wall = {row: statistics.median(values) for row, values in times["wall"].items()}
    cpu = {row: statistics.median(values) for row, values in times["cpu"].items()}
    print(f"\n{python}")
    print(f"  {'row':<20} {'wall ms':>8} {'÷ httpx':>8} {'cpu ms':>8} {'÷ httpx':>8}  target")
    for row in ("pass", "import httpx", "import sansio_chat", *CLI_ROWS):
        ratio = wall[row] / wall["import httpx"]
        verdict = ""
        if row in CLI_ROWS:
            verdict = f"≤ {TARGET_RATIO:.1f}×: {'met' if ratio <= TARGET_RATIO else 'MISSED'}"
        print(
            f"  {row:<20} {wall[row]:>8.1f} {ratio:>7.2f}× {cpu[row]:>8.1f} "
            f"{cpu[row] / cpu['import httpx']:>7.2f}×  {verdict}"
        )
    importtime = statistics.median(times["importtime"]["sansio_chat"])
    for label, value in (
        ("import sansio_chat − pass, wall", wall["import sansio_chat"] - wall["pass"]),
        ("import sansio_chat − pass, cpu", cpu["import sansio_chat"] - cpu["pass"]),
        ("-X importtime sansio_chat", importtime),
    ):
        met = "met" if value <= TARGET_IMPORT_MS else "MISSED"
        print(f"  {label:<31} {value:>6.1f} ms  ≤ {TARGET_IMPORT_MS:.0f} ms: {met}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed rounds (default 21)")
    parser.add_argument(
        "--python",
        action="append",
        default=None,
        metavar="PATH",
        help="an interpreter with sansio-chat installed (repeat to compare; default: this one)",
    )
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.runs} interleaved rounds, medians"
    )
    times = run(pythons, args.runs)
    for python in pythons:
        report(python, times[python])


if __name__ == "__main__":
    main()
