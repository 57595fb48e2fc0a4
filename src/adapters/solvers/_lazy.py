"""``LazySolver``: a solver by name, created on the first challenge it meets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from sansio_chat import ChallengeResult, SolveChallenge

__all__ = ["SOLVER_NAMES", "LazySolver"]

SOLVER_NAMES = ("v8", "chromium")
"""The solvers a name may pick: ``"v8"`` (default) and ``"chromium"``."""


def _factory(name: str) -> Callable[[], Any]:
    from ._chromium import ChromiumSolver
    from ._v8 import V8Solver

    if name == "v8":
        return V8Solver
    if name == "chromium":
        return ChromiumSolver
    raise ValueError(f"unknown solver {name!r}; known: {', '.join(SOLVER_NAMES)}")


class LazySolver:
    """A solver created on the first challenge, closed by :meth:`close` if it was created.

    ``LazySolver("v8")`` makes a :class:`V8Solver`, ``LazySolver("chromium")`` a
    :class:`ChromiumSolver`: a conversation that never meets a script challenge never loads
    an engine (or launches a browser). Clients and the gateway use it for their default.

    ``ChallengeError`` from creating it (the engine is not installed) is raised from
    ``solve``/``asolve``, each time, so the driver reports it as a failed challenge.
    """

    def __init__(self, name: str = "v8") -> None:
        self.name = name
        self._create = _factory(name)
        self._solver: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LazySolver({self.name!r}, created={self._solver is not None})"

    def _get(self) -> Any:
        with self._lock:
            if self._solver is None:
                self._solver = self._create()
            return self._solver

    def solve(self, step: SolveChallenge) -> ChallengeResult:
        """Create the solver if needed, then solve ``step``."""
        result: ChallengeResult = self._get().solve(step)
        return result

    async def asolve(self, step: SolveChallenge) -> ChallengeResult:
        """Create the solver if needed (in a worker thread: it loads an engine), then solve."""
        solver = self._solver
        if solver is None:
            solver = await anyio.to_thread.run_sync(self._get)
        result: ChallengeResult = await solver.asolve(step)
        return result

    def close(self) -> None:
        """Close the solver if it was created."""
        with self._lock:
            solver, self._solver = self._solver, None
        if solver is not None:
            solver.close()
