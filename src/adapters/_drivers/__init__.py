"""Internals of the public drivers :mod:`sansio_chat.adapters.httpx` and ``.h11``.

The session loop over httpx (``httpx_turn``), one h11 connection over an anyio stream
(``h11_connection``), the high-level clients (``client``), httpx client setup, the timeouts
and TLS settings both drivers share (``common``), and the one place where transport
exceptions become sansio-chat errors (``transport_errors``). Import the public names from
``sansio_chat.adapters.httpx`` and ``sansio_chat.adapters.h11``, not from here.

Nothing here imports the gateway, the emulator server or the CLI.
"""
