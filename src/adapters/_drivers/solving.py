"""What the drivers share for script challenges and CPU-heavy session work.

- :func:`solver_of`: what a driver's ``solver`` argument means (a name or ``None`` become a
  :class:`~sansio_chat.adapters.solvers.LazySolver` the driver owns);
- :func:`answer` / :func:`answer_sync`: hand a ``SolveChallenge`` to the solver and its result
  (or its ``ChallengeError``) to the session;
- :func:`drain_off_loop`: drain the session's events, in a worker thread when the session
  says costly work is ahead. The session solves the ``2025-03`` challenge inside
  ``next_event()`` when an exchange settles (after a reply's head, at its end, or in
  ``start_turn()`` for a challenge carried over), and makes a ``2026`` conversation's key
  pair when its first chat request is planned: CPU work the event loop must not wait for.
  Everything else is quick, and a thread hop (tens of microseconds, more under load) would
  cost more than it saves.
"""

from __future__ import annotations

import time
from typing import Any

import anyio.to_thread
from sansio_chat.adapters.solvers import SOLVER_NAMES, LazySolver

from sansio_chat import ChallengeError, ChallengeResult, Event, SolveChallenge

from .common import Timeouts, total_timeout, within
from .session_protocol import TurnSession

__all__ = [
    "SOLVER_NAMES",
    "LazySolver",
    "SolverLike",
    "answer",
    "answer_sync",
    "drain_off_loop",
    "solver_of",
    "start_off_loop",
]

SolverLike = Any
"""A solver (``solve(step)``, ``async asolve(step)``), a name from :data:`SOLVER_NAMES`,
or ``None`` (the V8 solver, made on first need)."""


def solver_of(solver: SolverLike) -> tuple[Any, bool]:
    """The solver to use for ``solver`` and whether the caller owns (must close) it."""
    if solver is None:
        return LazySolver("v8"), True
    if isinstance(solver, str):
        return LazySolver(solver), True
    if not (callable(getattr(solver, "solve", None)) and callable(getattr(solver, "asolve", None))):
        raise TypeError("solver must have solve(step) and asolve(step), or be 'v8' / 'chromium'")
    return solver, False


async def answer(
    session: TurnSession,
    solver: Any,
    step: SolveChallenge,
    deadline: float | None,
    received: list[str],
    limits: Timeouts,
) -> None:
    """Solve ``step`` (off the event loop, within the turn's deadline) and tell the session.

    The result is given in a worker thread too: using it may build the conversation's key.
    """
    try:
        result = await within(solver.asolve(step), deadline, received, limits, step.page.origin)
    except ChallengeError as exc:
        session.receive_challenge_failure(str(exc))
    else:
        if session.costly_work_ahead:
            await anyio.to_thread.run_sync(session.receive_challenge_result, result)
        else:
            session.receive_challenge_result(result)


def answer_sync(
    session: TurnSession,
    solver: Any,
    step: SolveChallenge,
    deadline: float | None,
    received: list[str],
    limits: Timeouts,
) -> None:
    """Solve ``step`` and tell the session; a solve that ends past the deadline is a Timeout."""
    result: ChallengeResult | str
    try:
        result = solver.solve(step)
    except ChallengeError as exc:
        result = str(exc)
    if deadline is not None and time.monotonic() >= deadline:
        raise total_timeout(limits, step.page.origin, received)
    if isinstance(result, str):
        session.receive_challenge_failure(result)
    else:
        session.receive_challenge_result(result)


def drain(session: TurnSession) -> tuple[list[Event], BaseException | None]:
    """``session.events()`` drained here: the events, then the error if any."""
    events: list[Event] = []
    try:
        for event in session.events():
            events.append(event)
    except Exception as exc:  # handed back, so the events before it are yielded first
        return events, exc
    return events, None


async def drain_off_loop(session: TurnSession) -> tuple[list[Event], BaseException | None]:
    """``session.events()`` drained, in a worker thread when the session says costly work
    is ahead (``costly_work_ahead``), else at once: the events, then the error if any.

    Not abandoned on cancellation: the session is never used by two threads at once, and
    the work is bounded (the ``2025-03`` solver refuses or solves any header quickly).
    """
    if not session.costly_work_ahead:
        return drain(session)
    return await anyio.to_thread.run_sync(drain, session)


async def start_off_loop(session: TurnSession, messages: Any) -> None:
    """``session.start_turn(messages)`` in a worker thread (it may solve a carried challenge).

    Cancelled meanwhile, the turn that may have started is aborted before the cancellation
    goes on.
    """
    if not session.costly_work_ahead:
        session.start_turn(messages)
        return
    try:
        await anyio.to_thread.run_sync(session.start_turn, messages)
    except BaseException as exc:
        if not isinstance(exc, Exception):
            session.abort_turn()
        raise
