"""DuckDuckGo AI Chat (spec/DDG.md): dialects, models, request builders, payload rules.

A turn is up to three exchanges: the fe-version page (dialect ``2025-03``, once per
session), the status call (a new conversation, or after a refused token or challenge) and
the chat call. The chat reply rotates the token for the next turn.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal, TypeAlias

from sansio_chat._conversation import Conversation, Message, utf16_length
from sansio_chat._errors import (
    ChallengeError,
    ConversationLimitError,
    HTTPStatusError,
    InputLimitError,
    LocalProtocolError,
    RateLimitError,
    RemoteProtocolError,
    SansioChatError,
    StreamInterrupted,
)
from sansio_chat._events import TitleEvent, VqdUpdate
from sansio_chat._http import HttpRequest
from sansio_chat._json import loads, loads_exact
from sansio_chat._session import (
    Decision,
    Exchange,
    Headers,
    HeadResult,
    ProviderRules,
    ProviderTurn,
    ReadBody,
    ReadSSE,
    TurnContext,
    header_value,
    header_values,
)
from sansio_chat._sse import ServerSentEvent
from sansio_chat.providers._base import Provider, check_no_options

__all__ = [
    "BROWSER",
    "CHAT_PATH",
    "DEFAULT_BASE_URL",
    "DEFAULT_DIALECT",
    "DEFAULT_MODEL",
    "DIALECTS",
    "DIALECT_2024",
    "DIALECT_2025_03",
    "FE_VERSION_PATH",
    "INPUT_CHAR_LIMIT",
    "MODELS",
    "MODEL_ALIASES",
    "ORIGIN",
    "REFERER",
    "STATUS_PATH",
    "Browser",
    "ChallengeSolver",
    "Dialect",
    "DuckDuckGoProvider",
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
    "status_request",
]

DEFAULT_BASE_URL = "https://duckduckgo.com"
DEFAULT_MODEL = "gpt-4o-mini"
MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "claude-3-haiku-20240307",
    "o3-mini",
    "mistralai/Mistral-Small-24B-Instruct-2501",
)
MODEL_ALIASES = MappingProxyType(
    {
        "gpt-4": "gpt-4o-mini",
        "gpt-4o": "gpt-4o-mini",
        "llama-3.3-70b": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "claude-3-haiku": "claude-3-haiku-20240307",
        "mistral-small": "mistralai/Mistral-Small-24B-Instruct-2501",
        "mistral-small-24b": "mistralai/Mistral-Small-24B-Instruct-2501",
    }
)
# The service's inputCharLimit (16e3), counted in UTF-16 code units like JavaScript's length.
INPUT_CHAR_LIMIT = 16_000

# The browser page the requests claim to come from. They stay the real service's even when
# base_url points elsewhere (an emulator), as a browser on duckduckgo.com would send them.
ORIGIN = "https://duckduckgo.com"
REFERER = "https://duckduckgo.com/"
FE_VERSION_PATH = "/?q=DuckDuckGo+AI+Chat&ia=chat&duckai=1"
STATUS_PATH = "/duckchat/v1/status"
CHAT_PATH = "/duckchat/v1/chat"
# dcs/dcm: the chat-mode cookies a browser carries (SOURCES 1.3).
BASE_COOKIES: tuple[tuple[str, str], ...] = (("dcs", "1"), ("dcm", "3"))

ChallengeSolver: TypeAlias = Callable[[str, Mapping[str, str]], str]
"""``(decoded challenge JavaScript, request headers) -> x-vqd-hash-1 value``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """One era of the protocol, as data.

    Attributes:
        name: ``"2024"`` or ``"2025-03"``.
        fe_version: the chat request carries ``x-fe-version``, read once from the page.
        challenge: the status reply carries an ``x-vqd-hash-1`` challenge and the chat
            request carries its solution.
    """

    name: str
    fe_version: bool
    challenge: bool


DIALECT_2024 = Dialect(name="2024", fe_version=False, challenge=False)
DIALECT_2025_03 = Dialect(name="2025-03", fe_version=True, challenge=True)
DIALECTS: MappingProxyType[str, Dialect] = MappingProxyType(
    {DIALECT_2024.name: DIALECT_2024, DIALECT_2025_03.name: DIALECT_2025_03}
)
DEFAULT_DIALECT = DIALECT_2025_03


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
    dialect: Dialect = DEFAULT_DIALECT,
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


# Control characters other than tab may not appear in a header value (RFC 9110 5.5); a
# server value carrying one would turn the next request into a header injection.
_UNSENDABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def sendable(value: str, what: str) -> str:
    """Return ``value`` if it may travel in a request header, else raise ``RemoteProtocolError``.

    Every value the server hands out and the next request sends back (token, challenge,
    cookies, fe-version) passes through here.
    """
    bad = _UNSENDABLE.search(value)
    if bad is not None:
        raise RemoteProtocolError(
            f"{what} holds the control character {bad.group()!r}, which no request header "
            f"may carry: {value[:80]!r}"
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
    """What one ``data:`` payload of the chat stream means.

    Attributes:
        kind: ``"token"``, ``"done"``, ``"title"``, ``"error"`` or ``"ignore"``.
        text: the token text, or the title.
        limit: for ``"done"``: ``[DONE][LIMIT_CONVERSATION]`` (the conversation is exhausted).
        status: for ``"error"``: the ``status`` field (``None`` when absent).
        error_type: for ``"error"``: the ``type`` field.
    """

    kind: Literal["token", "done", "title", "error", "ignore"]
    text: str = ""
    limit: bool = False
    status: int | None = None
    error_type: str = ""


_IGNORE = StreamItem(kind="ignore")
_DONE = StreamItem(kind="done")
_DONE_LIMIT = StreamItem(kind="done", limit=True)


def parse_stream_data(data: str) -> StreamItem:
    """Interpret one event's data. Malformed JSON raises ``RemoteProtocolError``.

    ``[DONE]`` / ``[DONE][LIMIT_CONVERSATION]`` end the reply; ``[CHAT_TITLE:...]`` is a
    title; ``[PING]`` and other markers (``[`` and a capital letter) are ignored; a JSON
    object with ``"action":"error"`` is an error; one with a ``message`` string is a token
    (none when empty); any other JSON object (tool events and the like) is ignored.
    """
    item = _classify(data)
    return StreamItem(kind="token", text=item) if isinstance(item, str) else item


def _classify(data: str) -> StreamItem | str:
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


# ---------------------------------------------------------------------------------------
# The session rules
# ---------------------------------------------------------------------------------------


class _Rules(ProviderRules):
    """DuckDuckGo rules for one session, with the tokens it holds between turns.

    Tokens, challenge and fe-version fetched in a failed turn stay here (the next turn
    uses them) but reach the conversation only with a finished turn.
    """

    name = "ddg"

    def __init__(
        self,
        *,
        conversation: Conversation,
        base_url: str,
        dialect: Dialect,
        browser: Browser,
        solver: ChallengeSolver | None,
    ) -> None:
        self.base_url = base_url
        self.dialect = dialect
        self.browser = browser
        self.solver = solver
        self.fe_version = conversation.fe_version
        self.vqd = conversation.vqd
        self.challenge = conversation.vqd_hash_1
        self.cookies: dict[str, str] = dict(conversation.cookies)
        self._solved: tuple[str, str] | None = None

    def begin_turn(self, ctx: TurnContext) -> ProviderTurn:
        size = sum(utf16_length(m.content) for m in ctx.messages)
        if size > INPUT_CHAR_LIMIT:
            raise InputLimitError(
                f"the messages hold {size} UTF-16 code units; the service accepts "
                f"{INPUT_CHAR_LIMIT} (nothing was sent)",
                limit=INPUT_CHAR_LIMIT,
                observed=size,
                error_type="ERR_INPUT_LIMIT",
            )
        return _Turn(self, ctx, size)

    def solve(self) -> str:
        """The solution of the current challenge (solved once per challenge)."""
        if self._solved is not None and self._solved[0] == self.challenge:
            return self._solved[1]
        from sansio_chat.providers.ddg_challenge import decode_challenge, solve_challenge

        solver = self.solver if self.solver is not None else solve_challenge
        js_text = decode_challenge(self.challenge)
        headers = {"User-Agent": self.browser.user_agent, "sec-ch-ua": self.browser.sec_ch_ua}
        try:
            solution = solver(js_text, headers)
        except SansioChatError:
            raise
        except Exception as exc:
            raise ChallengeError(f"the challenge solver failed: {exc!r}") from exc
        if not isinstance(solution, str) or not solution:
            raise ChallengeError("the challenge solver returned no header value")
        self._solved = (self.challenge, solution)
        return solution

    def take_cookies(self, headers: Headers) -> None:
        for value in header_values(headers, "set-cookie"):
            pair = parse_set_cookie(value)
            if pair is not None:
                self.cookies[sendable(pair[0], "a set-cookie name")] = sendable(
                    pair[1], f"the set-cookie value of {pair[0]!r}"
                )

    def snapshot(self, conversation: Conversation, *, exhausted: bool) -> Conversation:
        return replace(
            conversation,
            fe_version=self.fe_version,
            vqd=self.vqd,
            vqd_hash_1=self.challenge,
            cookies=tuple(self.cookies.items()),
            exhausted=exhausted,
        )


class _Turn(ProviderTurn):
    def __init__(self, rules: _Rules, ctx: TurnContext, size: int) -> None:
        self.rules = rules
        self.ctx = ctx
        self.size = size
        self.need_status = not rules.vqd or (rules.dialect.challenge and not rules.challenge)
        self.status_fetched = False
        self.vqd_refreshed = False

    def next_exchange(self) -> Exchange:
        rules = self.rules
        if rules.dialect.fe_version and not rules.fe_version:
            return _PageExchange(self)
        if self.need_status:
            return _StatusExchange(self)
        solution = ""
        if rules.dialect.challenge:
            try:
                solution = rules.solve()
            except ChallengeError:
                # A challenge carried over from an earlier reply may be stale or odd: fetch a
                # fresh one first; only a fresh challenge that fails is an error.
                if self.status_fetched:
                    raise
                self.need_status = True
                return _StatusExchange(self)
        request = chat_request(
            rules.base_url,
            model=self.ctx.conversation.model,
            messages=self.ctx.messages,
            vqd=rules.vqd,
            dialect=rules.dialect,
            vqd_hash_1=solution,
            fe_version=rules.fe_version,
            browser=rules.browser,
            cookies=tuple(rules.cookies.items()),
        )
        return _ChatExchange(self, request)

    def refuse(
        self,
        status: int,
        error_type: str,
        body: str,
        retry_after: float | None,
        exchange: Literal["page", "status", "chat"],
    ) -> Decision:
        """Apply the error table of spec/DDG.md to a refusal: retry or raise."""
        ctx = self.ctx
        if status == 429 and error_type == "ERR_CONVERSATION_LIMIT":
            ctx.mark_exhausted()
            raise ConversationLimitError(
                "the service refuses further turns in this conversation; start a new one",
                status=status,
                error_type=error_type,
                body=body,
            )
        if status == 429 and error_type == "ERR_INPUT_LIMIT":
            raise InputLimitError(
                "the service says the messages are too long",
                limit=INPUT_CHAR_LIMIT,
                observed=self.size,
                status=status,
                error_type=error_type,
                body=body,
            )
        if status == 400 and error_type == "ERR_INVALID_VQD" and exchange == "chat":
            if not self.vqd_refreshed and not ctx.attempt_has_text:
                self.vqd_refreshed = True
                self.need_status = True
                return Decision.next()
        elif status == 418 and error_type == "ERR_CHALLENGE":
            decision = ctx.retry(status, error_type, retry_after)
            if decision is None:
                raise ChallengeError(
                    f"the service refused the challenge solution ({ctx.retries} retries made)"
                )
            if exchange == "chat":
                self.need_status = True
            return decision
        elif status == 429 or (status == 418 and error_type == "ERR_BN_LIMIT"):
            decision = ctx.retry(status, error_type, retry_after)
            if decision is None:
                raise RateLimitError(
                    f"rate limited (HTTP {status} {error_type or 'without type'}); "
                    f"{ctx.retries} retries made",
                    status=status,
                    error_type=error_type,
                    body=body,
                    retry_after=retry_after,
                )
            return decision
        raise HTTPStatusError(status, body, error_type=error_type)

    def refuse_body(
        self,
        status: int,
        headers: Headers,
        body: bytes,
        exchange: Literal["page", "status", "chat"],
    ) -> Decision:
        error_type, _ = parse_error_body(body)
        retry_after = parse_retry_after(header_value(headers, "retry-after"))
        text = body.decode("utf-8", "replace")
        return self.refuse(status, error_type, text, retry_after, exchange)


class _PageExchange(Exchange):
    def __init__(self, turn: _Turn) -> None:
        self.turn = turn
        self.request = fe_version_request(turn.rules.base_url, turn.rules.browser)
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        return ReadBody(purpose="page" if 200 <= status < 300 else "error")

    def on_body(self, body: bytes, received: int) -> Decision:
        if not 200 <= self.status < 300:
            return self.turn.refuse_body(self.status, self.headers, body, "page")
        if received > len(body):
            raise RemoteProtocolError(
                "the fe-version page exceeds Limits.max_page_bytes",
                limit=len(body),
                observed=received,
            )
        self.turn.rules.fe_version = parse_fe_version(body.decode("utf-8", "replace"))
        return Decision.next()


class _StatusExchange(Exchange):
    def __init__(self, turn: _Turn) -> None:
        self.turn = turn
        rules = turn.rules
        self.request = status_request(rules.base_url, rules.browser, tuple(rules.cookies.items()))
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        rules = self.turn.rules
        vqd = header_value(headers, "x-vqd-4")
        if not vqd:
            raise MissingHeaderError(
                "x-vqd-4", " (the status call hands out no token; a later protocol era?)"
            )
        sendable(vqd, "the x-vqd-4 token")
        challenge = sendable(header_value(headers, "x-vqd-hash-1") or "", "x-vqd-hash-1")
        if rules.dialect.challenge and not challenge:
            raise ChallengeError(
                f"the status reply carries no x-vqd-hash-1 challenge (dialect "
                f"{rules.dialect.name} needs one)"
            )
        rules.vqd = vqd
        if rules.dialect.challenge:
            rules.challenge = challenge
        rules.take_cookies(headers)
        self.turn.need_status = False
        self.turn.status_fetched = True
        return Decision.next()

    def on_body(self, body: bytes, received: int) -> Decision:
        return self.turn.refuse_body(self.status, self.headers, body, "status")


class _ChatExchange(Exchange):
    def __init__(self, turn: _Turn, request: HttpRequest) -> None:
        self.turn = turn
        self.token = turn.ctx.token
        self.request = request
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        content_type = (header_value(headers, "content-type") or "").lower()
        if content_type.startswith("application/json"):
            # Some refusals come as a plain JSON body with a 200 status.
            return ReadBody(purpose="error")
        rules = self.turn.rules
        vqd = header_value(headers, "x-vqd-4")
        challenge = header_value(headers, "x-vqd-hash-1") if rules.dialect.challenge else None
        if vqd:
            sendable(vqd, "the x-vqd-4 token")
        if challenge:
            sendable(challenge, "x-vqd-hash-1")
        if vqd or challenge:
            rules.vqd = vqd or rules.vqd
            rules.challenge = challenge or rules.challenge
            self.turn.ctx.emit(VqdUpdate(vqd=rules.vqd, vqd_hash_1=challenge or ""))
        rules.take_cookies(headers)
        return ReadSSE()

    def on_event(self, event: ServerSentEvent) -> Decision | None:
        return self.on_events([event])

    def on_events(self, events: list[ServerSentEvent]) -> Decision | None:
        # The session hands over every event a chunk completed: the per-event path of a reply.
        token = self.token
        for event in events:
            item = _classify(event.data)
            if type(item) is str:
                token(item)
                continue
            assert isinstance(item, StreamItem)
            decision = self._on_item(item, event)
            if decision is not None:
                return decision
        return None

    def _on_item(self, item: StreamItem, event: ServerSentEvent) -> Decision | None:
        ctx = self.turn.ctx
        if item.kind == "done":
            conversation = self.turn.rules.snapshot(ctx.conversation, exhausted=item.limit)
            reason: Literal["stop", "conversation_limit"] = (
                "conversation_limit" if item.limit else "stop"
            )
            return Decision.finish(ctx.committed(conversation), reason)
        elif item.kind == "title":
            ctx.emit(TitleEvent(title=item.text))
        elif item.kind == "error":
            status = item.status if item.status is not None else self.status
            return self.turn.refuse(status, item.error_type, event.data, None, "chat")
        return None

    def on_eof(self) -> Decision:
        raise StreamInterrupted(
            "the reply ended before [DONE]", partial_text=self.turn.ctx.partial_text
        )

    def on_body(self, body: bytes, received: int) -> Decision:
        if 200 <= self.status < 300:
            error_type, status = parse_error_body(body)
            if not error_type:
                raise RemoteProtocolError(
                    f"the chat reply is JSON but not an error: {body[:200]!r}"
                )
            text = body.decode("utf-8", "replace")
            retry_after = parse_retry_after(header_value(self.headers, "retry-after"))
            return self.turn.refuse(status or self.status, error_type, text, retry_after, "chat")
        return self.turn.refuse_body(self.status, self.headers, body, "chat")


# ---------------------------------------------------------------------------------------
# The provider
# ---------------------------------------------------------------------------------------


class DuckDuckGoProvider(Provider):
    """DuckDuckGo AI Chat.

    Options of ``new_session``: ``dialect`` (``"2024"``, ``"2025-03"`` (default) or a
    :class:`Dialect`), ``solver`` (a :data:`ChallengeSolver`; default: the pure solver of
    :mod:`sansio_chat.providers.ddg_challenge`), ``browser`` (a :class:`Browser`),
    ``fe_version`` (an fe-version another session of the client already fetched: the page
    is fetched once per client, not once per conversation; a conversation's own wins).
    """

    name = "ddg"
    label = "DuckDuckGo AI Chat"
    url = "https://duckduckgo.com/aichat"
    working = True
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    default_model = DEFAULT_MODEL
    models = MODELS
    model_aliases = MODEL_ALIASES
    default_base_url = DEFAULT_BASE_URL
    input_char_limit = INPUT_CHAR_LIMIT
    dialects = DIALECTS

    def _rules(
        self, *, conversation: Conversation, base_url: str, options: dict[str, object]
    ) -> ProviderRules:
        dialect = options.pop("dialect", DEFAULT_DIALECT)
        if isinstance(dialect, str):
            if dialect not in DIALECTS:
                raise LocalProtocolError(
                    f"unknown dialect {dialect!r}; known dialects: {', '.join(DIALECTS)}"
                )
            dialect = DIALECTS[dialect]
        if not isinstance(dialect, Dialect):
            raise LocalProtocolError("dialect must be a dialect name or a Dialect")
        solver = options.pop("solver", None)
        if solver is not None and not callable(solver):
            raise LocalProtocolError("solver must be a callable (challenge_js, headers) -> str")
        browser = options.pop("browser", BROWSER)
        if not isinstance(browser, Browser):
            raise LocalProtocolError("browser must be a Browser")
        fe_version = options.pop("fe_version", "")
        if not isinstance(fe_version, str):
            raise LocalProtocolError("fe_version must be a str")
        check_no_options(self.name, options)
        if fe_version and not conversation.fe_version:
            conversation = replace(conversation, fe_version=fe_version)
        return _Rules(
            conversation=conversation,
            base_url=base_url,
            dialect=dialect,
            browser=browser,
            solver=solver,
        )
