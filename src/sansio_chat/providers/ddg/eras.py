"""Which DuckDuckGo era a reply belongs to, and the error when it is not the session's."""

from __future__ import annotations

from sansio_chat._errors import RemoteProtocolError
from sansio_chat._http import find_header
from sansio_chat._session import Headers
from sansio_chat.providers.ddg.dialects import Dialect

__all__ = ["DialectMismatchError", "check_era", "check_page_era", "served_dialect"]


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


def check_era(dialect: Dialect, headers: Headers) -> None:
    """Raise :class:`DialectMismatchError` when a status reply belongs to another era.

    A pinned dialect is exact: a ``2024`` session facing a status reply with a challenge is
    facing ``2025-03`` (whose chat call would refuse the unanswered challenge).
    """
    served = served_dialect(headers)
    if served and served != dialect.name:
        raise DialectMismatchError(dialect.name, served)


def check_page_era(dialect: Dialect, html: str) -> None:
    """Raise :class:`DialectMismatchError` when the fe-version page is another era's.

    The seed era's page names the version in ``__DDG_BE_VERSION__="..."`` script markers,
    today's in ``data-version-tag``/``data-version-sha`` attributes; a page with only the
    other era's kind is that era's page.
    """
    attributes = 'data-version-tag="' in html
    markers = '__DDG_BE_VERSION__="' in html
    if dialect.script_challenge and markers and not attributes:
        raise DialectMismatchError(dialect.name, "2025-03")
    if dialect.fe_version and not dialect.script_challenge and attributes and not markers:
        raise DialectMismatchError(dialect.name, "2026")
