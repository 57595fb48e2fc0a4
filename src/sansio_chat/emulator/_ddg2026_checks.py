"""What the emulator checks on a dialect-``2026`` request (docs/protocol.md), as pure functions.

Each check returns ``None`` when the request passes, or a short reason (for logs and tests)
when it does not; the service turns a reason into the service's refusal.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Final, final

from sansio_chat._challenge import ChallengePage

from ._plan import EmulatorRequest

__all__ = [
    "REASONING_EFFORTS",
    "Body2026",
    "check_fe_signals",
    "check_journey_id",
    "check_origin",
    "identity_page",
    "parse_body_2026",
    "request_origin",
]

REASONING_EFFORTS: Final = ("none", "minimal", "low", "medium")
"""``reasoningEffort`` values the service takes (the browser app's enum)."""

_MAX_SIGNALS = 8 * 1024
_JOURNEY_ID = re.compile(r"[0-9a-f]{32}")
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
# One sec-ch-ua item: "Brand";v="N" (GREASE brands use punctuation, never quotes).
_BRAND = r'"([^"\\]*)";v="([^"\\]*)"'
_BRANDS = re.compile(rf"{_BRAND}(?:, {_BRAND})*")
_BRAND_ITEM = re.compile(_BRAND)
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_JWK_KEYS = frozenset({"alg", "e", "ext", "key_ops", "kty", "n", "use"})
_PARTS = {
    "text": {"type", "text"},
    "image": {"type", "mimeType", "image"},
    "file": {"type", "mimeType", "filename"},
}


def request_origin(request: EmulatorRequest) -> str | None:
    """The emulator's own origin as this request reached it (scheme and ``Host``), or ``None``
    when the ``Host`` header is missing or malformed."""
    host = (request.header("host") or "").strip().lower()
    if not _HOST.fullmatch(host):
        return None
    scheme = request.scheme.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def check_origin(request: EmulatorRequest, origin: str, *, need_origin: bool) -> str | None:
    """``Origin`` and ``Referer`` (when sent, and ``Origin`` always when ``need_origin``)
    must be the emulator's own origin."""
    sent = request.header("origin")
    if sent is None:
        if need_origin:
            return "no Origin header"
    elif sent.strip().lower() != origin:
        return f"Origin {sent[:80]!r} is not {origin}"
    referer = request.header("referer")
    if referer is not None:
        text = referer.strip().lower()
        if text != origin and not text.startswith(origin + "/"):
            return f"Referer {referer[:80]!r} is not on {origin}"
    return None


def parse_brands(header: str) -> tuple[tuple[str, str], ...] | None:
    """The brands of a ``sec-ch-ua`` value (``"B";v="N", …``); ``None`` if malformed."""
    text = header.strip()
    if not text:
        return ()
    if not _BRANDS.fullmatch(text):
        return None
    return tuple((m.group(1), m.group(2)) for m in _BRAND_ITEM.finditer(text))


def identity_page(
    request: EmulatorRequest, origin: str, *, be_version: str, fe_chat_hash: str
) -> ChallengePage | None:
    """The clean page a challenge for this request's browser identity runs on.

    The identity is the request's ``user-agent``, ``sec-ch-ua``, ``sec-ch-ua-mobile`` and
    ``sec-ch-ua-platform``; ``None`` when the user agent is missing or ``sec-ch-ua`` is not
    a brand list.
    """
    user_agent = request.header("user-agent")
    if not user_agent:
        return None
    brands = parse_brands(request.header("sec-ch-ua") or "")
    if brands is None:
        return None
    platform = (request.header("sec-ch-ua-platform") or '""').strip().strip('"')
    return ChallengePage(
        origin=origin,
        user_agent=user_agent,
        brands=brands,
        mobile=(request.header("sec-ch-ua-mobile") or "").strip() == "?1",
        platform=platform,
        be_version=be_version,
        fe_chat_hash=fe_chat_hash,
    )


def check_journey_id(request: EmulatorRequest) -> str | None:
    """``x-ddg-journey-id``: 32 lowercase hex characters."""
    value = request.header("x-ddg-journey-id")
    if value is None or not _JOURNEY_ID.fullmatch(value.strip()):
        return "x-ddg-journey-id is not 32 lowercase hex characters"
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_fe_signals(request: EmulatorRequest) -> str | None:
    """``x-fe-signals``: base64 of JSON ``{"start", "events": [{"name", "delta",
    ["trusted"]}], "end"}`` with whole non-negative numbers."""
    value = (request.header("x-fe-signals") or "").strip()
    if not value or len(value) > _MAX_SIGNALS:
        return "x-fe-signals is missing or too long"
    try:
        data: Any = json.loads(base64.b64decode(value.encode("ascii"), validate=True))
    except (UnicodeEncodeError, binascii.Error, ValueError, RecursionError):
        return "x-fe-signals is not base64 of JSON"
    if not isinstance(data, dict) or set(data) != {"start", "events", "end"}:
        return "x-fe-signals needs exactly start, events, end"
    if not _is_count(data["start"]) or not _is_count(data["end"]):
        return "x-fe-signals start and end must be whole milliseconds"
    events = data["events"]
    if not isinstance(events, list):
        return "x-fe-signals events must be a list"
    for event in events:
        if (
            not isinstance(event, dict)
            or not {"name", "delta"} <= set(event) <= {"name", "delta", "trusted"}
            or not isinstance(event["name"], str)
            or not event["name"]
            or not _is_count(event["delta"])
            or not isinstance(event.get("trusted", True), bool)
        ):
            return "an x-fe-signals event is not {name, delta[, trusted]}"
    return None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Body2026:
    """What the emulator takes from a well-formed ``2026`` chat body.

    Attributes:
        model: the model id.
        messages: ``(role, text)`` pairs; a message's text is its string or its text parts.
        conversation_id: ``durableStream.conversationId``.
    """

    model: str
    messages: tuple[tuple[str, str], ...]
    conversation_id: str


def _content_text(content: object) -> str | None:
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        return None
    texts: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            return None
        keys = _PARTS.get(part.get("type"))  # type: ignore[arg-type]
        if keys is None or set(part) != keys:
            return None
        if not all(isinstance(part[k], str) for k in keys):
            return None
        if part["type"] == "image" and not part["image"].startswith("data:"):
            return None
        if part["type"] == "text":
            texts.append(part["text"])
    return "".join(texts)


def _b64url_bytes(text: object) -> bytes | None:
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _check_jwk(key: object) -> str | None:
    if not isinstance(key, dict) or not set(key) <= _JWK_KEYS:
        return "publicKey is not a public RSA JWK (unknown or private members)"
    if key.get("kty") != "RSA" or key.get("alg") != "RSA-OAEP-256":
        return "publicKey must have kty RSA and alg RSA-OAEP-256"
    exponent, modulus = _b64url_bytes(key.get("e")), _b64url_bytes(key.get("n"))
    if not exponent or exponent[0] == 0 or int.from_bytes(exponent, "big") < 3:
        return "publicKey.e is not a base64url exponent"
    if modulus is None or len(modulus) != 256 or modulus[0] < 0x80:
        return "publicKey.n is not a 2048-bit base64url modulus"
    if "ext" in key and not isinstance(key["ext"], bool):
        return "publicKey.ext must be a boolean"
    ops = key.get("key_ops", ["encrypt"])
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        return "publicKey.key_ops must be a list of strings"
    if "use" in key and key["use"] != "enc":
        return "publicKey.use must be enc"
    return None


def _check_durable(stream: object) -> str | None:
    if not isinstance(stream, dict) or set(stream) != {"messageId", "conversationId", "publicKey"}:
        return "durableStream needs exactly messageId, conversationId, publicKey"
    for name in ("messageId", "conversationId"):
        if not isinstance(stream[name], str) or not _UUID4.fullmatch(stream[name]):
            return f"durableStream.{name} is not a lowercase UUID4"
    return _check_jwk(stream["publicKey"])


def _check_flags(data: dict[str, Any]) -> str | None:
    metadata = data.get("metadata")
    choice = metadata.get("toolChoice") if isinstance(metadata, dict) else None
    if not isinstance(choice, dict) or not all(
        isinstance(k, str) and isinstance(v, bool) for k, v in choice.items()
    ):
        return "metadata.toolChoice must map tool names to booleans"
    if not isinstance(data.get("canUseTools"), bool):
        return "canUseTools must be a boolean"
    if data.get("reasoningEffort") not in REASONING_EFFORTS:
        return f"reasoningEffort must be one of {', '.join(REASONING_EFFORTS)}"
    for name in ("canUseApproxLocation", "canDelegateImageGeneration"):
        if data.get(name) is not None and not isinstance(data[name], bool):
            return f"{name} must be null or a boolean"
    return None


def parse_body_2026(body: bytes) -> Body2026 | str:
    """The body's parts the emulator needs, or why the body is malformed."""
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return "the body is not JSON"
    if not isinstance(data, dict):
        return "the body is not a JSON object"
    model, messages = data.get("model"), data.get("messages")
    if not isinstance(model, str) or not isinstance(messages, list) or not messages:
        return "the body needs a model and a non-empty messages list"
    out: list[tuple[str, str]] = []
    for message in messages:
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            return "a message is not {role, content}"
        role, text = message["role"], _content_text(message["content"])
        if not isinstance(role, str) or text is None:
            return "a message's role or content is malformed"
        out.append((role, text))
    reason = _check_flags(data) or _check_durable(data.get("durableStream"))
    if reason is not None:
        return reason
    return Body2026(
        model=model,
        messages=tuple(out),
        conversation_id=data["durableStream"]["conversationId"],
    )
