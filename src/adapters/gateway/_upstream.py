"""The gateway's default upstream: one fresh session and one connection per request.

Sessions are driven with the h11 driver (:func:`sansio_chat.adapters.h11.aiter_turn`), or
with the httpx one over the ``http`` client when one is given; the pacer and the challenge
solver are shared by every request, so the gateway as a whole keeps the spacing a service
expects and keeps one engine warm. In dialect ``2026`` it also fetches (and caches)
DuckDuckGo's live model list (through httpx).

Why a connection per request and not one shared pool: httpcore assigns a request to a
connection by scanning every pooled connection (and every queued request), so with one pool
for all, each request costs time in proportion to the requests in flight; at 200 concurrent
completions that scan was 39 % of the gateway's CPU and throughput fell as
``--max-concurrency`` rose. A request's exchanges (page, status, chat) still share its
connection, as the direct ``AsyncChatClient`` does. Why h11 and not an httpx client per
request: the same turn costs about a quarter less CPU through the h11 driver (no pool, no
client to build), and the gateway's throughput is bound by CPU (docs/benchmarks.md). The
fe-version is what requests do share (a :class:`~sansio_chat.providers.ddg.FeVersionCache`):
one fetch serves every request for 30 minutes; a turn refused for its challenge reads the
page again itself, and a turn that fails drops the shared value.

The h11 driver hands over the events of each network read together
(:func:`~sansio_chat.adapters.h11.aiter_batches`), and the tokens among them go on as one
token (:func:`joined_tokens`), so the gateway writes one completion chunk per read, not one
per token: under load, when many tokens wait in one read, that was most of its writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, aclosing
from typing import Any

import anyio
import httpx
from sansio_chat.adapters.h11 import aiter_batches
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
    Event,
    Finished,
    Limits,
    Message,
    Pacer,
    RateLimited,
    SansioChatError,
    TokenEvent,
    providers,
)
from sansio_chat.providers.ddg import FeVersionCache, ModelInfo

from ._models import FAILED_MODELS_TTL, LIVE_MODELS_TTL
from ._request import ModelRoute

logger = logging.getLogger("sansio_chat.gateway")

__all__ = ["SessionUpstream", "joined_tokens", "split_history"]


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


def joined_tokens(batch: Sequence[Event]) -> Iterator[Event]:
    """``batch`` with each run of adjacent token events joined into one.

    The events of a batch arrived together (one network read), so a client loses no time
    when their text goes out as one completion chunk instead of one chunk per token: the
    gateway makes one write, and its client parses one event, where there were many.
    """
    run: list[TokenEvent] = []
    for event in batch:
        if type(event) is TokenEvent:
            run.append(event)
            continue
        if run:
            yield _joined(run)
            run = []
        yield event
    if run:
        yield _joined(run)


def _joined(run: list[TokenEvent]) -> TokenEvent:
    return run[0] if len(run) == 1 else TokenEvent(text="".join(t.text for t in run))


async def _one_by_one(events: AsyncGenerator[Event, None]) -> AsyncGenerator[tuple[Event], None]:
    """Each event of ``events`` as a batch of its own (the httpx driver does not group them)."""
    async with aclosing(events):
        async for event in events:
            yield (event,)


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
        http: an ``httpx.AsyncClient`` to use for every request instead of a new one per
            request (left open by :meth:`aclose`).
        solver: ``"v8"``, ``"chromium"`` (made on first need) or a solver object; closed by
            :meth:`aclose` either way.
        dialect: DuckDuckGo's dialect (``None``: discovered).
        max_reply_chars: the longest reply accepted (``None``: the library default).
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
        max_reply_chars: int | None = None,
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
        self._limits = None if max_reply_chars is None else Limits(max_reply_chars=max_reply_chars)
        self._fe_versions = FeVersionCache()  # DuckDuckGo's, shared by every request
        self._solver = LazySolver(solver) if isinstance(solver, str) else solver
        self.dialect = dialect
        self._models: tuple[float, tuple[ModelInfo, ...] | None] | None = None
        self._models_lock: anyio.Lock | None = None
        self.open_streams = 0
        """How many upstream turns are running now (tests watch it drop on cancellation)."""

    async def _client(self, stack: AsyncExitStack) -> httpx.AsyncClient:
        """The given client, or a new one that ``stack`` closes."""
        if self._http is not None:
            return self._http
        return await stack.enter_async_context(
            async_http_client(proxy=self._proxy, verify=self._verify)
        )

    async def stream(
        self, route: ModelRoute, messages: Sequence[Mapping[str, str]]
    ) -> AsyncGenerator[TokenEvent | Finished | RateLimited, None]:
        """Run one turn; yield its tokens, each ``RateLimited`` and the final ``Finished``."""
        provider = providers.get(route.provider)
        history, turn = split_history(messages)
        conversation = Conversation(provider=route.provider, model=route.model, messages=history)
        options: dict[str, Any] = {}
        cached = ""
        if route.provider == "ddg":
            cached = options["fe_version"] = self._fe_versions.current(time.monotonic())
            if self.dialect is not None:
                options["dialect"] = self.dialect
        if self._limits is not None:
            options["limits"] = self._limits
        session = provider.new_session(
            base_url=self._base_urls.get(route.provider),
            conversation=conversation,
            pacer=self._pacer,
            backoff=Backoff(**self._backoff_options) if self._backoff_options else None,
            **options,
        )
        self.open_streams += 1
        try:
            if self._http is None:
                batches = aiter_batches(
                    session,
                    turn,
                    proxy=self._proxy,
                    verify=self._verify,
                    timeouts=self._timeouts,
                    solver=self._solver,
                )
            else:
                batches = _one_by_one(
                    aiter_turn(
                        session, self._http, turn, timeouts=self._timeouts, solver=self._solver
                    )
                )
            async with aclosing(batches):
                async for batch in batches:
                    for event in joined_tokens(batch):
                        if isinstance(event, (TokenEvent, Finished, RateLimited)):
                            yield event
        except SansioChatError:
            if cached:  # perhaps refused for a stale frontend: fetch it afresh next time
                self._fe_versions.forget()
            raise
        finally:
            self.open_streams -= 1
        if route.provider == "ddg":
            self._fe_versions.learn(session.conversation, time.monotonic())

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
                async with AsyncExitStack() as stack:
                    found = await afetch_models(
                        await self._client(stack),
                        self._base_urls.get("ddg"),
                        timeouts=self._timeouts,
                    )
            except SansioChatError as exc:
                logger.warning("the live model list could not be fetched: %s", exc)
                found = None
            ttl = LIVE_MODELS_TTL if found else FAILED_MODELS_TTL
            self._models = (anyio.current_time() + ttl, found or None)
            return found or None

    async def aclose(self) -> None:
        """Close the solver (each request closes its own client; a given one stays open)."""
        self._solver.close()
