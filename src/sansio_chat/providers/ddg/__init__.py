"""DuckDuckGo AI Chat (spec/DDG.md), split by role as h11 splits readers, writers and the
connection:

- :mod:`.dialects`: the protocol eras as data (:class:`Dialect`, :data:`DIALECTS`);
- :mod:`.wire`: values, request builders and parsers of replies and page markers;
- :mod:`.turn`: the session rules, the turn plan and its exchanges;
- :mod:`.state`: what a conversation keeps between turns (``Conversation.state["ddg"]``);
- :mod:`.provider`: the catalogue entry (models, ``new_session`` options).

The challenge solver is :mod:`sansio_chat.providers.ddg_challenge`. This module names
what users need; tests reach into the role modules for the rest.
"""

from __future__ import annotations

from sansio_chat.providers.ddg.dialects import DEFAULT_DIALECT, DIALECTS, Dialect
from sansio_chat.providers.ddg.provider import (
    DEFAULT_MODEL,
    MODEL_ALIASES,
    MODELS,
    DuckDuckGoProvider,
)
from sansio_chat.providers.ddg.state import DuckDuckGoState
from sansio_chat.providers.ddg.wire import (
    BROWSER,
    DEFAULT_BASE_URL,
    INPUT_CHAR_LIMIT,
    Browser,
    MissingHeaderError,
    MissingMarkerError,
)
from sansio_chat.providers.ddg_challenge import ChallengeSolver

__all__ = [
    "BROWSER",
    "DEFAULT_BASE_URL",
    "DEFAULT_DIALECT",
    "DEFAULT_MODEL",
    "DIALECTS",
    "INPUT_CHAR_LIMIT",
    "MODELS",
    "MODEL_ALIASES",
    "Browser",
    "ChallengeSolver",
    "Dialect",
    "DuckDuckGoProvider",
    "DuckDuckGoState",
    "MissingHeaderError",
    "MissingMarkerError",
]
