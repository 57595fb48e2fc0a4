"""The fe-version one client shares between its conversations, for a limited time.

A browser reads the fe-version from the page once and sends it with every chat request until
the page changes. A client that fetched it for one conversation can give it to the next one
(the ``fe_version`` option of :meth:`DuckDuckGoProvider.new_session`), so a warm client's new
conversation starts with the status call, not the page. A value is trusted for ``ttl`` seconds
after it was first seen; a turn that the service refuses for its challenge fetches the page
afresh within the turn (:mod:`.turn`), and the value it then finishes with replaces this one.
Time comes from the caller: this object reads no clock.
"""

from __future__ import annotations

from sansio_chat._conversation import Conversation
from sansio_chat._errors import LocalProtocolError
from sansio_chat.providers.ddg.state import DuckDuckGoState

__all__ = ["FE_VERSION_TTL", "FeVersionCache"]

FE_VERSION_TTL = 1800.0
"""Seconds a fetched fe-version is reused for new conversations (duck.ai's frontend changes
with a deployment, a few times a week; half an hour bounds how long a stale value is tried)."""


class FeVersionCache:
    """The newest fe-version a client's finished turns used, and until when to reuse it.

    ``current(now)`` gives it to a new session (``""`` when there is none or it has expired);
    ``learn(conversation, now)`` takes the value a finished turn used; ``forget()`` drops it.
    ``now`` is any monotonic clock's reading in seconds, the same clock for every call.
    """

    __slots__ = ("_expires", "_value", "ttl")

    def __init__(self, ttl: float = FE_VERSION_TTL) -> None:
        if not ttl > 0:  # also refuses NaN
            raise LocalProtocolError(f"ttl must be a positive number of seconds, not {ttl!r}")
        self.ttl = ttl
        self._value = ""
        self._expires = 0.0

    def __repr__(self) -> str:
        held = "held" if self._value else "empty"
        return f"<FeVersionCache {held} ttl={self.ttl:g}>"

    def current(self, now: float) -> str:
        """The value to give a new session at ``now``, or ``""``."""
        if self._value and now < self._expires:
            return self._value
        self._value = ""
        return ""

    def learn(self, conversation: Conversation, now: float) -> None:
        """Keep the fe-version ``conversation`` holds after a finished turn. A value already
        held keeps its expiry (it counts from when it was first seen); a new one starts its
        own."""
        value = DuckDuckGoState.of(conversation).fe_version
        if value and value != self._value:
            self._value = value
            self._expires = now + self.ttl

    def forget(self) -> None:
        """Drop the value: the next new session fetches the page."""
        self._value = ""
