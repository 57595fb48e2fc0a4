"""The gateway's default upstream: one fresh session per request, over one shared httpx client.

Sessions are driven with :func:`~sansio_chat.adapters.httpx.aiter_turn`; the pacer and the
challenge solver are shared by every request, so the gateway as a whole keeps the spacing a
service expects and keeps one engine warm. In dialect ``2026`` it also fetches (and caches)
DuckDuckGo's live model list.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import anyio
import httpx
from sansio_chat.adapters.httpx import (
    Timeouts,
    Verify,
    afetch_models,
    aiter_turn,
    async_http_client,
)
from sansio_chat.adapters.solvers import LazySolver

from sansio_chat import (
    Backoff,
    Conversation,
    Finished,
    Message,
    Pacer,
    SansioChatError,
    TokenEvent,
    providers,
)
from sansio_chat.providers.ddg import ModelInfo

from ._models import FAILED_MODELS_TTL, LIVE_MODELS_TTL
from ._request import ModelRoute

logger = logging.getLogger("sansio_chat.gateway")

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
        solver: ``"v8"``, ``"chromium"`` (made on first need) or a solver object; closed by
            :meth:`aclose` either way.
        dialect: DuckDuckGo's dialect (``None``: the library default).
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
        solver: str | Any = "v8",
        dialect: str | None = None,
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
        self._solver = LazySolver(solver) if isinstance(solver, str) else solver
        self.dialect = dialect
        self._models: tuple[float, tuple[ModelInfo, ...] | None] | None = None
        self._models_lock: anyio.Lock | None = None
        self.open_streams = 0
        """How many upstream turns are running now (tests watch it drop on cancellation)."""

    def _client(self) -> httpx.AsyncClient:
        # Created on first use, inside the server's event loop.
        if self._http is None:
            self._http = async_http_client(proxy=self._proxy, verify=self._verify)
        return self._http

    async def stream(
        self, route: ModelRoute, messages: Sequence[Mapping[str, str]]
    ) -> AsyncGenerator[TokenEvent | Finished, None]:
        """Run one turn; yield its tokens and the final ``Finished``."""
        provider = providers.get(route.provider)
        history, turn = split_history(messages)
        conversation = Conversation(provider=route.provider, model=route.model, messages=history)
        options: dict[str, Any] = {}
        if route.provider == "ddg" and self.dialect is not None:
            options["dialect"] = self.dialect
        session = provider.new_session(
            base_url=self._base_urls.get(route.provider),
            conversation=conversation,
            pacer=self._pacer,
            backoff=Backoff(**self._backoff_options) if self._backoff_options else None,
            **options,
        )
        self.open_streams += 1
        try:
            events = aiter_turn(
                session, self._client(), turn, timeouts=self._timeouts, solver=self._solver
            )
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, (TokenEvent, Finished)):
                        yield event
        finally:
            self.open_streams -= 1

    async def live_models(self) -> tuple[ModelInfo, ...] | None:
        """DuckDuckGo's live models in dialect ``2026`` (cached), else or on failure ``None``."""
        if self.dialect != "2026":
            return None
        if self._models_lock is None:
            self._models_lock = anyio.Lock()
        async with self._models_lock:  # one fetch at a time; the others get its result
            now = anyio.current_time()
            if self._models is not None and now < self._models[0]:
                return self._models[1]
            found: tuple[ModelInfo, ...] | None
            try:
                found = await afetch_models(
                    self._client(), self._base_urls.get("ddg"), timeouts=self._timeouts
                )
            except SansioChatError as exc:
                logger.warning("the live model list could not be fetched: %s", exc)
                found = None
            ttl = LIVE_MODELS_TTL if found else FAILED_MODELS_TTL
            self._models = (anyio.current_time() + ttl, found or None)
            return found or None

    async def aclose(self) -> None:
        """Close the shared httpx client (unless it was given) and the solver."""
        try:
            if self._http is not None and self._own_http:
                http, self._http = self._http, None
                await http.aclose()
        finally:
            self._solver.close()
