"""``ChatSession``: the state machine every provider shares.

The session knows HTTP exchanges, bodies, the event queue, pacing and the state table; a
provider supplies the rules of a turn (which request comes next and what a response means)
through the small :class:`ProviderRules` / :class:`ProviderTurn` / :class:`ProviderExchange`
interfaces below; it knows no provider by name. Parsing happens only in
:meth:`ChatSession.next_event`; the ``receive_*`` methods only buffer.

Why this file is long: the provider interface, the turn context and the session loop
are one contract read together (what the session calls when, and what a provider may do
then), the way h11 keeps its connection in one module.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal, TypeAlias, final

from ._challenge import ChallengeResult, SolveChallenge
from ._conversation import Conversation, Message, MessagesLike, coerce_messages
from ._errors import (
    ChallengeError,
    ConversationLimitError,
    LocalProtocolError,
    RemoteProtocolError,
    SansioChatError,
)
from ._events import Event, Finished, FinishReason, RateLimited, TokenEvent
from ._http import NEED_DATA, HttpRequest, Sleep, Step, TurnComplete, _Sentinel
from ._pacing import Backoff, Pacer
from ._sse import ServerSentEvent, SSEDecoder
from ._state import Input, State, StateMachine

__all__ = [
    "ChatSession",
    "Decision",
    "Headers",
    "Limits",
    "ProviderChallenge",
    "ProviderExchange",
    "ProviderRules",
    "ProviderTurn",
    "ReadBody",
    "ReadSSE",
    "TurnContext",
    "header_values",
]

Headers = tuple[tuple[str, str], ...]
"""Response headers as ``(name, value)`` pairs; names lower-case, in arrival order."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Upper bounds on what a session buffers; exceeding one raises ``RemoteProtocolError``.

    Attributes:
        max_event_bytes: one server-sent event (its unfinished lines and data). A chat
            token event is a few hundred bytes and a DarkAI ``final-response`` holds a
            whole reply (tens of KiB); 1 MiB leaves room for long replies while bounding
            a stream that never sends a blank line.
        max_page_bytes: the HTML page the DuckDuckGo fe-version is read from. The page is a
            few hundred KiB; 4 MiB bounds a server that streams forever.
        max_error_body_bytes: the body of an error reply, kept for the error message and
            its JSON type. Real error bodies are about 100 bytes; 64 KiB keeps an HTML
            error page readable. A longer body is truncated and read no further.
        max_reply_chars: the text of one reply, in characters. Real replies are a few
            thousand characters; 4 Mi characters (about 4 MiB of ASCII, up to 16 MiB held as
            ``str``) bound a server that streams tokens forever. The partial reply up to the
            limit is kept on the error.
    """

    max_event_bytes: int = 1024 * 1024
    max_page_bytes: int = 4 * 1024 * 1024
    max_error_body_bytes: int = 64 * 1024
    max_reply_chars: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in (
            "max_event_bytes",
            "max_page_bytes",
            "max_error_body_bytes",
            "max_reply_chars",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LocalProtocolError(f"Limits.{name} must be an int >= 1, not {value!r}")


def _host(url: str) -> str:
    # urllib.parse (and ipaddress) at the first paced request, not at `import sansio_chat`.
    from urllib.parse import urlsplit

    return urlsplit(url).netloc


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of header ``name`` (lower-case), in order."""
    return [value for key, value in headers if key == name]


# ---------------------------------------------------------------------------------------
# The provider interface
# ---------------------------------------------------------------------------------------


class DecisionKind(Enum):
    """How an exchange ended."""

    NEXT = "NEXT"
    RETRY = "RETRY"
    FINISH = "FINISH"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The settled outcome of one exchange.

    Attributes:
        kind: ``NEXT`` (the next request follows), ``RETRY`` (after ``delay`` seconds) or
            ``FINISH`` (the reply is complete).
        delay: the back-off before a retry.
        reason: the finish reason.
        conversation: for ``FINISH``, the conversation to commit.
    """

    kind: DecisionKind
    delay: float = 0.0
    reason: FinishReason = "stop"
    conversation: Conversation | None = None
    stop_reason: str = ""

    @classmethod
    def next(cls) -> Decision:
        """Another request of this turn follows at once."""
        return cls(kind=DecisionKind.NEXT)

    @classmethod
    def finish(
        cls, conversation: Conversation, reason: FinishReason = "stop", stop_reason: str = ""
    ) -> Decision:
        """The reply is complete; commit ``conversation``."""
        return cls(
            kind=DecisionKind.FINISH,
            reason=reason,
            conversation=conversation,
            stop_reason=stop_reason,
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReadSSE:
    """Read the body as a server-sent event stream (``ProviderExchange.on_events``/``on_eof``)."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReadBody:
    """Buffer the body, then call ``ProviderExchange.on_body``.

    Attributes:
        purpose: ``"page"`` (bounded by ``Limits.max_page_bytes``) or ``"error"`` (bounded
            by ``Limits.max_error_body_bytes``).
    """

    purpose: Literal["page", "error"]


HeadResult: TypeAlias = "Decision | ReadSSE | ReadBody"


class ProviderExchange(ABC):
    """One HTTP exchange of a turn: its request and the rules for its response.

    Every method may raise a :class:`~sansio_chat.SansioChatError`; the session delivers it
    from ``next_event()`` after the events emitted before it.

    Attributes:
        request: the request to send.
        paced: the request counts against the pacer (``Pacer.min_interval`` between two
            paced requests to one host). Only the request that starts a reply is paced: the
            exchanges that prepare it (a page, a status call) go back to back, as a browser
            sends them, and the pacer spaces turns, not the steps of one turn.
    """

    request: HttpRequest
    paced: bool = False

    @abstractmethod
    def on_head(self, status: int, headers: Headers) -> HeadResult:
        """Read the status and headers; say how to read the body (or decide now)."""

    def on_events(self, events: list[ServerSentEvent]) -> Decision | None:
        """The events of a ``ReadSSE`` body that one chunk completed, in order.

        Return a decision to stop reading; the events after the deciding one are dropped.
        """
        raise NotImplementedError

    def on_eof(self) -> Decision:
        """The ``ReadSSE`` body ended without a decision."""
        raise NotImplementedError

    def on_body(self, body: bytes, received: int) -> Decision:
        """The ``ReadBody`` body: ``received`` bytes arrived, ``body`` holds the first ones.

        ``received > len(body)`` means the body was cut at its limit and not read further.
        """
        raise NotImplementedError


class ProviderChallenge(ABC):
    """A script challenge the driver must evaluate before the turn can go on.

    The session hands out :attr:`step`; the driver's answer reaches :meth:`on_result` or
    :meth:`on_failure`, after which the session asks the turn for its next exchange.
    Both may raise a :class:`~sansio_chat.SansioChatError`, which the session delivers
    from ``next_event()``.
    """

    step: SolveChallenge

    @abstractmethod
    def on_result(self, result: ChallengeResult) -> None:
        """The script resolved to ``result``."""

    @abstractmethod
    def on_failure(self, reason: str) -> None:
        """The driver could not evaluate the script."""


class ProviderTurn(ABC):
    """The provider's state for one turn; it plans the exchanges."""

    @abstractmethod
    def next_exchange(self) -> ProviderExchange | ProviderChallenge:
        """The next exchange to perform (called at turn start and after each ``NEXT``/``RETRY``)."""

    def costly_ahead(self, head: Headers) -> bool:
        """Whether planning the next exchange, or taking the reply under way, may take long
        enough to matter to an event loop; see ``ChatSession.costly_work_ahead``. ``head``:
        the headers of a reply received but not yet taken (empty when there is none)."""
        return False


class ProviderRules(ABC):
    """A provider's protocol rules bound to one session (options, caches)."""

    name: str

    @abstractmethod
    def begin_turn(self, ctx: TurnContext) -> ProviderTurn:
        """Check the turn before anything is sent and return its state.

        May raise ``LocalProtocolError`` or a ``ServiceRefusal`` known in advance (such as
        ``InputLimitError``); must change nothing shared when it raises.
        """

    def costly_ahead(self) -> bool:
        """Whether planning the next exchange may take long enough to matter to an event loop
        (a challenge to solve, a key pair to make); see ``ChatSession.costly_work_ahead``."""
        return False

    def begin_preparation(self, ctx: TurnContext) -> ProviderTurn | None:
        """The exchanges that load, ahead of the next turn, what it would fetch first (a page
        a browser loads before the first message is typed); ``None`` when there is nothing
        to load. Their last decision is ``FINISH`` with the conversation's new provider
        state and no message. Must change nothing when it returns ``None`` or raises."""
        return None


# A frozen dataclass's generated __init__ sets each field through object.__setattr__, which
# costs more than parsing a short token event; TokenEvent (one str field, no validation) is
# built on the hot path by filling its slot directly. The result equals a constructed one.
_new_object: Callable[[type[TokenEvent]], TokenEvent] = object.__new__
_set_token_text: Callable[[TokenEvent, str], None] = TokenEvent.__dict__["text"].__set__


class TurnContext:
    """What provider code sees of the running turn.

    Attributes:
        conversation: the committed conversation at the start of the turn.
        new_messages: this turn's new messages.
        messages: ``conversation.messages + new_messages``.
        retries: how many retries this turn has made.
        attempt_has_text: whether the current attempt produced reply text (a retry would
            then repeat text already delivered, so it is not retried).
    """

    __slots__ = (
        "_emit",
        "_max_chars",
        "_parts",
        "_size",
        "attempt_has_text",
        "backoff",
        "commit_on_error",
        "conversation",
        "messages",
        "new_messages",
        "retries",
    )

    def __init__(
        self,
        conversation: Conversation,
        new_messages: tuple[Message, ...],
        backoff: Backoff,
        emit: Callable[[Event], None],
        max_reply_chars: int = 4 * 1024 * 1024,
    ) -> None:
        self.conversation = conversation
        self.new_messages = new_messages
        self.messages = conversation.messages + new_messages
        self.backoff = backoff
        self.retries = 0
        self.attempt_has_text = False
        self.commit_on_error: Conversation | None = None
        self._emit = emit
        self._parts: list[str] = []
        self._size = 0
        self._max_chars = max_reply_chars

    @property
    def partial_text(self) -> str:
        """The reply text delivered so far in this turn."""
        return "".join(self._parts)

    def emit(self, event: Event) -> None:
        """Queue ``event`` for ``next_event()``."""
        self._emit(event)

    def token(self, text: str) -> None:
        """Queue a ``TokenEvent`` for non-empty ``text`` and remember the text.

        A reply growing past ``Limits.max_reply_chars`` raises ``RemoteProtocolError``.
        """
        if text:
            self._size += len(text)
            if self._size > self._max_chars:
                raise RemoteProtocolError(
                    f"the reply exceeds Limits.max_reply_chars ({self._max_chars} characters)",
                    limit=self._max_chars,
                    observed=self._size,
                    partial_text=self.partial_text,
                )
            self._parts.append(text)
            self.attempt_has_text = True
            event = _new_object(TokenEvent)
            _set_token_text(event, text)
            self._emit(event)

    def committed(self, base: Conversation) -> Conversation:
        """``base`` with this turn's new messages and the reply text appended."""
        reply = Message(role="assistant", content=self.partial_text)
        return replace(base, messages=(*self.messages, reply))

    def mark_exhausted(self) -> None:
        """Commit the conversation's ``exhausted`` flag with the error about to be raised.

        This is the one change a failed turn commits: the service said no further turn.
        """
        self.commit_on_error = replace(self.conversation, exhausted=True)

    def retry(self, status: int, reason: str, retry_after: float | None) -> Decision | None:
        """Spend one retry: queue ``RateLimited`` and return the ``RETRY`` decision.

        Returns ``None`` when the retries are used up, the attempt already produced text, or
        the server asks for a wait longer than ``Backoff.max_wait`` (then the caller raises).
        """
        attempt = self.retries + 1
        if (
            self.attempt_has_text
            or not self.backoff.allows(attempt)
            or not self.backoff.accepts(retry_after)
        ):
            return None
        delay = self.backoff.delay(attempt, retry_after)
        self.retries = attempt
        self.attempt_has_text = False
        self._emit(RateLimited(delay=delay, attempt=attempt, status=status, reason=reason))
        return Decision(kind=DecisionKind.RETRY, delay=delay)

    def new_attempt(self) -> None:
        """Mark the start of a new request attempt."""
        self.attempt_has_text = False


# ---------------------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class _Control:
    """A queue entry that is more than an event: an error to raise, or a commit."""

    event: Event | None = None
    error: SansioChatError | None = None
    commit: Conversation | None = None


_NeedData = Literal[_Sentinel.NEED_DATA]


class ChatSession:
    """One conversation with one provider, as a sans-IO state machine.

    Build one with ``sansio_chat.providers.get(name).new_session(...)``. A turn::

        session.start_turn("Hello")
        while not isinstance(step := session.next_step(), TurnComplete):
            if isinstance(step, Sleep): sleep(step.seconds); continue
            status, headers, body = send(step)
            session.receive_response_head(status, headers)
            for chunk in body:
                session.receive_data(chunk)
                handle(session.events())
            session.receive_eof()
            handle(session.events())

    Errors come out of three places only: ``start_turn()`` (what is known before any
    request), ``next_event()`` (what a response caused) and, for calls in the wrong state,
    ``LocalProtocolError`` from any method (the session is then unchanged). A driver whose
    own I/O fails mid-turn calls ``abort_turn()``; ``start_turn()`` may follow any failure.
    """

    def __init__(
        self,
        rules: ProviderRules,
        conversation: Conversation,
        *,
        pacer: Pacer | None = None,
        backoff: Backoff | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._rules = rules
        self._conversation = conversation
        self._pacer = pacer if pacer is not None else Pacer(clock=clock or time.monotonic)
        self._backoff = backoff if backoff is not None else Backoff()
        self._limits = limits if limits is not None else Limits()
        self._machine = StateMachine()
        self._queue: deque[Event | _Control] = deque()
        self._ctx: TurnContext | None = None
        self._turn: ProviderTurn | None = None
        self._planned: ProviderExchange | ProviderChallenge | None = None
        self._exchange: ProviderExchange | None = None
        self._challenge: ProviderChallenge | None = None
        self._reset_exchange()

    def _reset_exchange(self) -> None:
        self._status = 0
        self._headers: Headers = ()
        self._head_read = False
        self._pending: list[bytes] = []
        self._eof = False
        self._decoder: SSEDecoder | None = None
        self._body: bytearray | None = None
        self._body_limit = 0
        self._settled = False
        self._transition: Input | None = None
        self._delay = 0.0

    # -- properties ---------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current :class:`State`."""
        return self._machine.state

    @property
    def conversation(self) -> Conversation:
        """The committed conversation (changes only when a turn finishes)."""
        return self._conversation

    @property
    def provider(self) -> str:
        """The provider name."""
        return self._rules.name

    @property
    def costly_work_ahead(self) -> bool:
        """Whether the next ``start_turn()``, ``next_event()`` or ``receive_challenge_result()``
        may run CPU-heavy work (solving a large challenge or one with a solver of unknown cost,
        making a key pair). An async driver runs such a call in a worker thread so its event
        loop keeps serving; when this is false, the call is quick and the thread hop would
        cost more than it saves."""
        turn = self._turn
        if turn is None:
            return self._rules.costly_ahead()
        return turn.costly_ahead(() if self._head_read else self._headers)

    @property
    def pacer(self) -> Pacer:
        """The pacer this session asks before each request."""
        return self._pacer

    @property
    def backoff(self) -> Backoff:
        """The retry policy."""
        return self._backoff

    @property
    def limits(self) -> Limits:
        """The buffering limits."""
        return self._limits

    def __repr__(self) -> str:
        return (
            f"<ChatSession provider={self._rules.name!r} model={self._conversation.model!r} "
            f"state={self.state.name}>"
        )

    # -- the turn -----------------------------------------------------------------------

    def start_turn(self, messages: MessagesLike) -> None:
        """Begin a turn with this turn's **new** messages (a ``str`` is one user message).

        Raises ``LocalProtocolError`` (wrong state, bad messages, nothing but empty or
        blank text), ``ConversationLimitError`` (the conversation is exhausted) or
        ``InputLimitError`` (too long; nothing was sent). On any error the session is
        unchanged.
        """
        state = self._machine.state
        self._machine.check(Input.START_TURN, "start a turn")
        try:
            new_messages = coerce_messages(messages)
            if not any(m.content and not m.content.isspace() for m in new_messages):
                # The service's page sends no blank message either; refusing here spends
                # no request of the rate limit on a turn nobody meant.
                raise LocalProtocolError("nothing to send: the turn's messages are empty or blank")
            if self._conversation.exhausted:
                raise ConversationLimitError(
                    "this conversation is exhausted (the service refuses further turns); "
                    "start a new conversation",
                    error_type="ERR_CONVERSATION_LIMIT",
                )
            queue, ctx = self._new_context(new_messages)
            turn = self._rules.begin_turn(ctx)
            planned = turn.next_exchange()
        except SansioChatError as error:
            error.state = state.name
            raise
        self._enter(queue, ctx, turn, planned)

    def _new_context(
        self, new_messages: tuple[Message, ...]
    ) -> tuple[deque[Event | _Control], TurnContext]:
        queue: deque[Event | _Control] = deque()
        ctx = TurnContext(
            self._conversation,
            new_messages,
            self._backoff,
            queue.append,
            self._limits.max_reply_chars,
        )
        return queue, ctx

    def _enter(
        self,
        queue: deque[Event | _Control],
        ctx: TurnContext,
        turn: ProviderTurn,
        planned: ProviderExchange | ProviderChallenge,
    ) -> None:
        """Start the turn that ``turn`` plans (its first exchange ``planned``)."""
        self._machine.process(Input.START_TURN)
        self._queue = queue
        self._ctx, self._turn, self._planned, self._exchange = ctx, turn, planned, None
        self._reset_exchange()

    def start_preparation(self) -> bool:
        """Begin loading, ahead of the next turn, what that turn would fetch first, as a
        browser loads duck.ai before the first message is typed (DuckDuckGo: the page that
        names the fe-version, in an era that reads one and when the session has none).

        Returns ``False``, and changes nothing, when there is nothing to load (another
        provider, the ``2024`` era, an fe-version already held, an exhausted conversation).
        A session still to discover its era makes a status call first, which names the era
        (and so the page), and keeps the era. Otherwise drive it exactly like a turn,
        ``next_step()`` until ``TurnComplete``; it ends with ``Finished`` and commits provider
        state only, no message. Its errors are a turn's, and a failure leaves the
        conversation as it was.
        Raises ``LocalProtocolError`` outside the ``IDLE`` state (nothing changes).
        """
        state = self._machine.state
        self._machine.check(Input.START_TURN, "start a preparation")
        if self._conversation.exhausted:
            return False
        queue, ctx = self._new_context(())
        try:
            turn = self._rules.begin_preparation(ctx)
            if turn is None:
                return False
            planned = turn.next_exchange()
        except SansioChatError as error:
            error.state = state.name
            raise
        self._enter(queue, ctx, turn, planned)
        return True

    def next_step(self) -> Step:
        """What the driver does next: send an ``HttpRequest``, ``Sleep``, or stop.

        Raises only ``LocalProtocolError`` (wrong state; nothing changes).
        """
        state = self._machine.state
        if state is State.SEND:
            planned = self._planned
            assert planned is not None
            if isinstance(planned, ProviderChallenge):
                self._machine.process(Input.SEND_CHALLENGE)
                self._challenge, self._planned = planned, None
                return planned.step
            request = planned.request
            wait = self._pacer.reserve(_host(request.url)) if planned.paced else 0.0
            if wait > 0:
                self._machine.process(Input.SEND_SLEEP)
                return Sleep(seconds=wait)
            self._machine.process(Input.SEND_REQUEST)
            self._exchange, self._planned = planned, None
            assert self._ctx is not None
            self._ctx.new_attempt()
            self._reset_exchange()
            return request
        if state is State.BACKOFF:
            self._machine.process(Input.SEND_SLEEP)
            return Sleep(seconds=self._delay)
        if state is State.DONE:
            self._machine.process(Input.SEND_TURN_COMPLETE)
            self._ctx = self._turn = None
            return TurnComplete()
        self._machine.check(Input.SEND_REQUEST, "call next_step()")
        raise AssertionError("unreachable")  # pragma: no cover

    def receive_challenge_result(self, result: ChallengeResult) -> None:
        """The answer to the last ``SolveChallenge``: what the script resolved to.

        Then drain ``next_event()``: a result the session cannot use raises
        :class:`~sansio_chat.ChallengeError` from there.
        """
        self._machine.check(Input.RECV_SOLUTION, "receive a challenge result")
        if not isinstance(result, ChallengeResult):
            raise LocalProtocolError(
                f"result must be a ChallengeResult, not {type(result).__name__}",
                state=self._machine.state.name,
            )
        self._machine.process(Input.RECV_SOLUTION)
        challenge = self._challenge
        assert challenge is not None
        self._answer(lambda: challenge.on_result(result))

    def receive_challenge_failure(self, reason: str) -> None:
        """The driver could not evaluate the last ``SolveChallenge`` (``reason`` says why).

        Then drain ``next_event()``: it raises :class:`~sansio_chat.ChallengeError` unless
        the session can fetch a fresh challenge and ask again.
        """
        self._machine.check(Input.RECV_SOLUTION, "receive a challenge failure")
        if not isinstance(reason, str):
            raise LocalProtocolError(
                f"reason must be a str, not {type(reason).__name__}",
                state=self._machine.state.name,
            )
        self._machine.process(Input.RECV_SOLUTION)
        challenge = self._challenge
        assert challenge is not None
        self._answer(lambda: challenge.on_failure(reason))

    def _answer(self, deliver: Callable[[], None]) -> None:
        ctx = self._ctx
        assert ctx is not None
        self._challenge = None
        try:
            try:
                deliver()
            except SansioChatError:
                raise
            except Exception as exc:  # a provider bug must not escape untyped
                raise ChallengeError(f"the challenge answer could not be used: {exc!r}") from exc
            self._settle(Decision.next())
        except SansioChatError as error:
            if not error.partial_text:
                error.partial_text = ctx.partial_text
            self._queue.append(_Control(error=error, commit=ctx.commit_on_error))

    def receive_response_head(
        self, status: int, headers: Iterable[tuple[str | bytes, str | bytes]]
    ) -> None:
        """The status and headers of the response to the last ``HttpRequest``.

        ``status`` must be an ``int``; one that is not a final HTTP status (200-599) is the
        server's fault and raises ``RemoteProtocolError`` from ``next_event()``.
        """
        self._machine.check(Input.RECV_HEAD, "receive a response head")
        if isinstance(status, bool) or not isinstance(status, int):
            raise LocalProtocolError(
                f"status must be an int, not {status!r}", state=self._machine.state.name
            )
        normalized = _normalize_headers(headers, self._machine.state)
        self._machine.process(Input.RECV_HEAD)
        self._status, self._headers = status, normalized

    def receive_data(self, data: bytes) -> None:
        """Buffer a piece of the response body (parsing happens in ``next_event()``)."""
        if type(data) is not bytes:
            self._machine.check(Input.RECV_DATA, "receive data")
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise LocalProtocolError(
                    f"data must be bytes, not {type(data).__name__}",
                    state=self._machine.state.name,
                )
            data = bytes(data)
        self._machine.process(Input.RECV_DATA, "receive data")
        if data and not self._settled:
            self._pending.append(data)

    def receive_eof(self) -> None:
        """The response body ended."""
        self._machine.process(Input.RECV_EOF, "receive EOF")
        self._eof = True

    def abort_turn(self) -> None:
        """Give up on the turn in progress: the driver's transport failed, timed out or was
        cancelled.

        A turn in progress ends in ``ERROR`` with the conversation as before the turn, and
        ``start_turn()`` may follow. With no turn in progress (``IDLE``, ``DONE``, ``ERROR``)
        nothing changes, so a driver may call it unconditionally when it stops early.
        """
        self._machine.process(Input.ABORT, "abort the turn")
        if self._machine.state is State.ERROR:
            self._queue.clear()
            self._planned = self._exchange = self._challenge = None
            self._ctx = self._turn = None

    def next_event(self) -> Event | _NeedData:
        """The next event, or ``NEED_DATA`` when more input (or a ``next_step()``) is needed.

        Raises what the response caused (``RemoteProtocolError``, ``ServiceRefusal``
        subclasses); the turn is then in ``ERROR`` and the conversation as before the turn.
        """
        queue = self._queue
        if not queue:
            state = self._machine.state
            if (state is State.RECV_BODY or state is State.RECV_EOF) and (
                self._pending or not self._head_read or (self._eof and not self._settled)
            ):
                self._pump()
            if not queue:
                if state is State.RECV_EOF or state is State.SOLVED:
                    assert self._transition is not None
                    self._machine.process(self._transition)
                elif state is State.ERROR:
                    # The failed turn's error was raised already; nothing more comes out.
                    self._machine.refuse("call next_event()")
                return NEED_DATA
        item = queue.popleft()
        if type(item) is _Control:
            return self._control(item)
        return item

    def _control(self, item: _Control) -> Event:
        if item.commit is not None:
            self._conversation = item.commit
        if item.error is not None:
            item.error.state = self._machine.state.name
            self._machine.process(Input.REMOTE_ERROR)
            self._queue.clear()
            self._planned = self._exchange = self._challenge = None
            self._ctx = self._turn = None
            raise item.error
        assert item.event is not None
        return item.event

    def events(self) -> Iterator[Event]:
        """Yield events until ``next_event()`` returns ``NEED_DATA``."""
        while True:
            event = self.next_event()
            if event is NEED_DATA:
                return
            yield event

    # -- internals ----------------------------------------------------------------------

    def _pump(self) -> None:
        exchange, ctx = self._exchange, self._ctx
        assert exchange is not None
        assert ctx is not None
        if self._settled:
            self._pending.clear()
            return
        try:
            if not self._head_read:
                self._head_read = True
                if not 200 <= self._status <= 599:
                    raise RemoteProtocolError(
                        f"the server answered with status {self._status}, which is not a "
                        "final HTTP status (200-599)"
                    )
                how = exchange.on_head(self._status, self._headers)
                if isinstance(how, Decision):
                    self._settle(how)
                elif isinstance(how, ReadSSE):
                    self._decoder = SSEDecoder(max_event_bytes=self._limits.max_event_bytes)
                else:
                    self._body = bytearray()
                    self._body_limit = (
                        self._limits.max_page_bytes
                        if how.purpose == "page"
                        else self._limits.max_error_body_bytes
                    )
            pending = self._pending
            if pending:
                data = pending[0] if len(pending) == 1 else b"".join(pending)
                pending.clear()
                if not self._settled:
                    if self._decoder is not None:
                        self._dispatch(exchange, self._decoder.feed(data))
                    else:
                        self._buffer_body(exchange, data)
            if self._eof and not self._settled:
                if self._decoder is not None:
                    if not self._dispatch(exchange, self._decoder.close()):
                        self._settle(exchange.on_eof())
                else:
                    assert self._body is not None
                    self._settle(exchange.on_body(bytes(self._body), len(self._body)))
        except SansioChatError as error:
            if not error.partial_text:
                error.partial_text = ctx.partial_text
            self._settled = True
            self._pending.clear()
            self._queue.append(_Control(error=error, commit=ctx.commit_on_error))

    def _buffer_body(self, exchange: ProviderExchange, data: bytes) -> None:
        assert self._body is not None
        room = self._body_limit - len(self._body)
        self._body += data[:room]
        if len(data) > room:
            received = len(self._body) + len(data) - room
            self._settle(exchange.on_body(bytes(self._body), received))

    def _dispatch(self, exchange: ProviderExchange, events: list[ServerSentEvent]) -> bool:
        """Hand ``events`` to the exchange until one settles it; return whether one did."""
        if events:
            decision = exchange.on_events(events)
            if decision is not None:
                self._settle(decision)
                return True
        return False

    def _settle(self, decision: Decision) -> None:
        assert self._turn is not None
        self._settled = True
        self._decoder = None
        self._body = None
        if decision.kind is DecisionKind.FINISH:
            assert decision.conversation is not None
            self._queue.append(
                _Control(
                    event=Finished(reason=decision.reason, stop_reason=decision.stop_reason),
                    commit=decision.conversation,
                )
            )
            self._transition = Input.TURN_DONE
            return
        self._planned = self._turn.next_exchange()
        if decision.kind is DecisionKind.RETRY and decision.delay > 0:
            self._transition, self._delay = Input.RETRY, decision.delay
        else:
            self._transition = Input.EXCHANGE_DONE


def _normalize_headers(headers: Iterable[tuple[str | bytes, str | bytes]], state: State) -> Headers:
    result: list[tuple[str, str]] = []
    try:
        for name, value in headers:
            if isinstance(name, (bytes, bytearray)):
                name = bytes(name).decode("latin-1")
            if isinstance(value, (bytes, bytearray)):
                value = bytes(value).decode("latin-1")
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError
            result.append((name.strip().lower(), value.strip()))
    except (TypeError, ValueError) as exc:
        raise LocalProtocolError(
            "headers must be (name, value) pairs of str or bytes", state=state.name
        ) from exc
    return tuple(result)
