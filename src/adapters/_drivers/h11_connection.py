"""One HTTP/1.1 connection over an anyio byte stream (h11), for the h11 driver.

Opens the stream (through a ``CONNECT`` tunnel when a proxy is given, then TLS for https),
sends a request, reads the reply, and keeps the connection for the next request while both
sides allow it.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import h11
from anyio.abc import ByteStream
from anyio.streams.tls import TLSStream

from sansio_chat import HttpRequest, TransportError

from .common import Timeouts, Verify, ssl_context

__all__ = ["Connector", "Link", "tcp"]

Connector = Callable[[str, int], Awaitable[ByteStream]]
"""Opens a plain byte stream to ``(host, port)``."""

_RETRYABLE = (h11.RemoteProtocolError, anyio.EndOfStream, anyio.BrokenResourceError, OSError)


async def tcp(host: str, port: int) -> ByteStream:
    """The default connector: a TCP connection."""
    return await anyio.connect_tcp(host, port)


async def _limited(awaitable: Awaitable[Any], seconds: float | None, what: str) -> Any:
    try:
        with anyio.fail_after(seconds):
            return await awaitable
    except TimeoutError:
        raise TimeoutError(f"{what} timeout") from None


class Link:
    """One HTTP/1.1 connection, reused while both sides allow it."""

    def __init__(self, connect: Connector, proxy: str | None, verify: Verify, timeouts: Timeouts):
        self._connect, self._proxy, self._timeouts = connect, proxy, timeouts
        self._verify = verify
        self._stream: ByteStream | None = None
        self._key: tuple[str, str, int] | None = None
        self._h11 = h11.Connection(h11.CLIENT)

    async def _open(self, scheme: str, host: str, port: int) -> None:
        await self.aclose()
        if self._proxy:
            proxy = urlsplit(self._proxy)
            stream = await self._connect(proxy.hostname or "", proxy.port or 80)
            self._stream = stream
            await _tunnel(stream, f"{host}:{port}", proxy.username, proxy.password)
        else:
            self._stream = stream = await self._connect(host, port)
        if scheme == "https":
            context = ssl_context(self._verify)
            self._stream = await TLSStream.wrap(
                stream, hostname=host, ssl_context=context, standard_compatible=False
            )
        self._key = (scheme, host, port)
        self._h11 = h11.Connection(h11.CLIENT)

    async def request(self, step: HttpRequest) -> h11.Response:
        """Send ``step`` and return the reply head, on a kept-alive connection if possible."""
        url = urlsplit(step.url)
        key = (url.scheme, url.hostname or "", url.port or (443 if url.scheme == "https" else 80))
        reused = self._stream is not None and self._key == key
        reused = reused and self._h11.our_state is h11.IDLE
        if not reused:
            await _limited(self._open(*key), self._timeouts.connect, "connect")
        headers = list(step.headers)
        if step.header("host") is None:
            headers.insert(0, ("host", url.netloc))
        if (step.body or step.method == "POST") and step.header("content-length") is None:
            headers.append(("content-length", str(len(step.body))))
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        try:
            await self._send(h11.Request(method=step.method, target=target, headers=headers))
            if step.body:
                await self._send(h11.Data(data=step.body))
            await self._send(h11.EndOfMessage())
            while True:
                event = await self._next()
                if isinstance(event, h11.Response):
                    return event
        except _RETRYABLE:
            if not reused:
                raise
            # The server closed the idle connection first: try once on a fresh one.
            await self.aclose()
            return await self.request(step)

    async def read(self) -> bytes | None:
        """The next piece of the reply body, or ``None`` at its end."""
        event = await self._next()
        if isinstance(event, h11.Data):
            return bytes(event.data)
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
        else:
            await self.aclose()
        return None

    async def _send(self, event: h11.Event) -> None:
        data = self._h11.send(event)
        assert self._stream is not None
        if data:
            await _limited(self._stream.send(data), self._timeouts.read, "write")

    async def _next(self) -> h11.Event:
        assert self._stream is not None
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                assert isinstance(event, h11.Event)
                return event
            try:
                data = await _limited(self._stream.receive(65536), self._timeouts.read, "read")
            except anyio.EndOfStream:
                data = b""
            self._h11.receive_data(data)

    async def aclose(self) -> None:
        """Close the connection, if any."""
        stream, self._stream, self._key = self._stream, None, None
        if stream is not None:
            with anyio.CancelScope(shield=True):
                await stream.aclose()


async def _tunnel(stream: ByteStream, target: str, user: str | None, password: str | None) -> None:
    tunnel = h11.Connection(h11.CLIENT)
    headers = [("host", target)]
    if user is not None:
        token = base64.b64encode(f"{unquote(user)}:{unquote(password or '')}".encode()).decode()
        headers.append(("proxy-authorization", f"Basic {token}"))
    head = tunnel.send(h11.Request(method="CONNECT", target=target, headers=headers))
    await stream.send((head or b"") + (tunnel.send(h11.EndOfMessage()) or b""))
    while True:
        event = tunnel.next_event()
        if event is h11.NEED_DATA:
            try:
                tunnel.receive_data(await stream.receive(65536))
            except anyio.EndOfStream:
                tunnel.receive_data(b"")
        elif isinstance(event, h11.Response):
            if event.status_code // 100 != 2 or tunnel.trailing_data[0]:
                raise TransportError(f"proxy refused CONNECT {target}: HTTP {event.status_code}")
            return
        elif isinstance(event, h11.ConnectionClosed):
            raise TransportError(f"proxy closed the connection during CONNECT {target}")
