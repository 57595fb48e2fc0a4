"""Run any ASGI app with hypercorn on a pre-bound socket: in a thread, in anyio code, or forever.

The socket is bound before hypercorn starts (port 0 picks a free port), so the URL is known
at once and a client that connects early waits in the listen backlog instead of failing.
Hypercorn runs on asyncio or trio, whichever loop is current (or the ``backend`` asked for).

Shared by both servers (the gateway and the emulator) and public: any ASGI app can be served
with it. It also holds the ASGI vocabulary the two apps use (``Scope``, ``Receive``, ``Send``,
``ASGIMessage``, :func:`run_lifespan`).

Why this file is long: serving one app three ways (a thread, an anyio task, the foreground
until a signal) shares one hypercorn set-up, including the two places where hypercorn and
asyncio are corrected (HTTP/2 over cleartext off by default, no traceback for connections
cancelled at shutdown); split up, each way would have to repeat them.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import Future
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, final

import anyio
import sniffio
from anyio.from_thread import BlockingPortal, start_blocking_portal

__all__ = [
    "ASGIApp",
    "ASGIMessage",
    "Receive",
    "Scope",
    "Send",
    "ServerHandle",
    "ServerThread",
    "bind_socket",
    "run_forever",
    "run_lifespan",
    "serve_async",
    "serve_in_thread",
]

Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
"""One ASGI event dict (``{"type": "http.request", ...}``), not a chat ``sansio_chat.Message``."""
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def run_lifespan(
    receive: Receive, send: Send, on_shutdown: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Answer an ASGI ``lifespan`` scope: start at once, run ``on_shutdown`` when told to stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                if on_shutdown is not None:
                    await on_shutdown()
            finally:
                await send({"type": "lifespan.shutdown.complete"})
            return


# Tests and demos stop servers often; an in-flight reply gets this long to finish.
_GRACEFUL_TIMEOUT = 1.0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHandle:
    """Where a running server listens.

    Attributes:
        host: the bound address.
        port: the bound port (the real one when 0 was asked for).
    """

    host: str
    port: int

    @property
    def base_url(self) -> str:
        """``http://host:port``, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


LISTEN_BACKLOG = 2048
"""Connections the kernel queues before the server accepts them (capped by the system's
``somaxconn``). With 128, 200 clients connecting at once lost SYNs and waited a second for
TCP to retry: a one-second tail on every burst (bench/bench_concurrency.py)."""


KEEP_ALIVE_SECONDS = 75.0
"""How long an idle HTTP/1.1 connection is kept for its next request (hypercorn's default is
5 s). A busy client (1,000 conversations in one process) can take longer than 5 s to send its
next request on a connection; the server then closes it just as the request goes out, and
the turn fails with a reset. 75 s is what common reverse proxies keep."""


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: a free ephemeral port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)


def _handle_for(sock: socket.socket) -> ServerHandle:
    address = sock.getsockname()
    return ServerHandle(host=str(address[0]), port=int(address[1]))


def _startup_signal(app: ASGIApp, started: anyio.Event) -> ASGIApp:
    """Wrap ``app`` so ``started`` is set once hypercorn has run the lifespan startup."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        failed = False

        async def send_and_signal(message: ASGIMessage) -> None:
            nonlocal failed
            if message["type"] == "lifespan.startup.failed":
                failed = True  # hypercorn raises from send(); the runner reports it
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                started.set()

        try:
            await app(scope, receive, send_and_signal)
        finally:
            # An app without lifespan support raises here, and hypercorn serves it anyway.
            if not failed:
                started.set()

    return wrapped


def _h2c_switch() -> None:
    """Let a hypercorn config turn HTTP/2 over cleartext off (hypercorn has no setting for it).

    Hypercorn always answers ``Upgrade: h2c`` and the HTTP/2 preface on a cleartext socket,
    and its HTTP/2 side breaks on an early response (a 413 before the body is read raised
    ``KeyError``; the client saw a reset). Our servers speak HTTP/1.1 unless ``h2c=True``:
    for a config whose ``h2c`` is false, the protocol check is skipped, so such a request is
    answered over HTTP/1.1. Configs of other servers in the process have no ``h2c`` and keep
    hypercorn's behaviour.
    """
    from hypercorn.protocol.h11 import H11Protocol

    original = H11Protocol._check_protocol
    if getattr(original, "_sansio_h2c_switch", False):
        return

    async def check_protocol(self: Any, event: Any) -> None:
        if getattr(self.config, "h2c", True):
            await original(self, event)

    check_protocol._sansio_h2c_switch = True  # type: ignore[attr-defined]
    H11Protocol._check_protocol = check_protocol  # type: ignore[method-assign]


def _quiet_cancelled_connections(loop: asyncio.AbstractEventLoop) -> None:
    """Drop asyncio's report of a connection task cancelled at shutdown.

    Python 3.11's ``asyncio.start_server`` calls ``task.exception()`` on every finished
    connection task, which raises for a cancelled one; the loop then logs a 29-line
    ``CancelledError`` traceback for each stream still in flight when the server stops.
    Everything else goes to the handler that was there before.
    """
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


async def _serve_socket(
    app: ASGIApp,
    sock: socket.socket,
    shutdown_trigger: Callable[[], Awaitable[Any]],
    *,
    graceful_timeout: float = _GRACEFUL_TIMEOUT,
    h2c: bool = False,
) -> None:
    """Serve ``app`` on ``sock`` (which hypercorn takes over) until the trigger returns."""
    from hypercorn.config import Config

    _h2c_switch()
    config = Config()
    config.h2c = h2c  # type: ignore[attr-defined]  # read by _h2c_switch's check
    config.bind = [f"fd://{sock.detach()}"]
    config.backlog = LISTEN_BACKLOG  # hypercorn listens again on the socket (its default: 100)
    config.keep_alive_timeout = KEEP_ALIVE_SECONDS
    config.graceful_timeout = graceful_timeout
    config.loglevel = "WARNING"
    config.accesslog = None
    config.include_server_header = False
    # Hypercorn types scopes and messages as TypedDicts; any ASGI callable is acceptable.
    framework: Any = app
    if sniffio.current_async_library() == "trio":
        from hypercorn.trio import serve as trio_serve

        await trio_serve(framework, config, shutdown_trigger=shutdown_trigger)
    else:
        from hypercorn.asyncio import serve as asyncio_serve

        _quiet_cancelled_connections(asyncio.get_running_loop())
        await asyncio_serve(framework, config, shutdown_trigger=shutdown_trigger)


@asynccontextmanager
async def serve_async(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    graceful_timeout: float = _GRACEFUL_TIMEOUT,
    h2c: bool = False,
) -> AsyncIterator[ServerHandle]:
    """Serve ``app`` inside the current anyio task (asyncio or trio) for the ``async with``.

    ``h2c=True`` also answers HTTP/2 over cleartext (``Upgrade: h2c`` or the HTTP/2
    preface); by default every connection is HTTP/1.1.
    """
    sock = bind_socket(host, port)
    handle = _handle_for(sock)
    stop = anyio.Event()
    started = anyio.Event()
    async with anyio.create_task_group() as group:

        async def run() -> None:
            try:
                await _serve_socket(
                    _startup_signal(app, started),
                    sock,
                    stop.wait,
                    graceful_timeout=graceful_timeout,
                    h2c=h2c,
                )
            finally:
                started.set()

        group.start_soon(run)
        await started.wait()
        try:
            yield handle
        finally:
            stop.set()


class ServerThread:
    """An ASGI app served by hypercorn in a background thread with its own event loop.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``h2c=True`` also
    answers HTTP/2 over cleartext (by default every connection is HTTP/1.1).
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        backend: str = "asyncio",
        graceful_timeout: float = _GRACEFUL_TIMEOUT,
        h2c: bool = False,
    ) -> None:
        self.app = app
        self.backend = backend
        self.h2c = h2c
        self._host, self._port = host, port
        self._graceful_timeout = graceful_timeout
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._stop: anyio.Event | None = None
        self._future: Future[None] | None = None
        self._handle: ServerHandle | None = None

    @property
    def handle(self) -> ServerHandle:
        """Where the server listens (only once started)."""
        if self._handle is None:
            raise RuntimeError("the server is not running")
        return self._handle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.handle.base_url

    @property
    def port(self) -> int:
        """The bound port."""
        return self.handle.port

    def start(self) -> ServerThread:
        """Bind, start the thread and return once hypercorn is serving."""
        if self._portal is not None:
            raise RuntimeError("the server is already running")
        sock = bind_socket(self._host, self._port)
        handle = _handle_for(sock)
        try:
            portal = self._stack.enter_context(start_blocking_portal(backend=self.backend))
        except BaseException:
            sock.close()
            raise
        self._portal = portal
        stop = portal.call(anyio.Event)
        started = portal.call(anyio.Event)
        self._stop = stop
        failures: list[BaseException] = []

        async def run() -> None:
            try:
                await _serve_socket(
                    _startup_signal(self.app, started),
                    sock,
                    stop.wait,
                    graceful_timeout=self._graceful_timeout,
                    h2c=self.h2c,
                )
            except BaseException as error:
                failures.append(error)
                raise
            finally:
                started.set()

        self._future = portal.start_task_soon(run)
        portal.call(started.wait)
        if failures:
            self._cleanup()
            raise RuntimeError("the server failed to start") from failures[0]
        self._handle = handle
        return self

    def _cleanup(self) -> None:
        self._stack.close()
        self._portal = None
        self._stop = None
        self._handle = None

    def stop(self, timeout: float = 10.0) -> None:
        """Ask hypercorn to shut down, wait for it, and end the thread."""
        if self._portal is None or self._stop is None or self._future is None:
            return
        future = self._future
        try:
            self._portal.call(self._stop.set)
            future.result(timeout=timeout)
        finally:
            self._cleanup()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    backend: str = "asyncio",
    h2c: bool = False,
) -> ServerThread:
    """A :class:`ServerThread` for ``with serve_in_thread(app) as server: server.base_url``."""
    return ServerThread(app, host, port, backend=backend, h2c=h2c)


def run_forever(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 8765,
    on_ready: Callable[[ServerHandle], None] | None = None,
    *,
    backend: str = "asyncio",
    h2c: bool = False,
) -> None:
    """Serve ``app`` in this thread until Ctrl-C or SIGTERM, then shut down cleanly.

    ``on_ready(handle)`` is called once the socket is bound and hypercorn is serving.
    On SIGINT or SIGTERM the server stops accepting, gives replies in flight a second to
    finish, cancels the rest, and returns normally (no traceback; the command exits 0).
    ``h2c=True`` also answers HTTP/2 over cleartext (by default only HTTP/1.1).
    """
    sock = bind_socket(host, port)
    handle = _handle_for(sock)

    async def main() -> None:
        stop = anyio.Event()
        started = anyio.Event()
        async with anyio.create_task_group() as group:

            async def watch_signals() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:
                        stop.set()
                        return

            async def announce() -> None:
                await started.wait()
                if on_ready is not None:
                    on_ready(handle)

            group.start_soon(watch_signals)
            group.start_soon(announce)
            try:
                await _serve_socket(_startup_signal(app, started), sock, stop.wait, h2c=h2c)
            finally:
                started.set()
                group.cancel_scope.cancel()

    try:
        anyio.run(main, backend=backend)
    except KeyboardInterrupt:
        pass
