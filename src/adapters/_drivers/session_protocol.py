"""What the drivers need from a session: the loop methods of ``ChatSession``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from sansio_chat import ChallengeResult, Event, Step

__all__ = ["TurnSession"]


class TurnSession(Protocol):
    """The part of :class:`~sansio_chat.ChatSession` a driver calls."""

    def start_turn(self, messages: Any, /) -> None:
        """Begin a turn with the new messages."""

    def next_step(self) -> Step:
        """What to do next."""

    def receive_challenge_result(self, result: ChallengeResult, /) -> None:
        """Answer the last ``SolveChallenge`` with what the script resolved to."""

    def receive_challenge_failure(self, reason: str, /) -> None:
        """Tell that the last ``SolveChallenge`` could not be evaluated."""

    def receive_response_head(self, status: int, headers: list[tuple[bytes, bytes]], /) -> None:
        """Feed the status and headers of a reply."""

    def receive_data(self, data: bytes, /) -> None:
        """Feed reply body bytes."""

    def receive_eof(self) -> None:
        """Tell that the reply body ended."""

    def events(self) -> Iterator[Event]:
        """Drain the events available now."""

    @property
    def costly_work_ahead(self) -> bool:
        """Whether the next call may run CPU-heavy work (then it goes to a worker thread)."""

    def abort_turn(self) -> None:
        """Give up the turn in progress (the driver stopped early); no-op without one."""
