"""``sansio-chat chat``: the line editor, the slash commands and the turns between them.

Interactive (stdin a terminal): prompt_toolkit with a history file in the data directory;
Ctrl-C during a reply lands in the turn as ``KeyboardInterrupt`` (the synchronous client
leaves the conversation as it was); Ctrl-C or Ctrl-D at an empty prompt ends the chat. While
the first prompt is typed, a thread runs the client's ``prepare()`` (DuckDuckGo's page, as a
browser loads duck.ai when it is opened), so the first turn is the status call and the chat
request. On a pipe, each line of stdin is a turn.
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sansio_chat import Conversation, SansioChatError

from . import _store
from ._commands import (
    _messages,
    _new_client,
    _save,
    _save_path,
    _turn,
    model_of,
)
from ._model_names import resolve_model
from ._output import Failure, Output, _isatty, report

if TYPE_CHECKING:
    from sansio_chat.adapters.httpx import ChatClient

__all__ = ["HELP", "chat"]

_ERA_DEFAULT = "the era's default model"


@dataclass
class _Chat:
    """The state of a ``chat`` session between turns."""

    args: argparse.Namespace
    output: Output
    client: ChatClient
    path: Path | None
    system: str | None
    last_prompt: str | None = None
    # Whether the last prompt's turn is the conversation's last committed turn (so /retry
    # steps back over it); whether its latest try failed; and the exit status from before
    # its first failed try (a retry that succeeds takes the failure back).
    last_kept: bool = False
    last_failed: bool = False
    status_before_failure: int = 0
    status: int = 0
    notes: list[str] = field(default_factory=list)
    # Set when the background prepare() has ended (an Event, not Thread.join: a join that
    # Ctrl-C interrupts can leave the thread looking finished while it still runs).
    prepared: threading.Event | None = None
    preparation_error: SansioChatError | None = None

    def prepare_in_background(self) -> None:
        """Run ``client.prepare()`` in a thread while the user types the first prompt."""
        self.prepared = threading.Event()
        worker = threading.Thread(
            target=self._prepare,
            args=(self.client, self.prepared),
            name="sansio-chat-prepare",
            daemon=True,
        )
        worker.start()

    def _prepare(self, client: ChatClient, done: threading.Event) -> None:
        try:
            client.prepare()
        except SansioChatError as error:
            # The first turn does the same work again and reports what fails then.
            self.preparation_error = error
        finally:
            done.set()

    def settle_preparation(self) -> None:
        """Wait for the background ``prepare()``: the client takes one call at a time.
        Ctrl-C interrupts the wait (``KeyboardInterrupt``); the next call waits again."""
        if self.prepared is None:
            return
        if not self.prepared.is_set():
            self.output.progress.show(f"waiting for {self.client.provider}")
            try:
                self.prepared.wait()
            finally:
                self.output.progress.clear()
        self.prepared = None
        if self.preparation_error is not None and self.args.debug:
            self.say(f"sansio-chat: loading the page ahead failed: {self.preparation_error}")

    def say(self, text: str) -> None:
        self.output.err.write(f"{text}\n")
        self.output.err.flush()

    def banner(self) -> str:
        where = str(self.path) if self.path is not None else "not saved (--no-save)"
        return (
            f"sansio-chat · {self.client.provider} · "
            f"{model_of(self.client, self.args) or _ERA_DEFAULT} · "
            f"{where} · /help for commands, Ctrl-D to quit"
        )

    def run_turn(self, prompt: str, *, again: bool = False) -> bool:
        """One turn of ``prompt`` (``again``: a /retry of it); whether it was kept."""
        messages = _messages(self.system, prompt)
        if not (again and self.last_failed):
            self.status_before_failure = self.status
        self.last_prompt = prompt
        self.last_kept, self.last_failed = False, True
        try:
            self.settle_preparation()
            _turn(self.client, messages, self.output, self.args)
        except KeyboardInterrupt:
            self.say(
                "sansio-chat: reply interrupted; this turn is not kept (/retry sends it again)"
            )
            return False
        except SansioChatError as error:
            self.status = report(error, self.output, self.args.debug)
            return False
        self.last_kept, self.last_failed = True, False
        if again:
            self.status = self.status_before_failure
        self.system = None  # sent once: it is part of the conversation now
        _save(self.client, self.path)
        return True

    def command(self, line: str) -> bool:
        """Run a slash command; ``False`` to leave the chat."""
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        if name in ("/exit", "/quit"):
            return False
        try:
            self.settle_preparation()
        except KeyboardInterrupt:
            self.say(f"sansio-chat: {name} interrupted")
            return True
        if name == "/help":
            self.say(HELP)
        elif name == "/new":
            path = self.path
            if path is not None:
                # A new file in the data directory, even after --conversation FILE: that
                # file keeps the conversation it holds.
                path = _store.new_path()
                problem = _store.check_writable(path)
                if problem is not None:
                    self.say(f"sansio-chat: cannot start a new conversation in {path}: {problem}")
                    return True
            self.client.new_conversation()
            self.last_prompt, self.last_kept, self.last_failed = None, False, False
            self.path = path
            _save(self.client, self.path)
            self.say(f"sansio-chat: new conversation ({self.path or 'not saved'})")
        elif name == "/model":
            self.switch_model(rest)
        elif name == "/system":
            self.system = rest or None  # sent with the next turn
            self.say(f"sansio-chat: system prompt {'set for the next turn' if rest else 'cleared'}")
        elif name == "/save":
            if not rest:
                self.say("sansio-chat: /save FILE")
            else:
                target = Path(rest).expanduser()
                problem = _store.check_writable(target)
                if problem is not None:
                    self.say(f"sansio-chat: cannot save to {target}: {problem}")
                else:
                    _save(self.client, target)
                    self.say(f"sansio-chat: saved to {target}")
        elif name == "/retry":
            self.retry()
        else:
            self.say(f"sansio-chat: unknown command {name} (/help lists them; // sends a /)")
        return True

    def switch_model(self, requested: str) -> None:
        if not requested:
            self.say(f"sansio-chat: {self.client.provider} · {self.client.conversation.model}")
            return
        try:
            provider, model = resolve_model(
                self.args.provider, requested, getattr(self.args, "dialect", None)
            )
        except Failure as error:
            self.say(f"sansio-chat: {error}")
            return
        conversation: Conversation | None = self.client.conversation
        if provider != self.client.provider:
            assert conversation is not None
            if conversation.messages:
                self.say(
                    f"sansio-chat: {requested} is a {provider} model and this conversation is "
                    f"{self.client.provider}'s; /new first"
                )
                return
            conversation = None
        kept, self.args.provider = self.args.provider, provider
        try:
            client = _new_client(self.args, conversation, model=model)
        except (Failure, SansioChatError) as error:
            # A model the conversation's era refuses, say: the chat goes on with the old one.
            self.args.provider = kept
            self.say(f"sansio-chat: {error}")
            return
        self.client.close()
        self.client = client
        self.say(f"sansio-chat: model {client.provider} · {model}")

    def retry(self) -> None:
        """Ask the last prompt again: in place of its reply when that turn was kept, else
        (it failed or was interrupted) as the next turn."""
        prompt = self.last_prompt
        if prompt is None:
            self.say("sansio-chat: nothing to retry yet")
            return
        conversation = self.client.conversation
        messages = conversation.messages
        if not (
            self.last_kept
            and len(messages) >= 2
            and messages[-1].role == "assistant"
            and messages[-2].role == "user"
        ):
            self.run_turn(prompt, again=True)
            return
        # Step back over the kept turn on a new client; the old one (and the conversation
        # as it was) stays until the new reply is kept.
        from dataclasses import replace

        kept = self.client
        self.client = _new_client(self.args, replace(conversation, messages=messages[:-2]))
        if self.run_turn(prompt, again=True):
            kept.close()
        else:
            self.client.close()
            self.client, self.last_kept = kept, True


HELP = """commands (never sent to the model):
  /help           this list
  /model [ID]     show the model, or switch to ID (an id, alias or PROVIDER/MODEL)
  /system TEXT    a system prompt for the next turn (/system alone clears it)
  /new            start a new conversation (in a new file)
  /save FILE      write the conversation to FILE as JSON
  /retry          ask the last prompt again (replacing its reply if it was kept)
  /exit           leave (also Ctrl-D, or Ctrl-C at an empty prompt)
keys: Enter sends; Esc Enter (or Alt-Enter) starts a new line; Up/Down walk the history;
Ctrl-C stops a reply (the turn is not kept); a line that starts with // sends one /"""


def _editor() -> Any:
    """A prompt_toolkit session with the history file and the chat's keys."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("escape", "enter")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    @keys.add("c-c")
    def _interrupt(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.text:
            buffer.reset()  # as a shell does: drop the line, stay
        else:
            event.app.exit(exception=EOFError)

    history_file = _store.history_path()
    try:
        history_file.parent.mkdir(parents=True, exist_ok=True)
        history: Any = FileHistory(str(history_file))
    except OSError:
        history = InMemoryHistory()
    return PromptSession(history=history, key_bindings=keys, multiline=False)


def chat(args: argparse.Namespace, output: Output) -> int:
    """``sansio-chat chat``: a conversation; slash commands are handled here, never sent."""
    interactive = _isatty(sys.stdin)
    path, conversation = _save_path(args)
    state = _Chat(args, output, _new_client(args, conversation), path, args.system)
    editor = _editor() if interactive else None
    if interactive and not args.quiet:
        state.say(state.banner())
    if interactive:
        state.prepare_in_background()
    try:
        while True:
            if editor is not None:
                try:
                    line = editor.prompt("you> ")
                except EOFError:
                    break
                except KeyboardInterrupt:
                    break
            else:
                raw = sys.stdin.readline()
                if not raw:
                    break
                line = raw.rstrip("\n")
            prompt = line.strip()
            if not prompt:
                continue
            if prompt.startswith("/") and not prompt.startswith("//"):
                if not state.command(prompt):
                    break
                continue
            if prompt.startswith("//"):
                prompt = prompt[1:]
            state.run_turn(prompt)
    finally:
        state.client.close()
    return state.status
