"""``sansio-chat serve --workers N``: N processes accepting on one listening socket.

The socket is bound once, then the process forks N workers (POSIX); each serves the app with
hypercorn on its copy of the socket, and the kernel spreads the connections. Ctrl-C or SIGTERM
stops them all. This is the only hook the CLI needs from :mod:`sansio_chat.adapters.serving`.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["run_workers"]


def _serve_child(app: Any, sock: socket.socket, backend: str) -> None:
    import anyio
    from sansio_chat.adapters.serving import _serve_socket

    async def main() -> None:
        stop = anyio.Event()
        async with anyio.create_task_group() as group:

            async def watch_signals() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:
                        stop.set()
                        return

            group.start_soon(watch_signals)
            await _serve_socket(app, sock, stop.wait)
            group.cancel_scope.cancel()

    anyio.run(main, backend=backend)


def run_workers(
    app: Any,
    host: str,
    port: int,
    workers: int,
    on_ready: Callable[[Any], None],
    *,
    backend: str = "asyncio",
) -> None:
    """Serve ``app`` from ``workers`` forked processes until Ctrl-C or SIGTERM."""
    from sansio_chat.adapters.serving import ServerHandle, bind_socket

    sock = bind_socket(host, port)
    address = sock.getsockname()
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: serve, then leave without running the parent's cleanup
            status = 0
            try:
                _serve_child(app, socket.socket(fileno=os.dup(sock.fileno())), backend)
            except KeyboardInterrupt:
                pass
            except BaseException as error:
                print(f"sansio-chat serve: worker {os.getpid()}: {error}", file=sys.stderr)
                status = 1
            os._exit(status)
        children.append(pid)
    sock.close()
    on_ready(ServerHandle(host=str(address[0]), port=int(address[1])))

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while children:
            try:
                pid, _ = os.wait()
            except KeyboardInterrupt:
                for child in children:
                    try:
                        os.kill(child, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                continue
            except ChildProcessError:
                break
            if pid in children:
                children.remove(pid)
    finally:
        signal.signal(signal.SIGTERM, previous)
