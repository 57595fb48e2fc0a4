"""sansio-chat over httpx: the drivers and the high-level clients.

- :func:`aiter_turn` / :func:`iter_turn`: the session loop for one turn (async on asyncio
  or trio through anyio; sync), for callers who hold their own session.
- :class:`AsyncChatClient` / :class:`ChatClient`: conversations with ``ask()`` and
  ``stream()``, saved and loaded as JSON.
"""

from __future__ import annotations

from ._drivers.client import AsyncChatClient, AsyncTurnStream, ChatClient, TurnStream
from ._drivers.common import Timeouts, Verify
from ._drivers.httpx_setup import async_http_client, http_client
from ._drivers.httpx_turn import aiter_turn, iter_turn

__all__ = [
    "AsyncChatClient",
    "AsyncTurnStream",
    "ChatClient",
    "Timeouts",
    "TurnStream",
    "Verify",
    "aiter_turn",
    "async_http_client",
    "http_client",
    "iter_turn",
]
