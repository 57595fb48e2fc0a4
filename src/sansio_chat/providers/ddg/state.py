"""What a DuckDuckGo conversation keeps between turns, stored in ``Conversation.state["ddg"]``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sansio_chat._conversation import Conversation, register_state_check
from sansio_chat._errors import LocalProtocolError

__all__ = ["OWNER", "DuckDuckGoState"]

OWNER = "ddg"
"""The key of this state in ``Conversation.state`` (the provider's name)."""


_TEXT_FIELDS = (
    "fe_version",
    "vqd",
    "vqd_hash_1",
    "dialect",
    "conversation_id",
    "key_n",
    "key_e",
    "key_private",
)
_FIELDS = frozenset((*_TEXT_FIELDS, "cookies"))
# The values a later request sends in a header (or body): printable ASCII only.
_SENT_FIELDS = ("fe_version", "vqd", "vqd_hash_1", "dialect", "conversation_id", "key_n", "key_e")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")


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
        dialect: the dialect this conversation speaks (``""``: the session's).
        conversation_id: dialect ``2026``: the ``durableStream`` conversation id.
        key_n: dialect ``2026``: the public modulus of the conversation's RSA-OAEP key
            (base64url), sent with every turn.
        key_e: its public exponent (base64url).
        key_private: the private key as PKCS#8 PEM, kept only when asked for
            (``keep_private_key=True``); the client never needs it to chat.

    ``repr()`` redacts the tokens, cookie values and the private key. Empty values are not
    stored.
    """

    fe_version: str = ""
    vqd: str = ""
    vqd_hash_1: str = ""
    cookies: tuple[tuple[str, str], ...] = ()
    dialect: str = ""
    conversation_id: str = ""
    key_n: str = ""
    key_e: str = ""
    key_private: str = ""

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
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
        sent = [(name, getattr(self, name)) for name in _SENT_FIELDS]
        sent += [("a cookie", part) for pair in self.cookies for part in pair]
        for name, value in sent:
            if _PRINTABLE.fullmatch(value) is None:
                raise LocalProtocolError(
                    f"the ddg conversation state: {name} holds a character no request header "
                    "may carry (only printable ASCII)"
                )

    def __repr__(self) -> str:
        cookies = ", ".join(f"{name}=<redacted>" for name, _ in self.cookies)
        return (
            f"DuckDuckGoState(fe_version={self.fe_version!r}, vqd={_redact(self.vqd)}, "
            f"vqd_hash_1={_redact(self.vqd_hash_1)}, cookies=[{cookies}], "
            f"dialect={self.dialect!r}, conversation_id={self.conversation_id!r}, "
            f"key_private={_redact(self.key_private)})"
        )

    @property
    def era(self) -> str:
        """The dialect this state belongs to: the stored one, or for a conversation saved
        before dialects were stored, the era its tokens show (``""``: none yet)."""
        if self.dialect:
            return self.dialect
        if self.vqd:
            return "2025-03" if self.fe_version or self.vqd_hash_1 else "2024"
        return ""

    @classmethod
    def of(cls, conversation: Conversation) -> DuckDuckGoState:
        """Read the state from ``conversation``; malformed state raises LocalProtocolError."""
        entry = conversation.state_of(OWNER)
        unknown = set(entry) - _FIELDS
        if unknown:
            raise LocalProtocolError(
                f"the ddg conversation state has unknown keys: {', '.join(sorted(unknown))}"
            )
        values = {name: entry.get(name, "") for name in _TEXT_FIELDS}
        return cls(
            cookies=entry.get("cookies", ()),  # type: ignore[arg-type]
            **values,  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready entry (empty values left out)."""
        entry: dict[str, object] = {name: getattr(self, name) for name in _TEXT_FIELDS}
        entry["cookies"] = [list(pair) for pair in self.cookies]
        return {key: value for key, value in entry.items() if value}

    def store(self, conversation: Conversation) -> Conversation:
        """``conversation`` with this state as its ddg entry."""
        return conversation.with_state(OWNER, self.to_dict())


def _check_entry(entry: Mapping[str, object]) -> None:
    DuckDuckGoState.of(Conversation(provider=OWNER, model="-", state={OWNER: entry}))


register_state_check(OWNER, _check_entry)
