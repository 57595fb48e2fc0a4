"""Which DuckDuckGo era a reply belongs to, and the error when it is not the session's."""

from __future__ import annotations

from sansio_chat._errors import RemoteProtocolError
from sansio_chat._http import find_header
from sansio_chat._session import Headers

__all__ = ["DialectMismatchError", "served_dialect"]


class DialectMismatchError(RemoteProtocolError):
    """The service answers in another protocol era than the session speaks.

    Attributes:
        expected: the session's dialect.
        served: the dialect the reply belongs to.
    """

    expected: str
    served: str

    def __init__(self, expected: str, served: str) -> None:
        super().__init__(
            f"the service speaks DuckDuckGo dialect {served!r}, but this session speaks "
            f"{expected!r}; pass dialect={served!r} (CLI: --dialect {served})"
        )
        self.expected = expected
        self.served = served


def served_dialect(headers: Headers) -> str:
    """Which era a successful status reply belongs to, from its headers alone.

    ``x-vqd-4`` only: ``2024``; ``x-vqd-4`` and a challenge: ``2025-03``; a challenge and no
    ``x-vqd-4``: ``2026``; neither: ``""`` (not a status reply of any known era).
    """
    token = bool(find_header(headers, "x-vqd-4"))
    challenge = bool(find_header(headers, "x-vqd-hash-1"))
    if token:
        return "2025-03" if challenge else "2024"
    return "2026" if challenge else ""
