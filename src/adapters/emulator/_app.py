"""The emulator as an ASGI app: carries out the plans of :mod:`sansio_chat.emulator`.

This is the only place where the emulator sleeps or touches a connection. It runs under
hypercorn's asyncio and trio workers alike (anyio): DuckDuckGo at ``/``,
``/duckchat/v1/status`` and ``/duckchat/v1/chat``, DarkAI at ``/chat``, on one port.
"""

from __future__ import annotations

import anyio
from sansio_chat.adapters.serving import Receive, Scope, Send, run_lifespan

from sansio_chat.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorRequest,
    ResponsePlan,
    Stall,
    Write,
)

from ._control import EmulatorControl

__all__ = ["EmulatorApp"]

# A chat request is JSON of at most ~16,000 characters of content; anything far larger is
# refused before it is buffered.
_MAX_REQUEST_BODY = 4 * 1024 * 1024
# Header values are ASCII in practice; a client that sends UTF-8 hashes UTF-8.
_HEADER_ENCODING = "utf-8"


def _decode(value: bytes) -> str:
    try:
        return value.decode(_HEADER_ENCODING)
    except UnicodeDecodeError:
        return value.decode("latin-1")


class EmulatorApp:
    """The ASGI application: both services on one server.

    ``app.control`` is the :class:`EmulatorControl` to set faults and configuration.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        control: EmulatorControl | None = None,
    ) -> None:
        self.control = control or EmulatorControl(Emulator(config))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await run_lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > _MAX_REQUEST_BODY:
                await _send_plain(send, 413, b"Payload Too Large")
                return
            if not message.get("more_body", False):
                break
        client = scope.get("client")
        request = EmulatorRequest(
            method=str(scope["method"]).upper(),
            path=str(scope["path"]),
            query=bytes(scope.get("query_string", b"")).decode("latin-1"),
            headers=tuple((_decode(k), _decode(v)) for k, v in scope["headers"]),
            body=bytes(body),
            client=str(client[0]) if client else "",
            scheme=str(scope.get("scheme") or "http"),
        )
        plan = self.control.handle(request)
        gone = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(_watch_disconnect, receive, gone)
            await _play(plan, send, gone)
            # Only the watcher is left to cancel: a send is never interrupted half-way, or
            # the server could be left unable to finish or close the connection.
            group.cancel_scope.cancel()


async def _watch_disconnect(receive: Receive, gone: anyio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


async def _wait(seconds: float, gone: anyio.Event) -> bool:
    """Sleep ``seconds`` unless the client leaves first; return whether it is still there."""
    with anyio.move_on_after(seconds):
        await gone.wait()
    return not gone.is_set()


async def _send_plain(send: Send, status: int, body: bytes) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _play(plan: ResponsePlan, send: Send, gone: anyio.Event) -> None:
    """Carry out a plan: head, body actions, and a proper end unless it resets."""
    if plan.head_delay > 0 and not await _wait(plan.head_delay, gone):
        return
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in plan.headers]
    await send({"type": "http.response.start", "status": plan.status, "headers": headers})
    for action in plan.body:
        if gone.is_set():
            return
        if isinstance(action, Write):
            if action.delay > 0 and not await _wait(action.delay, gone):
                return
            await send({"type": "http.response.body", "body": action.data, "more_body": True})
        elif isinstance(action, Stall):
            if not await _wait(action.seconds, gone):
                return
        else:
            # Returning without the final body message makes the server drop the connection
            # mid-body: the client sees an incomplete (chunked) body, not a clean end.
            return
    await send({"type": "http.response.body", "body": b"", "more_body": False})
