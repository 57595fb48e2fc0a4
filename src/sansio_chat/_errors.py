"""The error tree.

::

    SansioChatError                      every error this package raises
    ├── ProtocolError
    │   ├── LocalProtocolError           the caller misused an object (wrong state, bad argument)
    │   │   └── ModelNotSupportedError
    │   └── RemoteProtocolError          the server broke the protocol (or a limit was exceeded)
    │       ├── StreamInterrupted        the reply ended before its end marker
    │       └── ChallengeError           the x-vqd-hash-1 challenge could not be solved
    ├── ServiceRefusal                   the service said no, in its own words
    │   ├── RateLimitError               too many requests, retries used up
    │   ├── ConversationLimitError       this conversation takes no further turn
    │   ├── InputLimitError              the messages are too long
    │   └── HTTPStatusError              any other non-2xx reply
    └── TransportError                   the adapters could not talk to the server
        └── Timeout

Every error raised during a turn carries ``partial_text``: the part of the reply that had
arrived when the turn failed (``""`` when none), so no received text is ever lost.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ChallengeError",
    "ConversationLimitError",
    "HTTPStatusError",
    "InputLimitError",
    "LocalProtocolError",
    "ModelNotSupportedError",
    "ProtocolError",
    "RateLimitError",
    "RemoteProtocolError",
    "SansioChatError",
    "ServiceRefusal",
    "StreamInterrupted",
    "Timeout",
    "TransportError",
]


class SansioChatError(Exception):
    """Base class of every error raised by sansio-chat.

    Attributes:
        partial_text: reply text received before the failure (``""`` when none).
        state: name of the session state when the error arose, when a session raised it.
    """

    partial_text: str
    state: str | None

    def __init__(self, message: str, *, partial_text: str = "", state: str | None = None) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.state = state


class ProtocolError(SansioChatError):
    """One side did not follow the protocol; see the two subclasses."""


class LocalProtocolError(ProtocolError):
    """The caller used an object wrongly: a call in the wrong state or a bad argument.

    The object is left exactly as it was before the call.
    """


class ModelNotSupportedError(LocalProtocolError):
    """The provider does not know this model.

    Attributes:
        model: the name asked for.
        available: the model ids the provider accepts.
    """

    model: str
    available: tuple[str, ...]

    def __init__(self, model: str, available: Sequence[str], *, provider: str = "") -> None:
        where = f" by provider {provider!r}" if provider else ""
        super().__init__(
            f"model {model!r} is not supported{where}; available models: {', '.join(available)}"
        )
        self.model = model
        self.available = tuple(available)


class RemoteProtocolError(ProtocolError):
    """The server's reply broke the protocol, or exceeded a size limit.

    Attributes:
        limit: the limit that was exceeded (bytes), when a limit caused the error.
        observed: the size that was seen, when a limit caused the error.
    """

    limit: int | None
    observed: int | None

    def __init__(
        self,
        message: str,
        *,
        limit: int | None = None,
        observed: int | None = None,
        partial_text: str = "",
        state: str | None = None,
    ) -> None:
        super().__init__(message, partial_text=partial_text, state=state)
        self.limit = limit
        self.observed = observed


class StreamInterrupted(RemoteProtocolError):
    """The reply stream ended before its end marker; ``partial_text`` holds what arrived."""

    def __init__(self, message: str, *, partial_text: str, state: str | None = None) -> None:
        super().__init__(message, partial_text=partial_text, state=state)


class ChallengeError(RemoteProtocolError):
    """The ``x-vqd-hash-1`` challenge could not be parsed or kept being refused.

    Attributes:
        reason: what exactly went wrong.
    """

    reason: str

    def __init__(self, reason: str, *, partial_text: str = "", state: str | None = None) -> None:
        super().__init__(f"challenge error: {reason}", partial_text=partial_text, state=state)
        self.reason = reason


class ServiceRefusal(SansioChatError):
    """The service refused the request in its own words.

    Attributes:
        status: the HTTP status of the refusal, or ``None`` when the refusal was foreseen
            locally (the input limit is checked before anything is sent).
        error_type: the service's error type (``ERR_...``), or ``""``.
        body: the reply body, truncated to a bounded size, or ``""``.
    """

    status: int | None
    error_type: str
    body: str

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str = "",
        body: str = "",
        partial_text: str = "",
        state: str | None = None,
    ) -> None:
        super().__init__(message, partial_text=partial_text, state=state)
        self.status = status
        self.error_type = error_type
        self.body = body


class RateLimitError(ServiceRefusal):
    """Too many requests, and the retries allowed are used up.

    Attributes:
        retry_after: the server's ``Retry-After`` in seconds, when it sent one.
    """

    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str = "",
        body: str = "",
        retry_after: float | None = None,
        partial_text: str = "",
        state: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            error_type=error_type,
            body=body,
            partial_text=partial_text,
            state=state,
        )
        self.retry_after = retry_after


class ConversationLimitError(ServiceRefusal):
    """The conversation is exhausted; start a new one."""


class InputLimitError(ServiceRefusal):
    """The messages exceed the service's input limit.

    Attributes:
        limit: the limit (UTF-16 code units of message content), when known.
        observed: the size of this request, when known.
    """

    limit: int | None
    observed: int | None

    def __init__(
        self,
        message: str,
        *,
        limit: int | None = None,
        observed: int | None = None,
        status: int | None = None,
        error_type: str = "",
        body: str = "",
        partial_text: str = "",
        state: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            error_type=error_type,
            body=body,
            partial_text=partial_text,
            state=state,
        )
        self.limit = limit
        self.observed = observed


class HTTPStatusError(ServiceRefusal):
    """A non-2xx reply the protocol has no specific meaning for."""

    status: int

    def __init__(
        self,
        status: int,
        body: str,
        *,
        error_type: str = "",
        partial_text: str = "",
        state: str | None = None,
    ) -> None:
        detail = f" {error_type}" if error_type else ""
        super().__init__(
            f"HTTP {status}{detail}: {body[:200]}",
            status=status,
            error_type=error_type,
            body=body,
            partial_text=partial_text,
            state=state,
        )


class TransportError(SansioChatError):
    """The adapter could not reach the server or the connection failed mid-exchange."""


class Timeout(TransportError):
    """A connect, read or total timeout expired."""
