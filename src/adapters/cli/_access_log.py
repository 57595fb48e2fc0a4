"""One access line per request on stderr for ``sansio-chat emulator`` and ``serve``.

``NAME: METHOD PATH STATUS DURATIONms model=M tokens=N`` (``NAME[PID]`` when several
worker processes serve; `` error=stream`` and level warning when a stream ended with an
error event): the model from the request's JSON body, the tokens counted from the reply
(``data:`` events of a stream, or ``usage`` of a JSON body); the path with unprintable
characters escaped. Never a header value, a token or a key: the line is built from those
fields alone.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["LEVELS", "AccessLog", "configure"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LEVELS = ("debug", "info", "warning", "error")
"""``--log-level`` choices; access lines are ``info`` (5xx: ``warning``)."""

_LOGGER = logging.getLogger("sansio_chat.access")
_PEEK = 64 * 1024  # bytes of a request body read for its model name
_MODEL = re.compile(r"^[\w.:/@+-]{1,100}$")  # a model name, never an arbitrary string


def configure(level: str) -> None:
    """Send access lines (and other records at ``level``) to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    _LOGGER.handlers[:] = [handler]
    _LOGGER.setLevel(level.upper())
    _LOGGER.propagate = False


class AccessLog:
    """ASGI middleware: logs one line per HTTP request when its reply ends."""

    def __init__(self, app: App, name: str, *, worker_pid: bool = False) -> None:
        self.app, self.name = app, name
        self.worker_pid = worker_pid  # ``serve --workers N``: say which process answered

    def __getattr__(self, attribute: str) -> Any:  # the app's own attributes (config, control)
        return getattr(self.app, attribute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body = bytearray()
        status = 0
        tokens = 0
        usage: list[int] = []
        streaming = False
        failed = False  # a stream that ended with an error event

        async def receive_peeking() -> Message:
            message = await receive()
            if message.get("type") == "http.request" and len(body) < _PEEK:
                body.extend(message.get("body", b"")[: _PEEK - len(body)])
            return message

        async def send_counting(message: Message) -> None:
            nonlocal status, tokens, streaming, failed
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 0))
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type" and b"event-stream" in value.lower():
                        streaming = True
            elif message.get("type") == "http.response.body":
                chunk = message.get("body", b"")
                if streaming:
                    errors = chunk.count(_STREAM_ERROR)
                    tokens += chunk.count(b"data:") - chunk.count(b"data: [DONE]") - errors
                    failed = failed or errors > 0
                elif b'"usage"' in chunk:
                    usage.append(_completion_tokens(chunk))
            await send(message)

        try:
            await self.app(scope, receive_peeking, send_counting)
        finally:
            duration = (time.perf_counter() - started) * 1000
            count = usage[-1] if usage else tokens if streaming else None
            level = logging.WARNING if status >= 500 or status == 0 or failed else logging.INFO
            _LOGGER.log(
                level,
                "%s: %s %s %d %.0fms model=%s tokens=%s%s",
                f"{self.name}[{os.getpid()}]" if self.worker_pid else self.name,
                _shown(str(scope.get("method", "?"))),
                _shown(str(scope.get("path", "?"))),  # no query string: it may hold a secret
                status,
                duration,
                _model(bytes(body)),
                "-" if count is None else max(count, 0),
                " error=stream" if failed else "",
            )


# The last event of a stream that failed after its head was sent (the gateway's).
_STREAM_ERROR = b'data: {"error"'
_SHOWN_CHARS = 200


def _shown(text: str) -> str:
    """``text`` for a log line: control and other unprintable characters escaped (a request
    path could otherwise forge a line or send terminal escapes), at most 200 characters."""
    if text.isprintable() and len(text) <= _SHOWN_CHARS:
        return text
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:_SHOWN_CHARS])
    return escaped + ("…" if len(text) > _SHOWN_CHARS else "")


def _model(body: bytes) -> str:
    try:
        value = json.loads(body).get("model")
    except (ValueError, AttributeError, RecursionError):  # deep nesting: refused upstream
        return "-"
    return value if isinstance(value, str) and _MODEL.match(value) else "-"


def _completion_tokens(chunk: bytes) -> int:
    try:
        usage = json.loads(chunk).get("usage") or {}
        return int(usage.get("completion_tokens", 0))
    except (ValueError, AttributeError, TypeError, RecursionError):
        return 0
