"""The emulator server: both emulated services as one ASGI app, and a thread that serves it.

The pure logic (what to answer, when to fail) is :mod:`sansio_chat.emulator`; this package
carries its plans out over HTTP: ``_control`` (:class:`EmulatorControl`, a thread-safe handle
for tests and the CLI), ``_app`` (:class:`EmulatorApp`, the ASGI app), ``_server``
(:class:`EmulatorServer` / :func:`serve_emulator`, hypercorn in a background thread, through
:mod:`sansio_chat.adapters.serving`). ``sansio-chat emulator`` is in
:mod:`sansio_chat.adapters.cli.emulator`. Nothing here imports the drivers, the gateway or
the CLI.
"""

from __future__ import annotations

from ._app import EmulatorApp
from ._control import EmulatorControl
from ._server import EmulatorServer, serve_emulator

__all__ = ["EmulatorApp", "EmulatorControl", "EmulatorServer", "serve_emulator"]
