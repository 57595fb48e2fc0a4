"""Issue 17: what a terminal shows. Markdown rendered as the reply streams (plain on a pipe or
with --plain), a spinner or countdown on stderr while waiting (nothing on a pipe, nothing with
--quiet), retries worded as progress."""

from __future__ import annotations

import io
import os
import re
import sys
import time

import pytest
from sansio_chat.adapters.cli._output import MARKDOWN_LIMIT, Output

from sansio_chat import Finished, RateLimited, TokenEvent

MARKDOWN = "Some **bold** text and `code`:\n\n- first item\n- second item\n"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _stream(output: Output, text: str) -> None:
    for piece in (text[i : i + 5] for i in range(0, len(text), 5)):
        output.event(TokenEvent(text=piece))
    output.event(Finished(reason="stop"))


def test_a_terminal_gets_the_reply_rendered_as_markdown() -> None:
    out, err = Terminal(), Terminal()
    output = Output(False, out, err, markdown=True)
    output.start("ddg", "gpt-5.4-mini")
    _stream(output, MARKDOWN)
    shown = out.getvalue()
    plain = ANSI.sub("", shown)
    assert "\x1b[1m" in shown  # bold is drawn, not spelled
    assert "**bold**" not in plain
    assert "`code`" not in plain
    assert "bold" in plain
    assert "•" in plain  # list items as bullets
    assert "first item" in plain


def test_a_pipe_or_plain_gets_the_text_as_it_came() -> None:
    out, err = io.StringIO(), io.StringIO()
    output = Output(False, out, err, markdown=False)
    output.start("ddg", "gpt-5.4-mini")
    _stream(output, MARKDOWN)
    assert out.getvalue().rstrip("\n") == MARKDOWN.rstrip("\n")  # the text, then a line end
    assert err.getvalue() == ""  # no spinner on a pipe


def _drawn(err: Terminal, wanted: str = "") -> str:
    """stderr once the spinner's thread has drawn ``wanted`` (it redraws every 0.1 s)."""
    for _ in range(1000):  # up to 10 s for a loaded machine; no timing is asserted
        if err.getvalue() and wanted in err.getvalue():
            break
        time.sleep(0.01)
    return err.getvalue()


def test_a_terminal_shows_a_spinner_while_waiting_and_erases_it_for_the_reply() -> None:
    out, err = Terminal(), Terminal()
    output = Output(False, out, err)
    output.start("ddg", "gpt-5.4-mini")
    drawn = _drawn(err)
    assert "waiting for ddg (gpt-5.4-mini)" in drawn
    assert re.search(r"\d+\.\d s", drawn)
    output.event(TokenEvent(text="hello"))
    assert err.getvalue().endswith("\r\x1b[K")  # erased before the reply
    output.event(Finished(reason="stop"))
    assert out.getvalue().startswith("hello")


def test_a_retry_is_a_countdown_on_a_terminal_and_progress_words_on_a_pipe() -> None:
    out, err = Terminal(), Terminal()
    output = Output(False, out, err)
    output.start("ddg", None)
    output.event(RateLimited(delay=7.4, attempt=1, status=429, reason="ERR_RATE_LIMIT"))
    drawn = _drawn(err, "trying again")
    assert "trying again in 7.4 s" in drawn
    output.end_line()
    assert re.search(r"\d+\.\d s left", err.getvalue())

    pipe_err = io.StringIO()
    piped = Output(False, io.StringIO(), pipe_err)
    piped.event(RateLimited(delay=7.4, attempt=1, status=429, reason="ERR_RATE_LIMIT"))
    note = pipe_err.getvalue()
    assert note == (
        "sansio-chat: the service is busy (HTTP 429 ERR_RATE_LIMIT); "
        "trying again in 7.4 s (retry 1)\n"
    )
    assert "error" not in note


def test_quiet_shows_nothing_on_stderr() -> None:
    out, err = Terminal(), Terminal()
    output = Output(False, out, err, quiet=True)
    output.start("ddg", "gpt-5.4-mini")
    output.event(RateLimited(delay=1.0, attempt=1, status=429, reason=""))
    _stream(output, "hi")
    assert err.getvalue() == ""
    assert out.getvalue().startswith("hi")


def test_a_long_reply_renders_as_markdown_up_to_the_limit_then_streams_plain() -> None:
    out, err = Terminal(), Terminal()
    output = Output(False, out, err, markdown=True)
    output.start("ddg", "gpt-5.4-mini")
    head = "**bold** words " * (MARKDOWN_LIMIT // 15 + 1)  # just past the limit
    for piece in (head[i : i + 100] for i in range(0, len(head), 100)):
        output.event(TokenEvent(text=piece))
    tail = "and **the rest** as it came"
    output.event(TokenEvent(text=tail))
    output.event(Finished(reason="stop"))
    shown = out.getvalue()
    assert "\x1b[1m" in shown  # the head was drawn as Markdown
    assert shown.endswith(tail + "\n")  # the rest spelled, not rendered
    # The next turn starts in Markdown again.
    output.start("ddg", "gpt-5.4-mini")
    _stream(output, MARKDOWN)
    assert "**bold**" not in ANSI.sub("", out.getvalue()[len(shown) :])


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal (termios)")
def test_the_terminal_does_not_echo_ctrl_c_while_the_reply_renders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The ^C echo would shift rich's live display by a line and leave the frame twice.
    import termios

    leader, follower = os.openpty()

    def echo_of_ctrl() -> int:
        return int(termios.tcgetattr(follower)[3] & termios.ECHOCTL)

    with open(follower, closefd=True) as terminal:
        monkeypatch.setattr(sys, "stdin", terminal)
        attributes = termios.tcgetattr(follower)
        attributes[3] |= termios.ECHOCTL
        termios.tcsetattr(follower, termios.TCSANOW, attributes)
        assert echo_of_ctrl()
        out, err = Terminal(), Terminal()
        output = Output(False, out, err, markdown=True)
        output.start("ddg", "gpt-5.4-mini")
        output.event(TokenEvent(text="partial"))
        assert not echo_of_ctrl()  # while the reply renders
        output.end_line()  # as after Ctrl-C
        assert echo_of_ctrl()  # the terminal as it was
    os.close(leader)
