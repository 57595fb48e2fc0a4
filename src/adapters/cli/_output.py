"""How the command reports: exit statuses, the reply (plain, Markdown or JSON lines), progress
on stderr, and one-line errors in the user's words."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from sansio_chat import Event

__all__ = [
    "EXIT_CODES",
    "Failure",
    "Output",
    "Progress",
    "exit_status",
    "report",
    "user_words",
]

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
"""The exit status of each outcome (see the package docstring)."""


class Failure(Exception):
    """A failure outside the protocol (a file), reported as one line with its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def exit_status(error: BaseException) -> int:
    """The exit status for ``error`` (the table in the package docstring)."""
    from sansio_chat import (
        LocalProtocolError,
        RemoteProtocolError,
        ServiceRefusal,
        TransportError,
    )

    if isinstance(error, Failure):
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


# The library names its parameters; the user typed flags.
_FLAGS = {
    "base_url": "--base-url",
    "min_interval": "--min-interval",
    "max_retries": "--max-retries",
    "max_reply_chars": "--max-reply-chars",
    "proxy": "--proxy",
    "model": "--model",
    "provider": "--provider",
    "dialect": "--dialect",
    "solver": "--solver",
}
_PARAMETER = re.compile(r"(?<![\w.])(" + "|".join(_FLAGS) + r") (must|is|should|cannot|needs)\b")
# The library's limit as the command spells it (the option sets it; its default is the
# library's).
_REPLY_LIMIT = "Limits.max_reply_chars"


def user_words(error: BaseException) -> tuple[str, str]:
    """``(kind, message)`` for the one line the user sees: flags instead of parameter names,
    a hint where one helps."""
    from sansio_chat import ConversationLimitError, HTTPStatusError

    message = _PARAMETER.sub(lambda m: f"{_FLAGS[m.group(1)]} {m.group(2)}", str(error))
    message = message.replace(_REPLY_LIMIT, "--max-reply-chars")
    kind = {EXIT_CODES["refused"]: "refused", EXIT_CODES["error"]: "failed"}.get(
        exit_status(error), "error"
    )
    if isinstance(error, HTTPStatusError):
        if error.status >= 500:
            return "server error", message
        if error.status == 404:
            message += (
                " (nothing there: is --base-url right? it must be the service's root, "
                "e.g. http://127.0.0.1:8765 for the emulator)"
            )
    if isinstance(error, ConversationLimitError):
        # The library's words already say to start a new one; this says how.
        message += f" ({NEW_CONVERSATION_HOW})"
    return kind, message


# What a reply that ended at one of the service's quotas (dialect 2026) tells the user.
_QUOTAS = {
    "account_limit": "this account's usage limit is reached ([LIMIT_ACCOUNT])",
    "entity_limit": "a usage limit is reached ([LIMIT_ENTITY])",
    "image_limit": "the image generation limit is reached ([LIMIT_IMAGE_GENERATIONS])",
}
NEW_CONVERSATION_HOW = "/new in chat, or run without -c/--conversation"
NEW_CONVERSATION_HINT = f"start a new conversation: {NEW_CONVERSATION_HOW}"


_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """A spinner or countdown on stderr while nothing else shows (pacing, back-off, the wait
    for the first token). Draws only on a terminal; a thread redraws it every 0.1 s."""

    def __init__(self, err: TextIO, enabled: bool) -> None:
        self.err, self.enabled = err, enabled
        self._label = ""
        self._until: float | None = None
        self._started = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def show(self, label: str, countdown: float | None = None) -> None:
        """Show ``label`` with the seconds waited so far, or left of ``countdown``."""
        if not self.enabled:
            return
        with self._lock:
            self._label = label
            self._started = time.monotonic()
            self._until = None if countdown is None else self._started + countdown
        if self._thread is None:
            self._wake.clear()
            self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
            self._thread.start()

    def clear(self) -> None:
        """Stop and erase the line (before the reply prints)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._wake.set()
            thread.join()
        if self._drawn:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._drawn = False

    def _run(self) -> None:
        frame = 0
        while not self._wake.is_set():
            with self._lock:
                now = time.monotonic()
                if self._until is None:
                    figure = f"{now - self._started:4.1f} s"
                else:
                    figure = f"{max(0.0, self._until - now):4.1f} s left"
                line = f"{_FRAMES[frame % len(_FRAMES)]} {self._label} {figure}"
            try:
                self.err.write(f"\r\x1b[K{line}")
                self.err.flush()
                self._drawn = True
            except (OSError, ValueError):
                return
            frame += 1
            self._wake.wait(0.1)


# A reply longer than this renders as Markdown up to here and streams on as plain text:
# rich re-renders the whole text at each refresh, so the cost of a refresh grows with it.
MARKDOWN_LIMIT = 50_000


def _no_interrupt_echo() -> Callable[[], None]:
    """Stop the terminal on stdin echoing ``^C`` (ECHOCTL) until the returned undo is called.

    The echo lands in rich's live display, which then redraws one line too low and leaves the
    reply's last frame twice on the screen when Ctrl-C stops it.
    """
    try:
        import termios

        fd = sys.stdin.fileno()
        if not os.isatty(fd):
            return _nothing
        before = termios.tcgetattr(fd)
        quiet = list(before)
        quiet[3] &= ~termios.ECHOCTL
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
    except (ImportError, AttributeError, OSError, ValueError):  # no termios, no real stdin
        return _nothing
    return lambda: termios.tcsetattr(fd, termios.TCSANOW, before)


def _nothing() -> None:
    pass


class _LiveMarkdown:
    """The reply rendered as Markdown while it streams (rich's Live display on stdout)."""

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console, ConsoleOptions, RenderResult
        from rich.live import Live
        from rich.markdown import Markdown

        self.parts: list[str] = []
        self.size = 0
        owner = self

        class _Reply:  # rebuilt from the text at each refresh, not at each token
            def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
                yield Markdown(owner.text())

        self.console = Console(file=out)
        self.live = Live(
            _Reply(),
            console=self.console,
            refresh_per_second=12,
            vertical_overflow="visible",
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._restore_echo = _no_interrupt_echo()
        self.live.start()

    def add(self, text: str) -> None:
        self.parts.append(text)  # joined at a refresh: appending to one str copies it each time
        self.size += len(text)

    def text(self) -> str:
        """The reply so far."""
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def stop(self) -> None:
        try:
            self.live.stop()
        finally:
            self._restore_echo()


class Output:
    """Writes a turn: the reply as it streams (plain or Markdown), or one JSON object per
    line; progress and retry notes on stderr."""

    def __init__(
        self,
        as_json: bool,
        out: TextIO,
        err: TextIO,
        *,
        markdown: bool = False,
        quiet: bool = False,
    ) -> None:
        self.as_json, self.out, self.err = as_json, out, err
        self.markdown = markdown and not as_json
        self._markdown_now = self.markdown  # off for the rest of a turn past MARKDOWN_LIMIT
        self.quiet = quiet
        self.open_line = False
        self.progress = Progress(err, enabled=not quiet and not as_json and _isatty(err))
        self._live: _LiveMarkdown | None = None
        self.provider = ""
        self.model: str | None = None

    def start(self, provider: str, model: str | None) -> None:
        """A turn begins: announce it (JSON) and show the wait (``model`` ``None``: the
        service's era decides it; the ``finished`` event names it)."""
        self.provider, self.model = provider, model
        self._markdown_now = self.markdown
        if self.as_json:
            self.json_line({"type": "start", "provider": provider, "model": model})
        self.progress.show(f"waiting for {provider}" + (f" ({model})" if model else ""))

    def event(self, event: Event) -> None:
        """Show one event of the turn."""
        from sansio_chat import Finished, RateLimited, TokenEvent

        if self.as_json:
            from ._json_events import event_json

            line = event_json(event)
            if isinstance(event, Finished):
                line.update(provider=self.provider, model=self.model)
            self.json_line(line)
            return
        if isinstance(event, TokenEvent):
            self.progress.clear()
            if self._markdown_now:
                if self._live is None:
                    self._live = _LiveMarkdown(self.out)
                self._live.add(event.text)
                if self._live.size > MARKDOWN_LIMIT:
                    self.end_line()  # the Markdown so far stays; the rest goes on plain
                    self._markdown_now = False
            else:
                self.out.write(event.text)
                self.out.flush()
                self.open_line = True
        elif isinstance(event, RateLimited):
            reason = f" {event.reason}" if event.reason else ""
            note = (
                f"the service is busy (HTTP {event.status}{reason}); "
                f"trying again in {event.delay:.1f} s (retry {event.attempt})"
            )
            if self.progress.enabled:
                self.progress.show(note, countdown=event.delay)
            elif not self.quiet:
                self.err.write(f"sansio-chat: {note}\n")
                self.err.flush()
        elif isinstance(event, Finished):
            self.end_line()
            if event.reason == "conversation_limit":
                self.err.write(
                    f"sansio-chat: the service ended this conversation; {NEW_CONVERSATION_HINT}\n"
                )
            elif event.reason in _QUOTAS:
                self.err.write(f"sansio-chat: the service says {_QUOTAS[event.reason]}\n")

    def end_line(self) -> None:
        """Finish the reply's line (and the Markdown display)."""
        self.progress.clear()
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()
            self.open_line = False
        if self.open_line:
            self.out.write("\n")
            self.out.flush()
            self.open_line = False

    def error(self, error: BaseException, status: int) -> None:
        """End the reply; with ``--json``, print the error as an event."""
        self.end_line()
        if self.as_json:
            self.json_line(
                {
                    "type": "error",
                    "error": type(error).__name__,
                    "message": user_words(error)[1],
                    "partial_text": getattr(error, "partial_text", ""),
                    "exit_code": status,
                }
            )

    def json_line(self, value: dict[str, Any]) -> None:
        """Print one JSON object on its own line."""
        self.out.write(json.dumps(value, ensure_ascii=False) + "\n")
        self.out.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def report(error: BaseException, output: Output, debug: bool) -> int:
    """Print ``error`` as one line on stderr (``debug``: with the traceback); its status."""
    status = exit_status(error)
    output.error(error, status)
    if debug:
        import traceback

        traceback.print_exception(error, file=output.err)
    kind, message = user_words(error)
    output.err.write(f"sansio-chat: {kind}: {message}\n")
    output.err.flush()
    return status


def stdin_is_terminal() -> bool:
    """Whether stdin is a terminal (then it is not read as part of the prompt)."""
    return _isatty(sys.stdin)
