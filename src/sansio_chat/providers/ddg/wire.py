"""DuckDuckGo's wire format (docs/protocol.md): values, request builders, reply parsers.

Pure functions of their arguments; what they mean for a turn is decided in :mod:`.turn`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sansio_chat._conversation import Message
from sansio_chat._errors import RemoteProtocolError
from sansio_chat._http import HttpRequest
from sansio_chat._json import loads, loads_exact
from sansio_chat.providers.ddg.dialects import DIALECT_2025_03, Dialect

__all__ = [
    "BASE_COOKIES",
    "BROWSER",
    "CHAT_PATH",
    "DEFAULT_BASE_URL",
    "FE_VERSION_PATH",
    "INPUT_CHAR_LIMIT",
    "ORIGIN",
    "REFERER",
    "STATUS_PATH",
    "Browser",
    "MissingHeaderError",
    "MissingMarkerError",
    "StreamItem",
    "chat_body",
    "chat_request",
    "cookie_header",
    "fe_version_request",
    "parse_error_body",
    "parse_fe_version",
    "parse_retry_after",
    "parse_set_cookie",
    "parse_stream_data",
    "request_messages",
    "sendable",
    "status_request",
]

DEFAULT_BASE_URL = "https://duckduckgo.com"
# The service's inputCharLimit (16e3), counted in UTF-16 code units like JavaScript's length.
INPUT_CHAR_LIMIT = 16_000

# The browser page the requests claim to come from. They stay the real service's even when
# base_url points elsewhere (an emulator), as a browser on duckduckgo.com would send them.
ORIGIN = "https://duckduckgo.com"
REFERER = "https://duckduckgo.com/"
FE_VERSION_PATH = "/?q=DuckDuckGo+AI+Chat&ia=chat&duckai=1"
STATUS_PATH = "/duckchat/v1/status"
CHAT_PATH = "/duckchat/v1/chat"
# dcs/dcm: the chat-mode cookies a browser carries (docs/protocol.md, "Headers and cookies").
BASE_COOKIES: tuple[tuple[str, str], ...] = (("dcs", "1"), ("dcm", "3"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Browser:
    """The browser identity the requests present (the challenge hashes UA + sec-ch-ua).

    Attributes:
        user_agent: the ``user-agent`` header.
        sec_ch_ua: the ``sec-ch-ua`` header.
        sec_ch_ua_mobile: the ``sec-ch-ua-mobile`` header.
        sec_ch_ua_platform: the ``sec-ch-ua-platform`` header.
        accept_language: the ``accept-language`` header.
    """

    user_agent: str = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"
    )
    sec_ch_ua: str = '"Chromium";v="133", "Not_A Brand";v="8"'
    sec_ch_ua_mobile: str = "?0"
    sec_ch_ua_platform: str = '"Windows"'
    accept_language: str = "en-US,en;q=0.9"


BROWSER = Browser()
"""The default browser identity (Chrome 133 on Windows, as in the seed)."""


class MissingMarkerError(RemoteProtocolError):
    """The fe-version page lacks a marker (``__DDG_BE_VERSION__`` or ``__DDG_FE_CHAT_HASH__``).

    Attributes:
        marker: the missing marker.
    """

    marker: str

    def __init__(self, marker: str) -> None:
        super().__init__(
            f'the fe-version page has no {marker}="..." marker (an empty x-fe-version '
            "would be refused by the service)"
        )
        self.marker = marker


class MissingHeaderError(RemoteProtocolError):
    """A reply lacks a header the protocol needs (``x-vqd-4`` from the status call).

    Attributes:
        header: the missing header.
    """

    header: str

    def __init__(self, header: str, detail: str = "") -> None:
        super().__init__(f"the reply has no {header} header{detail}")
        self.header = header


# ---------------------------------------------------------------------------------------
# Request builders (pure functions)
# ---------------------------------------------------------------------------------------


def cookie_header(cookies: Sequence[tuple[str, str]]) -> str:
    """The ``cookie`` header: the chat-mode cookies, then the conversation's own."""
    jar = dict(BASE_COOKIES)
    jar.update(cookies)
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def _client_hints(browser: Browser) -> list[tuple[str, str]]:
    return [
        ("sec-ch-ua", browser.sec_ch_ua),
        ("sec-ch-ua-mobile", browser.sec_ch_ua_mobile),
        ("sec-ch-ua-platform", browser.sec_ch_ua_platform),
    ]


def fe_version_request(base_url: str, browser: Browser = BROWSER) -> HttpRequest:
    """The GET of the page whose scripts name the fe-version."""
    headers = [
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-language", browser.accept_language),
        *_client_hints(browser),
        ("sec-fetch-dest", "document"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-site", "none"),
        ("user-agent", browser.user_agent),
    ]
    return HttpRequest(method="GET", url=base_url + FE_VERSION_PATH, headers=tuple(headers))


def _fetch_headers(browser: Browser, accept: str) -> list[tuple[str, str]]:
    return [
        ("accept", accept),
        ("accept-language", browser.accept_language),
        ("origin", ORIGIN),
        ("referer", REFERER),
        *_client_hints(browser),
        ("sec-fetch-dest", "empty"),
        ("sec-fetch-mode", "cors"),
        ("sec-fetch-site", "same-origin"),
        ("user-agent", browser.user_agent),
    ]


def status_request(
    base_url: str, browser: Browser = BROWSER, cookies: Sequence[tuple[str, str]] = ()
) -> HttpRequest:
    """The GET that hands out a token (``x-vqd-4``) and a challenge (``x-vqd-hash-1``)."""
    headers = [
        *_fetch_headers(browser, "*/*"),
        ("cache-control", "no-store"),
        ("pragma", "no-cache"),
        ("cookie", cookie_header(cookies)),
        ("x-vqd-accept", "1"),
    ]
    return HttpRequest(method="GET", url=base_url + STATUS_PATH, headers=tuple(headers))


def request_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """The ``messages`` of a chat body: the service refuses ``system`` (418), so it goes as
    ``user``."""
    return [
        {"role": "user" if m.role == "system" else m.role, "content": m.content} for m in messages
    ]


def chat_body(model: str, messages: Sequence[Message]) -> bytes:
    """The chat request body, compact JSON as a browser's ``JSON.stringify`` writes it."""
    body = {"model": model, "messages": request_messages(messages)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def chat_request(
    base_url: str,
    *,
    model: str,
    messages: Sequence[Message],
    vqd: str,
    dialect: Dialect = DIALECT_2025_03,
    vqd_hash_1: str = "",
    fe_version: str = "",
    browser: Browser = BROWSER,
    cookies: Sequence[tuple[str, str]] = (),
) -> HttpRequest:
    """The POST of one turn. ``vqd_hash_1`` is the *solved* challenge (dialect ``2025-03``)."""
    headers = [
        *_fetch_headers(browser, "text/event-stream"),
        ("content-type", "application/json"),
        ("cookie", cookie_header(cookies)),
    ]
    if dialect.fe_version:
        headers.append(("x-fe-version", fe_version))
    headers.append(("x-vqd-4", vqd))
    if dialect.challenge:
        headers.append(("x-vqd-hash-1", vqd_hash_1))
    return HttpRequest(
        method="POST",
        url=base_url + CHAT_PATH,
        headers=tuple(headers),
        body=chat_body(model, messages),
    )


# ---------------------------------------------------------------------------------------
# Response rules (pure functions)
# ---------------------------------------------------------------------------------------


# Only printable ASCII reaches a request header. A control character would turn the next
# request into a header injection (RFC 9110 5.5); bytes 0x80-0xFF cannot be encoded by the
# HTTP clients, so a value carrying one would fail the next request untyped, and once
# committed, every later turn of the conversation.
_UNSENDABLE = re.compile(r"[^\x20-\x7e]")


def sendable(value: str, what: str) -> str:
    """Return ``value`` if it may travel in a request header, else raise ``RemoteProtocolError``.

    Every value the server hands out and the next request sends back (token, challenge,
    cookies, fe-version) passes through here, before anything is committed.
    """
    bad = _UNSENDABLE.search(value)
    if bad is not None:
        raise RemoteProtocolError(
            f"{what} holds the character {bad.group()!r}, which no request header may carry "
            f"(only printable ASCII): {value[:80]!r}"
        )
    return value


def _marker(html: str, name: str) -> str:
    start = html.find(f'{name}="')
    if start < 0:
        raise MissingMarkerError(name)
    start += len(name) + 2
    end = html.find('"', start)
    value = html[start:end] if end >= 0 else ""
    if not value:
        raise MissingMarkerError(name)
    return sendable(value, f"the page marker {name}")


def parse_fe_version(html: str) -> str:
    """``__DDG_BE_VERSION__`` + ``-`` + ``__DDG_FE_CHAT_HASH__`` from the page.

    A missing or empty marker raises :class:`MissingMarkerError` naming it.
    """
    return f"{_marker(html, '__DDG_BE_VERSION__')}-{_marker(html, '__DDG_FE_CHAT_HASH__')}"


def parse_set_cookie(value: str) -> tuple[str, str] | None:
    """The ``(name, value)`` of a ``set-cookie`` header, or ``None`` if it has none."""
    pair = value.split(";", 1)[0]
    name, sep, cookie = pair.partition("=")
    name = name.strip()
    if not sep or not name:
        return None
    return name, cookie.strip()


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds; ``None`` when absent or an HTTP date (no wall clock here)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def parse_error_body(body: bytes) -> tuple[str, int | None]:
    """``(type, status)`` of a ``{"action":"error","status":N,"type":T}`` body.

    ``("", None)`` when the body is not such JSON.
    """
    try:
        data = loads_exact(body)
    except ValueError:  # UnicodeDecodeError and too deep nesting included
        return "", None
    if not isinstance(data, dict):
        return "", None
    error_type = data.get("type")
    status = data.get("status")
    return (
        error_type if isinstance(error_type, str) else "",
        status if isinstance(status, int) and not isinstance(status, bool) else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamItem:
    """What one ``data:`` payload of the chat stream means, when it is not a token.

    Attributes:
        kind: ``"done"``, ``"title"``, ``"error"`` or ``"ignore"``.
        text: the title.
        limit: for ``"done"``: ``[DONE][LIMIT_CONVERSATION]`` (the conversation is exhausted).
        status: for ``"error"``: the ``status`` field (``None`` when absent).
        error_type: for ``"error"``: the ``type`` field.
    """

    kind: Literal["done", "title", "error", "ignore"]
    text: str = ""
    limit: bool = False
    status: int | None = None
    error_type: str = ""


_IGNORE = StreamItem(kind="ignore")
_DONE = StreamItem(kind="done")
_DONE_LIMIT = StreamItem(kind="done", limit=True)


def parse_stream_data(data: str) -> StreamItem | str:
    """Interpret one event's data: a token is its bare text, anything else a :class:`StreamItem`.

    ``[DONE]`` / ``[DONE][LIMIT_CONVERSATION]`` end the reply; ``[CHAT_TITLE:...]`` is a
    title; ``[PING]`` and other markers (``[`` and a capital letter) are ignored; a JSON
    object with ``"action":"error"`` is an error; one with a ``message`` string is a token
    (ignored when empty); any other JSON object (tool events and the like) is ignored.
    Malformed JSON raises ``RemoteProtocolError``.
    """
    # The hot path of a reply: a token comes back as its bare text, with no object built.
    if data[:1] != "{":
        marker = data.strip()
        if marker[:1] == "[" and "A" <= marker[1:2] <= "Z":
            if marker == "[DONE]":
                return _DONE
            if marker == "[DONE][LIMIT_CONVERSATION]":
                return _DONE_LIMIT
            if marker.startswith("[CHAT_TITLE:") and marker.endswith("]"):
                return StreamItem(kind="title", text=marker[len("[CHAT_TITLE:") : -1])
            return _IGNORE
    try:
        payload = loads(data)
    except ValueError as exc:
        raise RemoteProtocolError(f"stream event data is not JSON: {data[:200]!r}") from exc
    if type(payload) is not dict:
        raise RemoteProtocolError(f"stream event data is not a JSON object: {data[:200]!r}")
    message = payload.get("message")
    action = payload.get("action")
    if type(message) is str and action != "error":
        return message if message else _IGNORE
    if action == "error":
        # The status must be read exactly (loads may turn a huge integer into a float).
        payload = loads_exact(data)
        error_type, status = payload.get("type"), payload.get("status")
        return StreamItem(
            kind="error",
            status=status if type(status) is int else None,
            error_type=error_type if isinstance(error_type, str) else "",
        )
    if message is None:
        return _IGNORE
    raise RemoteProtocolError(f"stream event 'message' is not a string: {data[:200]!r}")
