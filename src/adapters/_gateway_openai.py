"""The OpenAI chat-completions vocabulary of the gateway: parsing, model routing, error objects.

Pure functions and values only; the ASGI plumbing lives in ``gateway.py``.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sansio_chat import (
    ConversationLimitError,
    HTTPStatusError,
    InputLimitError,
    LocalProtocolError,
    ModelNotSupportedError,
    RateLimitError,
    RemoteProtocolError,
    SansioChatError,
    Timeout,
    TransportError,
)

__all__ = [
    "ChatRequest",
    "GatewayError",
    "ModelCatalog",
    "ModelRoute",
    "ProviderInfo",
    "chunk_event",
    "completion_body",
    "error_event",
    "map_upstream_error",
    "parse_chat_request",
]

# Used as Retry-After when the service refused for rate reasons without saying how long to wait.
DEFAULT_RETRY_AFTER = 5
# Roles the OpenAI protocol knows and this gateway can forward; "developer" is the newer name
# for "system" in OpenAI's API.
_ROLE_MAP = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# Content-part types that carry plain text ("refusal" parts appear in echoed assistant turns).
_TEXT_PART_KEYS = {"text": "text", "input_text": "text", "refusal": "refusal"}


class ProviderInfo(Protocol):
    """What the gateway needs from a provider of ``sansio_chat.providers``."""

    @property
    def name(self) -> str:
        """The provider's short name (``ddg``, ``darkai``)."""

    @property
    def models(self) -> Sequence[str]:
        """The canonical model ids."""

    @property
    def model_aliases(self) -> Mapping[str, str]:
        """Alias → canonical model id."""

    def validate_model(self, model: str) -> str:
        """Return the canonical id for ``model`` or raise ``ModelNotSupportedError``."""


class GatewayError(Exception):
    """An error answered to the client as an OpenAI error object.

    Attributes:
        status: the HTTP status.
        message: human-readable text (never a traceback).
        type: the OpenAI error ``type``.
        param: the request field at fault, or ``None``.
        code: a short machine-readable code, or ``None``.
        headers: extra response headers (``Retry-After``, ``Allow``, ...).
    """

    # A plain exception class, not a frozen dataclass: async frameworks assign
    # ``__context__`` and friends on exceptions they handle.
    def __init__(
        self,
        *,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status} {self.code or self.type}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return the OpenAI error object ``{"error": {...}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def body(self) -> bytes:
        """Return the error object as JSON bytes."""
        return _dumps(self.to_dict())


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRoute:
    """Where a requested model name goes.

    Attributes:
        provider: the provider name.
        model: the provider's canonical model id.
    """

    provider: str
    model: str

    @property
    def public_id(self) -> str:
        """The ``provider/model`` id reported back to clients."""
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True, slots=True)
class ModelCatalog:
    """Resolves OpenAI ``model`` strings across providers, in the given provider order.

    ``provider/model`` goes to that provider (the model part may be an alias); a bare model id
    or alias goes to the first provider that accepts it.
    """

    providers: tuple[ProviderInfo, ...]
    _by_name: dict[str, ProviderInfo] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.providers})

    def resolve(self, requested: str) -> ModelRoute:
        """Return the route for ``requested`` or raise a 404 ``GatewayError``."""
        prefix, sep, rest = requested.partition("/")
        if sep and prefix in self._by_name:
            provider = self._by_name[prefix]
            try:
                return ModelRoute(provider=prefix, model=provider.validate_model(rest))
            except ModelNotSupportedError:
                raise _model_not_found(requested) from None
        for provider in self.providers:
            try:
                return ModelRoute(provider=provider.name, model=provider.validate_model(requested))
            except ModelNotSupportedError:
                continue
        raise _model_not_found(requested)

    def listing(self) -> list[tuple[str, str]]:
        """Return ``(id, owner)`` pairs: every ``provider/model``, then each bare name once."""
        entries = [(f"{p.name}/{m}", p.name) for p in self.providers for m in p.models]
        seen = {entry for entry, _ in entries}
        for provider in self.providers:
            for name in (*provider.models, *provider.model_aliases):
                if name not in seen:
                    seen.add(name)
                    entries.append((name, self.resolve(name).provider))
        return entries


def _model_not_found(requested: str) -> GatewayError:
    return GatewayError(
        status=404,
        message=f"The model {requested!r} does not exist; GET /v1/models lists the models.",
        param="model",
        code="model_not_found",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    """A validated ``POST /v1/chat/completions`` request.

    Attributes:
        route: where the model resolved to.
        messages: ``{"role", "content"}`` dicts with roles ``system``, ``user``, ``assistant``.
        stream: whether the client asked for server-sent events.
    """

    route: ModelRoute
    messages: tuple[Mapping[str, str], ...]
    stream: bool


def _invalid(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    return GatewayError(status=400, message=message, param=param, code=code)


def parse_chat_request(body: bytes, catalog: ModelCatalog) -> ChatRequest:
    """Validate a chat-completions request body; raise ``GatewayError`` (400/404) when bad.

    Parameters the gateway cannot honour exactly (``temperature``, ``max_tokens``, ...) are
    ignored; ``n`` other than 1 and tool calling are refused.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 and bad JSON; RecursionError a hostile nesting depth.
        raise _invalid("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise _invalid("The request body must be a JSON object.", code="invalid_json")
    model = payload.get("model")
    if model is None:
        raise _invalid("You must provide a model parameter.", "model", "missing_required_parameter")
    if not isinstance(model, str) or not model:
        raise _invalid("'model' must be a non-empty string.", "model", "invalid_type")
    stream = payload.get("stream")
    if stream is None:
        stream = False
    elif not isinstance(stream, bool):
        raise _invalid("'stream' must be a boolean.", "stream", "invalid_type")
    n = payload.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise _invalid("Only n=1 is supported.", "n", "unsupported_value")
    for name in ("tools", "functions"):
        if payload.get(name):
            raise _invalid(
                f"'{name}' is not supported by this gateway.", name, "unsupported_parameter"
            )
    messages = _parse_messages(payload.get("messages"))
    return ChatRequest(route=catalog.resolve(model), messages=messages, stream=stream)


def _parse_messages(raw: object) -> tuple[Mapping[str, str], ...]:
    if raw is None:
        raise _invalid(
            "You must provide a messages parameter.", "messages", "missing_required_parameter"
        )
    if not isinstance(raw, list):
        raise _invalid("'messages' must be an array.", "messages", "invalid_type")
    if not raw:
        raise _invalid("'messages' must contain at least one message.", "messages", "empty_array")
    messages = tuple(_parse_message(item, f"messages[{i}]") for i, item in enumerate(raw))
    if messages[-1]["role"] == "assistant":
        raise _invalid(
            "The last message must come from the user (or system), not the assistant.",
            f"messages[{len(messages) - 1}].role",
            "invalid_value",
        )
    return messages


def _parse_message(item: object, where: str) -> Mapping[str, str]:
    if not isinstance(item, dict):
        raise _invalid(f"'{where}' must be an object.", where, "invalid_type")
    role = item.get("role")
    if not isinstance(role, str):
        raise _invalid(f"'{where}.role' must be a string.", f"{where}.role", "invalid_type")
    if role not in _ROLE_MAP:
        raise _invalid(
            f"Role {role!r} is not supported; use system, developer, user or assistant.",
            f"{where}.role",
            "invalid_value",
        )
    content = item.get("content")
    if content is None and role == "assistant":
        content = ""
    return {"role": _ROLE_MAP[role], "content": _parse_content(content, f"{where}.content")}


def _parse_content(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _invalid(
            f"'{where}' must be a string or an array of text parts.", where, "invalid_type"
        )
    texts: list[str] = []
    for j, part in enumerate(content):
        here = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise _invalid(f"'{here}' must be an object.", here, "invalid_type")
        kind = part.get("type")
        key = _TEXT_PART_KEYS.get(kind) if isinstance(kind, str) else None
        if key is None:
            raise _invalid(
                f"Content part type {kind!r} is not supported; only text parts are.",
                f"{here}.type",
                "unsupported_content",
            )
        text = part.get(key)
        if not isinstance(text, str):
            raise _invalid(f"'{here}.{key}' must be a string.", f"{here}.{key}", "invalid_type")
        texts.append(text)
    return "\n".join(texts)


def map_upstream_error(exc: SansioChatError) -> GatewayError:
    """Translate an error of the client stack into the answer the gateway gives."""
    if isinstance(exc, ModelNotSupportedError):
        return _model_not_found(exc.model)
    if isinstance(exc, InputLimitError):
        size = f" ({exc.observed} of {exc.limit} characters)" if exc.observed and exc.limit else ""
        return GatewayError(
            status=400,
            message=f"The messages exceed the service's input limit{size}.",
            param="messages",
            code="context_length_exceeded",
        )
    if isinstance(exc, RateLimitError):
        wait = exc.retry_after
        seconds = max(1, math.ceil(wait)) if wait is not None and wait > 0 else DEFAULT_RETRY_AFTER
        return GatewayError(
            status=429,
            message="The upstream service is rate limiting requests; try again later.",
            type="rate_limit_error",
            code="rate_limit_exceeded",
            headers=(("retry-after", str(seconds)),),
        )
    if isinstance(exc, ConversationLimitError):
        return GatewayError(
            status=429,
            message="The upstream service takes no further turn in a conversation this long; "
            "start a new conversation.",
            type="rate_limit_error",
            code="conversation_limit_exceeded",
            # The same history would be refused again: tell OpenAI SDKs not to retry it.
            headers=(("x-should-retry", "false"),),
        )
    if isinstance(exc, HTTPStatusError):
        detail = f" {exc.error_type}" if exc.error_type else ""
        return _upstream(
            502, f"The upstream service replied HTTP {exc.status}{detail}.", "upstream_http_error"
        )
    if isinstance(exc, RemoteProtocolError):
        return _upstream(
            502, f"The upstream service broke the protocol: {exc}", "upstream_protocol_error"
        )
    if isinstance(exc, Timeout):
        return _upstream(504, "The upstream service did not answer in time.", "upstream_timeout")
    if isinstance(exc, TransportError):
        return _upstream(
            502,
            "The upstream service could not be reached, or the connection broke.",
            "upstream_connection_error",
        )
    if isinstance(exc, LocalProtocolError):
        return _invalid(f"The request was refused: {exc}", "messages", "invalid_value")
    return _upstream(502, "The upstream service refused the request.", "upstream_error")


def _upstream(status: int, message: str, code: str) -> GatewayError:
    return GatewayError(status=status, message=message, type="upstream_error", code=code)


def internal_error() -> GatewayError:
    """The answer to a bug: generic, with no detail of the failure."""
    return GatewayError(
        status=500,
        message="The gateway failed to handle the request; the error was logged.",
        type="server_error",
        code="internal_error",
    )


def new_completion_id() -> str:
    """Return a fresh ``chatcmpl-…`` id."""
    return f"chatcmpl-{secrets.token_hex(12)}"


def now() -> int:
    """Return the ``created`` timestamp (Unix seconds)."""
    return int(time.time())


def completion_body(
    *, completion_id: str, created: int, model: str, text: str, finish_reason: str
) -> bytes:
    """Return a non-streaming ``chat.completion`` object as JSON bytes (no usage: see docs)."""
    return _dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "system_fingerprint": None,
        }
    )


def chunk_event(
    *,
    completion_id: str,
    created: int,
    model: str,
    delta: Mapping[str, str],
    finish_reason: str | None = None,
) -> bytes:
    """Return one SSE event holding a ``chat.completion.chunk``."""
    return _sse(
        {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish_reason}
            ],
        }
    )


def error_event(error: GatewayError) -> bytes:
    """Return the SSE event that reports an error after streaming has started."""
    return _sse(error.to_dict())


DONE_EVENT = b"data: [DONE]\n\n"


def models_body(entries: Iterable[tuple[str, str]]) -> bytes:
    """Return the ``GET /v1/models`` list object."""
    data = [{"id": i, "object": "model", "created": 0, "owned_by": o} for i, o in entries]
    return _dumps({"object": "list", "data": data})


def model_body(model_id: str, owner: str) -> bytes:
    """Return one model object (``GET /v1/models/{id}``)."""
    return _dumps({"id": model_id, "object": "model", "created": 0, "owned_by": owner})


def _sse(obj: object) -> bytes:
    return b"data: " + _dumps(obj) + b"\n\n"


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
