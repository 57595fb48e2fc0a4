"""The emulator's vocabulary: a request description in, a response plan out.

The plan is everything a server needs to play one reply: the status, the headers, and the
body as a sequence of actions (write these bytes, wait, drop the connection). Carrying it
out is the ASGI app's job; deciding it is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import final

from sansio_chat._http import find_header

__all__ = ["Action", "EmulatorRequest", "Reset", "ResponsePlan", "Stall", "Write", "whole_reply"]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorRequest:
    """One HTTP request as the emulator sees it.

    Attributes:
        method: the request method, upper-case.
        path: the URL path, percent-decoded (``/duckchat/v1/chat``).
        query: the raw query string, without ``?``.
        headers: ``(name, value)`` pairs; names are compared case-insensitively.
        body: the whole request body.
        client: who sent it (the peer's address), the key of the per-client rate limit.
        scheme: ``http`` or ``https``, as the request reached the server (with the ``Host``
            header it makes the emulator's own origin, which dialect ``2026`` checks).
    """

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    client: str = "127.0.0.1"
    scheme: str = "http"

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive; the first one), or ``None``."""
        return find_header(self.headers, name)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Write:
    """Send ``data`` as one body write, after waiting ``delay`` seconds.

    Attributes:
        data: the bytes of this write (never empty).
        delay: seconds to wait before the write.
    """

    data: bytes
    delay: float = 0.0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Stall:
    """Send nothing for ``seconds``, keeping the connection open.

    Attributes:
        seconds: how long to stall.
    """

    seconds: float


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Reset:
    """Drop the connection here, without a proper end of the body."""


Action = Write | Stall | Reset


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ResponsePlan:
    """A whole reply, ready to be carried out.

    Attributes:
        status: the HTTP status.
        headers: ``(name, value)`` pairs, names lower-case, in sending order.
        body: the body actions in order. Unless a :class:`Reset` ends it, the body ends
            properly after the last action.
        head_delay: seconds to wait before sending the status line and headers.
        faults: the fault switches that shaped this reply, as written (for logs and tests).
        reason: why the emulator refused the request, when it says (for logs and tests;
            never sent).
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: tuple[Action, ...] = ()
    head_delay: float = 0.0
    faults: tuple[str, ...] = field(default=())
    reason: str = ""

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        return find_header(self.headers, name)

    def body_bytes(self) -> bytes:
        """All bytes the body writes, concatenated (what a client receives before any reset)."""
        return b"".join(action.data for action in self.body if isinstance(action, Write))

    @property
    def resets(self) -> bool:
        """Whether the plan drops the connection instead of ending the body."""
        return any(isinstance(action, Reset) for action in self.body)


def whole_reply(status: int, body: bytes, content_type: str = "application/json") -> ResponsePlan:
    """A complete, non-streamed reply: ``body`` in one write, with its length."""
    headers = (("content-type", content_type), ("content-length", str(len(body))))
    return ResponsePlan(status=status, headers=headers, body=(Write(data=body),) if body else ())
