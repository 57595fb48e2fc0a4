"""Solvers for DuckDuckGo's script challenges (dialect ``2026``).

A driver that meets a :class:`~sansio_chat.SolveChallenge` step hands it to a solver and gives
the session the :class:`~sansio_chat.ChallengeResult`:

- :class:`V8Solver` runs the script in V8 (``pip install "sansio-chat[js]"``) on a model of
  the clean duck.ai page; fast, no browser needed.
- :class:`ChromiumSolver` runs it in a real headless Chromium (``pip install
  "sansio-chat[chromium]"`` and a system Chromium); the ground truth for the model.

:class:`LazySolver` picks one by name (``"v8"``, ``"chromium"``) and creates it on first
need. Both raise :class:`~sansio_chat.ChallengeError` on any failure and bound every solve in time.
"""

from __future__ import annotations

from ._base import Solver
from ._chromium import ChromiumSolver
from ._fragment import element_count, parse_fragment
from ._lazy import SOLVER_NAMES, LazySolver
from ._v8 import V8Solver

__all__ = [
    "SOLVER_NAMES",
    "ChromiumSolver",
    "LazySolver",
    "Solver",
    "V8Solver",
    "element_count",
    "parse_fragment",
]
