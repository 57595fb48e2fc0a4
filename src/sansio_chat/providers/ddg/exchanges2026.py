"""The exchanges of a dialect-``2026`` turn: the page, the status call, the live model list and
the chat call with its markers. :mod:`.turn2026` plans them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sansio_chat._errors import RemoteProtocolError
from sansio_chat._events import (
    FinishReason,
    ImageEvent,
    TitleEvent,
    UsageEvent,
    VqdUpdate,
    WarningEvent,
)
from sansio_chat._http import HttpRequest, find_header
from sansio_chat._json import loads
from sansio_chat._session import Decision, Headers, HeadResult, ProviderExchange, ReadBody, ReadSSE
from sansio_chat._sse import ServerSentEvent
from sansio_chat.providers.ddg.eras import check_era
from sansio_chat.providers.ddg.markers import StreamMarker, parse_marker
from sansio_chat.providers.ddg.models import parse_models
from sansio_chat.providers.ddg.page import PageExchange
from sansio_chat.providers.ddg.turn import ChatExchange
from sansio_chat.providers.ddg.wire import (
    MissingHeaderError,
    StreamItem,
    parse_stream_data,
    sendable,
)
from sansio_chat.providers.ddg.wire2026 import (
    models_request,
    page_request,
    parse_page_version,
    status_request_2026,
)

if TYPE_CHECKING:
    from sansio_chat.providers.ddg.turn2026 import Turn2026

__all__ = ["ChatExchange2026", "ModelsExchange", "PageExchange2026", "StatusExchange2026"]

_LIMIT_REASONS: dict[str, FinishReason] = {
    "LIMIT_CONVERSATION": "conversation_limit",
    "LIMIT_ACCOUNT": "account_limit",
    "LIMIT_ENTITY": "entity_limit",
    "LIMIT_IMAGE_GENERATIONS": "image_limit",
}


class PageExchange2026(PageExchange):
    """``GET /``: duck.ai's page, whose ``<html>`` attributes name the fe-version."""

    def __init__(self, turn: Turn2026) -> None:
        request = page_request(turn.rules.base_url, turn.rules.browser)
        super().__init__(turn, request, parse_page_version)


class StatusExchange2026(ProviderExchange):
    def __init__(self, turn: Turn2026) -> None:
        self.turn = turn
        rules = turn.rules
        self.request = status_request_2026(
            rules.base_url, rules.browser, tuple(rules.cookies.items())
        )
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        check_era(self.turn.rules.dialect, headers)
        challenge = find_header(headers, "x-vqd-hash-1")
        if not challenge:
            raise MissingHeaderError("x-vqd-hash-1", " (the status call hands out no challenge)")
        self.turn.rules.challenge = sendable(challenge, "x-vqd-hash-1")
        self.turn.status_taken(headers)
        return Decision.next()

    def on_body(self, body: bytes, received: int) -> Decision:
        return self.turn.refuse_body(self.status, self.headers, body, "status")


class ModelsExchange(ProviderExchange):
    def __init__(self, turn: Turn2026) -> None:
        self.turn = turn
        self.request = models_request(turn.rules.base_url, turn.rules.browser)
        self.status = 0

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status = status
        return ReadBody(purpose="page" if 200 <= status < 300 else "error")

    def on_body(self, body: bytes, received: int) -> Decision:
        self.turn.models_fetched = True
        if 200 <= self.status < 300 and received == len(body):
            try:
                models = parse_models(body)
            except RemoteProtocolError:
                models = None
            if models is not None:
                self.turn.rules.live_models = tuple(m.id for m in models if m.has_access)
        return Decision.next()


class ChatExchange2026(ChatExchange):
    turn: Turn2026

    def __init__(self, turn: Turn2026, request: HttpRequest) -> None:
        super().__init__(turn, request)
        self.limit: FinishReason | None = None
        self.exhausted = False
        self.stop_reason = ""

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        content_type = (find_header(headers, "content-type") or "").lower()
        if content_type.startswith("application/json"):
            return ReadBody(purpose="error")
        rules = self.turn.rules
        challenge = find_header(headers, "x-vqd-hash-1")
        if challenge:
            rules.challenge = sendable(challenge, "x-vqd-hash-1")
            self.turn.ctx.emit(VqdUpdate(vqd="", vqd_hash_1=challenge))
        else:
            rules.challenge = ""  # spent: the next turn fetches a fresh one
        rules.take_cookies(headers)
        return ReadSSE()

    def on_events(self, events: list[ServerSentEvent]) -> Decision | None:
        token = self.token
        for event in events:
            data = event.data
            if data[:1] == "[":
                markers = parse_marker(data)
                if markers is not None:
                    # A line may hold several markers ([DONE][LIMIT_CONVERSATION]): all of
                    # them count before the reply ends.
                    done = False
                    for marker in markers:
                        done = self._on_marker(marker) or done
                    if done:
                        return self._finish()
                    continue
            elif '"partial-image"' in data:
                try:
                    payload = loads(data) if data[:1] == "{" else None
                except ValueError:
                    payload = None  # parse_stream_data below raises the typed error
                if isinstance(payload, dict) and payload.get("role") == "partial-image":
                    self.turn.ctx.emit(ImageEvent(data=data))
                    continue
            item = parse_stream_data(data)
            if type(item) is str:
                token(item)
                continue
            assert isinstance(item, StreamItem)
            if item.kind == "error":
                status = item.status if item.status is not None else self.status
                return self.turn.refuse(status, item.error_type, data, None, "chat")
        return None

    def _finish(self) -> Decision:
        ctx = self.turn.ctx
        reason: FinishReason = self.limit or "stop"
        conversation = self.turn.rules.snapshot(ctx.conversation, exhausted=self.exhausted)
        return Decision.finish(ctx.committed(conversation), reason, self.stop_reason)

    def _on_marker(self, marker: StreamMarker) -> bool:
        """Apply one marker; return whether it ends the reply."""
        ctx = self.turn.ctx
        kind = marker.kind
        if kind == "done":
            return True
        if kind == "title":
            ctx.emit(TitleEvent(title=marker.value))
        elif kind == "usage":
            ctx.emit(UsageEvent(value=marker.value))
        elif kind == "stop_reason":
            self.stop_reason = marker.value
        elif kind == "warn_limit":
            value = marker.value
            remaining = (
                int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
            )
            ctx.emit(WarningEvent(kind="conversation_limit", remaining=remaining))
        elif kind == "limit":
            self.limit = _LIMIT_REASONS[marker.name]
            if marker.name == "LIMIT_CONVERSATION":
                self.exhausted = True
        return False
