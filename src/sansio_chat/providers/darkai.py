"""DarkAI (docs/protocol.md): one POST, a text-chunk / stream-end SSE reply.

The public service is gone; the provider is kept (``working = False``) and exercised
against the emulator.

``final-response`` carries the whole reply. It is used only when no ``text-chunk`` came in
the reply (so a client that receives both never sees the text twice); otherwise it is
ignored.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from sansio_chat._conversation import Conversation, format_prompt
from sansio_chat._errors import (
    HTTPStatusError,
    LocalProtocolError,
    RemoteProtocolError,
    StreamInterrupted,
)
from sansio_chat._http import HttpRequest
from sansio_chat._json import loads
from sansio_chat._session import (
    Decision,
    Headers,
    HeadResult,
    ProviderExchange,
    ProviderRules,
    ProviderTurn,
    ReadBody,
    ReadSSE,
    TurnContext,
)
from sansio_chat._sse import ServerSentEvent
from sansio_chat.providers._base import Provider, check_no_options

__all__ = [
    "CHAT_PATH",
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "MODELS",
    "MODEL_ALIASES",
    "USER_AGENT",
    "DarkAIProvider",
    "chat_request",
]

DEFAULT_BASE_URL = "https://darkai.foundation"
DEFAULT_MODEL = "llama-3-70b"
MODELS: tuple[str, ...] = ("llama-3-70b", "gpt-4o", "gpt-3.5-turbo")
MODEL_ALIASES = MappingProxyType({"llama-3.1-70b": "llama-3-70b"})
CHAT_PATH = "/chat"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36"
)


def chat_request(
    base_url: str, *, model: str, prompt: str, user_agent: str = USER_AGENT
) -> HttpRequest:
    """The one POST of a turn: ``{"query": prompt, "model": model}`` as compact JSON."""
    body = json.dumps(
        {"query": prompt, "model": model}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    headers = (
        ("accept", "text/event-stream"),
        ("content-type", "application/json"),
        ("user-agent", user_agent),
    )
    return HttpRequest(method="POST", url=base_url + CHAT_PATH, headers=headers, body=body)


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamItem:
    """What one ``data:`` payload of the reply means, when it is not a text-chunk.

    Attributes:
        kind: ``"final"`` (final-response, the whole text), ``"end"`` (stream-end) or
            ``"ignore"``.
        text: the text of a final item.
    """

    kind: Literal["final", "end", "ignore"]
    text: str = ""


def _text_field(payload: dict[str, object], key: str, data: str) -> str:
    inner = payload.get("data")
    value = inner.get(key) if isinstance(inner, dict) else None
    if not isinstance(value, str):
        raise RemoteProtocolError(f"event lacks a string data.{key}: {data[:200]!r}")
    return value


_END = StreamItem(kind="end")
_IGNORE = StreamItem(kind="ignore")


def parse_stream_data(data: str) -> StreamItem | str:
    """Interpret one event's data: a ``text-chunk`` is its bare text, anything else a
    :class:`StreamItem` (``final-response`` → ``final``, ``stream-end`` → ``end``, any other
    event → ``ignore``). Malformed JSON raises ``RemoteProtocolError``.
    """
    # The hot path of a reply: a text-chunk comes back as its bare text, with no object built.
    try:
        payload = loads(data)
    except ValueError as exc:
        raise RemoteProtocolError(f"stream event data is not JSON: {data[:200]!r}") from exc
    if type(payload) is not dict:
        raise RemoteProtocolError(f"stream event data is not a JSON object: {data[:200]!r}")
    kind = payload.get("event")
    if kind == "text-chunk":
        inner = payload.get("data")
        if type(inner) is dict:
            text = inner.get("text")
            if type(text) is str:
                return text
        return _text_field(payload, "text", data)  # raises
    if kind == "final-response":
        return StreamItem(kind="final", text=_text_field(payload, "message", data))
    if kind == "stream-end":
        return _END
    return _IGNORE


class _Rules(ProviderRules):
    name = "darkai"

    def __init__(self, *, base_url: str, user_agent: str) -> None:
        self.base_url = base_url
        self.user_agent = user_agent

    def begin_turn(self, ctx: TurnContext) -> ProviderTurn:
        return _Turn(self, ctx)


class _Turn(ProviderTurn):
    def __init__(self, rules: _Rules, ctx: TurnContext) -> None:
        self.rules = rules
        self.ctx = ctx

    def next_exchange(self) -> ProviderExchange:
        request = chat_request(
            self.rules.base_url,
            model=self.ctx.conversation.model,
            prompt=format_prompt(self.ctx.messages),
            user_agent=self.rules.user_agent,
        )
        return _ChatExchange(self.ctx, request)


class _ChatExchange(ProviderExchange):
    paced = True

    def __init__(self, ctx: TurnContext, request: HttpRequest) -> None:
        self.ctx = ctx
        self.request = request
        self.status = 0

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status = status
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        return ReadSSE()

    def on_events(self, events: list[ServerSentEvent]) -> Decision | None:
        # The session hands over every event a chunk completed: the per-event path of a reply.
        token = self.ctx.token
        for event in events:
            item = parse_stream_data(event.data)
            if type(item) is str:
                token(item)
                continue
            assert isinstance(item, StreamItem)
            decision = self._on_item(item)
            if decision is not None:
                return decision
        return None

    def _on_item(self, item: StreamItem) -> Decision | None:
        if item.kind == "final" and not self.ctx.attempt_has_text:
            self.ctx.token(item.text)
        elif item.kind == "end":
            return Decision.finish(self.ctx.committed(self.ctx.conversation))
        return None

    def on_eof(self) -> Decision:
        raise StreamInterrupted(
            "the reply ended before stream-end", partial_text=self.ctx.partial_text
        )

    def on_body(self, body: bytes, received: int) -> Decision:
        raise HTTPStatusError(self.status, body.decode("utf-8", "replace"))


class DarkAIProvider(Provider):
    """DarkAI (darkai.foundation); the public service is gone (``working = False``).

    Options of ``new_session``: ``user_agent`` (str).
    """

    name = "darkai"
    label = "DarkAI"
    url = "https://darkai.foundation/chat"
    working = False
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    default_model = DEFAULT_MODEL
    models = MODELS
    model_aliases = MODEL_ALIASES
    default_base_url = DEFAULT_BASE_URL

    def _rules(
        self,
        *,
        conversation: Conversation,
        base_url: str,
        options: dict[str, object],
        rng: random.Random,
    ) -> ProviderRules:
        options.pop("model_given", None)
        user_agent = options.pop("user_agent", USER_AGENT)
        if not isinstance(user_agent, str) or not user_agent:
            raise LocalProtocolError("user_agent must be a non-empty str")
        check_no_options(self.name, options)
        return _Rules(base_url=base_url, user_agent=user_agent)
