"""What every solver offers: the :class:`Solver` protocol and the shared async wrapper."""

from __future__ import annotations

import json
from typing import Protocol, runtime_checkable

import anyio.to_thread

from sansio_chat import ChallengePage, ChallengeResult, SolveChallenge

__all__ = ["Solver", "page_json", "run_off_loop"]


@runtime_checkable
class Solver(Protocol):
    """Evaluates a challenge script on the page a :class:`SolveChallenge` describes."""

    def solve(self, step: SolveChallenge) -> ChallengeResult:
        """Evaluate ``step.script``; raise ``ChallengeError`` on any failure."""
        ...

    async def asolve(self, step: SolveChallenge) -> ChallengeResult:
        """:meth:`solve` in a worker thread, so the event loop keeps running."""
        ...

    def close(self) -> None:
        """Release what the solver holds (a browser, an isolate)."""
        ...


async def run_off_loop(solver: Solver, step: SolveChallenge) -> ChallengeResult:
    """Run ``solver.solve(step)`` in a worker thread (asyncio or trio).

    On cancellation the caller returns at once; the thread is abandoned but every solve is
    bounded by the solver's time limit, so it ends soon after and never stays wedged.
    """
    return await anyio.to_thread.run_sync(solver.solve, step, abandon_on_cancel=True)


def page_json(page: ChallengePage) -> str:
    """The page description as the JSON the page model and the Chromium page read."""
    return json.dumps(
        {
            "origin": page.origin,
            "user_agent": page.user_agent,
            "brands": [list(pair) for pair in page.brands],
            "mobile": page.mobile,
            "platform": page.platform,
            "languages": list(page.languages),
            "be_version": page.be_version,
            "fe_chat_hash": page.fe_chat_hash,
            "jsa_sandbox": page.jsa_sandbox,
            "jsa_csp": page.jsa_csp,
        },
        ensure_ascii=True,
    )
