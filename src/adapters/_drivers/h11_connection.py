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

from .common import PhaseTimeout, Timeouts, Verify, ssl_context

__all__ = ["Connector", "Link", "tcp"]

Connector = Callable[[str, int], Awaitable[ByteStream]]
"""Opens a plain byte stream to ``(host, port)``."""

# How long a kept-alive connection is watched, before a request goes out on it, for a close
# (or stray bytes) the server sent while it was idle. Long enough for the event loop to
# notice a FIN that has already arrived; short enough not to matter per request.
_STALE_PROBE = 0.002
_BROKEN = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


async def tcp(host: str, port: int) -> ByteStream:
    """The default connector: a TCP connection."""
    return await anyio.connect_tcp(host, port)


async def _limited(awaitable: Awaitable[Any], seconds: float | None, what: str) -> Any:
    try:
        with anyio.fail_after(seconds):
            return await awaitable
    except TimeoutError:
        raise PhaseTimeout(f"{what} timeout", seconds) from None


def shown_proxy(proxy: str) -> str:
    """The proxy URL as error messages name it: without user name and password."""
    parts = urlsplit(proxy)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


class Link:
    """One HTTP/1.1 connection, reused while both sides allow it."""

    def __init__(self, connect: Connector, proxy: str | None, verify: Verify, timeouts: Timeouts):
        self._connect, self._proxy, self._timeouts = connect, proxy, timeouts
        self._verify = verify
        self._stream: ByteStream | None = None
        self._key: tuple[str, str, int] | None = None
        self._h11 = h11.Connection(h11.CLIENT)
        self._body_ended = False
        self._broken: h11.RemoteProtocolError | None = None

    async def _open(self, scheme: str, host: str, port: int) -> None:
        await self.aclose()
        if self._proxy:
            proxy = urlsplit(self._proxy)
            try:
                stream = await self._connect(proxy.hostname or "", proxy.port or 80)
            except OSError as exc:
                raise TransportError(
                    f"cannot connect to proxy {shown_proxy(self._proxy)}: {exc}"
                ) from exc
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
        self._broken = None

    async def request(self, step: HttpRequest) -> h11.Response:
        """Send ``step`` and return the reply head, on a kept-alive connection if possible."""
        url = urlsplit(step.url)
        key = (url.scheme, url.hostname or "", url.port or (443 if url.scheme == "https" else 80))
        reused = self._stream is not None and self._key == key
        reused = reused and self._h11.our_state is h11.IDLE and not await self._stale()
        if not reused:
            proxied = f" through proxy {shown_proxy(self._proxy)}" if self._proxy else ""
            what = f"connect{proxied}"
            await _limited(self._open(*key), self._timeouts.connect, what)
        headers = list(step.headers)
        if step.header("host") is None:
            headers.insert(0, ("host", url.netloc))
        if (step.body or step.method == "POST") and step.header("content-length") is None:
            headers.append(("content-length", str(len(step.body))))
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        # Never sent twice: once any of it may have been written, a failure is the
        # caller's error, since the server may have acted on the request. The stale
        # kept-alive connection is caught before writing, by _stale().
        self._body_ended = False
        await self._send(h11.Request(method=step.method, target=target, headers=headers))
        if step.body:
            await self._send(h11.Data(data=step.body))
        await self._send(h11.EndOfMessage())
        while True:
            event = await self._next()
            if isinstance(event, h11.Response):
                return event

    async def _stale(self) -> bool:
        """Whether the idle kept-alive connection was closed (or spoke) meanwhile."""
        assert self._stream is not None
        try:
            with anyio.move_on_after(_STALE_PROBE):
                await self._stream.receive(1)
                return True  # bytes on an idle connection: it is not ours to reuse
        except _BROKEN:
            return True
        except h11.RemoteProtocolError:
            return True
        return False

    async def read(self) -> bytes | None:
        """The reply body that arrived since the last call (never empty), or ``None`` at its
        end: all the chunks one network read brought, so a caller handles them at once."""
        if self._broken is not None:
            broken, self._broken = self._broken, None
            raise broken
        parts: list[bytes] = []
        while not self._body_ended:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                if not parts:
                    raise
                self._broken = exc  # raised by the next call: the good chunks go first
                break
            if isinstance(event, h11.Data):
                parts.append(event.data)
            elif event is h11.NEED_DATA:
                if parts:
                    break
                await self._receive()
            else:  # the end of the body (h11 raises for a body cut short)
                self._body_ended = True
        if parts:
            return b"".join(parts)
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
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                assert isinstance(event, h11.Event)
                return event
            await self._receive()

    async def _receive(self) -> None:
        assert self._stream is not None
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
