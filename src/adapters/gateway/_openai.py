"""The OpenAI wire vocabulary of the gateway: error objects, error mapping, response bodies.

Pure functions and values; the ASGI plumbing is in ``_app.py``.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

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
    "DEFAULT_RETRY_AFTER",
    "DONE_EVENT",
    "ECHOED_CHARS",
    "GatewayError",
    "chunk_event",
    "completion_body",
    "echoed",
    "error_event",
    "internal_error",
    "invalid",
    "map_upstream_error",
    "model_body",
    "model_not_found",
    "models_body",
    "new_completion_id",
    "now",
]

# Used as Retry-After when the service refused for rate reasons without saying how long to wait.
DEFAULT_RETRY_AFTER = 5


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


ECHOED_CHARS = 100
"""The most characters of a value from the request (a model name, a path) that a message
quotes; the rest is left out."""


def echoed(value: str) -> str:
    """``value`` quoted for an error message or a log line: as a Python string literal, so
    that a control or other unprintable character shows as its escape (it could otherwise
    forge a log line or drive the terminal that shows the message), and cut after its first
    :data:`ECHOED_CHARS` characters, saying how many more there were."""
    quoted = repr(value[:ECHOED_CHARS])
    rest = len(value) - ECHOED_CHARS
    return quoted if rest <= 0 else f"{quoted}… ({rest} more characters not shown)"


def model_not_found(requested: str) -> GatewayError:
    """The 404 for a model no provider serves (the name quoted by :func:`echoed`)."""
    return GatewayError(
        status=404,
        message=f"The model {echoed(requested)} does not exist; GET /v1/models lists the models.",
        param="model",
        code="model_not_found",
    )


def invalid(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    """A 400 ``invalid_request_error``."""
    return GatewayError(status=400, message=message, param=param, code=code)


def map_upstream_error(exc: SansioChatError) -> GatewayError:
    """Translate an error of the client stack into the answer the gateway gives."""
    if isinstance(exc, ModelNotSupportedError):
        return model_not_found(exc.model)
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
        return invalid(f"The request was refused: {exc}", "messages", "invalid_value")
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


_PLACEHOLDER = "\x00token\x00"


def token_events(*, completion_id: str, created: int, model: str) -> Callable[[str], bytes]:
    """A function giving, for a piece of text, the same bytes as ``chunk_event`` with the
    delta ``{"content": text}``: the fixed parts are encoded once per completion, only the
    text per event (the gateway writes one event per upstream read of tokens)."""
    whole = chunk_event(
        completion_id=completion_id,
        created=created,
        model=model,
        delta={"content": _PLACEHOLDER},
    )
    # The delta comes last but for constants, so its placeholder is the last one (an id or
    # model holding the same text comes before it).
    prefix, _, suffix = whole.rpartition(_dumps(_PLACEHOLDER))
    encode = json.JSONEncoder(ensure_ascii=False).encode

    def event(text: str) -> bytes:
        return prefix + encode(text).encode("utf-8") + suffix

    return event


def error_event(error: GatewayError) -> bytes:
    """Return the SSE event that reports an error after streaming has started."""
    return _sse(error.to_dict())


DONE_EVENT = b"data: [DONE]\n\n"


def models_body(entries: Iterable[Mapping[str, object]]) -> bytes:
    """Return the ``GET /v1/models`` list object of ready-made model objects."""
    return _dumps({"object": "list", "data": list(entries)})


def model_body(model_id: str, owner: str) -> bytes:
    """Return one model object (``GET /v1/models/{id}``)."""
    return _dumps({"id": model_id, "object": "model", "created": 0, "owned_by": owner})


def _sse(obj: object) -> bytes:
    return b"data: " + _dumps(obj) + b"\n\n"


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
