"""DuckDuckGo AI Chat (docs/protocol.md), split by role as h11 splits readers, writers and the
connection:

- :mod:`.dialects`: the protocol eras as data (:class:`Dialect`, :data:`DIALECTS`);
- :mod:`.eras`: which era a reply belongs to (:class:`DialectMismatchError`);
- :mod:`.probe`: the status call that names the era when a reply cannot;
- :mod:`.preparation`: the page alone, loaded ahead of the first turn;
- :mod:`.wire`: values, request builders and parsers of replies and page markers;
- :mod:`.turn`: the session rules, the turn plan and its exchanges (``2024``, ``2025-03``);
- :mod:`.turn2026`, :mod:`.exchanges2026`, :mod:`.wire2026`, :mod:`.proof`,
  :mod:`.markers`, :mod:`.models`: dialect ``2026`` (duck.ai): the turn with its script
  challenge step, its exchanges, wire values, the proof, the stream markers and the models;
- :mod:`.state`: what a conversation keeps between turns (``Conversation.state["ddg"]``);
- :mod:`.frontend`: the fe-version a client shares between its conversations;
- :mod:`.provider`: the catalogue entry (models, ``new_session`` options).

The challenge solver is :mod:`sansio_chat.providers.ddg_challenge`. This module names
what users need; tests reach into the role modules for the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from sansio_chat.providers.ddg.dialects import DEFAULT_DIALECT, DIALECTS, Dialect
from sansio_chat.providers.ddg.eras import DialectMismatchError
from sansio_chat.providers.ddg.frontend import FE_VERSION_TTL, FeVersionCache
from sansio_chat.providers.ddg.models import ModelInfo, parse_models
from sansio_chat.providers.ddg.provider import (
    DEFAULT_MODEL,
    DEFAULT_MODEL_2026,
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

if TYPE_CHECKING:
    from sansio_chat.providers.ddg.wire2026 import BROWSER_2026, DurableKey, models_request
    from sansio_chat.providers.ddg_challenge import ChallengeSolver

# Imported when first named: the catalogue (`sansio-chat models`) needs none of them, and
# the challenge solver's module loads selectolax, hashlib and logging.
_LAZY = {
    "BROWSER_2026": "sansio_chat.providers.ddg.wire2026",
    "DurableKey": "sansio_chat.providers.ddg.wire2026",
    "models_request": "sansio_chat.providers.ddg.wire2026",
    "ChallengeSolver": "sansio_chat.providers.ddg_challenge",
}

__all__ = [
    "BROWSER",
    "BROWSER_2026",
    "DEFAULT_BASE_URL",
    "DEFAULT_DIALECT",
    "DEFAULT_MODEL",
    "DEFAULT_MODEL_2026",
    "DIALECTS",
    "FE_VERSION_TTL",
    "INPUT_CHAR_LIMIT",
    "MODELS",
    "MODEL_ALIASES",
    "Browser",
    "ChallengeSolver",
    "Dialect",
    "DialectMismatchError",
    "DuckDuckGoProvider",
    "DuckDuckGoState",
    "DurableKey",
    "FeVersionCache",
    "MissingHeaderError",
    "MissingMarkerError",
    "ModelInfo",
    "models_request",
    "parse_models",
]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
