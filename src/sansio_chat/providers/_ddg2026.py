"""Dialect ``2026`` (duck.ai) wire format: the page, the proof, the body, the models, the markers.

Pure functions over values; the turn logic that uses them lives with the other exchanges.
Everything the service may change without notice (the stack string, the signal names, the
model list, the tool names) is data here, so a change is an edit of a constant.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from random import Random
from types import MappingProxyType
from typing import Any, Final, Literal, final

from sansio_chat._conversation import Message
from sansio_chat._errors import ChallengeError, RemoteProtocolError
from sansio_chat._json import loads_exact

__all__ = [
    "DEFAULT_STACK",
    "MODELS_2026",
    "MODEL_ALIASES_2026",
    "RETIRED_MODELS",
    "DurableKey",
    "ModelInfo",
    "StreamMarker",
    "build_proof",
    "chat_body_2026",
    "fe_signals",
    "generate_durable_key",
    "journey_id",
    "js_string",
    "parse_marker",
    "parse_models",
    "parse_page_version",
]

# --- data that the service changes: edit here --------------------------------------------

# 2026-07-22, a live /models reply quoted in a public client's tests (spec/DDG-2026.md).
MODELS_2026: tuple[str, ...] = (
    "gpt-5.4-mini",
    "gpt-5.4-nano",
    "claude-haiku-4-5",
    "mistral-small-2603",
    "tinfoil/gpt-oss-120b",
    "tinfoil/gemma4-31b",
)
# Friendly names that follow whatever the live list holds (resolved by prefix at use).
MODEL_ALIASES_2026: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "gpt": ("gpt-5.6-luna", "gpt-5.4-mini", "gpt-5-mini"),
        "gpt-mini": ("gpt-5.4-mini", "gpt-5-mini"),
        "gpt-nano": ("gpt-5.4-nano",),
        "claude": ("claude-haiku-4-5",),
        "mistral": ("mistral-small-2603", "mistral-small"),
        "oss": ("tinfoil/gpt-oss-120b", "openai/gpt-oss-120b"),
        "gemma": ("tinfoil/gemma4-31b",),
    }
)
# Ids the service answered with 400 ERR_BAD_REQUEST in 2026 (spec/DDG-2026.md, "Errors").
RETIRED_MODELS: frozenset[str] = frozenset(
    {
        "gpt-4o-mini",
        "gpt-5-mini",
        "o3-mini",
        "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "claude-3-5-haiku-latest",
        "mistral-small-2501",
    }
)
# The Error stack a frontend bundle records; the entry file's hash changes with each deploy.
DEFAULT_STACK = (
    "Error\nat l (https://duck.ai/dist/duckai-dist/entry.duckai.a3b6f0e1.js:2:1417204)\n"
    "at async https://duck.ai/dist/duckai-dist/entry.duckai.a3b6f0e1.js:2:1265533"
)
# The frontend's timing log event names, in order, and whether each is a trusted user action.
SIGNAL_EVENTS: tuple[tuple[str, bool], ...] = (
    ("onboarding_impression", False),
    ("action", True),
    ("onboarding_finish", False),
    ("startNewChat_free", False),
)
TOOL_CHOICES: tuple[str, ...] = ("NewsSearch", "VideosSearch", "LocalSearch", "WeatherForecast")
ReasoningEffort = Literal["none", "minimal", "low", "medium"]
REASONING_EFFORTS: tuple[str, ...] = ("none", "minimal", "low", "medium")

# A proof travels in one header; real ones are about 1 KiB. A script result this large is an
# attack or a bug, not an answer.
MAX_PROOF_BYTES: Final = 16 * 1024
MAX_MODELS_BYTES: Final = 1024 * 1024

# --- the page -------------------------------------------------------------------------------

_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def parse_page_version(html: str) -> str:
    """``x-fe-version`` from duck.ai's page: ``data-version-tag`` + ``-`` + ``data-version-sha``.

    A missing, empty or non-printable attribute raises ``RemoteProtocolError`` naming it.
    """
    from sansio_chat.providers.ddg import MissingMarkerError

    parts = []
    for name in ("data-version-tag", "data-version-sha"):
        match = re.search(rf'{name}="([^"]*)"', html)
        if match is None or not match.group(1):
            raise MissingMarkerError(name)
        value = match.group(1)
        if _VISIBLE_ASCII.fullmatch(value) is None:
            raise RemoteProtocolError(f"the page attribute {name} is not printable ASCII")
        parts.append(value)
    return "-".join(parts)


# --- per-request values from the injected rng and clock ------------------------------------


def journey_id(rng: Random) -> str:
    """``x-ddg-journey-id``: 16 random bytes as 32 lowercase hex characters."""
    return f"{rng.getrandbits(128):032x}"


def fe_signals(rng: Random, now_ms: int) -> str:
    """``x-fe-signals``: base64 of the frontend's compact JSON timing log ending at ``now_ms``.

    The deltas are plausible human timings drawn from ``rng``; ``start`` is an epoch in ms.
    """
    events: list[dict[str, object]] = []
    total = 0
    for name, trusted in SIGNAL_EVENTS:
        delta = rng.randint(300, 2500)
        total += delta
        event: dict[str, object] = {"name": name, "delta": delta}
        if trusted:
            event["trusted"] = True
        events.append(event)
    end = total + rng.randint(50, 400)
    log = {"start": now_ms - end, "events": events, "end": end}
    return base64.b64encode(_compact(log).encode("ascii")).decode("ascii")


def message_id(rng: Random) -> str:
    """A UUID4 string drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --- durable stream key ----------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class DurableKey:
    """The RSA-OAEP key pair of a conversation's ``durableStream``.

    Attributes:
        n: the public modulus, base64url without padding (the JWK ``n``).
        e: the public exponent, base64url (``"AQAB"`` for 65537).
        private_pem: the private key as PKCS#8 PEM, or ``""`` when not kept.
    """

    n: str
    e: str = "AQAB"
    private_pem: str = field(default="", repr=False)

    def public_jwk(self) -> dict[str, object]:
        """The public half as the JWK a browser's ``crypto.subtle.exportKey`` gives."""
        return {
            "alg": "RSA-OAEP-256",
            "e": self.e,
            "ext": True,
            "key_ops": ["encrypt"],
            "kty": "RSA",
            "n": self.n,
            "use": "enc",
        }


KeySource = Callable[[], DurableKey]
"""Makes a fresh :class:`DurableKey` (randomness from outside the core's own state)."""


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def generate_durable_key() -> DurableKey:
    """A fresh 2048-bit RSA key pair from ``cryptography`` (the default :data:`KeySource`)."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ChallengeError("the durable-stream key needs the 'cryptography' package") from exc
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return DurableKey(n=_b64url_uint(numbers.n), e=_b64url_uint(numbers.e), private_pem=pem)


# --- the body -------------------------------------------------------------------------------


def _content(message: Message) -> str:
    return message.content


def chat_body_2026(
    model: str,
    messages: Sequence[Message],
    *,
    key: DurableKey,
    conversation_id: str,
    message_id: str,
    reasoning_effort: str = "none",
    tools: Mapping[str, bool] | None = None,
) -> bytes:
    """The chat request body of dialect ``2026``, compact JSON as ``JSON.stringify`` writes it.

    ``system`` messages go as ``user`` (the service still refuses the role); a text message
    is a plain string, as the frontend sends a single text part.
    """
    choice = dict.fromkeys(TOOL_CHOICES, False)
    if tools:
        choice.update(tools)
    body = {
        "model": model,
        "metadata": {"toolChoice": choice},
        "messages": [
            {"role": "user" if m.role == "system" else m.role, "content": _content(m)}
            for m in messages
        ],
        "canUseTools": True,
        "reasoningEffort": reasoning_effort,
        "canUseApproxLocation": None,
        "canDelegateImageGeneration": None,
        "durableStream": {
            "messageId": message_id,
            "conversationId": conversation_id,
            "publicKey": key.public_jwk(),
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- the proof ------------------------------------------------------------------------------


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _js_number(value: float) -> str:
    # ECMAScript Number::toString: the shortest round-trip digits (which repr() also gives),
    # laid out by the standard's rules for where the decimal point and exponent go.
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0")
    digits = (whole + fraction).lstrip("0")
    # value = 0.digits * 10**n
    n = len(whole) + int(exponent or 0) if whole != "0" else int(exponent or 0)
    if whole == "0":
        n -= len(fraction) - len(fraction.lstrip("0"))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        head = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{head}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def js_string(value: object) -> str:
    """``String(value)`` as JavaScript computes it, for a value that came out of JSON.

    Strings are themselves; ``true``/``false``/``null``; numbers as ECMAScript prints
    them (``1``, ``0.5``, ``1e+21``; an integer beyond 2**53 as the double nearest to it,
    as JavaScript holds it); an array joins its items' strings with ``,``
    (``null`` items as empty); an object is ``[object Object]``.
    """
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        if abs(value) <= 2**53:
            return str(value)
        # JavaScript holds the nearest double (JSON.parse of a long integer does the same).
        try:
            return _js_number(float(value))
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def _hash(value: object) -> str:
    digest = hashlib.sha256(js_string(value).encode("utf-8", "surrogatepass")).digest()
    return base64.b64encode(digest).decode("ascii")


def _script_result(value: object) -> tuple[list[str], list[Any], dict[str, Any], dict[str, Any]]:
    if not isinstance(value, dict):
        raise ChallengeError(
            f"the challenge script resolved to {type(value).__name__}, not an object"
        )
    server_hashes = value.get("server_hashes")
    client_values = value.get("client_hashes")
    signals = value.get("signals", {})
    meta = value.get("meta")
    if not (
        isinstance(server_hashes, list)
        and server_hashes
        and all(isinstance(h, str) for h in server_hashes)
    ):
        raise ChallengeError("the script's result has no server_hashes strings")
    if not isinstance(client_values, list) or not client_values:
        raise ChallengeError("the script's result has no client_hashes values")
    if not isinstance(meta, dict) or not isinstance(signals, dict):
        raise ChallengeError("the script's result has no meta object")
    return server_hashes, client_values, signals, meta


def build_proof(
    value: object, *, origin: str, duration_ms: float, stack: str = DEFAULT_STACK
) -> str:
    """The ``x-vqd-hash-1`` proof for what a challenge script resolved to.

    Each client value is hashed as ``base64(sha256(String(value)))``; ``meta`` gains
    ``origin``, ``stack`` and ``duration`` (whole milliseconds, as a string) after the
    script's own keys. A result of the wrong shape, or one too large for a header, raises
    :class:`~sansio_chat.ChallengeError`.
    """
    server_hashes, client_values, signals, meta = _script_result(value)
    if not math.isfinite(duration_ms) or duration_ms < 0:
        raise ChallengeError(f"duration_ms must be a finite number >= 0, not {duration_ms!r}")
    proof = {
        "server_hashes": server_hashes,
        "client_hashes": [_hash(v) for v in client_values],
        "signals": signals,
        "meta": {**meta, "origin": origin, "stack": stack, "duration": str(round(duration_ms))},
    }
    try:
        text = _compact(proof).encode("utf-8", "surrogatepass")
    except ValueError as exc:
        raise ChallengeError(f"the script's result cannot be sent: {exc}") from exc
    if len(text) > MAX_PROOF_BYTES:
        raise ChallengeError(
            f"the script's result makes a {len(text)}-byte proof (limit {MAX_PROOF_BYTES})"
        )
    return base64.b64encode(text).decode("ascii")


# --- models ---------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """One entry of ``GET /duckchat/v1/models``.

    Attributes:
        id: the model id the chat body names.
        name: the display name.
        provider: who serves it (``"openai"``, ``"anthropic"``, ...).
        has_access: ``entityHasAccess``: this client may use it.
        supports_image_upload: ``supportsImageUpload``.
        supported_tools: ``supportedTools``.
        access_tier: ``accessTier`` (``"free"``, ...); ``""`` when absent.
    """

    id: str
    name: str = ""
    provider: str = ""
    has_access: bool = True
    supports_image_upload: bool = False
    supported_tools: tuple[str, ...] = ()
    access_tier: str = ""


def _text_field(entry: Mapping[str, object], key: str) -> str:
    value = entry.get(key, "")
    return value if isinstance(value, str) else ""


def parse_models(body: bytes) -> tuple[ModelInfo, ...]:
    """The entries of a ``/duckchat/v1/models`` reply; a malformed reply raises
    ``RemoteProtocolError``. Entries without a usable id are skipped."""
    if len(body) > MAX_MODELS_BYTES:
        raise RemoteProtocolError(
            "the models reply is too large", limit=MAX_MODELS_BYTES, observed=len(body)
        )
    try:
        data = loads_exact(body)
    except ValueError as exc:
        raise RemoteProtocolError(f"the models reply is not JSON: {body[:120]!r}") from exc
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RemoteProtocolError("the models reply has no 'models' list")
    models = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        model_id = entry.get("id")
        if not isinstance(model_id, str) or _VISIBLE_ASCII.fullmatch(model_id) is None:
            continue
        tools = entry.get("supportedTools", ())
        models.append(
            ModelInfo(
                id=model_id,
                name=_text_field(entry, "name"),
                provider=_text_field(entry, "provider"),
                has_access=entry.get("entityHasAccess", True) is not False,
                supports_image_upload=entry.get("supportsImageUpload") is True,
                supported_tools=tuple(t for t in tools if isinstance(t, str))
                if isinstance(tools, list)
                else (),
                access_tier=_text_field(entry, "accessTier"),
            )
        )
    return tuple(models)


# --- stream markers -------------------------------------------------------------------------

MarkerKind = Literal[
    "done", "ping", "title", "usage", "stop_reason", "limit", "warn_limit", "unknown"
]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class StreamMarker:
    """A ``[NAME]`` or ``[NAME:VALUE]`` line of the reply stream.

    Attributes:
        kind: what it means (``"unknown"`` markers are ignored by the session).
        name: the marker's name, e.g. ``"LIMIT_ACCOUNT"``.
        value: the text after the colon, or ``""``.
    """

    kind: MarkerKind
    name: str
    value: str = ""


_MARKER = re.compile(r"\[([A-Z][A-Z0-9_]*)(?::(.*?))?\]", re.DOTALL)
_WHOLE_MARKER = re.compile(r"\[([A-Z][A-Z0-9_]*)(?::(.*))?\]", re.DOTALL)
_KINDS: Mapping[str, MarkerKind] = {
    "DONE": "done",
    "PING": "ping",
    "CHAT_TITLE": "title",
    "FIXED_COST_WINDOW_USAGE": "usage",
    "STOP_REASON": "stop_reason",
    "LIMIT_CONVERSATION": "limit",
    "LIMIT_ACCOUNT": "limit",
    "LIMIT_ENTITY": "limit",
    "LIMIT_IMAGE_GENERATIONS": "limit",
    "WARN_CONVERSATION_LIMIT": "warn_limit",
}


def parse_marker(data: str) -> tuple[StreamMarker, ...] | None:
    """The markers of one event's data (``[DONE][LIMIT_CONVERSATION]`` holds two), or
    ``None`` when the data is not a marker line."""
    text = data.strip()
    if text[:1] != "[" or not "A" <= text[1:2] <= "Z":
        return None
    markers: list[StreamMarker] = []
    position = 0
    while position < len(text):
        match = _MARKER.match(text, position)
        if match is None or (match.end() < len(text) and text[match.end()] != "["):
            # One marker whose value holds brackets (a title): take the whole line.
            whole = _WHOLE_MARKER.fullmatch(text)
            if whole is None:
                return (StreamMarker(kind="unknown", name=text[1:].split(":", 1)[0]),)
            match = whole
            markers.clear()
        name, value = match.group(1), match.group(2) or ""
        markers.append(StreamMarker(kind=_KINDS.get(name, "unknown"), name=name, value=value))
        position = match.end()
    return tuple(markers)
