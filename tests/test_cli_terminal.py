"""``sansio-chat chat`` in a real pseudo-terminal (pexpect), as a user types it."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect  # type: ignore[import-untyped]
import pytest

from fixtures_emulator import EmulatorHandle

UP, LEFT = "\x1b[A", "\x1b[D"


def _spawn(emulator: EmulatorHandle, data_dir: Path, *extra: str) -> pexpect.spawn:
    env = {
        "SANSIO_CHAT_DATA_DIR": str(data_dir),
        "PATH": "/usr/bin:/bin",
        "TERM": "xterm",
        "NO_COLOR": "1",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "sansio_chat.adapters.cli",
            "chat",
            "--base-url",
            emulator.base_url,
            "--min-interval",
            "0",
            "--plain",
            *extra,
        ],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )
    child.expect("/help for commands")  # the banner
    child.expect_exact("you>")
    return child


def _leave(child: pexpect.spawn) -> None:
    """Ctrl-D at the prompt: the chat ends, with status 0."""
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def _saved(data_dir: Path) -> dict[str, object]:
    files = sorted((data_dir / "conversations").glob("*.json"))
    assert len(files) == 1, files
    loaded: dict[str, object] = json.loads(files[0].read_text(encoding="utf-8"))
    return loaded


def test_a_terminal_session(emulator: EmulatorHandle, tmp_path: Path) -> None:
    child = _spawn(emulator, tmp_path)
    # Arrow-key editing: type "hllo", go left three times, insert the missing "e".
    child.send("hllo" + LEFT * 3 + "e\r")
    child.expect_exact(emulator.expected_reply("hello"))
    child.expect_exact("you>")
    # /help is answered here, never sent.
    child.sendline("/help")
    child.expect_exact("/retry")
    child.expect_exact("you>")
    # /model shows, then switches (as the gateway spells it).
    child.sendline("/model")
    child.expect_exact("ddg · gpt-4o-mini")
    child.sendline("/model ddg/o3-mini")
    child.expect_exact("model ddg · o3-mini")
    child.expect_exact("you>")
    # /system goes with the next turn.
    child.sendline("/system be brief")
    child.expect_exact("system prompt set")
    child.expect_exact("you>")
    child.sendline("again")
    child.expect_exact(emulator.expected_reply("again")[:20])
    child.expect_exact("you>")
    # History: Up brings back "again"; /retry replaces the last reply.
    child.send(UP)
    child.expect_exact("again")
    child.send("\x15")  # Ctrl-U: clear the line
    child.sendline("/retry")
    child.expect_exact(emulator.expected_reply("again")[:20])
    child.expect_exact("you>")
    # Ctrl-C mid-reply: the reply stops, the turn is not kept, the prompt comes back.
    emulator.control.configure(delay=0.3, reply_tokens=40)
    child.sendline("slow")
    child.expect_exact(emulator.expected_reply("slow").split()[0])  # the reply has begun
    child.sendintr()
    child.expect_exact("reply interrupted; this turn is not kept")
    child.expect_exact("you>")
    # Ctrl-C at an empty prompt leaves, with status 0.
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    saved = _saved(tmp_path)
    messages = saved["messages"]
    assert isinstance(messages, list)
    contents = [(m["role"], m["content"]) for m in messages]
    assert ("user", "/help") not in contents
    assert [c for r, c in contents if r == "user"] == [
        "hello",
        "again",
    ]  # retried once, "slow" dropped
    assert ("system", "be brief") in contents
    assert saved["model"] == "o3-mini"


def test_ctrl_d_leaves_and_a_line_with_text_is_dropped_by_ctrl_c(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    child = _spawn(emulator, tmp_path, "--no-save")
    child.send("never sent")
    child.sendintr()  # a line with text: dropped, as a shell does (the prompt stays)
    child.sendeof()  # so Ctrl-D finds an empty line and leaves
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert emulator.control.requests_to("ddg") == []
    assert not (tmp_path / "conversations").exists()


def test_multi_line_input_with_escape_enter(emulator: EmulatorHandle, tmp_path: Path) -> None:
    child = _spawn(emulator, tmp_path)
    child.send("line one\x1b\rline two\r")
    child.expect_exact(emulator.expected_reply("line one\nline two")[:20])
    child.expect_exact("you>")
    child.sendeof()
    child.expect(pexpect.EOF)
    messages = _saved(tmp_path)["messages"]
    assert isinstance(messages, list)
    user = [m["content"] for m in messages if m["role"] == "user"]
    assert user == ["line one\nline two"]


@pytest.mark.parametrize("lines", [["one", "two"]])
def test_the_history_file_persists(
    emulator: EmulatorHandle, tmp_path: Path, lines: list[str]
) -> None:
    child = _spawn(emulator, tmp_path, "--no-save")
    for line in lines:
        child.sendline(line)
        # The reply first: the redrawn input line also shows "you>", and keys typed while a
        # reply streams are not the prompt's.
        child.expect_exact(emulator.expected_reply(line))
        child.expect_exact("you>")
    child.sendeof()
    child.expect(pexpect.EOF)
    child = _spawn(emulator, tmp_path, "--no-save")
    child.send(UP)
    child.expect_exact(lines[-1])
    child.send("\x15")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert lines[-1] in (tmp_path / "history").read_text(encoding="utf-8")


def _endpoints(emulator: EmulatorHandle, start: int = 0) -> list[str]:
    return [exchange.endpoint for exchange in emulator.control.exchanges[start:]]


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_page_loads_while_the_first_prompt_is_typed(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    child = _spawn(emulator, tmp_path, "--no-save")
    # Nothing typed yet: the era's status call and its page go out, no chat request.
    _wait_for(lambda: _endpoints(emulator) == ["status", "page"])
    child.sendline("hello")
    child.expect_exact(emulator.expected_reply("hello"))
    child.expect_exact("you>")
    assert _endpoints(emulator) == ["status", "page", "status", "ddg"]
    _leave(child)


def test_a_slow_page_neither_delays_leaving_nor_loses_the_first_turn(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    emulator.fault("stall:3:head@page")
    child = _spawn(emulator, tmp_path, "--no-save")
    _wait_for(lambda: "page" in _endpoints(emulator))
    started = time.monotonic()
    child.sendeof()  # leaving does not wait for the page
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert time.monotonic() - started < 2.5
    # A first prompt typed while the page stalls waits for it, then is answered.
    emulator.fault("stall:1:head@page")
    child = _spawn(emulator, tmp_path, "--no-save")
    child.sendline("hello")
    child.expect_exact(emulator.expected_reply("hello"))
    child.expect_exact("you>")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert emulator.control.requests_to("ddg") != []


def test_a_failed_page_load_is_the_first_turn_s_to_report(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    emulator.fault("http:503@page")  # the ahead-of-time load fails, the turn loads it again
    child = _spawn(emulator, tmp_path, "--no-save", "--debug")
    _wait_for(lambda: ("page", 503) in [(e.endpoint, e.status) for e in emulator.control.exchanges])
    child.sendline("hello")
    child.expect_exact("loading the page ahead failed")
    child.expect_exact(emulator.expected_reply("hello"))
    child.expect_exact("you>")
    child.sendeof()
    child.expect(pexpect.EOF)


@pytest.mark.parametrize("emulator_config", [{"dialect": "2026"}], indirect=True)
def test_a_model_the_learnt_era_refuses_is_an_error_line_not_the_end(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    child = _spawn(emulator, tmp_path, "--no-save")
    _wait_for(lambda: _endpoints(emulator) == ["status", "page"])  # the era is 2026 now
    child.sendline("/model gpt-4o-mini")  # a seed-era id, which 2026 refuses
    child.expect_exact("not supported")
    child.expect_exact("you>")
    child.sendline("hello")
    child.expect_exact(emulator.expected_reply("hello"))
    child.expect_exact("you>")
    _leave(child)


def test_ctrl_c_while_the_first_prompt_waits_for_the_page_keeps_one_call_at_a_time(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    emulator.fault("stall:3:head@page")
    child = _spawn(emulator, tmp_path, "--no-save")
    _wait_for(lambda: "page" in _endpoints(emulator))
    child.sendline("hello")  # waits for the page
    time.sleep(0.5)
    child.sendintr()
    child.expect_exact("not kept")
    child.expect_exact("you>")
    child.sendline("/retry")  # waits for the page again: it is still the one call under way
    child.expect_exact(emulator.expected_reply("hello"))
    child.expect_exact("you>")
    assert _endpoints(emulator) == ["status", "page", "status", "ddg"]
    child.sendeof()
    child.expect(pexpect.EOF)
