"""The ``sansio-chat`` parser and entry point: every command and its options, wired here."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import anyio

from sansio_chat import __version__

from . import emulator, serve
from ._commands import DEMO_PROMPT, ask, chat, client_options, demo, models
from ._output import EXIT_CODES, Failure, Output, report
from ._redact import RedactSecrets

__all__ = ["EXIT_CODES", "main"]


@contextmanager
def _server_available(name: str) -> Iterator[None]:
    """Report a server package that cannot be imported as one line with exit status 1."""
    try:
        yield
    except ImportError as error:
        missing = error.name or "a module it needs"
        message = f"{name}: {missing} is not available: {error}"
        raise Failure(message, EXIT_CODES["error"]) from error


def _add_server(
    commands: Any,
    name: str,
    help_text: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
    chosen: str | None,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text)

    def command(args: argparse.Namespace, output: Output) -> int:
        with _server_available(name):
            return run(args)

    parser.set_defaults(command=command)
    if chosen == name:  # a server's options import its package: only when it is asked for
        with _server_available(name):
            add_arguments(parser)
    return parser


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sansio-chat",
        description="Chat with DuckDuckGo AI Chat or DarkAI, or run their emulator.",
        epilog="exit status: 0 ok, 1 other error, 2 usage, 3 service refused, "
        "4 network or timeout, 5 protocol failure",
    )
    parser.add_argument("--version", action="version", version=f"sansio-chat {__version__}")
    parser.add_argument("--debug", action="store_true", help="tracebacks and debug logging")
    commands = parser.add_subparsers(dest="name", required=True, metavar="COMMAND")

    ask_ = commands.add_parser("ask", help="ask one question; the reply streams to stdout")
    ask_.add_argument("prompt", help="the question (- reads it from stdin)")
    client_options(ask_)
    ask_.set_defaults(command=lambda args, output: anyio.run(ask, args, output))

    chat_ = commands.add_parser("chat", help="a conversation, one line per turn")
    client_options(chat_)
    chat_.set_defaults(command=lambda args, output: anyio.run(chat, args, output))

    models_ = commands.add_parser("models", help="list providers, models and aliases")
    models_.add_argument("--json", action="store_true", help="one JSON object per provider")
    models_.set_defaults(command=models)

    _add_server(
        commands,
        "emulator",
        "serve both emulated services",
        emulator.add_emulator_arguments,
        emulator.run_emulator_from_args,
        chosen,
    )

    demo_ = commands.add_parser("demo", help="one turn against an in-process emulator")
    demo_.add_argument("prompt", nargs="?", default=DEMO_PROMPT)
    client_options(demo_, service=False)
    demo_.add_argument("--seed", type=int, default=2024, help="the emulator's seed")
    demo_.add_argument("--delay", type=float, default=0.03, help="seconds between tokens")
    demo_.set_defaults(
        command=demo,
        base_url=None,
        proxy=None,
        timeout=None,
        insecure=False,
        min_interval=0.0,
        conversation=None,
    )

    _add_server(
        commands,
        "serve",
        "an OpenAI-compatible HTTP gateway",
        serve.add_serve_arguments,
        serve.run_serve_from_args,
        chosen,
    )
    return parser


def _detach_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to flush
        pass


def _chosen_command(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sansio-chat`` command with ``argv`` (default ``sys.argv[1:]``)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    out, err = sys.stdout, sys.stderr
    for stream in (out, err):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")  # a terminal that cannot show a character
    output = Output(False, out, err)
    debug = "--debug" in arguments
    try:
        args = _parser(_chosen_command(arguments)).parse_args(arguments)
        debug = bool(args.debug)
        output.as_json = bool(getattr(args, "json", False))
        if debug:
            handler = logging.StreamHandler(err)
            handler.addFilter(RedactSecrets())
            logging.basicConfig(level=logging.DEBUG, handlers=[handler])
        status: int = args.command(args, output)
        return status
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_CODES["usage"]
    except BrokenPipeError:
        # The reader went away (`sansio-chat ask ... | head`): stop quietly, as Unix tools do,
        # and keep the interpreter from complaining when it flushes stdout at exit.
        _detach_stdout()
        return EXIT_CODES["broken_pipe"]
    except KeyboardInterrupt:
        output.end_line()
        err.write("sansio-chat: interrupted\n")
        return EXIT_CODES["interrupted"]
    except Exception as error:  # a typed error, or a bug (exit status 1): one line either way
        return report(error, output, debug)
