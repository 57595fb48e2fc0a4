"""What the drivers share: timeouts, TLS verification, deadline and token bookkeeping."""

from __future__ import annotations

import math
import ssl
import threading
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import anyio

from sansio_chat import Event, Timeout, TokenEvent

__all__ = [
    "PhaseTimeout",
    "Timeouts",
    "Verify",
    "check_sleep",
    "ssl_context",
    "timeout_message",
    "total_timeout",
    "track",
    "where",
    "within",
]

_T = TypeVar("_T")

Verify = bool | str | ssl.SSLContext
"""``True`` (system CAs), ``False`` (no verification), a CA bundle path, or a ready context."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """How long a turn may wait, in seconds (``None``: no limit).

    Attributes:
        connect: to open a connection (TCP, proxy tunnel and TLS handshake).
        read: between two reads of a reply (also bounds each write).
        total: for the whole turn, retry waits included; a retry wait that would end past
            it fails at once.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"the {name} timeout must be a positive number of seconds")

    @classmethod
    def of(cls, value: Timeouts | float | None) -> Timeouts:
        """Accept a :class:`Timeouts`, a number (connect and read) or ``None`` (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"a number of seconds or a Timeouts, not {type(value).__name__}")
        return cls(connect=float(value), read=float(value))

    def deadline(self, now: float) -> float | None:
        """The end of a turn that starts at ``now``, or ``None``."""
        return None if self.total is None else now + self.total


def where(url: str) -> str:
    """``url`` without its query and fragment (what error messages name)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class PhaseTimeout(TimeoutError):
    """A timeout of the h11 driver's own: which one (``"read timeout"``) and how long."""

    def __init__(self, what: str, seconds: float | None) -> None:
        super().__init__(what)
        self.what, self.seconds = what, seconds


def timeout_message(what: str, seconds: float | None, url: str) -> str:
    """``read timeout (http://host): 5 s passed waiting for http://host/path``.

    Says which timeout, how long and where, never the event loop's words for it.
    """
    parts = urlsplit(url)
    origin = f" ({parts.scheme}://{parts.netloc})" if url else ""
    waited = f"{seconds:g} s passed" if seconds is not None else "time ran out"
    target = f" waiting for {where(url)}" if url else ""
    return f"{what}{origin}: {waited}{target}"


def total_timeout(limits: Timeouts | None, url: str, received: Sequence[str]) -> Timeout:
    """The error of a turn that ran out of its total time."""
    seconds = limits.total if limits is not None else None
    message = timeout_message("total timeout expired", seconds, url)
    return Timeout(message, partial_text="".join(received))


def check_sleep(
    seconds: float,
    now: float,
    deadline: float | None,
    received: Sequence[str] = (),
    limits: Timeouts | None = None,
) -> float:
    """Return ``seconds`` when a wait that long can be carried out; raise ``Timeout`` otherwise.

    A wait that would end past ``deadline`` (the total timeout) fails at once instead of
    sleeping first; so does one too long for the platform to sleep (``inf``, ``1e300``).
    """
    total = f" of {limits.total:g} s" if limits is not None and limits.total is not None else ""
    if deadline is not None and not now + seconds <= deadline:
        raise Timeout(
            f"total timeout{total}: a retry wait of {seconds:.1f} s would pass it",
            partial_text="".join(received),
        )
    if not 0 <= seconds <= _LONGEST_SLEEP:
        raise Timeout(
            f"a retry wait of {seconds:g} s cannot be carried out", partial_text="".join(received)
        )
    return seconds


# Longer than any wait the platform can sleep in one call (time.sleep overflows past it).
_LONGEST_SLEEP = threading.TIMEOUT_MAX

_DEFAULT_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def ssl_context(verify: Verify) -> ssl.SSLContext:
    """The TLS context for ``verify`` (the ``True``/``False`` ones are built once, then shared)."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    context = _DEFAULT_CONTEXTS.get(verify)
    if context is None:
        # Loading the system CA store takes ~0.1 s; a client per conversation should not pay it.
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        _DEFAULT_CONTEXTS[verify] = context
    return context


def track(event: Event, received: list[str]) -> Event:
    """Remember the text of a token event (for ``partial_text``), then return the event."""
    if type(event) is TokenEvent:
        received.append(event.text)
    return event


async def within(
    awaitable: Awaitable[_T],
    deadline: float | None,
    received: list[str],
    limits: Timeouts | None = None,
    url: str = "",
) -> _T:
    """Await ``awaitable``, raising :class:`Timeout` if the turn's deadline passes first."""
    if deadline is None:
        return await awaitable
    with anyio.CancelScope(deadline=deadline):
        return await awaitable
    raise total_timeout(limits, url, received)
