"""What the drivers share: timeouts, TLS verification, deadline and token bookkeeping."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import anyio

from sansio_chat import Event, Timeout, TokenEvent

__all__ = ["Timeouts", "Verify", "check_sleep", "ssl_context", "track", "within"]

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

    @classmethod
    def of(cls, value: Timeouts | float | None) -> Timeouts:
        """Accept a :class:`Timeouts`, a number (connect and read) or ``None`` (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        return cls(connect=float(value), read=float(value))

    def deadline(self, now: float) -> float | None:
        """The end of a turn that starts at ``now``, or ``None``."""
        return None if self.total is None else now + self.total


def check_sleep(
    seconds: float, now: float, deadline: float | None, received: Sequence[str] = ()
) -> float:
    """Return ``seconds`` when a wait that long ends before ``deadline``; raise otherwise."""
    if deadline is not None and now + seconds > deadline:
        raise Timeout(
            f"total timeout: a retry wait of {seconds:.1f} s would pass the deadline",
            partial_text="".join(received),
        )
    return seconds


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


async def within(awaitable: Awaitable[_T], deadline: float | None, received: list[str]) -> _T:
    """Await ``awaitable``, raising :class:`Timeout` if the turn's deadline passes first."""
    if deadline is None:
        return await awaitable
    with anyio.CancelScope(deadline=deadline):
        return await awaitable
    raise Timeout("total timeout expired", partial_text="".join(received))
