"""The session's one state table: ``State × Input → State``.

Nothing outside this module assigns a state. A pair missing from :data:`TRANSITIONS` is a
caller error: :meth:`StateMachine.process` raises :class:`~sansio_chat.LocalProtocolError`
and leaves the state unchanged. ``ERROR`` is absorbing for the turn: only ``START_TURN``
leaves it.
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import NoReturn

from ._errors import LocalProtocolError

__all__ = ["TRANSITIONS", "Input", "State", "StateMachine"]


class State(Enum):
    """Where a :class:`~sansio_chat.ChatSession` is in a turn."""

    # Members are singletons, so hashing by identity agrees with equality; Enum's own
    # __hash__ is a Python-level call, paid on every table lookup of a streaming reply.
    __hash__ = object.__hash__

    IDLE = "IDLE"
    """No turn in progress; ``start_turn()`` may be called."""
    SEND = "SEND"
    """A request is planned; ``next_step()`` returns it (or a pacing ``Sleep``)."""
    BACKOFF = "BACKOFF"
    """A retry is due after a wait; ``next_step()`` returns the back-off ``Sleep``."""
    AWAIT_HEAD = "AWAIT_HEAD"
    """A request was handed out; ``receive_response_head()`` is expected."""
    RECV_BODY = "RECV_BODY"
    """Receiving the response body: ``receive_data()``, ``receive_eof()``, ``next_event()``."""
    RECV_EOF = "RECV_EOF"
    """The body ended; ``next_event()`` drains what is left and settles the exchange."""
    SOLVE = "SOLVE"
    """A challenge script was handed out (``SolveChallenge``); its answer is expected."""
    SOLVED = "SOLVED"
    """The challenge was answered; ``next_event()`` settles it (the next request, or an error)."""
    DONE = "DONE"
    """The reply finished and was committed; ``next_step()`` returns ``TurnComplete``."""
    ERROR = "ERROR"
    """The turn failed (absorbing); only ``start_turn()`` leaves it."""


class Input(Enum):
    """What moves the session from one state to another."""

    __hash__ = object.__hash__  # see State.__hash__

    START_TURN = "START_TURN"
    """``start_turn()`` accepted the messages."""
    SEND_SLEEP = "SEND_SLEEP"
    """``next_step()`` returned a ``Sleep``."""
    SEND_REQUEST = "SEND_REQUEST"
    """``next_step()`` returned an ``HttpRequest``."""
    SEND_CHALLENGE = "SEND_CHALLENGE"
    """``next_step()`` returned a ``SolveChallenge``."""
    RECV_SOLUTION = "RECV_SOLUTION"
    """``receive_challenge_result()`` or ``receive_challenge_failure()``."""
    SEND_TURN_COMPLETE = "SEND_TURN_COMPLETE"
    """``next_step()`` returned ``TurnComplete``."""
    RECV_HEAD = "RECV_HEAD"
    """``receive_response_head()``."""
    RECV_DATA = "RECV_DATA"
    """``receive_data()``."""
    RECV_EOF = "RECV_EOF"
    """``receive_eof()``."""
    EXCHANGE_DONE = "EXCHANGE_DONE"
    """``next_event()`` settled an exchange and another request follows at once."""
    RETRY = "RETRY"
    """``next_event()`` settled an exchange and a retry follows after a back-off."""
    TURN_DONE = "TURN_DONE"
    """``next_event()`` settled the last exchange: the reply is complete."""
    REMOTE_ERROR = "REMOTE_ERROR"
    """``next_event()`` raised an error the response caused."""
    ABORT = "ABORT"
    """``abort_turn()``: the driver gave up on the turn (transport error, timeout, cancel)."""


_S, _I = State, Input

TRANSITIONS: MappingProxyType[tuple[State, Input], State] = MappingProxyType(
    {
        (_S.IDLE, _I.START_TURN): _S.SEND,
        (_S.DONE, _I.START_TURN): _S.SEND,
        (_S.ERROR, _I.START_TURN): _S.SEND,
        (_S.SEND, _I.SEND_SLEEP): _S.SEND,
        (_S.SEND, _I.SEND_REQUEST): _S.AWAIT_HEAD,
        (_S.SEND, _I.SEND_CHALLENGE): _S.SOLVE,
        (_S.SOLVE, _I.RECV_SOLUTION): _S.SOLVED,
        (_S.SOLVED, _I.EXCHANGE_DONE): _S.SEND,
        (_S.SOLVED, _I.REMOTE_ERROR): _S.ERROR,
        (_S.BACKOFF, _I.SEND_SLEEP): _S.SEND,
        (_S.AWAIT_HEAD, _I.RECV_HEAD): _S.RECV_BODY,
        (_S.RECV_BODY, _I.RECV_DATA): _S.RECV_BODY,
        (_S.RECV_BODY, _I.RECV_EOF): _S.RECV_EOF,
        (_S.RECV_BODY, _I.REMOTE_ERROR): _S.ERROR,
        (_S.RECV_EOF, _I.EXCHANGE_DONE): _S.SEND,
        (_S.RECV_EOF, _I.RETRY): _S.BACKOFF,
        (_S.RECV_EOF, _I.TURN_DONE): _S.DONE,
        (_S.RECV_EOF, _I.REMOTE_ERROR): _S.ERROR,
        (_S.DONE, _I.SEND_TURN_COMPLETE): _S.IDLE,
        (_S.IDLE, _I.ABORT): _S.IDLE,
        (_S.SEND, _I.ABORT): _S.ERROR,
        (_S.BACKOFF, _I.ABORT): _S.ERROR,
        (_S.AWAIT_HEAD, _I.ABORT): _S.ERROR,
        (_S.RECV_BODY, _I.ABORT): _S.ERROR,
        (_S.RECV_EOF, _I.ABORT): _S.ERROR,
        (_S.SOLVE, _I.ABORT): _S.ERROR,
        (_S.SOLVED, _I.ABORT): _S.ERROR,
        (_S.DONE, _I.ABORT): _S.DONE,
        (_S.ERROR, _I.ABORT): _S.ERROR,
    }
)
"""Every allowed ``(state, input)`` pair and the state it leads to."""

# TRANSITIONS regrouped by state, so that a step looks up the input alone in the row of the
# current state (derived here, never written by hand: the table above stays the one source).
_ROWS: MappingProxyType[State, MappingProxyType[Input, State]] = MappingProxyType(
    {
        state: MappingProxyType(
            {event: target for (source, event), target in TRANSITIONS.items() if source is state}
        )
        for state in State
    }
)

_HINTS: MappingProxyType[State, str] = MappingProxyType(
    {
        _S.IDLE: "no turn is in progress; call start_turn()",
        _S.SEND: "call next_step() for the next request",
        _S.BACKOFF: "call next_step() for the back-off Sleep",
        _S.AWAIT_HEAD: "send the request, then call receive_response_head()",
        _S.RECV_BODY: "feed the body with receive_data(), then receive_eof()",
        _S.RECV_EOF: "drain next_event() until NEED_DATA",
        _S.SOLVE: "evaluate the SolveChallenge, then call receive_challenge_result()",
        _S.SOLVED: "drain next_event() until NEED_DATA",
        _S.DONE: "call next_step() (TurnComplete) or start_turn()",
        _S.ERROR: "the turn failed; call start_turn() to begin a new one",
    }
)


class StateMachine:
    """Holds the current :class:`State` and applies :data:`TRANSITIONS`."""

    __slots__ = ("_row", "_state")

    def __init__(self, state: State = State.IDLE) -> None:
        self._state = state
        self._row = _ROWS[state]

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    def allows(self, event: Input) -> bool:
        """Whether ``event`` is allowed in the current state."""
        return event in self._row

    def check(self, event: Input, action: str) -> State:
        """Return the state ``event`` leads to, or raise ``LocalProtocolError`` naming ``action``.

        Changes nothing.
        """
        target = self._row.get(event)
        if target is None:
            self.refuse(action)
        return target

    def refuse(self, action: str) -> NoReturn:
        """Raise ``LocalProtocolError``: ``action`` is not possible in the current state.

        For calls the table has no input for (such as ``next_event()`` after an error).
        """
        raise LocalProtocolError(
            f"cannot {action} in state {self._state.name}: {_HINTS[self._state]}",
            state=self._state.name,
        )

    def process(self, event: Input, action: str | None = None) -> State:
        """Apply ``event``; raise ``LocalProtocolError`` (state unchanged) if not allowed."""
        target = self._row.get(event)
        if target is None:
            target = self.check(event, action or event.name.lower().replace("_", " "))  # raises
        self._state = target
        self._row = _ROWS[target]
        return target
