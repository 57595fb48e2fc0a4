"""The emulator as an ASGI app: carries out the plans of :mod:`sansio_chat.emulator`.

This is the only place where the emulator sleeps or touches a connection. It runs under
hypercorn's asyncio and trio workers alike (anyio). The CLI entry points
:func:`add_emulator_arguments` and :func:`run_emulator_from_args` serve both services on one
port: DuckDuckGo at ``/``, ``/duckchat/v1/status`` and ``/duckchat/v1/chat``, DarkAI at
``/chat``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
from collections.abc import Iterable
from typing import Any

import anyio

from sansio_chat.emulator import (
    DIALECTS,
    Emulator,
    EmulatorConfig,
    EmulatorRequest,
    Exchange,
    Fault,
    FaultSyntaxError,
    ResponsePlan,
    Stall,
    Write,
    parse_fault,
    parse_rate_limit,
)

from .serving import (
    Receive,
    Scope,
    Send,
    ServerHandle,
    ServerThread,
    run_forever,
    run_lifespan,
)

__all__ = [
    "EmulatorApp",
    "EmulatorControl",
    "EmulatorServer",
    "add_emulator_arguments",
    "config_from_args",
    "run_emulator_from_args",
    "serve_emulator",
]

# A chat request is JSON of at most ~16,000 characters of content; anything far larger is
# refused before it is buffered.
_MAX_REQUEST_BODY = 4 * 1024 * 1024
# Header values are ASCII in practice; a client that sends UTF-8 hashes UTF-8.
_HEADER_ENCODING = "utf-8"


class EmulatorControl:
    """A thread-safe handle on a running emulator's state, for tests and the CLI.

    The server thread and the caller's thread both use it; every call takes one lock.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._lock = threading.Lock()

    def handle(self, request: EmulatorRequest) -> ResponsePlan:
        """Answer one request (called by the app)."""
        with self._lock:
            return self._emulator.handle(request)

    def fault(self, *specs: str | Fault) -> None:
        """Activate fault switches, e.g. ``control.fault("429x3", "cut:120@ddg")``."""
        with self._lock:
            for spec in specs:
                self._emulator.add_fault(spec)

    def clear_faults(self) -> None:
        """Deactivate every fault switch."""
        with self._lock:
            self._emulator.clear_faults()

    @property
    def active_faults(self) -> tuple[str, ...]:
        """The fault switches still in force, as written."""
        with self._lock:
            return self._emulator.active_faults

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change :class:`~sansio_chat.emulator.EmulatorConfig` fields while it runs."""
        with self._lock:
            return self._emulator.configure(**changes)

    @property
    def config(self) -> EmulatorConfig:
        """The current configuration."""
        with self._lock:
            return self._emulator.config

    @property
    def seed(self) -> int:
        """The effective seed (chosen at random when the config gives none)."""
        with self._lock:
            return self._emulator.seed

    @property
    def fe_version(self) -> str:
        """The ``x-fe-version`` a client should build from the page."""
        with self._lock:
            return self._emulator.ddg.fe_version

    def expected_reply(self, prompt: str) -> str:
        """The reply text either service streams for ``prompt`` (the last user message)."""
        with self._lock:
            return self._emulator.expected_reply(prompt)

    @property
    def exchanges(self) -> list[Exchange]:
        """The requests answered so far (the last 1,000), oldest first."""
        with self._lock:
            return list(self._emulator.exchanges)

    def requests_to(self, endpoint: str) -> list[Exchange]:
        """The exchanges of one endpoint: ``page``, ``status``, ``ddg``, ``darkai``."""
        return [exchange for exchange in self.exchanges if exchange.endpoint == endpoint]

    def reset(self) -> None:
        """Forget tokens, conversations, faults and the log; keep the configuration."""
        with self._lock:
            self._emulator = Emulator(dataclasses.replace(self._emulator.config, faults=()))


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


class EmulatorServer(ServerThread):
    """An emulator served by hypercorn in a background thread (see :func:`serve_emulator`).

    ``server.base_url`` is where both services listen; ``server.control`` sets faults and
    configuration from Python.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        backend: str = "asyncio",
    ) -> None:
        self.emulator_app = EmulatorApp(config)
        super().__init__(self.emulator_app, host, port, backend=backend)

    @property
    def control(self) -> EmulatorControl:
        """The running emulator's :class:`EmulatorControl`."""
        return self.emulator_app.control

    def start(self) -> EmulatorServer:
        """Bind, start the thread and return once the emulator is serving."""
        super().start()
        return self

    def __enter__(self) -> EmulatorServer:
        return self.start()


def serve_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    backend: str = "asyncio",
) -> EmulatorServer:
    """``with serve_emulator(EmulatorConfig(seed=1)) as server: ... server.base_url ...``."""
    return EmulatorServer(config, host=host, port=port, backend=backend)


# -- command line -----------------------------------------------------------------------------


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser`` (``sansio-chat emulator``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="2025-03",
        help="protocol era of the DuckDuckGo side (default 2025-03)",
    )
    parser.add_argument("--seed", type=int, default=None, help="fixes tokens, challenges, text")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="F",
        help="fault switch KIND[:ARG][xCOUNT][@TARGET], repeatable, e.g. 429x3, cut:120, stall:2",
    )
    parser.add_argument(
        "--conversation-limit",
        type=int,
        default=None,
        metavar="N",
        help="the Nth turn of a conversation ends it ([DONE][LIMIT_CONVERSATION])",
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each write")
    parser.add_argument("--reply-tokens", type=int, default=12, help="words per reply")
    parser.add_argument(
        "--events-per-write",
        type=int,
        default=1,
        metavar="N",
        help="join N events into one write (default 1, as the service did)",
    )
    parser.add_argument(
        "--rate-limit",
        default=None,
        metavar="N/S",
        help="per-client limit: N requests per S seconds per endpoint (default: none)",
    )
    parser.add_argument(
        "--no-challenge-on-chat",
        dest="challenge_on_chat",
        action="store_false",
        help="do not attach a fresh challenge to chat replies",
    )
    parser.add_argument(
        "--reusable-tokens",
        action="store_true",
        help="accept an x-vqd-4 again after its turn (stepping back and branching)",
    )
    parser.add_argument(
        "--backend", choices=("asyncio", "trio"), default="asyncio", help="event loop"
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Build the configuration from parsed options; raises ``ValueError`` on bad values."""
    faults: Iterable[str] = args.fault or ()
    for spec in faults:
        parse_fault(spec)
    return EmulatorConfig(
        dialect=args.dialect,
        seed=args.seed,
        reply_tokens=args.reply_tokens,
        delay=args.delay,
        conversation_limit=args.conversation_limit,
        rate_limit=parse_rate_limit(args.rate_limit) if args.rate_limit else None,
        challenge_on_chat=args.challenge_on_chat,
        events_per_write=args.events_per_write,
        reusable_tokens=args.reusable_tokens,
        faults=tuple(faults),
    )


def run_emulator_from_args(args: argparse.Namespace) -> int:
    """Serve both emulated services until Ctrl-C or SIGTERM; return the exit status."""
    try:
        config = config_from_args(args)
    except (FaultSyntaxError, ValueError) as error:
        print(f"sansio-chat emulator: {error}", file=sys.stderr)
        return 2
    app = EmulatorApp(config)

    def ready(handle: ServerHandle) -> None:
        seed = app.control.seed
        print(
            f"sansio-chat emulator on {handle.base_url} (dialect {config.dialect}, seed {seed})",
            flush=True,
        )
        print(
            f"  DuckDuckGo: {handle.base_url}/duckchat/v1/chat   DarkAI: {handle.base_url}/chat",
            flush=True,
        )

    try:
        run_forever(app, args.host, args.port, ready, backend=args.backend)
    except OSError as error:
        print(
            f"sansio-chat emulator: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m sansio_chat.adapters.emulator_app`` (the CLI wires ``sansio-chat emulator``)."""
    parser = argparse.ArgumentParser(prog="sansio-chat emulator", description=__doc__)
    add_emulator_arguments(parser)
    return run_emulator_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
