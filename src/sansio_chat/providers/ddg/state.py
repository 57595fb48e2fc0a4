"""What a DuckDuckGo conversation keeps between turns, stored in ``Conversation.state["ddg"]``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sansio_chat._conversation import Conversation
from sansio_chat._errors import LocalProtocolError

__all__ = ["OWNER", "DuckDuckGoState"]

OWNER = "ddg"
"""The key of this state in ``Conversation.state`` (the provider's name)."""


def _redact(value: str) -> str:
    return "''" if not value else "'<redacted>'"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DuckDuckGoState:
    """The tokens a DuckDuckGo conversation carries to its next turn.

    Attributes:
        fe_version: the ``x-fe-version`` (``""`` until fetched).
        vqd: the ``x-vqd-4`` token the next turn sends (``""`` until fetched).
        vqd_hash_1: the ``x-vqd-hash-1`` challenge (base64 JavaScript) the next turn solves.
        cookies: cookies the service set for this conversation, as ``(name, value)`` pairs.

    ``repr()`` redacts the tokens and cookie values. Empty values are not stored.
    """

    fe_version: str = ""
    vqd: str = ""
    vqd_hash_1: str = ""
    cookies: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name in ("fe_version", "vqd", "vqd_hash_1"):
            if not isinstance(getattr(self, name), str):
                raise LocalProtocolError(f"the ddg conversation state: {name!r} must be a str")
        cookies = self.cookies
        if isinstance(cookies, Mapping):
            cookies = tuple(cookies.items())
        if not isinstance(cookies, (tuple, list)) or not all(
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and all(isinstance(part, str) for part in pair)
            for pair in cookies
        ):
            raise LocalProtocolError(
                "the ddg conversation state: 'cookies' must be (name, value) str pairs"
            )
        object.__setattr__(self, "cookies", tuple((n, v) for n, v in cookies))

    def __repr__(self) -> str:
        cookies = ", ".join(f"{name}=<redacted>" for name, _ in self.cookies)
        return (
            f"DuckDuckGoState(fe_version={self.fe_version!r}, vqd={_redact(self.vqd)}, "
            f"vqd_hash_1={_redact(self.vqd_hash_1)}, cookies=[{cookies}])"
        )

    @classmethod
    def of(cls, conversation: Conversation) -> DuckDuckGoState:
        """Read the state from ``conversation``; malformed state raises LocalProtocolError."""
        entry = conversation.state_of(OWNER)
        unknown = set(entry) - {"fe_version", "vqd", "vqd_hash_1", "cookies"}
        if unknown:
            raise LocalProtocolError(
                f"the ddg conversation state has unknown keys: {', '.join(sorted(unknown))}"
            )
        return cls(
            fe_version=entry.get("fe_version", ""),  # type: ignore[arg-type]
            vqd=entry.get("vqd", ""),  # type: ignore[arg-type]
            vqd_hash_1=entry.get("vqd_hash_1", ""),  # type: ignore[arg-type]
            cookies=entry.get("cookies", ()),  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready entry (empty values left out)."""
        entry: dict[str, object] = {
            "fe_version": self.fe_version,
            "vqd": self.vqd,
            "vqd_hash_1": self.vqd_hash_1,
            "cookies": [list(pair) for pair in self.cookies],
        }
        return {key: value for key, value in entry.items() if value}

    def store(self, conversation: Conversation) -> Conversation:
        """``conversation`` with this state as its ddg entry."""
        return conversation.with_state(OWNER, self.to_dict())
