"""The client commands: ``ask``, ``chat``, ``models`` and ``demo``, with their options."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio
from sansio_chat.adapters.httpx import AsyncChatClient

from sansio_chat import (
    DEFAULT_MIN_INTERVAL,
    Conversation,
    LocalProtocolError,
    SansioChatError,
    providers,
)

from ._output import EXIT_CODES, Failure, Output, report
from ._types import positive_seconds, proxy_url

__all__ = ["DEMO_PROMPT", "ask", "chat", "client_options", "demo", "models"]

DEMO_PROMPT = "Hello! What does sans-IO mean?"


def load_conversation(path: str | None) -> Conversation | None:
    if path is None or not Path(path).exists():
        return None
    try:
        return Conversation.from_json(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise Failure(
            f"{path}: not a UTF-8 text file ({error.reason})", EXIT_CODES["usage"]
        ) from error
    except OSError as error:
        raise Failure(f"cannot read {path}: {error}", EXIT_CODES["usage"]) from error
    except LocalProtocolError as error:
        raise Failure(f"{path}: {error}", EXIT_CODES["usage"]) from error


def save_conversation(client: AsyncChatClient, path: str | None) -> None:
    if path is not None:
        try:
            client.save(path)
        except OSError as error:
            raise Failure(f"cannot write {path}: {error}", EXIT_CODES["error"]) from error


def _client(args: argparse.Namespace, base_url: str | None = None) -> AsyncChatClient:
    return AsyncChatClient(
        args.provider,
        model=args.model,
        base_url=base_url or args.base_url,
        proxy=args.proxy,
        timeout=args.timeout,
        verify=not args.insecure,
        min_interval=args.min_interval,
        conversation=load_conversation(args.conversation),
    )


async def _turn(client: AsyncChatClient, prompt: str, output: Output) -> None:
    async with client.events(prompt) as events:
        async for event in events:
            output.event(event)
    output.end_line()


async def ask(args: argparse.Namespace, output: Output, base_url: str | None = None) -> int:
    prompt = sys.stdin.read().rstrip("\n") if args.prompt == "-" else args.prompt
    async with _client(args, base_url) as client:
        await _turn(client, prompt, output)
        save_conversation(client, args.conversation)
    return 0


async def chat(args: argparse.Namespace, output: Output) -> int:
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
                save_conversation(client, args.conversation)
                continue
            if not prompt:
                continue
            try:
                await _turn(client, prompt, output)
            except SansioChatError as error:
                status = report(error, output, args.debug)
                continue
            save_conversation(client, args.conversation)
    return status


def models(args: argparse.Namespace, output: Output) -> int:
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


def demo(args: argparse.Namespace, output: Output) -> int:
    from sansio_chat.adapters.emulator import serve_emulator

    from sansio_chat.emulator import EmulatorConfig

    config = EmulatorConfig(seed=args.seed, delay=args.delay)
    with serve_emulator(config) as server:
        if not output.as_json:
            output.err.write(f"sansio-chat demo: emulator on {server.base_url} (no network)\n")
        return anyio.run(ask, args, output, server.base_url)


def client_options(parser: argparse.ArgumentParser, *, service: bool = True) -> None:
    parser.add_argument("--provider", choices=providers.names(), default=None, help="default: ddg")
    parser.add_argument("--model", default=None, help="a model id or alias (see `models`)")
    if service:
        parser.add_argument("--base-url", default=None, help="e.g. the emulator's URL")
        parser.add_argument("--proxy", type=proxy_url, default=None, help="an http proxy URL")
        parser.add_argument(
            "--timeout",
            type=positive_seconds,
            default=None,
            help="connect and read timeout, seconds",
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
