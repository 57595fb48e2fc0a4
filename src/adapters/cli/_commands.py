"""The client commands: ``ask``, ``chat``, ``models``, ``conversations`` and ``demo``.

Imported when one of them runs (never for ``--help``). ``ask`` and ``chat`` drive the
synchronous :class:`~sansio_chat.adapters.httpx.ChatClient`: Ctrl-C then lands in the turn
as ``KeyboardInterrupt``, the client leaves the conversation as it was, and the line editor
gets the terminal back.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from sansio_chat import Conversation, LocalProtocolError, providers

from ._model_names import resolve_model
from ._output import EXIT_CODES, Failure, Output, _isatty

if TYPE_CHECKING:
    from pathlib import Path

    from sansio_chat.adapters.httpx import ChatClient

__all__ = [
    "DEMO_PROMPT",
    "ask",
    "conversations",
    "demo",
    "models",
]

DEMO_PROMPT = "Hello! What does sans-IO mean?"


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
    from . import _store  # pathlib, secrets, tempfile: not for `models`

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
        try:
            path = _store.resolve(reference)
        except ValueError as error:
            raise Failure(f"--conversation: {error}", EXIT_CODES["usage"]) from error
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


def _client_options(args: argparse.Namespace, provider: str = "ddg") -> dict[str, Any]:
    """``--dialect`` (``None``: the session discovers the era), ``--solver`` and
    ``--max-reply-chars`` as the client's keyword arguments. The first two are DuckDuckGo's
    (its era, its challenges): another provider's client is not given them, as the
    gateway serves DarkAI's models whatever its ``--dialect``."""
    options: dict[str, Any] = {}
    if getattr(args, "max_reply_chars", None) is not None:
        options["max_reply_chars"] = args.max_reply_chars
    if provider != "ddg":
        return options
    options["dialect"] = getattr(args, "dialect", None)
    if getattr(args, "solver", None) is not None:
        # By name: the client makes the solver on the first script challenge and closes it
        # (a Chromium solver launches a browser, which only a 2026 turn needs).
        options["solver"] = args.solver
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

    provider, model = resolve_model(
        args.provider, model or args.model, getattr(args, "dialect", None)
    )
    served = provider or (conversation.provider if conversation is not None else "ddg")
    options = _client_options(args, served)
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


def model_of(client: ChatClient, args: argparse.Namespace) -> str | None:
    """The conversation's model, or ``None`` while it is the service's to decide: without
    ``--model`` and ``--dialect``, a new DuckDuckGo conversation takes the default model of
    the era the first status reply reveals."""
    conversation = client.conversation
    undecided = (
        client.provider == "ddg"
        and getattr(args, "dialect", None) is None
        and getattr(args, "model", None) is None
        and not conversation.messages
    )
    return None if undecided else conversation.model


def _turn(
    client: ChatClient, messages: Any, output: Output, args: argparse.Namespace | None = None
) -> None:
    from sansio_chat import Finished

    output.start(client.provider, model_of(client, args) if args is not None else None)
    try:
        with client.events(messages) as events:
            for event in events:
                if isinstance(event, Finished):
                    output.model = client.conversation.model  # the model the turn used
                output.event(event)
    finally:
        output.end_line()


def _read_stdin() -> str:
    if _isatty(sys.stdin):
        return ""
    # Bytes where there are any: decoded here, so that text that is not UTF-8 is an error
    # that says so, not an empty prompt or lone surrogates sent on.
    stream: Any = getattr(sys.stdin, "buffer", sys.stdin)
    try:
        data: str | bytes = stream.read()
    except (OSError, ValueError):  # no stdin at all (a closed descriptor, pytest's capture)
        return ""
    if isinstance(data, str):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Failure(
            f"stdin is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
            EXIT_CODES["usage"],
        ) from error
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as a text stream reads it


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
        _turn(client, _messages(args.system, prompt), output, args)
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
    """The list ``GET /duckchat/v1/models`` offers now, with each model's capabilities."""
    import dataclasses

    from sansio_chat import HTTPStatusError

    if args.provider not in (None, "ddg"):
        raise Failure(
            f"--live: provider {args.provider} publishes no model list; "
            "`sansio-chat models` shows the models it takes",
            EXIT_CODES["usage"],
        )
    args.provider = "ddg"
    args.dialect = None  # the list exists in the 2026 era only: always ask for it
    with _new_client(args, None) as client:
        try:
            listing = client.models(live=True)
        except HTTPStatusError as error:
            if error.status not in (404, 405):
                raise
            where = args.base_url or "the service"
            raise Failure(
                f"--live: {where} has no model list (GET /duckchat/v1/models answered HTTP "
                f"{error.status}); a server of an era before 2026 takes the models "
                "`sansio-chat models` shows",
                EXIT_CODES["refused"],
            ) from error
    for info in listing:
        if output.as_json:
            values = dataclasses.asdict(info)
            values["supported_tools"] = list(info.supported_tools)
            output.json_line({"provider": "ddg", **values})
            continue
        flags = [
            "access" if info.has_access else "no access",
            *([f"tier {info.access_tier}"] if info.access_tier else []),
            *(["images"] if info.supports_image_upload else []),
            *([f"tools {','.join(info.supported_tools)}"] if info.supported_tools else []),
        ]
        label = f"{info.name} ({info.provider})" if info.provider else info.name
        output.out.write(f"ddg/{info.id}  {label}  [{'; '.join(flags)}]\n")
    return 0


def conversations(args: argparse.Namespace, output: Output) -> int:
    """``sansio-chat conversations``: the saved conversations, newest first."""
    from . import _store

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


def demo(args: argparse.Namespace, output: Output) -> int:
    """``sansio-chat demo``: one turn against an in-process emulator (no network)."""
    from sansio_chat.adapters.emulator import serve_emulator

    from sansio_chat.emulator import EmulatorConfig

    # Today's flow by default (the script challenge answered by the V8 solver, a default
    # dependency); the emulator speaks the era --dialect names, and the client is pinned to it.
    dialect = args.dialect or "2026"
    args.dialect = dialect
    if dialect == "2026" and args.solver is None:
        args.solver = "v8"
    config = EmulatorConfig(seed=args.seed, delay=args.delay, dialect=dialect)
    with serve_emulator(config) as server:
        if not output.as_json:
            solver = f", script challenges answered by --solver {args.solver}"
            output.err.write(
                f"sansio-chat demo: emulator on {server.base_url} (dialect {dialect}, no "
                f"network){solver if dialect == '2026' else ''}\n"
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
