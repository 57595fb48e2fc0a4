"""Messages and conversations: the client-side state a chat turn reads and commits.

A :class:`Conversation` is an immutable value. A session commits a new one only when a turn
finishes, so a failed turn leaves the committed conversation exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from ._errors import LocalProtocolError
from ._json import loads_exact

__all__ = [
    "ROLES",
    "Conversation",
    "Message",
    "MessageLike",
    "MessagesLike",
    "coerce_messages",
    "format_prompt",
    "last_user_message",
    "utf16_length",
]

ROLES: tuple[str, ...] = ("system", "user", "assistant")
"""The roles a message may have."""

# Version of the ``to_dict()`` layout; ``from_dict()`` refuses layouts it does not know.
_FORMAT = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One chat message.

    Attributes:
        role: ``"system"``, ``"user"`` or ``"assistant"``.
        content: the text of the message.
    """

    role: str
    content: str

    def __post_init__(self) -> None:
        _check_message(self.role, self.content, where="Message")

    def to_dict(self) -> dict[str, str]:
        """Return ``{"role": ..., "content": ...}``."""
        return {"role": self.role, "content": self.content}


MessageLike: TypeAlias = "Message | Mapping[str, object]"
"""A :class:`Message` or a plain ``{"role", "content"}`` mapping."""

MessagesLike: TypeAlias = "str | Iterable[MessageLike]"
"""What ``start_turn()`` accepts: a user prompt, or a list of messages."""


def _check_message(role: object, content: object, *, where: str) -> None:
    if not isinstance(role, str) or role not in ROLES:
        raise LocalProtocolError(
            f"{where}: unknown role {role!r}; expected one of {', '.join(ROLES)}"
        )
    if not isinstance(content, str):
        raise LocalProtocolError(f"{where}: content must be a str, not {type(content).__name__}")
    try:
        content.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate cannot travel in a UTF-8 request body.
        raise LocalProtocolError(
            f"{where}: content is not valid Unicode text (lone surrogate at index {exc.start})"
        ) from None


def _coerce_one(item: object, index: int) -> Message:
    if isinstance(item, Message):
        return item
    if isinstance(item, Mapping):
        where = f"message {index}"
        missing = [key for key in ("role", "content") if key not in item]
        if missing:
            raise LocalProtocolError(f"{where}: missing key {missing[0]!r}")
        role, content = item["role"], item["content"]
        _check_message(role, content, where=where)
        assert isinstance(role, str)
        assert isinstance(content, str)
        return Message(role=role, content=content)
    raise LocalProtocolError(
        f"message {index}: expected a Message or a mapping, not {type(item).__name__}"
    )


def coerce_messages(messages: object) -> tuple[Message, ...]:
    """Validate ``messages`` and return them as a tuple of :class:`Message`.

    A ``str`` is one user message. Otherwise ``messages`` must be a non-empty iterable of
    :class:`Message` or ``{"role", "content"}`` mappings with a known role and ``str``
    content. Raises :class:`~sansio_chat.LocalProtocolError` naming the first problem.
    """
    if isinstance(messages, str):
        return (Message(role="user", content=messages),)
    if isinstance(messages, (bytes, bytearray, Mapping, Message)) or not isinstance(
        messages, Iterable
    ):
        raise LocalProtocolError(
            f"messages must be a str or a list of messages, not {type(messages).__name__}"
        )
    result = tuple(_coerce_one(item, index) for index, item in enumerate(messages))
    if not result:
        raise LocalProtocolError("messages must not be empty")
    return result


def format_prompt(messages: Sequence[MessageLike], *, do_continue: bool = False) -> str:
    """Flatten a conversation into one prompt string.

    One message gives its content unchanged. Several give one ``Role: content`` line per
    message with non-empty content (role capitalised), followed by a final ``Assistant:``
    line unless ``do_continue`` is true.
    """
    coerced = coerce_messages(list(messages))
    if len(coerced) == 1:
        return coerced[0].content
    lines = [f"{m.role.capitalize()}: {m.content}" for m in coerced if m.content]
    text = "\n".join(lines)
    return text if do_continue else f"{text}\nAssistant:"


def last_user_message(messages: Sequence[MessageLike]) -> str:
    """Return the trailing run of user messages, joined by newlines in their order.

    The run is empty (``""``) when the last message is not from the user.
    """
    coerced = coerce_messages(list(messages)) if messages else ()
    run: list[str] = []
    for message in reversed(coerced):
        if message.role != "user":
            break
        run.append(message.content)
    return "\n".join(reversed(run))


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, as JavaScript's ``length`` counts it."""
    return len(text.encode("utf-16-le")) // 2


def _redact(value: str) -> str:
    return "''" if not value else "'<redacted>'"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Conversation:
    """The client-side state of one conversation (immutable; sessions commit new values).

    Attributes:
        provider: the provider name (``"ddg"``, ``"darkai"``), so a saved file reloads with
            the right provider.
        model: the model id.
        messages: the committed messages, oldest first.
        fe_version: DuckDuckGo's ``x-fe-version`` (``""`` until fetched).
        vqd: the ``x-vqd-4`` token the next turn sends (``""`` until fetched).
        vqd_hash_1: the ``x-vqd-hash-1`` challenge (base64 JavaScript) the next turn solves.
        cookies: cookies the service set for this conversation, as ``(name, value)`` pairs.
        exhausted: the service said this conversation takes no further turn.

    ``repr()`` redacts the tokens and cookie values. ``to_dict()``/``from_dict()`` and
    ``to_json()``/``from_json()`` round-trip exactly.
    """

    provider: str
    model: str
    messages: tuple[Message, ...] = ()
    fe_version: str = ""
    vqd: str = ""
    vqd_hash_1: str = ""
    cookies: tuple[tuple[str, str], ...] = field(default=())
    exhausted: bool = False

    def __post_init__(self) -> None:
        for name in ("provider", "model", "fe_version", "vqd", "vqd_hash_1"):
            if not isinstance(getattr(self, name), str):
                raise LocalProtocolError(f"Conversation.{name} must be a str")
        if not isinstance(self.exhausted, bool):
            raise LocalProtocolError("Conversation.exhausted must be a bool")
        if not isinstance(self.messages, tuple) or not all(
            isinstance(m, Message) for m in self.messages
        ):
            object.__setattr__(self, "messages", coerce_messages(self.messages))
        cookies = self.cookies
        if isinstance(cookies, Mapping):
            cookies = tuple(cookies.items())
        if not isinstance(cookies, (tuple, list)) or not all(
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and all(isinstance(part, str) for part in pair)
            for pair in cookies
        ):
            raise LocalProtocolError("Conversation.cookies must be (name, value) str pairs")
        object.__setattr__(self, "cookies", tuple((str(n), str(v)) for n, v in cookies))

    def __repr__(self) -> str:
        cookies = ", ".join(f"{name}=<redacted>" for name, _ in self.cookies)
        return (
            f"Conversation(provider={self.provider!r}, model={self.model!r}, "
            f"messages=<{len(self.messages)} messages>, fe_version={self.fe_version!r}, "
            f"vqd={_redact(self.vqd)}, vqd_hash_1={_redact(self.vqd_hash_1)}, "
            f"cookies=[{cookies}], exhausted={self.exhausted!r})"
        )

    def with_messages(self, messages: Iterable[MessageLike]) -> Conversation:
        """Return a copy with ``messages`` appended (validated)."""
        return replace(self, messages=self.messages + coerce_messages(list(messages)))

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (the inverse of :meth:`from_dict`)."""
        return {
            "format": _FORMAT,
            "provider": self.provider,
            "model": self.model,
            "messages": [m.to_dict() for m in self.messages],
            "fe_version": self.fe_version,
            "vqd": self.vqd,
            "vqd_hash_1": self.vqd_hash_1,
            "cookies": [list(pair) for pair in self.cookies],
            "exhausted": self.exhausted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Conversation:
        """Rebuild a conversation from :meth:`to_dict` output.

        Raises :class:`~sansio_chat.LocalProtocolError` for a malformed dict.
        """
        if not isinstance(data, Mapping):
            raise LocalProtocolError("a conversation must be a JSON object")
        if data.get("format", _FORMAT) != _FORMAT:
            raise LocalProtocolError(f"unknown conversation format {data.get('format')!r}")
        for key in ("provider", "model"):
            if not isinstance(data.get(key), str):
                raise LocalProtocolError(f"conversation: {key!r} must be a str")
        raw_messages = data.get("messages", [])
        if not isinstance(raw_messages, list):
            raise LocalProtocolError("conversation: 'messages' must be a list")
        messages = tuple(_coerce_one(item, i) for i, item in enumerate(raw_messages))
        raw_cookies = data.get("cookies", [])
        if isinstance(raw_cookies, Mapping):
            raw_cookies = list(raw_cookies.items())
        if not isinstance(raw_cookies, list):
            raise LocalProtocolError("conversation: 'cookies' must be a list of pairs")
        cookies: list[tuple[str, str]] = []
        for pair in raw_cookies:
            if (
                not isinstance(pair, (list, tuple))
                or len(pair) != 2
                or not all(isinstance(part, str) for part in pair)
            ):
                raise LocalProtocolError("conversation: each cookie must be a [name, value] pair")
            cookies.append((pair[0], pair[1]))
        texts: dict[str, str] = {}
        for key in ("fe_version", "vqd", "vqd_hash_1"):
            value = data.get(key, "")
            if not isinstance(value, str):
                raise LocalProtocolError(f"conversation: {key!r} must be a str")
            texts[key] = value
        exhausted = data.get("exhausted", False)
        if not isinstance(exhausted, bool):
            raise LocalProtocolError("conversation: 'exhausted' must be a bool")
        provider, model = data["provider"], data["model"]
        assert isinstance(provider, str)
        assert isinstance(model, str)
        return cls(
            provider=provider,
            model=model,
            messages=messages,
            fe_version=texts["fe_version"],
            vqd=texts["vqd"],
            vqd_hash_1=texts["vqd_hash_1"],
            cookies=tuple(cookies),
            exhausted=exhausted,
        )

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialize to JSON text (deterministic: same conversation, same text)."""
        separators = (",", ": ") if indent is not None else (",", ":")
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, separators=separators)

    @classmethod
    def from_json(cls, text: str | bytes) -> Conversation:
        """Parse :meth:`to_json` output; malformed input raises ``LocalProtocolError``."""
        try:
            data = loads_exact(text)
        except (ValueError, TypeError) as exc:
            raise LocalProtocolError(f"conversation JSON is malformed: {exc}") from exc
        if not isinstance(data, dict):
            raise LocalProtocolError("a conversation must be a JSON object")
        return cls.from_dict(data)
