"""Dialect ``2026`` (duck.ai) wire values: the page version, per-request values from the
injected rng and clock, the durable-stream key, the chat body and the stream markers.

What the service may change without notice (signal names, tool names) is data here.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Literal, final
from urllib.parse import urlsplit

from sansio_chat._challenge import ChallengePage
from sansio_chat._conversation import Message
from sansio_chat._errors import ChallengeError, LocalProtocolError, RemoteProtocolError
from sansio_chat._http import HttpRequest
from sansio_chat.providers.ddg.wire import CHAT_PATH, STATUS_PATH, Browser, MissingMarkerError

MODELS_PATH = "/duckchat/v1/models"

__all__ = [
    "BROWSER_2026",
    "MODELS_PATH",
    "REASONING_EFFORTS",
    "DurableKey",
    "KeySource",
    "challenge_page",
    "chat_body_2026",
    "chat_request_2026",
    "decode_script",
    "fe_signals",
    "generate_durable_key",
    "journey_id",
    "message_id",
    "models_request",
    "origin_of",
    "page_request",
    "parse_brands",
    "parse_page_version",
    "status_request_2026",
]

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


_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# --- the page -------------------------------------------------------------------------------

_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def parse_page_version(html: str) -> str:
    """``x-fe-version`` from duck.ai's page: ``data-version-tag`` + ``-`` + ``data-version-sha``.

    A missing, empty or non-printable attribute raises ``RemoteProtocolError`` naming it.
    """
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


# --- browser identity -------------------------------------------------------------------------

BROWSER_2026 = Browser(
    user_agent=(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
    ),
    sec_ch_ua='"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"',
    sec_ch_ua_mobile="?0",
    sec_ch_ua_platform='"Windows"',
    accept_language="en-US,en;q=0.9",
)
"""The default identity of dialect ``2026``: a current Chrome on Windows."""

_BRAND = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*;\s*v\s*=\s*"((?:[^"\\]|\\.)*)"\s*')


def parse_brands(sec_ch_ua: str) -> tuple[tuple[str, str], ...]:
    """The ``(brand, version)`` pairs of a ``sec-ch-ua`` value (``"A";v="1", "B";v="2"``).

    A value that is not such a list raises ``LocalProtocolError``: the page a challenge sees
    must describe the same browser the headers name.
    """
    brands = []
    for part in sec_ch_ua.split(","):
        match = _BRAND.fullmatch(part)
        if match is None:
            raise LocalProtocolError(f"sec-ch-ua is not a brand list: {sec_ch_ua!r}")
        brands.append((match.group(1), match.group(2)))
    return tuple(brands)


def challenge_page(
    browser: Browser, *, origin: str, be_version: str, fe_chat_hash: str
) -> ChallengePage:
    """The page a challenge script sees, for the identity the requests present."""
    languages = tuple(
        tag.split(";", 1)[0].strip() for tag in browser.accept_language.split(",") if tag.strip()
    )
    return ChallengePage(
        origin=origin,
        user_agent=browser.user_agent,
        brands=parse_brands(browser.sec_ch_ua),
        mobile=browser.sec_ch_ua_mobile.strip() == "?1",
        platform=browser.sec_ch_ua_platform.strip().strip('"'),
        languages=languages or ("en-US",),
        be_version=be_version,
        fe_chat_hash=fe_chat_hash,
    )


def origin_of(base_url: str) -> str:
    """``scheme://host[:port]`` of a base URL: the origin the page and its requests have."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


# --- requests -------------------------------------------------------------------------------

# A challenge header is base64 of a script of a few KiB; real ones are under 20 KiB.
MAX_CHALLENGE_BYTES = 256 * 1024


def decode_script(header: str) -> str:
    """The challenge script carried (base64) by an ``x-vqd-hash-1`` reply header.

    Too large, not base64 or not UTF-8: :class:`~sansio_chat.ChallengeError`.
    """
    if len(header) > MAX_CHALLENGE_BYTES:
        raise ChallengeError(
            f"the challenge header is {len(header)} bytes (limit {MAX_CHALLENGE_BYTES})"
        )
    try:
        return base64.b64decode(header.encode("ascii"), validate=True).decode("utf-8")
    except (ValueError, UnicodeError) as exc:
        raise ChallengeError("the challenge header is not base64 of UTF-8 text") from exc


def _client_hints(browser: Browser) -> list[tuple[str, str]]:
    return [
        ("sec-ch-ua", browser.sec_ch_ua),
        ("sec-ch-ua-mobile", browser.sec_ch_ua_mobile),
        ("sec-ch-ua-platform", browser.sec_ch_ua_platform),
    ]


def _cookie(cookies: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("cookie", "; ".join(f"{n}={v}" for n, v in cookies))] if cookies else []


def page_request(base_url: str, browser: Browser) -> HttpRequest:
    """``GET /``: duck.ai's page, whose ``<html>`` names the fe-version."""
    headers = [
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-language", browser.accept_language),
        *_client_hints(browser),
        ("sec-fetch-dest", "document"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-site", "none"),
        ("upgrade-insecure-requests", "1"),
        ("user-agent", browser.user_agent),
    ]
    return HttpRequest(method="GET", url=base_url + "/", headers=tuple(headers))


def _fetch_headers(origin: str, browser: Browser, accept: str) -> list[tuple[str, str]]:
    return [
        ("accept", accept),
        ("accept-language", browser.accept_language),
        ("origin", origin),
        ("referer", origin + "/"),
        *_client_hints(browser),
        ("sec-fetch-dest", "empty"),
        ("sec-fetch-mode", "cors"),
        ("sec-fetch-site", "same-origin"),
        ("priority", "u=1, i"),
        ("user-agent", browser.user_agent),
    ]


def status_request_2026(
    base_url: str, browser: Browser, cookies: Sequence[tuple[str, str]] = ()
) -> HttpRequest:
    """``GET /duckchat/v1/status``: hands out a challenge script (no token in ``2026``)."""
    headers = [
        *_fetch_headers(origin_of(base_url), browser, "*/*"),
        ("cache-control", "no-store"),
        ("pragma", "no-cache"),
        *_cookie(cookies),
        ("x-vqd-accept", "1"),
    ]
    return HttpRequest(method="GET", url=base_url + STATUS_PATH, headers=tuple(headers))


def models_request(base_url: str, browser: Browser) -> HttpRequest:
    """``GET /duckchat/v1/models``: the live model list."""
    headers = _fetch_headers(origin_of(base_url), browser, "application/json")
    return HttpRequest(method="GET", url=base_url + MODELS_PATH, headers=tuple(headers))


def chat_request_2026(
    base_url: str,
    *,
    browser: Browser,
    body: bytes,
    fe_version: str,
    proof: str,
    journey: str,
    signals: str,
    cookies: Sequence[tuple[str, str]] = (),
) -> HttpRequest:
    """``POST /duckchat/v1/chat`` with the proof of the last challenge."""
    headers = [
        *_fetch_headers(origin_of(base_url), browser, "text/event-stream"),
        ("content-type", "application/json"),
        *_cookie(cookies),
        ("x-fe-version", fe_version),
        ("x-vqd-hash-1", proof),
        ("x-ddg-journey-id", journey),
        ("x-fe-signals", signals),
    ]
    return HttpRequest(method="POST", url=base_url + CHAT_PATH, headers=tuple(headers), body=body)
