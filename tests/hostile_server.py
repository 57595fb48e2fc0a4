"""A hostile HTTP server on loopback: it sends whatever bytes a test scripts, and records requests.

A test hands :class:`HostileServer` a *handler*, called once per request it reads (the
request head and a ``Content-Length`` body are parsed, nothing else is checked)::

    def handler(conn: Conn) -> None:
        conn.send(b"HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\n\\r\\nok")

    with HostileServer(handler) as server:
        server.url            # "http://127.0.0.1:PORT"
        server.count("POST")  # how many POSTs arrived (also never-answered ones)

The handler can do anything on :class:`Conn`: ``send`` raw bytes (a malformed status line,
conflicting headers), ``drip`` them slowly, ``stream`` from a generator forever, ``stall``
(never answer), ``reset`` the connection (RST), or ``close`` it. When the handler returns
without closing, the connection is kept and the next request on it is read.

The ``hostile_server`` fixture (registered in ``conftest.py``) starts servers and stops
them after the test: ``server = hostile_server(handler)``.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pytest

__all__ = [
    "SSE_HEAD",
    "Conn",
    "HostileServer",
    "Received",
    "hostile_server",
    "respond",
    "sse_forever",
    "stall",
]


@dataclass(frozen=True, slots=True)
class Received:
    """One request the server read: method, target, headers (lower-cased names) and body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(slots=True)
class Conn:
    """One accepted connection, as the handler sees it."""

    sock: socket.socket
    stopping: threading.Event
    request: Received | None = None
    closed: bool = False
    buffer: bytearray = field(default_factory=bytearray)

    def send(self, data: bytes) -> None:
        """Send raw bytes (errors from a peer that went away end the handler quietly)."""
        self.sock.sendall(data)

    def drip(self, data: bytes, *, every: float = 0.05, size: int = 1) -> None:
        """Send ``data`` ``size`` bytes at a time, ``every`` seconds apart."""
        for start in range(0, len(data), size):
            if self.stopping.is_set():
                return
            self.send(data[start : start + size])
            time.sleep(every)

    def stream(self, chunks: Iterable[bytes]) -> None:
        """Send every chunk of ``chunks`` (which may never end) until the peer or server stops."""
        for chunk in chunks:
            if self.stopping.is_set():
                return
            self.send(chunk)

    def stall(self) -> None:
        """Send nothing until the server stops (the peer may give up meanwhile)."""
        self.stopping.wait()
        self.closed = True

    def reset(self) -> None:
        """Drop the connection with a TCP RST (``SO_LINGER`` 0), not a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self) -> None:
        """Close the connection (FIN)."""
        self.closed = True
        self.sock.close()


Handler = Callable[[Conn], None]


class HostileServer:
    """A threaded loopback server: one thread per connection, each request handed to a handler."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[Received] = []
        self.connections = 0
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.05)  # accept() wakes up to notice stop()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port: int = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def count(self, method: str | None = None) -> int:
        """How many requests (of ``method``) arrived."""
        with self._lock:
            return sum(method is None or r.method == method for r in self.received)

    def start(self) -> HostileServer:
        """Start accepting connections."""
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop: wake stalled handlers, close every connection, join the threads."""
        self._stopping.set()
        for thread in self._threads[:1]:
            thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self._lock:
                self._socks.append(sock)
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        conn = Conn(sock, self._stopping)
        try:
            while not conn.closed and not self._stopping.is_set():
                request = self._read_request(conn)
                if request is None:
                    break
                with self._lock:
                    self.received.append(request)
                conn.request = request
                self.handler(conn)
        except OSError:
            pass  # the peer went away: that is the peer's business
        finally:
            conn.closed = True
            sock.close()

    @staticmethod
    def _read_request(conn: Conn) -> Received | None:
        while b"\r\n\r\n" not in conn.buffer:
            data = conn.sock.recv(65536)
            if not data:
                return None
            conn.buffer += data
        head, _, rest = bytes(conn.buffer).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target = [*lines[0].split(" "), "", ""][:2]
        headers = tuple(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:])
        )
        length = int(dict(headers).get("content-length", "0") or 0)
        body = bytearray(rest)
        while len(body) < length:
            data = conn.sock.recv(65536)
            if not data:
                break
            body += data
        conn.buffer = bytearray(body[length:])
        return Received(method, target, headers, bytes(body[:length]))


def respond(
    status_line: bytes = b"HTTP/1.1 200 OK",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes = b"",
) -> bytes:
    """The bytes of a reply head and body, exactly as given (nothing is added or checked)."""
    head = (
        status_line + b"\r\n" + b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    )
    return head + b"\r\n" + body


def stall(conn: Conn) -> None:
    """A handler that reads the request and never answers."""
    conn.stall()


def sse_forever(text: bytes = b"x" * 1000) -> Iterator[bytes]:
    """A DarkAI ``text-chunk`` event with ``text``, repeated without end."""
    event = b'data: {"event": "text-chunk", "data": {"text": "' + text + b'"}}\n\n'
    block = event * max(1, 65536 // len(event))
    while True:
        yield block


SSE_HEAD = respond(headers=((b"content-type", b"text/event-stream"), (b"connection", b"close")))
"""A 200 head for a server-sent-event body without length (read until the connection closes)."""


@pytest.fixture
def hostile_server() -> Iterator[Callable[[Handler], HostileServer]]:
    """Start :class:`HostileServer` s for a test (``hostile_server(handler)``); stop them after."""
    servers: list[HostileServer] = []

    def start(handler: Handler) -> HostileServer:
        server = HostileServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
