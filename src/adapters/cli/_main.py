"""The ``sansio-chat`` parser and entry point: every command and its options, wired here.

Start-up is kept to the interpreter, argparse and the pure core: a command's module (the
httpx client, the emulator, the gateway, rich, prompt_toolkit) is imported when that command
runs, so ``sansio-chat --help``, ``models`` and ``ask --help`` load none of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sansio_chat import __version__

from ._options import client_options
from ._output import EXIT_CODES, Failure, Output, report

__all__ = ["EXIT_CODES", "main"]

EPILOG = """exit status:
  0    success (also Ctrl-C or Ctrl-D at chat's empty prompt)
  1    another failure (a conversation file that cannot be written, a bug)
  2    usage: bad arguments, unknown model or provider, unreadable conversation file
  3    the service refused (rate, conversation or input limit, another HTTP refusal)
  4    network failure or timeout
  5    the service broke the protocol (a cut or malformed reply, an unsolvable challenge)
  130  interrupted (Ctrl-C during ask, or a server stopped by Ctrl-C)
  141  the reader of stdout went away (`sansio-chat ask ... | head`)

settings from the environment: see `sansio-chat ask --help` ([$VARIABLE] after an option)
and docs/cli.md"""

DEMO_PROMPT = "Hello! What does sans-IO mean?"


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace, Output], int]:
    def command(args: argparse.Namespace, output: Output) -> int:
        function: Callable[[argparse.Namespace, Output], int] = getattr(
            importlib.import_module(f"{__package__}.{module}"), name
        )
        return function(args, output)

    return command


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
    description: str,
    chosen: str | None,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=description
    )

    def command(args: argparse.Namespace, output: Output) -> int:
        with _server_available(name):
            module = importlib.import_module(f"{__package__}.{name}")
            status: int = getattr(module, f"run_{name}_from_args")(args)
            return status

    parser.set_defaults(command=command)
    if chosen == name:  # a server's options import its package: only when it is asked for
        with _server_available(name):
            module = importlib.import_module(f"{__package__}.{name}")
            getattr(module, f"add_{name}_arguments")(parser)
    return parser


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sansio-chat",
        description="Chat with DuckDuckGo AI Chat (duck.ai) or DarkAI from the terminal, "
        "or run their local emulator and an OpenAI-compatible gateway.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sansio-chat {__version__}")
    parser.add_argument("--debug", action="store_true", help="tracebacks and debug logging")
    commands = parser.add_subparsers(dest="name", required=True, metavar="COMMAND")

    def sub(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=description,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    ask_ = sub(
        "ask",
        "ask one question; the reply streams to stdout",
        "Ask one question and stream the reply to stdout (Markdown on a terminal, plain text "
        "on a pipe). Text piped on stdin comes before PROMPT: "
        '`cat notes.txt | sansio-chat ask "summarize"`. The conversation is saved in the '
        "data directory unless --no-save; -c continues the last one.",
    )
    ask_.add_argument(
        "prompt", metavar="PROMPT", help="the question ('-': read it from stdin alone)"
    )
    client_options(ask_)
    ask_.set_defaults(command=_lazy("_commands", "ask"))

    chat_ = sub(
        "chat",
        "a conversation in a line editor, with slash commands",
        "A conversation: Enter sends, Esc Enter (or Alt-Enter) starts a new line, Up/Down walk "
        "the history; /help lists the slash commands (never sent to the model). Ctrl-C stops a "
        "reply (the turn is not kept); Ctrl-C or Ctrl-D at an empty prompt quits. On a pipe, "
        "each line of stdin is a turn.",
    )
    client_options(chat_)
    chat_.set_defaults(command=_lazy("_chat", "chat"))

    models_ = sub(
        "models",
        "list providers, models and aliases",
        "List the providers, their models and aliases (what -m/--model takes; "
        "PROVIDER/MODEL works too). --live asks the service for its current list.",
    )
    models_.add_argument("--json", action="store_true", help="one JSON object per provider")
    models_.add_argument(
        "--live", action="store_true", help="fetch the list the service offers now (network)"
    )
    models_.add_argument("-p", "--provider", default=None, help="with --live: which service")
    models_.add_argument("--base-url", default=None, metavar="URL", help="with --live: where")
    models_.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks"
    )
    models_.set_defaults(
        command=_lazy("_commands", "models"), model=None, min_interval=0.0, quiet=True
    )

    conversations_ = sub(
        "conversations",
        "list saved conversations (id, date, model, first words)",
        "List the saved conversations, newest first: id, date, provider/model, turns and the "
        "first words. Continue one with `--conversation ID` (or -c for the newest).",
    )
    conversations_.add_argument("--json", action="store_true", help="one JSON object per line")
    conversations_.add_argument(
        "-n", "--limit", type=int, default=0, metavar="N", help="only the newest N"
    )
    conversations_.set_defaults(command=_lazy("_commands", "conversations"))

    _add_server(
        commands,
        "emulator",
        "serve both emulated services",
        "Serve local emulators of DuckDuckGo AI Chat and DarkAI on one port (no network), "
        "with fault switches; one access line per request on stderr.",
        chosen,
    )

    demo_ = sub(
        "demo",
        "one turn against an in-process emulator",
        "Start the emulator in this process and run one turn through the real stack; the "
        "reply is the emulator's filler text. Needs no network.",
    )
    demo_.add_argument("prompt", nargs="?", default=DEMO_PROMPT, help="what to ask")
    client_options(demo_, service=False)
    demo_.add_argument("--seed", type=int, default=2024, help="the emulator's seed")
    demo_.add_argument("--delay", type=float, default=0.03, help="seconds between tokens")
    demo_.set_defaults(
        command=_lazy("_commands", "demo"),
        base_url=None,
        proxy=None,
        timeout=None,
        insecure=False,
        min_interval=0.0,
        conversation=None,
        continue_=False,
        no_save=True,
        max_retries=None,
    )

    _add_server(
        commands,
        "serve",
        "an OpenAI-compatible HTTP gateway",
        "Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) in front of the "
        "services (or the emulator); one access line per request on stderr.",
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
        as_json = bool(getattr(args, "json", False))
        if hasattr(args, "quiet") and hasattr(args, "plain"):
            from ._commands import output_for

            output = output_for(args, as_json)
        output.as_json = as_json
        if debug:
            import logging

            from ._redact import RedactSecrets

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
