"""ChromiumSolver: the page matches the description; hostile scripts end typed; warm reuse."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import pytest
from sansio_chat.adapters.solvers import ChromiumSolver, Solver

from browser import require_chromium
from sansio_chat import ChallengeError, ChallengePage, SolveChallenge
from solver_scripts import PROBES

pytestmark = pytest.mark.browser

UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/139.0.0.0 Safari/537.36"
)
PAGE = ChallengePage(
    origin="https://duck.ai", user_agent=UA, brands=(("Chromium", "139"), ("Not;A=Brand", "99")),
    platform="macOS", be_version="b", fe_chat_hash="f",
)  # fmt: skip
LIMIT = 3.0


@pytest.fixture(scope="module")
def solver() -> Iterator[ChromiumSolver]:
    pytest.importorskip("playwright")
    path = require_chromium()
    with ChromiumSolver(path, time_limit=LIMIT) as s:
        yield s


def solve(solver: ChromiumSolver, script: str) -> object:
    return solver.solve(SolveChallenge(script=script, page=PAGE)).value


def test_identity_and_page(solver: ChromiumSolver) -> None:
    assert isinstance(solver, Solver)
    assert solve(solver, PROBES["user_agent"]) == UA
    brands = solve(solver, PROBES["brands"])
    assert isinstance(brands, dict)
    assert brands["joined"] == PAGE.sec_ch_ua
    assert brands["platform"] == "macOS"
    assert brands["nav"] == "MacIntel"
    jsa = solve(solver, PROBES["jsa"])
    assert isinstance(jsa, dict)
    assert jsa["n"] == 0x14
    assert (jsa["be"], jsa["fe"]) == ("b", "f")


@pytest.mark.parametrize(
    "script",
    [
        "(function(){ for(;;){} })()",
        "new Promise(() => {})",
        "(async function(){ throw new Error('boom'); })()",
        "(async function(){ return window.top.__nope.x; })()",
    ],
)
def test_hostile_scripts_end_typed_and_browser_recovers(
    solver: ChromiumSolver, script: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ChallengeError):
        solve(solver, script)
    assert time.monotonic() - started < LIMIT + 15
    assert solve(solver, "(async()=>navigator.webdriver)()") is False


@pytest.mark.anyio
async def test_asolve(solver: ChromiumSolver) -> None:
    result = await solver.asolve(SolveChallenge(script=PROBES["user_agent"], page=PAGE))
    assert result.value == UA
    with anyio.move_on_after(0.05) as scope:
        await solver.asolve(SolveChallenge(script="new Promise(() => {})", page=PAGE))
    assert scope.cancelled_caught
