"""The ``sansio-chat`` command: ask, chat, models, emulator, demo, serve.

Every option of every command is defined in this package: ``_commands`` (the client
commands and their options), ``emulator`` (``sansio-chat emulator``), ``serve``
(``sansio-chat serve``, the gateway), ``_main`` (the parser and :func:`main`), ``_output``
(what the command prints and its exit statuses). ``python -m sansio_chat.adapters.cli``
runs it. The server packages are imported when their command runs, so ``sansio-chat ask``
never loads them.

Exit status: 0 success; 1 another failure (a conversation file that cannot be written, a
bug); 2 usage (bad arguments, unknown model or provider, unreadable conversation file);
3 the service refused (rate, conversation or input limit, any other HTTP refusal); 4 network
failure or timeout; 5 the service broke the protocol (a cut or malformed reply, a challenge
that cannot be solved); 130 interrupted (Ctrl-C); 141 the reader of stdout went away
(``sansio-chat ask ... | head``). Errors are one line on stderr; ``--debug`` adds the
traceback.
"""

from __future__ import annotations

from ._main import EXIT_CODES, main

__all__ = ["EXIT_CODES", "main"]
