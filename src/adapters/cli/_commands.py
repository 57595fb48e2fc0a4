"""The client commands: ``ask``, ``chat``, ``models``, ``conversations`` and ``demo``.

Imported when one of them runs (never for ``--help``). ``ask`` and ``chat`` drive the
synchronous :class:`~sansio_chat.adapters.httpx.ChatClient`: Ctrl-C then lands in the turn
as ``KeyboardInterrupt``, the client leaves the conversation as it was, and the line editor
gets the terminal back.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sansio_chat import Conversation, LocalProtocolError, SansioChatError, providers

from . import _store
from ._output import EXIT_CODES, Failure, Output, _isatty

if TYPE_CHECKING:
    from sansio_chat.adapters.httpx import ChatClient

__all__ = [
    "DEMO_PROMPT",
    "ask",
    "conversations",
    "demo",
    "models",
    "resolve_model",
]

DEMO_PROMPT = "Hello! What does sans-IO mean?"


def resolve_model(provider: str | None, model: str | None) -> tuple[str | None, str | None]:
    """``(provider, model)`` from ``--provider`` and ``--model`` as the gateway reads model
    names: ``PROVIDER/MODEL``, or an id or alias of the first provider that has it."""
    if model is None:
        return provider, None
    prefix, sep, rest = model.partition("/")
    if sep and prefix in providers.names():
        if provider is not None and provider != prefix:
            raise Failure(
                f"--model {model} belongs to provider {prefix}, not --provider {provider}",
                EXIT_CODES["usage"],
            )
        provider, model = prefix, rest
    candidates = [provider] if provider is not None else list(providers.names())
    for name in candidates:
        try:
            return name, providers.get(name).validate_model(model)
        except LocalProtocolError:
            continue
    known = ", ".join(f"{name}/{m}" for name in candidates for m in providers.get(name).models)
    raise Failure(f"--model {model}: no such model (try: {known})", EXIT_CODES["usage"])


def _load(path: Path) -> Conversation | None:
    if not path.exists():
        return None
    try:
        return Conversation.from_json(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise Failure(
            f"{path}: not a UTF-8 text file ({error.reason})", EXIT_CODES["usage"]
        ) from error
    except OSError as error:
        raise Failure(f"cannot read {path}: {error}", EXIT_CODES["usage"]) from error
    except LocalProtocolError as error:
        raise Failure(f"{path}: {error}", EXIT_CODES["usage"]) from error


def _save_path(args: argparse.Namespace) -> tuple[Path | None, Conversation | None]:
    """Where this conversation is kept, and the saved conversation to continue."""
    reference = getattr(args, "conversation", None)
    if getattr(args, "continue_", False):
        if reference is not None:
            raise Failure("give -c/--continue or --conversation, not both", EXIT_CODES["usage"])
        latest = _store.latest()
        if latest is None:
            raise Failure(
                f"-c/--continue: no saved conversation in {_store.conversations_dir()}",
                EXIT_CODES["usage"],
            )
        path: Path | None = latest
    elif reference is not None:
        path = _store.resolve(reference)
    else:
        path = None if getattr(args, "no_save", True) else _store.new_path()
    conversation = _load(path) if path is not None else None
    if getattr(args, "no_save", False):
        return None, conversation
    if path is not None:
        problem = _store.check_writable(path)
        if problem is not None:  # refused before anything is sent
            raise Failure(
                f"cannot save the conversation to {path}: {problem} "
                "(give another --conversation FILE, or --no-save)",
                EXIT_CODES["usage"],
            )
    return path, conversation


def _accepted(name: str) -> bool:
    from sansio_chat.adapters.httpx import ChatClient

    return name in inspect.signature(ChatClient.__init__).parameters


def _solver(name: str | None) -> object:
    if name is None:
        return None
    from sansio_chat.adapters.solvers import ChromiumSolver, V8Solver

    try:
        return ChromiumSolver() if name == "chromium" else V8Solver()
    except (ImportError, SansioChatError) as error:
        raise Failure(f"--solver {name}: {error}", EXIT_CODES["usage"]) from error


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The client options only newer clients take, given only when asked for."""
    wanted = {
        "dialect": (getattr(args, "dialect", None), "--dialect"),
        "max_reply_chars": (getattr(args, "max_reply_chars", None), "--max-reply-chars"),
        "solver": (getattr(args, "solver", None), "--solver"),
    }
    options: dict[str, Any] = {}
    for name, (value, flag) in wanted.items():
        if value is None:
            continue
        if not _accepted(name):
            raise Failure(
                f"{flag} is not supported by this version of the client", EXIT_CODES["usage"]
            )
        options[name] = _solver(value) if name == "solver" else value
    return options


def _new_client(
    args: argparse.Namespace,
    conversation: Conversation | None,
    *,
    base_url: str | None = None,
    model: str | None = None,
) -> ChatClient:
    from sansio_chat.adapters.httpx import ChatClient

    from sansio_chat import Backoff

    provider, model = resolve_model(args.provider, model or args.model)
    options = _client_options(args)
    if getattr(args, "max_retries", None) is not None:
        options["backoff"] = Backoff(max_retries=args.max_retries)
    if conversation is not None and provider is not None and conversation.provider != provider:
        raise Failure(
            f"the conversation belongs to provider {conversation.provider}, not {provider}; "
            "start a new one (leave out -c/--conversation)",
            EXIT_CODES["usage"],
        )
    try:
        return ChatClient(
            provider,
            model=model,
            base_url=base_url or getattr(args, "base_url", None),
            proxy=getattr(args, "proxy", None),
            timeout=getattr(args, "timeout", None),
            verify=not getattr(args, "insecure", False),
            min_interval=getattr(args, "min_interval", 0.0),
            conversation=conversation,
            **options,
        )
    except LocalProtocolError as error:
        raise Failure(str(error), EXIT_CODES["usage"]) from error


def _save(client: ChatClient, path: Path | None) -> None:
    if path is not None:
        try:
            client.save(path)
        except OSError as error:
            raise Failure(f"cannot write {path}: {error}", EXIT_CODES["error"]) from error


def _messages(system: str | None, prompt: str) -> Any:
    if system:
        return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
    return prompt


def _turn(client: ChatClient, messages: Any, output: Output) -> None:
    output.start(client.provider, client.conversation.model)
    try:
        with client.events(messages) as events:
            for event in events:
                output.event(event)
    finally:
        output.end_line()


def _read_stdin() -> str:
    if _isatty(sys.stdin):
        return ""
    try:
        return sys.stdin.read()
    except (OSError, ValueError):  # no stdin at all (a closed descriptor, pytest's capture)
        return ""


def prompt_from(argument: str) -> str:
    """The prompt of ``ask``: the argument, with piped stdin before it (``-``: stdin alone)."""
    piped = _read_stdin().rstrip("\n")
    if argument == "-":
        prompt = piped
    elif piped.strip():
        prompt = f"{piped}\n\n{argument}" if argument.strip() else piped
    else:
        prompt = argument
    if not prompt.strip():
        raise Failure(
            "nothing to ask: give a PROMPT, or pipe text on stdin (`cat notes.txt | "
            'sansio-chat ask "summarize"`)',
            EXIT_CODES["usage"],
        )
    return prompt


def output_for(args: argparse.Namespace, as_json: bool) -> Output:
    """The output of a client command, from ``--json``, ``--plain``, ``--quiet``."""
    markdown = _isatty(sys.stdout) and not getattr(args, "plain", False)
    return Output(as_json, sys.stdout, sys.stderr, markdown=markdown, quiet=args.quiet)


def ask(args: argparse.Namespace, output: Output, base_url: str | None = None) -> int:
    """``sansio-chat ask``: one turn, streamed to stdout."""
    prompt = args.prompt if base_url is not None else prompt_from(args.prompt)
    path, conversation = _save_path(args)
    with _new_client(args, conversation, base_url=base_url) as client:
        _turn(client, _messages(args.system, prompt), output)
        _save(client, path)
    return 0


def models(args: argparse.Namespace, output: Output) -> int:
    """``sansio-chat models``: providers, models and aliases (``--live``: the service's)."""
    if getattr(args, "live", False):
        return _live_models(args, output)
    for name in providers.names():
        provider = providers.get(name)
        if output.as_json:
            output.json_line(
                {
                    "name": name,
                    "label": provider.label,
                    "url": provider.url,
                    "working": provider.working,
                    "default_model": provider.default_model,
                    "models": list(provider.models),
                    "aliases": dict(provider.model_aliases),
                }
            )
            continue
        state = "working" if provider.working else "not working (use the emulator)"
        output.out.write(f"{name}: {provider.label} <{provider.url}>, {state}\n")
        for model in provider.models:
            mark = "  (default)" if model == provider.default_model else ""
            output.out.write(f"  {model}{mark}\n")
        for alias, model in provider.model_aliases.items():
            output.out.write(f"  alias {alias} -> {model}\n")
    return 0


def _live_models(args: argparse.Namespace, output: Output) -> int:
    client = _new_client(args, None)
    with client:
        fetch = getattr(client, "models", None)
        if fetch is None:
            raise Failure(
                "--live is not supported by this version of the client", EXIT_CODES["usage"]
            )
        listing = fetch(live=True)
    for entry in listing:
        values = entry if isinstance(entry, dict) else _as_dict(entry)
        if output.as_json:
            output.json_line(values)
        else:
            flags = ", ".join(f"{k}={v}" for k, v in values.items() if k not in ("id", "model"))
            ident = values.get("id") or values.get("model") or values
            output.out.write(f"{client.provider}/{ident}{'  ' + flags if flags else ''}\n")
    return 0


def _as_dict(entry: object) -> dict[str, Any]:
    import dataclasses

    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return {k: v for k, v in dataclasses.asdict(entry).items() if _jsonable(v)}
    return {"id": str(entry)}


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def conversations(args: argparse.Namespace, output: Output) -> int:
    """``sansio-chat conversations``: the saved conversations, newest first."""
    entries = _store.listing()
    if output.as_json:
        for entry in entries:
            output.json_line(
                {
                    "id": entry.id,
                    "date": entry.date,
                    "provider": entry.provider,
                    "model": entry.model,
                    "turns": entry.turns,
                    "first_words": entry.first_words,
                    "path": str(entry.path),
                }
            )
        return 0
    if not entries:
        output.err.write(f"sansio-chat: no saved conversations in {_store.conversations_dir()}\n")
        return 0
    for entry in entries[: args.limit] if args.limit else entries:
        output.out.write(
            f"{entry.id}  {entry.date}  {entry.provider}/{entry.model}  "
            f"{entry.turns} turn{'s' if entry.turns != 1 else ''}  {entry.first_words}\n"
        )
    return 0


def _demo_dialect(args: argparse.Namespace) -> tuple[str, str]:
    """The demo's dialect, and a note when it falls back from 2026."""
    if args.dialect is not None:
        return str(args.dialect), ""
    import importlib.util

    if importlib.util.find_spec("py_mini_racer") is None:
        return "2025-03", ' (dialect 2026 needs the js extra: pip install -e ".[js]")'
    if not _accepted("dialect"):
        return "2025-03", ""
    return "2026", ""


def demo(args: argparse.Namespace, output: Output) -> int:
    """``sansio-chat demo``: one turn against an in-process emulator (no network)."""
    from sansio_chat.adapters.emulator import serve_emulator

    from sansio_chat.emulator import EmulatorConfig

    dialect, note = _demo_dialect(args)
    if _accepted("dialect"):
        args.dialect = dialect  # the client speaks what the emulator speaks
    config = EmulatorConfig(seed=args.seed, delay=args.delay, dialect=dialect)
    with serve_emulator(config) as server:
        if not output.as_json:
            output.err.write(
                f"sansio-chat demo: emulator on {server.base_url} "
                f"(dialect {dialect}, no network){note}\n"
                f"you> {args.prompt}\n"
            )
            output.err.flush()
        status = ask(args, output, server.base_url)
        if not output.as_json:
            output.err.write(
                "sansio-chat demo: that reply is the emulator's filler text (seeded words, "
                "not a model's answer); the real service answers with "
                '`sansio-chat ask "…"`\n'
            )
        return status
