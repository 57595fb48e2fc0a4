"""Events a :class:`~sansio_chat.ChatSession` hands out from ``next_event()``.

Events are immutable values (frozen, slotted, keyword-only dataclasses holding only
immutable fields), so they are hashable and safe to share between tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, final

__all__ = [
    "Event",
    "FinishReason",
    "Finished",
    "ImageEvent",
    "RateLimited",
    "TitleEvent",
    "TokenEvent",
    "UsageEvent",
    "VqdUpdate",
    "WarningEvent",
]

FinishReason = Literal["stop", "conversation_limit", "account_limit", "entity_limit", "image_limit"]
"""Why a reply ended: normally, or at one of the service's limits (dialect ``2026`` markers)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class of every event a session produces."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TokenEvent(Event):
    """A piece of the assistant's reply.

    Attributes:
        text: the new text, never empty; concatenating every ``text`` of a turn gives the reply.
    """

    text: str


@final
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class VqdUpdate(Event):
    """The service rotated the conversation token (DuckDuckGo only).

    Attributes:
        vqd: the new ``x-vqd-4`` token the next turn must send.
        vqd_hash_1: the new ``x-vqd-hash-1`` challenge (base64 JavaScript) the next turn
            solves, or ``""`` when the reply carried none and the previous one stays in use.
    """

    vqd: str
    vqd_hash_1: str

    def __repr__(self) -> str:
        # Both values are secrets of the conversation; show only whether they are set.
        def shown(value: str) -> str:
            return "''" if not value else "'<redacted>'"

        return f"VqdUpdate(vqd={shown(self.vqd)}, vqd_hash_1={shown(self.vqd_hash_1)})"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimited(Event):
    """The service refused the request for now; the session will retry after a wait.

    The wait itself is the :class:`~sansio_chat.Sleep` step ``next_step()`` returns next.

    Attributes:
        delay: seconds the session will wait before the retry.
        attempt: which retry follows (1 for the first retry).
        status: the HTTP status of the refusal (429, 418, ...).
        reason: the service's error type (``ERR_RATE_LIMIT``, ``ERR_CHALLENGE``, ...) or ``""``.
    """

    delay: float
    attempt: int
    status: int
    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Finished(Event):
    """The reply ended normally; the turn is committed to the conversation.

    Attributes:
        reason: ``"stop"``; ``"conversation_limit"`` when the service said this
            conversation takes no further turn; ``"account_limit"``, ``"entity_limit"`` or
            ``"image_limit"`` when it said a quota is used up (dialect ``2026``).
        stop_reason: the model's own stop reason when the service named one
            (``[STOP_REASON:...]``), else ``""``.
    """

    reason: FinishReason
    stop_reason: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TitleEvent(Event):
    """The service suggested a title for the conversation (``[CHAT_TITLE:...]``).

    Attributes:
        title: the suggested title.
    """

    title: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class UsageEvent(Event):
    """The service reported the usage of a fixed-cost window (``[FIXED_COST_WINDOW_USAGE:...]``).

    Attributes:
        value: the reported value as the service wrote it.
    """

    value: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WarningEvent(Event):
    """The service warned that a limit is near (``[WARN_CONVERSATION_LIMIT:N]``).

    Attributes:
        kind: what is limited (``"conversation_limit"``).
        remaining: how many turns (or units) remain, when the service said so.
    """

    kind: str
    remaining: int | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ImageEvent(Event):
    """Part of a generated image arrived (an event with ``role: "partial-image"``).

    Attributes:
        data: the event's JSON text, as the service sent it (bounded by the SSE event limit).
    """

    data: str = field(repr=False)
