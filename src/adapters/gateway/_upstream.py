"""The gateway's default upstream: one fresh session per request, over one shared httpx client.

Sessions are driven with :func:`~sansio_chat.adapters.httpx.aiter_turn`; the pacer is shared
by every request, so the gateway as a whole keeps the spacing a service expects.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import httpx
from sansio_chat.adapters.httpx import Timeouts, Verify, aiter_turn, async_http_client

from sansio_chat import (
    Backoff,
    Conversation,
    Finished,
    Message,
    Pacer,
    RateLimited,
    TokenEvent,
    providers,
)

from ._request import ModelRoute

__all__ = ["SessionUpstream", "split_history"]


def split_history(
    messages: Sequence[Mapping[str, str]],
) -> tuple[tuple[Message, ...], tuple[Message, ...]]:
    """Split OpenAI-style messages into the earlier conversation and this turn's messages.

    The turn is everything after the last assistant message; the rest is history.
    """
    converted = tuple(Message(role=m["role"], content=m["content"]) for m in messages)
    cut = 0
    for index, message in enumerate(converted):
        if message.role == "assistant":
            cut = index + 1
    return converted[:cut], converted[cut:]


class SessionUpstream:
    """Runs each gateway request as a new conversation with its provider.

    Args:
        base_urls: provider name → base URL (absent: the real service).
        proxy, verify: for the shared ``httpx.AsyncClient``.
        timeout: per-turn timeouts (a number: connect and read seconds).
        min_interval: spacing of requests to one upstream host, shared by all requests
            (``None``: the library default).
        max_retries, retry_base_delay: the back-off of each turn (``None``: the library
            defaults).
        http: an ``httpx.AsyncClient`` to use instead of a new one (left open by
            :meth:`aclose`).
    """

    def __init__(
        self,
        *,
        base_urls: Mapping[str, str] | None = None,
        proxy: str | None = None,
        verify: Verify = True,
        timeout: Timeouts | float | None = None,
        min_interval: float | None = None,
        max_retries: int | None = None,
        retry_base_delay: float | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._backoff_options: dict[str, Any] = {}
        if max_retries is not None:
            self._backoff_options["max_retries"] = max_retries
        if retry_base_delay is not None:
            self._backoff_options["base_delay"] = retry_base_delay
        self._base_urls = dict(base_urls or {})
        self._proxy, self._verify = proxy, verify
        self._timeouts = Timeouts.of(timeout)
        self._pacer = Pacer() if min_interval is None else Pacer(min_interval)
        self._http = http
        self._own_http = http is None
        self.open_streams = 0
        """How many upstream turns are running now (tests watch it drop on cancellation)."""

    def _client(self) -> httpx.AsyncClient:
        # Created on first use, inside the server's event loop.
        if self._http is None:
            self._http = async_http_client(proxy=self._proxy, verify=self._verify)
        return self._http

    async def stream(
        self, route: ModelRoute, messages: Sequence[Mapping[str, str]]
    ) -> AsyncGenerator[TokenEvent | Finished | RateLimited, None]:
        """Run one turn; yield its tokens, each ``RateLimited`` and the final ``Finished``."""
        provider = providers.get(route.provider)
        history, turn = split_history(messages)
        conversation = Conversation(provider=route.provider, model=route.model, messages=history)
        session = provider.new_session(
            base_url=self._base_urls.get(route.provider),
            conversation=conversation,
            pacer=self._pacer,
            backoff=Backoff(**self._backoff_options) if self._backoff_options else None,
        )
        self.open_streams += 1
        try:
            events = aiter_turn(session, self._client(), turn, timeouts=self._timeouts)
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, (TokenEvent, Finished, RateLimited)):
                        yield event
        finally:
            self.open_streams -= 1

    async def aclose(self) -> None:
        """Close the shared httpx client (unless it was given)."""
        if self._http is not None and self._own_http:
            http, self._http = self._http, None
            await http.aclose()
