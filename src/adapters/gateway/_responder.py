"""Writing one chat completion to an ASGI ``send``: as JSON, or as server-sent events."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sansio_chat.adapters.serving import Send

from ._openai import (
    DONE_EVENT,
    GatewayError,
    chunk_event,
    completion_body,
    error_event,
    new_completion_id,
    now,
    token_events,
)
from ._request import ChatRequest

__all__ = ["Responder", "send_error", "send_json"]

logger = logging.getLogger("sansio_chat.gateway")

_JSON = (b"content-type", b"application/json")


class Responder:
    """Writes one completion as JSON or as server-sent events.

    A stream's HTTP head goes out with its first token, so an error before any text still
    gets a real status; after that, errors become a last ``data: {"error": ...}`` event.
    """

    def __init__(self, send: Send, request: ChatRequest) -> None:
        self.send = send
        self.stream = request.stream
        self.model = request.route.public_id
        self.completion_id = new_completion_id()
        self.created = now()
        self.started = False
        self.finish_reason = "stop"
        self.parts: list[str] = []
        self.token_event = token_events(
            completion_id=self.completion_id, created=self.created, model=self.model
        )

    def _chunk(self, delta: Mapping[str, str], finish_reason: str | None = None) -> bytes:
        return chunk_event(
            completion_id=self.completion_id,
            created=self.created,
            model=self.model,
            delta=delta,
            finish_reason=finish_reason,
        )

    async def _start(self) -> None:
        self.started = True
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        await self.send({"type": "http.response.start", "status": 200, "headers": headers})
        await self._body(self._chunk({"role": "assistant", "content": ""}))

    async def _body(self, data: bytes, more: bool = True) -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": more})

    async def token(self, text: str) -> None:
        """Pass on (or collect) one piece of the reply."""
        if not self.stream:
            self.parts.append(text)
            return
        if not self.started:
            await self._start()
        await self._body(self.token_event(text))

    async def finish(self) -> None:
        """End a successful completion."""
        if not self.stream:
            body = completion_body(
                completion_id=self.completion_id,
                created=self.created,
                model=self.model,
                text="".join(self.parts),
                finish_reason=self.finish_reason,
            )
            await send_json(self.send, 200, body)
            return
        if not self.started:
            await self._start()
        await self._body(self._chunk({}, self.finish_reason))
        await self._body(DONE_EVENT, more=False)

    async def fail(self, error: GatewayError) -> None:
        """End the completion with ``error`` (as a response, or as the stream's last event)."""
        try:
            if self.started:
                await self._body(error_event(error), more=False)
            else:
                await send_error(self.send, error)
        except Exception:  # a server may raise once the client is gone; nobody to tell
            logger.debug("could not deliver %s", error, exc_info=True)


async def send_json(
    send: Send, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()
) -> None:
    """Send a complete JSON response."""
    raw = [_JSON, (b"content-length", str(len(body)).encode("ascii"))]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_error(send: Send, error: GatewayError) -> None:
    """Send ``error`` as an OpenAI error object with its status and headers."""
    await send_json(send, error.status, error.body(), error.headers)
