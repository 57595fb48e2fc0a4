"""The high-level clients: :class:`AsyncChatClient` (anyio) and :class:`ChatClient` (sync).

A client holds one conversation (a session of one provider), one pacer shared by its
sessions, one httpx client, one challenge solver (made on the first script challenge) and,
for DuckDuckGo, the fe-version its conversations share (:class:`FeVersionCache`).
Every turn runs through the drivers in ``httpx_turn``; a turn that does not finish (error,
cancellation, a stream closed early) leaves the conversation exactly as it was.

Why this file is long: the two clients mirror each other method by method (async and
sync), and their shared part sits above them; splitting them would part what must change
together.
"""

from __future__ import annotations

import os
import random
import ssl
import tempfile
import time
from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import aclosing, closing
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, NoReturn, TypeVar

import httpx

from sansio_chat import (
    DEFAULT_MIN_INTERVAL,
    Backoff,
    ChatSession,
    Conversation,
    Event,
    Finished,
    Limits,
    LocalProtocolError,
    MessagesLike,
    Pacer,
    TokenEvent,
    providers,
)
from sansio_chat.providers.ddg import FeVersionCache, ModelInfo
from sansio_chat.providers.ddg.provider import era_models

from .common import Timeouts, Verify
from .httpx_setup import async_http_client, http_client
from .httpx_turn import aiter_turn, iter_turn
from .models import afetch_models, fetch_models
from .session_protocol import TurnSession
from .solving import SolverLike, solver_of

__all__ = ["AsyncChatClient", "AsyncTurnStream", "ChatClient", "TurnStream"]

_T = TypeVar("_T")


def _token(event: Event) -> str | None:
    return event.text if isinstance(event, TokenEvent) else None


def _event(event: Event) -> Event:
    return event


MAX_CONVERSATION_BYTES = 64 * 1024 * 1024
"""The largest conversation file ``load()`` reads. Generous: the service refuses a turn whose
messages exceed about 16,000 characters in all, so a conversation it would continue is that
plus one reply (at most ``Limits.max_reply_chars``, 4 Mi characters)."""


class _Prepared:
    """A session whose preparation has started: the driver's ``start_turn()`` is a no-op,
    everything else is the session's."""

    def __init__(self, session: ChatSession) -> None:
        self._session = session

    def start_turn(self, messages: Any, /) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def _check_arguments(*, conversation: object, clock: object, rng: object) -> None:
    """Refuse arguments of the wrong type at once, not at the first turn."""
    if conversation is not None and not isinstance(conversation, Conversation):
        raise LocalProtocolError(
            f"conversation must be a Conversation, not {type(conversation).__name__}"
        )
    if clock is not None and not callable(clock):
        raise LocalProtocolError("clock must be a function returning seconds")
    if rng is not None and not isinstance(rng, random.Random):
        raise LocalProtocolError(f"rng must be a random.Random, not {type(rng).__name__}")


def _check_transport(http: object, kind: type, proxy: object, verify: object) -> None:
    """Refuse an ``http``, ``proxy`` or ``verify`` of the wrong type at once."""
    if http is not None and not isinstance(http, kind):
        raise LocalProtocolError(f"http must be an {kind.__module__}.{kind.__name__}")
    if proxy is not None and not isinstance(proxy, str):
        raise LocalProtocolError(f"proxy must be a URL str, not {type(proxy).__name__}")
    if not isinstance(verify, (bool, str, ssl.SSLContext)):
        raise LocalProtocolError(
            "verify must be True, False, a CA bundle path or an ssl.SSLContext, "
            f"not {type(verify).__name__}"
        )


class _Conversing:
    """What both clients share: the provider, the session and the conversation file."""

    def __init__(
        self,
        provider: str | None,
        model: str | None,
        base_url: str | None,
        timeout: Timeouts | float | None,
        min_interval: float,
        conversation: Conversation | None,
        clock: Callable[[], float] | None,
        rng: random.Random | None,
        backoff: Backoff | None,
        solver: SolverLike,
        dialect: str | None,
        max_reply_chars: int | None = None,
    ) -> None:
        _check_arguments(conversation=conversation, clock=clock, rng=rng)
        name = provider or (conversation.provider if conversation else "ddg")
        if conversation is not None and conversation.provider != name:
            raise LocalProtocolError(
                f"the conversation belongs to provider {conversation.provider!r}, not {name!r}"
            )
        self._provider = providers.get(name)
        self._model, self._base_url = model, base_url
        self._clock, self._rng, self._backoff = clock, rng, backoff
        try:
            self._timeouts = Timeouts.of(timeout)
        except (TypeError, ValueError) as exc:
            raise LocalProtocolError(f"timeout: {exc}") from exc
        self._dialect = dialect
        self._limits = None if max_reply_chars is None else Limits(max_reply_chars=max_reply_chars)
        try:
            self._solver, self._own_solver = solver_of(solver)
        except (TypeError, ValueError) as exc:
            raise LocalProtocolError(str(exc)) from exc
        self._pacer = Pacer(min_interval, clock=clock)
        # DuckDuckGo's fe-version, shared by this client's conversations (read from the page
        # once, then reused until it expires or the service refuses it).
        self._fe_versions = FeVersionCache()
        self._session = self._new_session(conversation)
        self._turn = 0  # id of the newest turn: an older stream still open is abandoned
        self._open = False  # a turn of self._session is under way
        self._closed = False

    def _new_session(self, conversation: Conversation | None) -> ChatSession:
        options: dict[str, Any] = {"pacer": self._pacer}
        if self._dialect is not None:
            options["dialect"] = self._dialect
        if self._limits is not None:
            options["limits"] = self._limits
        for key, value in (("clock", self._clock), ("rng", self._rng), ("backoff", self._backoff)):
            if value is not None:
                options[key] = value
        if conversation is None or self._model is not None:
            options["model"] = self._model
        if self._provider.name == "ddg":
            fe_version = self._fe_versions.current(self._now())
            if fe_version:
                options["fe_version"] = fe_version
        return self._provider.new_session(
            base_url=self._base_url, conversation=conversation, **options
        )

    def _now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    @property
    def provider(self) -> str:
        """The provider's name (``"ddg"`` or ``"darkai"``)."""
        return str(self._provider.name)

    @property
    def conversation(self) -> Conversation:
        """The committed conversation (an immutable value)."""
        return self._session.conversation

    def _builtin_models(self) -> list[ModelInfo]:
        provider = self._provider
        ids = provider.models  # DuckDuckGo's: today's (2026) ids, as a new session discovers
        if provider.name == "ddg" and self._dialect is not None:
            ids = era_models(self._dialect)[0]
        return [ModelInfo(id=model) for model in ids]

    def _dialect_of_ddg(self) -> Any:
        dialect = getattr(self._provider, "dialect", None)
        return dialect(self._dialect) if callable(dialect) else None

    def _live_models(self) -> bool:
        # Only DuckDuckGo's 2026 era has a model list to fetch.
        return self._provider.name == "ddg" and (
            self._dialect is None or self._dialect_of_ddg().script_challenge
        )

    def _close_solver(self) -> None:
        if self._own_solver:
            self._solver.close()

    def new_conversation(self) -> None:
        """Forget the conversation; the next turn starts a new one."""
        self._replace(None)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the conversation to ``path`` as JSON (atomically)."""
        target = Path(path)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(self.conversation.to_json(indent=2))
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise

    def load(self, path: str | os.PathLike[str]) -> None:
        """Continue the conversation saved at ``path``: ``OSError`` when it cannot be read,
        ``LocalProtocolError`` when it is not a conversation (not UTF-8 JSON, or larger than
        :data:`MAX_CONVERSATION_BYTES`)."""
        with open(path, "rb") as file:
            data = file.read(MAX_CONVERSATION_BYTES + 1)
        if len(data) > MAX_CONVERSATION_BYTES:
            raise LocalProtocolError(
                f"{path}: larger than {MAX_CONVERSATION_BYTES} bytes, not read as a conversation"
            )
        conversation = Conversation.from_json(data)
        if conversation.provider != self.provider:
            raise LocalProtocolError(
                f"{path}: the conversation belongs to provider {conversation.provider!r}"
            )
        self._replace(conversation)

    def _replace(self, conversation: Conversation | None) -> None:
        self._turn += 1  # detaches any stream still open
        self._open = False
        self._session = self._new_session(conversation)

    def _check_open(self) -> None:
        if self._closed:
            raise LocalProtocolError("the client is closed")

    def _begin(self) -> tuple[int, TurnSession]:
        self._check_open()
        if self._open:
            # An older stream was left open (not yet finalized): it is abandoned.
            self._replace(self._session.conversation)
        self._turn += 1
        self._open = True
        return self._turn, self._session

    def _begin_preparation(self) -> tuple[int, TurnSession | None]:
        """Like ``_begin()``, with the preparation started (``None``: nothing to load)."""
        turn = self._begin()[0]
        session = self._session
        try:
            started = session.start_preparation()
        except BaseException:
            self._end(turn, False)
            raise
        if not started:
            self._open = False
            return turn, None
        return turn, _Prepared(session)

    def _abandoned(self) -> NoReturn:
        raise LocalProtocolError(
            "abandoned: a newer turn or prepare() started on this client before this one ended"
        )

    def _end(self, turn: int, finished: bool) -> None:
        if turn == self._turn and self._open:
            self._open = False
            if finished and self._provider.name == "ddg":
                self._fe_versions.learn(self._session.conversation, self._now())
            if not finished:
                # The session stopped mid-turn; its committed conversation is untouched, so
                # a fresh session over it carries on from exactly there.
                self._session = self._new_session(self._session.conversation)


class AsyncChatClient(_Conversing):
    """Chat with a provider from asyncio or trio (through anyio and httpx).

    Args:
        provider: ``"ddg"`` (default) or ``"darkai"``; a loaded conversation's by default.
        model: a model id or alias (default: the provider's default model).
        base_url: where the service is (default: the real one); point it at the emulator.
        proxy: an http(s) proxy URL.
        timeout: a :class:`Timeouts`, or a number of seconds for connect and read.
        verify: TLS verification: ``True``, ``False``, a CA bundle path or an ``SSLContext``.
        min_interval: spacing of requests to one host in seconds (the real service needs
            1.5; ``0`` against the emulator).
        conversation: a :class:`~sansio_chat.Conversation` to continue.
        clock, rng: injected time source and random generator (tests replay schedules).
        backoff: the retry policy (default: the session's, 3 retries from 2 s).
        http: an ``httpx.AsyncClient`` to share between clients (then ``proxy`` and
            ``verify`` are its business, and :meth:`aclose` leaves it open).
        solver: answers script challenges (DuckDuckGo dialect ``2026``): an object with
            ``solve(step)`` and ``async asolve(step)`` (left open by :meth:`aclose`), or
            ``"v8"`` / ``"chromium"``; default ``None``: a ``V8Solver``, made on the first
            challenge and closed with the client. Solving runs off the event loop.
        dialect: the DuckDuckGo dialect (``"2024"``, ``"2025-03"``, ``"2026"``); ``None``:
            discovered from the service's first answer (a loaded conversation keeps its own).
        max_reply_chars: the longest reply accepted, in characters (default
            ``Limits.max_reply_chars``, 4 Mi); a longer one ends the turn with
            ``RemoteProtocolError(limit=…, observed=…)`` and its partial text.
    """

    def __init__(
        self,
        provider: str | None = None,
        *,
        model: str | None = None,
        base_url: str | None = None,
        proxy: str | None = None,
        timeout: Timeouts | float | None = None,
        verify: Verify = True,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        conversation: Conversation | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        backoff: Backoff | None = None,
        http: httpx.AsyncClient | None = None,
        solver: SolverLike = None,
        dialect: str | None = None,
        max_reply_chars: int | None = None,
    ) -> None:
        super().__init__(
            provider,
            model,
            base_url,
            timeout,
            min_interval,
            conversation,
            clock,
            rng,
            backoff,
            solver,
            dialect,
            max_reply_chars,
        )
        _check_transport(http, httpx.AsyncClient, proxy, verify)
        self._own_http = http is None
        self._http = http if http is not None else async_http_client(proxy=proxy, verify=verify)

    async def _run(
        self, prompt: MessagesLike, begun: tuple[int, TurnSession] | None = None
    ) -> AsyncGenerator[Event, None]:
        turn, session = begun if begun is not None else self._begin()
        finished = False
        try:
            events = aiter_turn(
                session, self._http, prompt, timeouts=self._timeouts, solver=self._solver
            )
            async with aclosing(events):
                async for event in events:
                    if turn != self._turn:
                        self._abandoned()
                    yield event
            finished = True
        finally:
            self._end(turn, finished)

    async def prepare(self) -> bool:
        """Load, ahead of the first turn, what it would fetch first: DuckDuckGo's page (its
        fe-version), as a browser loads duck.ai before the first message is typed, on the
        connection the turn then uses; the turn is then the status call and the chat
        request. A client that discovers its era makes a status call first, which names
        the era (and so the page), and keeps the era. Returns whether anything was asked:
        nothing is needed for DarkAI, the ``2024`` era, or a client that holds an
        fe-version already. The errors are a turn's; the conversation is left
        as it was when it fails."""
        turn, prepared = self._begin_preparation()
        if prepared is None:
            return False
        async with aclosing(self._run((), (turn, prepared))) as events:
            async for _event in events:
                pass
        return True

    def events(self, prompt: MessagesLike) -> AsyncTurnStream[Event]:
        """Run a turn, yielding every event (tokens, rate limits, vqd updates, the end)."""
        return AsyncTurnStream(self._run(prompt), _event)

    def stream(self, prompt: MessagesLike) -> AsyncTurnStream[str]:
        """Run a turn, yielding the reply's tokens as they arrive."""
        return AsyncTurnStream(self._run(prompt), _token)

    async def ask(self, prompt: MessagesLike) -> str:
        """Run a turn and return the whole reply."""
        parts: list[str] = []
        async with aclosing(self._run(prompt)) as events:
            async for event in events:
                if type(event) is TokenEvent:
                    parts.append(event.text)
        return "".join(parts)

    async def models(self, live: bool = True) -> list[ModelInfo]:
        """The provider's models: DuckDuckGo's live list (``GET /duckchat/v1/models``, dialect
        ``2026``) when ``live``, else (or for another provider or dialect) the built-in ids.

        Raises ``TransportError``, ``Timeout``, ``HTTPStatusError`` or
        ``RemoteProtocolError`` when the live list cannot be had.
        """
        if not (live and self._live_models()):
            return self._builtin_models()
        self._check_open()
        found = await afetch_models(self._http, self._base_url, timeouts=self._timeouts)
        return list(found)

    async def aclose(self) -> None:
        """Close the connections (unless the httpx client was given) and the own solver; a
        turn, ``prepare()`` or live model list asked of a closed client is a
        ``LocalProtocolError``."""
        self._closed = True
        try:
            if self._own_http:
                await self._http.aclose()
        finally:
            self._close_solver()

    async def __aenter__(self) -> AsyncChatClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class ChatClient(_Conversing):
    """Chat with a provider from synchronous code (httpx); see :class:`AsyncChatClient`."""

    def __init__(
        self,
        provider: str | None = None,
        *,
        model: str | None = None,
        base_url: str | None = None,
        proxy: str | None = None,
        timeout: Timeouts | float | None = None,
        verify: Verify = True,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        conversation: Conversation | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        backoff: Backoff | None = None,
        http: httpx.Client | None = None,
        solver: SolverLike = None,
        dialect: str | None = None,
        max_reply_chars: int | None = None,
    ) -> None:
        super().__init__(
            provider,
            model,
            base_url,
            timeout,
            min_interval,
            conversation,
            clock,
            rng,
            backoff,
            solver,
            dialect,
            max_reply_chars,
        )
        _check_transport(http, httpx.Client, proxy, verify)
        self._own_http = http is None
        self._http = http if http is not None else http_client(proxy=proxy, verify=verify)

    def _run(
        self, prompt: MessagesLike, begun: tuple[int, TurnSession] | None = None
    ) -> Generator[Event, None, None]:
        turn, session = begun if begun is not None else self._begin()
        finished = False
        try:
            turn_events = iter_turn(
                session, self._http, prompt, timeouts=self._timeouts, solver=self._solver
            )
            with closing(turn_events) as events:
                for event in events:
                    if turn != self._turn:
                        self._abandoned()
                    yield event
            finished = True
        finally:
            self._end(turn, finished)

    def prepare(self) -> bool:
        """Load, ahead of the first turn, what it would fetch first (DuckDuckGo's page);
        whether anything was loaded. See :meth:`AsyncChatClient.prepare`."""
        turn, prepared = self._begin_preparation()
        if prepared is None:
            return False
        with closing(self._run((), (turn, prepared))) as events:
            for _event in events:
                pass
        return True

    def events(self, prompt: MessagesLike) -> TurnStream[Event]:
        """Run a turn, yielding every event (tokens, rate limits, vqd updates, the end)."""
        return TurnStream(self._run(prompt), _event)

    def stream(self, prompt: MessagesLike) -> TurnStream[str]:
        """Run a turn, yielding the reply's tokens as they arrive."""
        return TurnStream(self._run(prompt), _token)

    def ask(self, prompt: MessagesLike) -> str:
        """Run a turn and return the whole reply."""
        parts: list[str] = []
        with closing(self._run(prompt)) as events:
            for event in events:
                if type(event) is TokenEvent:
                    parts.append(event.text)
        return "".join(parts)

    def models(self, live: bool = True) -> list[ModelInfo]:
        """The provider's models; see :meth:`AsyncChatClient.models`."""
        if not (live and self._live_models()):
            return self._builtin_models()
        self._check_open()
        return list(fetch_models(self._http, self._base_url, timeouts=self._timeouts))

    def close(self) -> None:
        """Close the connections (unless the httpx client was given) and the own solver; a
        turn, ``prepare()`` or live model list asked of a closed client is a
        ``LocalProtocolError``."""
        self._closed = True
        try:
            if self._own_http:
                self._http.close()
        finally:
            self._close_solver()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncTurnStream(Generic[_T]):
    """One running turn: an async iterator of tokens (or events) that must be closed.

    Use it as ``async with client.stream(prompt) as tokens: async for token in tokens``;
    leaving the block, breaking out or being cancelled closes the reply, and a turn that
    did not finish leaves the conversation unchanged. ``finished`` is the final
    :class:`~sansio_chat.Finished` event once the reply is complete.
    """

    def __init__(self, source: AsyncGenerator[Event, None], pick: Callable[[Event], _T | None]):
        self._source, self._pick = source, pick
        self.finished: Finished | None = None

    def __aiter__(self) -> AsyncTurnStream[_T]:
        return self

    async def __anext__(self) -> _T:
        while True:
            event = await self._source.__anext__()
            if isinstance(event, Finished):
                self.finished = event
            item = self._pick(event)
            if item is not None:
                return item

    async def aclose(self) -> None:
        """Stop the turn and close the reply."""
        await self._source.aclose()

    async def __aenter__(self) -> AsyncTurnStream[_T]:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class TurnStream(Generic[_T]):
    """One running turn: an iterator of tokens (or events); see :class:`AsyncTurnStream`."""

    def __init__(self, source: Generator[Event, None, None], pick: Callable[[Event], _T | None]):
        self._source, self._pick = source, pick
        self.finished: Finished | None = None

    def __iter__(self) -> TurnStream[_T]:
        return self

    def __next__(self) -> _T:
        while True:
            event = next(self._source)
            if isinstance(event, Finished):
                self.finished = event
            item = self._pick(event)
            if item is not None:
                return item

    def close(self) -> None:
        """Stop the turn and close the reply."""
        self._source.close()

    def __enter__(self) -> TurnStream[_T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
