"""The ``sansio-chat`` command: ask, chat, models, emulator, demo, serve.

Exit status: 0 success; 1 another failure (a conversation file that cannot be written, a
bug); 2 usage (bad arguments, unknown model or provider, unreadable conversation file);
3 the service refused (rate, conversation or input limit, any other HTTP refusal); 4 network
failure or timeout; 5 the service broke the protocol (a cut or malformed reply, a challenge
that cannot be solved); 130 interrupted (Ctrl-C); 141 the reader of stdout went away
(``sansio-chat ask ... | head``). Errors are one line on stderr; ``--debug`` adds the
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import anyio

from sansio_chat import (
    Conversation,
    Event,
    Finished,
    LocalProtocolError,
    RateLimited,
    RemoteProtocolError,
    SansioChatError,
    ServiceRefusal,
    TitleEvent,
    TokenEvent,
    TransportError,
    VqdUpdate,
    __version__,
    providers,
)

from ._client import DEFAULT_MIN_INTERVAL, AsyncChatClient

__all__ = ["EXIT_CODES", "main"]

EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "error": 1,
    "usage": 2,
    "refused": 3,
    "network": 4,
    "protocol": 5,
    "interrupted": 130,
    "broken_pipe": 141,
}
"""The exit status of each outcome (see the module docstring)."""

DEMO_PROMPT = "Hello! What does sans-IO mean?"


class _Failure(Exception):
    """A failure outside the protocol (a file), reported as one line with its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _exit_status(error: BaseException) -> int:
    if isinstance(error, _Failure):
        return error.status
    if isinstance(error, LocalProtocolError):
        return EXIT_CODES["usage"]
    if isinstance(error, ServiceRefusal):
        return EXIT_CODES["refused"]
    if isinstance(error, TransportError):
        return EXIT_CODES["network"]
    if isinstance(error, RemoteProtocolError):
        return EXIT_CODES["protocol"]
    return EXIT_CODES["error"]


def _event_json(event: Event) -> dict[str, Any]:
    if isinstance(event, TokenEvent):
        return {"type": "token", "text": event.text}
    if isinstance(event, RateLimited):
        return {
            "type": "rate_limited",
            "delay": event.delay,
            "attempt": event.attempt,
            "status": event.status,
            "reason": event.reason,
        }
    if isinstance(event, VqdUpdate):
        return {"type": "vqd_update"}  # the token itself is a secret of the conversation
    if isinstance(event, TitleEvent):
        return {"type": "title", "title": event.title}
    if isinstance(event, Finished):
        return {"type": "finished", "reason": event.reason}
    return {"type": type(event).__name__}


class _Output:
    """Writes a turn to stdout: the reply as it streams, or one JSON object per line."""

    def __init__(self, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.as_json, self.out, self.err = as_json, out, err
        self.open_line = False

    def event(self, event: Event) -> None:
        if self.as_json:
            self.json_line(_event_json(event))
        elif isinstance(event, TokenEvent):
            self.out.write(event.text)
            self.out.flush()
            self.open_line = True
        elif isinstance(event, RateLimited):
            reason = f" {event.reason}" if event.reason else ""
            self.err.write(
                f"sansio-chat: refused (HTTP {event.status}{reason}); "
                f"retry {event.attempt} in {event.delay:.1f} s\n"
            )
        elif isinstance(event, Finished):
            self.end_line()
            if event.reason == "conversation_limit":
                self.err.write("sansio-chat: the service ended this conversation\n")

    def end_line(self) -> None:
        if self.open_line:
            self.out.write("\n")
            self.out.flush()
            self.open_line = False

    def error(self, error: BaseException, status: int) -> None:
        self.end_line()
        if self.as_json:
            self.json_line(
                {
                    "type": "error",
                    "error": type(error).__name__,
                    "message": str(error),
                    "partial_text": getattr(error, "partial_text", ""),
                    "exit_code": status,
                }
            )

    def json_line(self, value: dict[str, Any]) -> None:
        self.out.write(json.dumps(value, ensure_ascii=False) + "\n")
        self.out.flush()


def _load_conversation(path: str | None) -> Conversation | None:
    if path is None or not Path(path).exists():
        return None
    try:
        return Conversation.from_json(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise _Failure(f"cannot read {path}: {error}", EXIT_CODES["usage"]) from error
    except LocalProtocolError as error:
        raise _Failure(f"{path}: {error}", EXIT_CODES["usage"]) from error


def _save_conversation(client: AsyncChatClient, path: str | None) -> None:
    if path is not None:
        try:
            client.save(path)
        except OSError as error:
            raise _Failure(f"cannot write {path}: {error}", EXIT_CODES["error"]) from error


def _client(args: argparse.Namespace, base_url: str | None = None) -> AsyncChatClient:
    return AsyncChatClient(
        args.provider,
        model=args.model,
        base_url=base_url or args.base_url,
        proxy=args.proxy,
        timeout=args.timeout,
        verify=not args.insecure,
        min_interval=args.min_interval,
        conversation=_load_conversation(args.conversation),
    )


async def _turn(client: AsyncChatClient, prompt: str, output: _Output) -> None:
    async with client.events(prompt) as events:
        async for event in events:
            output.event(event)
    output.end_line()


async def _ask(args: argparse.Namespace, output: _Output, base_url: str | None = None) -> int:
    prompt = sys.stdin.read().rstrip("\n") if args.prompt == "-" else args.prompt
    async with _client(args, base_url) as client:
        await _turn(client, prompt, output)
        _save_conversation(client, args.conversation)
    return 0


async def _chat(args: argparse.Namespace, output: _Output) -> int:
    interactive = sys.stdin.isatty()
    status = 0
    async with _client(args) as client:
        while True:
            if interactive:
                output.err.write("you> ")
                output.err.flush()
            line = await anyio.to_thread.run_sync(sys.stdin.readline)
            if not line:
                break
            prompt = line.strip()
            if prompt in ("/exit", "/quit"):
                break
            if prompt == "/new":
                client.new_conversation()
                _save_conversation(client, args.conversation)
                continue
            if not prompt:
                continue
            try:
                await _turn(client, prompt, output)
            except SansioChatError as error:
                status = _report(error, output, args.debug)
                continue
            _save_conversation(client, args.conversation)
    return status


def _models(args: argparse.Namespace, output: _Output) -> int:
    for name in providers.names():
        provider = providers.get(name)
        if output.as_json:
            entry = {
                "name": name,
                "label": provider.label,
                "url": provider.url,
                "working": provider.working,
                "default_model": provider.default_model,
                "models": list(provider.models),
                "aliases": dict(provider.model_aliases),
            }
            output.json_line(entry)
            continue
        state = "working" if provider.working else "not working (use the emulator)"
        output.out.write(f"{name}: {provider.label} <{provider.url}>, {state}\n")
        for model in provider.models:
            mark = "  (default)" if model == provider.default_model else ""
            output.out.write(f"  {model}{mark}\n")
        for alias, model in provider.model_aliases.items():
            output.out.write(f"  alias {alias} -> {model}\n")
    return 0


def _demo(args: argparse.Namespace, output: _Output) -> int:
    from sansio_chat.emulator import EmulatorConfig

    from .emulator_app import serve_emulator

    config = EmulatorConfig(seed=args.seed, delay=args.delay)
    with serve_emulator(config) as server:
        if not output.as_json:
            output.err.write(f"sansio-chat demo: emulator on {server.base_url} (no network)\n")
        return anyio.run(_ask, args, output, server.base_url)


def _delegate(module: str, run: str) -> Callable[[argparse.Namespace, _Output], int]:
    def command(args: argparse.Namespace, output: _Output) -> int:
        result: int = getattr(importlib.import_module(module), run)(args)
        return result

    return command


_SERVERS = {
    "emulator": ("sansio_chat.adapters.emulator_app", "add_emulator_arguments"),
    "serve": ("sansio_chat.adapters.gateway", "add_serve_arguments"),
}


def _add_server(
    commands: Any, name: str, help_text: str, run: str, chosen: str | None
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
    module, add_arguments = _SERVERS[name]
    parser.set_defaults(command=_delegate(module, run))
    if chosen == name:  # import the server's code only when it is asked for
        try:
            adder = getattr(importlib.import_module(module), add_arguments)
        except (ImportError, AttributeError) as error:
            raise _Failure(f"{name}: {module} is not available: {error}", 1) from error
        adder(parser)
    return parser


def _client_options(parser: argparse.ArgumentParser, *, service: bool = True) -> None:
    parser.add_argument("--provider", choices=providers.names(), default=None, help="default: ddg")
    parser.add_argument("--model", default=None, help="a model id or alias (see `models`)")
    if service:
        parser.add_argument("--base-url", default=None, help="e.g. the emulator's URL")
        parser.add_argument("--proxy", default=None, help="an http proxy URL")
        parser.add_argument(
            "--timeout", type=float, default=None, help="connect and read timeout, seconds"
        )
        parser.add_argument(
            "--insecure", action="store_true", help="do not verify TLS certificates"
        )
        parser.add_argument(
            "--min-interval",
            type=float,
            default=DEFAULT_MIN_INTERVAL,
            help=f"seconds between requests to one host (default {DEFAULT_MIN_INTERVAL})",
        )
        parser.add_argument(
            "--conversation", metavar="FILE", default=None, help="continue and save, as JSON"
        )
    parser.add_argument("--json", action="store_true", help="one JSON event per line")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)


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

    ask = commands.add_parser("ask", help="ask one question; the reply streams to stdout")
    ask.add_argument("prompt", help="the question (- reads it from stdin)")
    _client_options(ask)
    ask.set_defaults(command=lambda args, output: anyio.run(_ask, args, output))

    chat = commands.add_parser("chat", help="a conversation, one line per turn")
    _client_options(chat)
    chat.set_defaults(command=lambda args, output: anyio.run(_chat, args, output))

    models = commands.add_parser("models", help="list providers, models and aliases")
    models.add_argument("--json", action="store_true", help="one JSON object per provider")
    models.set_defaults(command=_models)

    _add_server(
        commands, "emulator", "serve both emulated services", "run_emulator_from_args", chosen
    )

    demo = commands.add_parser("demo", help="one turn against an in-process emulator")
    demo.add_argument("prompt", nargs="?", default=DEMO_PROMPT)
    _client_options(demo, service=False)
    demo.add_argument("--seed", type=int, default=2024, help="the emulator's seed")
    demo.add_argument("--delay", type=float, default=0.03, help="seconds between tokens")
    demo.set_defaults(
        command=_demo,
        base_url=None,
        proxy=None,
        timeout=None,
        insecure=False,
        min_interval=0.0,
        conversation=None,
    )

    _add_server(
        commands, "serve", "an OpenAI-compatible HTTP gateway", "run_serve_from_args", chosen
    )
    return parser


def _report(error: BaseException, output: _Output, debug: bool) -> int:
    status = _exit_status(error)
    output.error(error, status)
    if debug:
        traceback.print_exception(error, file=output.err)
    kinds = {EXIT_CODES["refused"]: "refused", EXIT_CODES["error"]: "failed"}
    kind = kinds.get(status, "error")
    output.err.write(f"sansio-chat: {kind}: {error}\n")
    output.err.flush()
    return status


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
    output = _Output(False, out, err)
    debug = "--debug" in arguments
    try:
        args = _parser(_chosen_command(arguments)).parse_args(arguments)
        debug = bool(args.debug)
        output.as_json = bool(getattr(args, "json", False))
        if debug:
            logging.basicConfig(level=logging.DEBUG, stream=err)
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
        return _report(error, output, debug)


if __name__ == "__main__":
    sys.exit(main())
