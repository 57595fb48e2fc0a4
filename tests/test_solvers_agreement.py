"""The page model agrees with Chromium: the same scripts, random identities, equal values.

Every probe family of spec/DDG-2026.md is evaluated by V8Solver and by ChromiumSolver on the
same random ChallengePage; the values must be identical. No difference is known today: if one
appears, it is explained here next to the probe (as the 2025-03 browser corpus does).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sansio_chat.adapters.solvers import ChromiumSolver, V8Solver

from browser import require_chromium
from sansio_chat import SolveChallenge
from solver_scripts import PROBES, STRING_TABLE, random_page

pytestmark = pytest.mark.browser

SCRIPTS = {**PROBES, "string_table": STRING_TABLE}
SEEDS = (2026, 7)


@pytest.fixture(scope="module")
def chromium() -> Iterator[ChromiumSolver]:
    pytest.importorskip("playwright")
    path = require_chromium()
    with ChromiumSolver(path, time_limit=5.0) as s:
        yield s


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_v8_model_equals_chromium(chromium: ChromiumSolver, name: str, seed: int) -> None:
    pytest.importorskip("py_mini_racer")
    page = random_page(random.Random(f"{seed}-{name}"))
    step = SolveChallenge(script=SCRIPTS[name], page=page)
    expected = chromium.solve(step).value
    with V8Solver() as v8:
        assert v8.solve(step).value == expected
