"""Messages and conversations: the client-side state a chat turn reads and commits.

A :class:`Conversation` is an immutable value. A session commits a new one only when a turn
finishes, so a failed turn leaves the committed conversation exactly as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeAlias

from ._errors import LocalProtocolError

# json (and orjson, through ._json) is imported by the methods that read or write JSON, so
# `import sansio_chat` does not pay for it (bench/bench_startup.py).

__all__ = [
    "ROLES",
    "Conversation",
    "Message",
    "MessageLike",
    "MessagesLike",
    "ProviderState",
    "coerce_messages",
    "format_prompt",
    "last_user_message",
]

ROLES: tuple[str, ...] = ("system", "user", "assistant")
"""The roles a message may have."""

# Version of the ``to_dict()`` layout; ``from_dict()`` refuses layouts it does not know.
_FORMAT = 2


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
    _check_text(content, f"{where}: content")


def _check_text(text: str, what: str) -> None:
    """Refuse ``text`` with a lone surrogate: it cannot travel in a UTF-8 request body."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(
            f"{what} is not valid Unicode text (lone surrogate at index {exc.start})"
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


ProviderState: TypeAlias = "Mapping[str, Mapping[str, object]]"
"""Provider-owned state of a conversation: ``{owner name: {key: JSON value}}``."""

# Format 1 kept DuckDuckGo's values as top-level keys; they are read into the state of the
# file's provider (format 2 keeps every provider's values under ``state``).
_LEGACY_KEYS = ("fe_version", "vqd", "vqd_hash_1", "cookies")
_MAX_STATE_DEPTH = 16


def _freeze(value: object, where: str, depth: int = 0) -> object:
    """A deep read-only copy of a JSON-compatible value (lists become tuples)."""
    if depth > _MAX_STATE_DEPTH:
        raise LocalProtocolError(f"{where} is nested too deeply")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LocalProtocolError(f"{where} holds a non-finite number")
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item, where, depth + 1) for item in value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise LocalProtocolError(f"{where} has a key that is not a str")
        return MappingProxyType({k: _freeze(v, where, depth + 1) for k, v in value.items()})
    raise LocalProtocolError(f"{where} holds a {type(value).__name__}, not a JSON value")


def _thaw(value: object) -> object:
    """The JSON-ready (mutable) form of a :func:`_freeze` result."""
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    return value


def _freeze_state(state: object) -> MappingProxyType[str, MappingProxyType[str, object]]:
    if not isinstance(state, Mapping):
        raise LocalProtocolError("Conversation.state must map owner names to JSON objects")
    frozen: dict[str, MappingProxyType[str, object]] = {}
    for owner, value in state.items():
        if not isinstance(owner, str) or not isinstance(value, Mapping):
            raise LocalProtocolError("Conversation.state must map owner names to JSON objects")
        entry = _freeze(value, f"Conversation.state[{owner!r}]")
        assert isinstance(entry, MappingProxyType)
        if entry:
            frozen[owner] = entry
    return MappingProxyType(frozen)


def _legacy_state(data: Mapping[str, object]) -> dict[str, object]:
    """The provider state of a format-1 file (top-level ``fe_version``, ``vqd``, ...)."""
    state: dict[str, object] = {}
    for key in ("fe_version", "vqd", "vqd_hash_1"):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise LocalProtocolError(f"conversation: {key!r} must be a str")
        if value:
            state[key] = value
    raw_cookies = data.get("cookies", [])
    if isinstance(raw_cookies, Mapping):
        raw_cookies = list(raw_cookies.items())
    if not isinstance(raw_cookies, list):
        raise LocalProtocolError("conversation: 'cookies' must be a list of pairs")
    cookies: list[list[str]] = []
    for pair in raw_cookies:
        if (
            not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not all(isinstance(part, str) for part in pair)
        ):
            raise LocalProtocolError("conversation: each cookie must be a [name, value] pair")
        cookies.append([pair[0], pair[1]])
    if cookies:
        state["cookies"] = cookies
    return state


StateCheck = Callable[[Mapping[str, object]], None]
"""Checks one owner's state entry; raises ``LocalProtocolError`` when it is malformed."""

_STATE_CHECKS: dict[str, StateCheck] = {}


def register_state_check(owner: str, check: StateCheck) -> None:
    """Have :meth:`Conversation.from_dict` check ``owner``'s state entry with ``check``.

    A provider registers its state's checks when it is imported, so a file holding values
    that could never be sent again is refused when read, not when the next turn fails.
    """
    _STATE_CHECKS[owner] = check


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Conversation:
    """The client-side state of one conversation (immutable; sessions commit new values).

    Attributes:
        provider: the provider name (``"ddg"``, ``"darkai"``), so a saved file reloads with
            the right provider.
        model: the model id.
        messages: the committed messages, oldest first.
        state: what providers keep between turns (tokens, challenges, cookies, ...), as
            ``{owner: {key: JSON value}}``; the owner is a provider name. The core never reads
            it: each provider reads and writes its own entry (e.g.
            :class:`sansio_chat.providers.ddg.DuckDuckGoState`).
        exhausted: the service said this conversation takes no further turn.

    ``repr()`` shows the state's keys, never its values. ``to_dict()``/``from_dict()`` and
    ``to_json()``/``from_json()`` round-trip exactly; ``from_dict()`` also reads format 1.
    """

    provider: str
    model: str
    messages: tuple[Message, ...] = ()
    state: ProviderState = field(default_factory=lambda: MappingProxyType({}))
    exhausted: bool = False

    def __post_init__(self) -> None:
        for name in ("provider", "model"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise LocalProtocolError(f"Conversation.{name} must be a str")
            _check_text(value, f"Conversation.{name}")
        if not isinstance(self.exhausted, bool):
            raise LocalProtocolError("Conversation.exhausted must be a bool")
        if not isinstance(self.messages, tuple) or not all(
            isinstance(m, Message) for m in self.messages
        ):
            object.__setattr__(self, "messages", coerce_messages(self.messages))
        object.__setattr__(self, "state", _freeze_state(self.state))

    def __hash__(self) -> int:
        import json

        state = json.dumps(_thaw(self.state), sort_keys=True)
        return hash((self.provider, self.model, self.messages, state, self.exhausted))

    def __repr__(self) -> str:
        state = ", ".join(
            f"{owner!r}: <redacted> [{', '.join(sorted(entry))}]"
            for owner, entry in self.state.items()
        )
        return (
            f"Conversation(provider={self.provider!r}, model={self.model!r}, "
            f"messages=<{len(self.messages)} messages>, state={{{state}}}, "
            f"exhausted={self.exhausted!r})"
        )

    def with_messages(self, messages: Iterable[MessageLike]) -> Conversation:
        """Return a copy with ``messages`` appended (validated)."""
        return replace(self, messages=self.messages + coerce_messages(list(messages)))

    def state_of(self, owner: str) -> Mapping[str, object]:
        """The state ``owner`` keeps in this conversation (empty when none), read-only."""
        return self.state.get(owner, MappingProxyType({}))

    def with_state(self, owner: str, entry: Mapping[str, object]) -> Conversation:
        """Return a copy whose state of ``owner`` is ``entry`` (an empty one removes it)."""
        state = {**self.state, owner: entry}
        return replace(self, state=state)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (the inverse of :meth:`from_dict`)."""
        return {
            "format": _FORMAT,
            "provider": self.provider,
            "model": self.model,
            "messages": [m.to_dict() for m in self.messages],
            "state": _thaw(self.state),
            "exhausted": self.exhausted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Conversation:
        """Rebuild a conversation from :meth:`to_dict` output (or a format-1 dict).

        Raises :class:`~sansio_chat.LocalProtocolError` for a malformed dict.
        """
        if not isinstance(data, Mapping):
            raise LocalProtocolError("a conversation must be a JSON object")
        legacy = any(key in data for key in _LEGACY_KEYS)
        version = data.get("format", 1 if legacy else _FORMAT)
        if version not in (1, _FORMAT) or isinstance(version, bool):
            raise LocalProtocolError(f"unknown conversation format {data.get('format')!r}")
        for key in ("provider", "model"):
            if not isinstance(data.get(key), str):
                raise LocalProtocolError(f"conversation: {key!r} must be a str")
        provider, model = data["provider"], data["model"]
        assert isinstance(provider, str)
        assert isinstance(model, str)
        raw_messages = data.get("messages", [])
        if not isinstance(raw_messages, list):
            raise LocalProtocolError("conversation: 'messages' must be a list")
        messages = tuple(_coerce_one(item, i) for i, item in enumerate(raw_messages))
        if version == 1:
            state: Mapping[str, Mapping[str, object]] = {provider: _legacy_state(data)}
        else:
            raw_state = data.get("state", {})
            if not isinstance(raw_state, Mapping):
                raise LocalProtocolError("conversation: 'state' must be a JSON object")
            state = raw_state  # each entry is checked by the constructor
        exhausted = data.get("exhausted", False)
        if not isinstance(exhausted, bool):
            raise LocalProtocolError("conversation: 'exhausted' must be a bool")
        conversation = cls(
            provider=provider, model=model, messages=messages, state=state, exhausted=exhausted
        )
        for owner, entry in conversation.state.items():
            check = _STATE_CHECKS.get(owner)
            if check is not None:
                check(entry)
        return conversation

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialize to JSON text (deterministic: same conversation, same text)."""
        import json

        separators = (",", ": ") if indent is not None else (",", ":")
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, separators=separators)

    @classmethod
    def from_json(cls, text: str | bytes) -> Conversation:
        """Parse :meth:`to_json` output; malformed input raises ``LocalProtocolError``."""
        from ._json import loads_exact

        try:
            data = loads_exact(text)
        except (ValueError, TypeError) as exc:
            raise LocalProtocolError(f"conversation JSON is malformed: {exc}") from exc
        if not isinstance(data, dict):
            raise LocalProtocolError("a conversation must be a JSON object")
        return cls.from_dict(data)
