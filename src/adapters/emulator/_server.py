"""The emulator served by hypercorn in a background thread, for tests, demos and notebooks."""

from __future__ import annotations

from sansio_chat.adapters.serving import ServerThread

from sansio_chat.emulator import EmulatorConfig

from ._app import EmulatorApp
from ._control import EmulatorControl

__all__ = ["EmulatorServer", "serve_emulator"]


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
