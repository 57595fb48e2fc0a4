"""Which DuckDuckGo era a reply belongs to, and the error when it is not the session's."""

from __future__ import annotations

from sansio_chat._errors import RemoteProtocolError
from sansio_chat._http import find_header
from sansio_chat._session import Headers
from sansio_chat.providers.ddg.dialects import Dialect

__all__ = ["SEED_ERAS", "DialectMismatchError", "check_era", "page_eras", "served_dialect"]

SEED_ERAS = ("2024", "2025-03")
"""The eras whose page is the search page with script markers: the page cannot tell them apart."""


class DialectMismatchError(RemoteProtocolError):
    """The service answers in another protocol era than the session speaks.

    Attributes:
        expected: the session's dialect.
        served: the dialect the replies belong to; ``""`` when they prove another era but do
            not say which of ``among``.
        among: the dialects the replies fit (``(served,)`` when ``served`` is known).
    """

    expected: str
    served: str
    among: tuple[str, ...]

    def __init__(self, expected: str, served: str = "", *, among: tuple[str, ...] = ()) -> None:
        among = (served,) if served else among
        if served:
            message = (
                f"the service speaks DuckDuckGo dialect {served!r}, but this session speaks "
                f"{expected!r}; pass dialect={served!r} (CLI: --dialect {served})"
            )
        else:
            eras = " or ".join(repr(era) for era in among) or "another one"
            message = (
                f"the service speaks DuckDuckGo dialect {eras} (its replies do not say which), "
                f"but this session speaks {expected!r}; pass no dialect to discover it "
                f"(CLI: leave out --dialect)"
            )
        super().__init__(message)
        self.expected = expected
        self.served = served
        self.among = among


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


def page_eras(html: str) -> tuple[str, ...]:
    """The eras whose fe-version page ``html`` can be; ``()`` when it cannot tell.

    The seed eras' page names the version in ``__DDG_BE_VERSION__="..."`` script markers
    (the same page in ``2024``, which does not read it, and ``2025-03``), today's in
    ``data-version-tag``/``data-version-sha`` attributes; a page with only one kind is of
    the eras that write that kind.
    """
    attributes = 'data-version-tag="' in html
    markers = '__DDG_BE_VERSION__="' in html
    if markers and not attributes:
        return SEED_ERAS
    if attributes and not markers:
        return ("2026",)
    return ()
