"""sansio-chat over httpx: the drivers and the high-level clients.

- :func:`aiter_turn` / :func:`iter_turn`: the session loop for one turn (async on asyncio
  or trio through anyio; sync), for callers who hold their own session.
- :class:`AsyncChatClient` / :class:`ChatClient`: conversations with ``ask()`` and
  ``stream()``, saved and loaded as JSON; ``models()`` for the live model list.
- :func:`afetch_models` / :func:`fetch_models`: DuckDuckGo's live model list (dialect
  ``2026``) over an httpx client.
"""

from __future__ import annotations

from ._drivers.client import AsyncChatClient, AsyncTurnStream, ChatClient, TurnStream
from ._drivers.common import Timeouts, Verify
from ._drivers.httpx_setup import async_http_client, http_client
from ._drivers.httpx_turn import aiter_turn, iter_turn
from ._drivers.models import afetch_models, fetch_models

__all__ = [
    "AsyncChatClient",
    "AsyncTurnStream",
    "ChatClient",
    "Timeouts",
    "TurnStream",
    "Verify",
    "afetch_models",
    "aiter_turn",
    "async_http_client",
    "fetch_models",
    "http_client",
    "iter_turn",
]
