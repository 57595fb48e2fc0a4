"""The session's step vocabulary: what a driver must do next.

``ChatSession.next_step()`` returns one of :class:`HttpRequest`, :class:`Sleep`,
:class:`~sansio_chat.SolveChallenge` or :class:`TurnComplete`; ``next_event()`` returns an
event or :data:`NEED_DATA`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Literal, TypeVar, final

from ._challenge import SolveChallenge

__all__ = ["NEED_DATA", "HttpRequest", "Sleep", "Step", "TurnComplete", "find_header"]


AnyStr_ = TypeVar("AnyStr_", str, bytes)


def find_header(headers: Iterable[tuple[AnyStr_, AnyStr_]], name: AnyStr_) -> AnyStr_ | None:
    """The first value of header ``name`` among ``(name, value)`` pairs, case-insensitively.

    Works on ``str`` pairs (requests, decoded responses) and on ``bytes`` pairs (ASGI scopes).
    """
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


SECRET_HEADERS = frozenset(
    ("x-vqd-4", "x-vqd-hash-1", "cookie", "set-cookie", "authorization", "proxy-authorization")
)
"""Header names whose values are secrets of a conversation: never shown in ``repr``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class HttpRequest:
    """A complete description of one HTTP request to send.

    Attributes:
        method: ``"GET"`` or ``"POST"``.
        url: the absolute URL, query string included.
        headers: ``(name, value)`` pairs in sending order; names are lower-case.
        body: the request body (``b""`` for none).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the value of header ``name`` (case-insensitive), or ``None`` when absent."""
        return find_header(self.headers, name)

    def __repr__(self) -> str:
        # The conversation token, the solved challenge and cookies stay out of logs.
        headers = tuple(
            (name, "<redacted>" if name.lower() in SECRET_HEADERS and value else value)
            for name, value in self.headers
        )
        return (
            f"HttpRequest(method={self.method!r}, url={self.url!r}, headers={headers!r}, "
            f"body={self.body!r})"
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Sleep:
    """Wait this long (by the driver's clock), then call ``next_step()`` again.

    Attributes:
        seconds: how long to wait; always ``> 0``.
    """

    seconds: float


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TurnComplete:
    """The turn is over: the reply has been delivered and committed to the conversation."""


Step = HttpRequest | Sleep | SolveChallenge | TurnComplete
"""What ``next_step()`` returns."""


class _Sentinel(Enum):
    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return self.value


NEED_DATA: Literal[_Sentinel.NEED_DATA] = _Sentinel.NEED_DATA
"""Returned by ``next_event()`` when more response bytes (or EOF) are needed."""
