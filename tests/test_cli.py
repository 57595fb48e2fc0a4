"""The ``sansio-chat`` command, run in-process (and once as a real process) on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sansio_chat.adapters.cli import EXIT_CODES, main

from fixtures_emulator import EmulatorHandle
from sansio_chat import Conversation


def _ask(emulator: EmulatorHandle, *extra: str) -> int:
    return main(["ask", "hello", "--base-url", emulator.base_url, "--min-interval", "0", *extra])


def test_ask_streams_the_reply(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _ask(emulator) == 0
    out, err = capsys.readouterr()
    assert out == emulator.expected_reply("hello") + "\n"
    assert err == ""


def test_ask_json_prints_one_event_per_line(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.control.configure(reply_tokens=4)
    assert _ask(emulator, "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    tokens = [line["text"] for line in lines if line["type"] == "token"]
    assert len(tokens) == 4
    assert "".join(tokens) == emulator.expected_reply("hello")
    # The resolved provider and model open and close the turn (issue 17); with neither
    # --model nor --dialect the model is the default of the era the status reply reveals,
    # so the start leaves it open and the end names it (issue 18).
    assert lines[0] == {"type": "start", "provider": "ddg", "model": None}
    assert lines[-1] == {
        "type": "finished",
        "reason": "stop",
        "provider": "ddg",
        "model": "gpt-4o-mini",
    }
    assert {"type": "vqd_update"} in lines  # announced, its secret value left out


def test_ask_continues_a_conversation_file(
    emulator: EmulatorHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chat.json"
    assert _ask(emulator, "--conversation", str(path)) == 0
    assert main(["ask", "again", "--base-url", emulator.base_url, "--min-interval", "0",
                 "--conversation", str(path)]) == 0  # fmt: skip
    saved = Conversation.from_json(path.read_text(encoding="utf-8"))
    assert [m.content for m in saved.messages][::2] == ["hello", "again"]
    assert len(emulator.control.requests_to("status")) == 1  # the saved token was reused


def test_chat_is_a_multi_turn_repl(
    emulator: EmulatorHandle,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "chat.json"
    monkeypatch.setattr(sys, "stdin", io.StringIO("one\n\ntwo\n/new\nthree\n/exit\nfour\n"))
    argv = ["chat", "--base-url", emulator.base_url, "--min-interval", "0"]
    assert main([*argv, "--conversation", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [emulator.expected_reply(p) for p in ("one", "two", "three")]
    # /new goes on in a new file of the data directory: the file given keeps its turns.
    saved = Conversation.from_json(path.read_text(encoding="utf-8"))
    assert [m.content for m in saved.messages][::2] == ["one", "two"]
    (new_file,) = (Path(os.environ["SANSIO_CHAT_DATA_DIR"]) / "conversations").glob("*.json")
    saved = Conversation.from_json(new_file.read_text(encoding="utf-8"))
    assert [m.content for m in saved.messages][::2] == ["three"]


def test_new_keeps_the_conversation_when_no_new_file_can_be_written(
    emulator: EmulatorHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    monkeypatch.setenv("SANSIO_CHAT_DATA_DIR", str(tmp_path / "a-file" / "data"))
    path = tmp_path / "chat.json"
    status, saved = _chat_turns(emulator, monkeypatch, path, "A\n/new\nB\n")
    assert status == 0
    assert [content for _, content in saved][::2] == ["A", "B"]
    assert "sansio-chat: cannot start a new conversation in " in capsys.readouterr().err


class _Stdin:
    """Lines for ``chat`` on a pipe; ``before`` runs a callback just before a line is read
    (to switch a fault on for the turn that line starts)."""

    def __init__(self, text: str, before: dict[int, Callable[[], None]]) -> None:
        self.lines, self.before, self.lines_read = io.StringIO(text), before, 0

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        self.lines_read += 1
        if self.lines_read in self.before:
            self.before[self.lines_read]()
        return self.lines.readline()


def _chat_turns(
    emulator: EmulatorHandle,
    monkeypatch: pytest.MonkeyPatch,
    path: Path,
    lines: str,
    before: dict[int, Callable[[], None]] | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Run ``chat`` on ``lines``; its exit status and the saved (role, content) pairs."""
    monkeypatch.setattr(sys, "stdin", _Stdin(lines, before or {}))
    argv = ["chat", "--base-url", emulator.base_url, "--min-interval", "0"]
    status = main([*argv, "--conversation", str(path)])
    saved = Conversation.from_json(path.read_text(encoding="utf-8"))
    return status, [(m.role, m.content) for m in saved.messages]


def test_retry_after_a_failed_turn_keeps_the_turn_before_it(
    emulator: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chat.json"
    cut = {2: lambda: emulator.fault("cut")}  # the reply to B is cut; its retry is whole
    status, saved = _chat_turns(emulator, monkeypatch, path, "A\nB\n/retry\n", cut)
    reply = emulator.expected_reply
    assert saved == [("user", "A"), ("assistant", reply("A")), ("user", "B"),
                     ("assistant", reply("B"))]  # fmt: skip
    assert status == 0  # the retry took the failure back


def test_retry_replaces_the_reply_of_a_kept_turn(
    emulator: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chat.json"
    status, saved = _chat_turns(emulator, monkeypatch, path, "A\n/retry\n")
    assert status == 0
    assert saved == [("user", "A"), ("assistant", emulator.expected_reply("A"))]
    assert len(emulator.control.requests_to("ddg")) == 2


def test_a_failed_retry_leaves_the_conversation_as_it_was(
    emulator: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chat.json"
    cut = {2: lambda: emulator.fault("cut")}  # the first /retry's reply is cut
    status, saved = _chat_turns(emulator, monkeypatch, path, "A\n/retry\nB\n", cut)
    reply = emulator.expected_reply
    assert saved == [("user", "A"), ("assistant", reply("A")), ("user", "B"),
                     ("assistant", reply("B"))]  # fmt: skip
    assert status == EXIT_CODES["protocol"]
    # Asked again after its failure, the kept turn is replaced once, not stepped over twice.
    path.unlink()
    status, saved = _chat_turns(emulator, monkeypatch, path, "A\n/retry\n/retry\n", cut)
    assert saved == [("user", "A"), ("assistant", reply("A"))]
    assert status == 0


def test_an_ambiguous_id_prefix_is_a_usage_error(
    emulator: EmulatorHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = Path(os.environ["SANSIO_CHAT_DATA_DIR"]) / "conversations"
    folder.mkdir(parents=True)
    for name in ("20261205-061336-aaaa", "20261205-061337-bbbb"):
        (folder / f"{name}.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert _ask(emulator, "--conversation", "20261205-0613") == EXIT_CODES["usage"]
    err = capsys.readouterr().err
    assert "20261205-061336-aaaa, 20261205-061337-bbbb" in err
    assert list(tmp_path.iterdir()) == []  # no file named after the prefix
    assert emulator.control.requests_to("ddg") == []


def test_chat_reports_a_failed_turn_and_goes_on(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.fault("http:500")
    monkeypatch.setattr(sys, "stdin", io.StringIO("one\ntwo\n"))
    assert main(["chat", "--base-url", emulator.base_url, "--min-interval", "0"]) == 3
    out, err = capsys.readouterr()
    assert out == emulator.expected_reply("two") + "\n"
    assert err.startswith("sansio-chat: server error: HTTP 500")  # issue 17: says "server"


def test_models_lists_providers_models_and_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "ddg: DuckDuckGo AI Chat" in out
    assert "  gpt-5.4-mini  (default)\n" in out
    assert "  alias claude -> claude-haiku-4-5\n" in out
    assert main(["models", "--json"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["name"] for entry in entries] == ["ddg", "darkai"]
    assert entries[1]["working"] is False


FAILURES = [
    # (fault switch, extra options, exit status, the start of the stderr line)
    ("429:ERR_CONVERSATION_LIMIT", [], 3, "sansio-chat: refused: the service refuses"),
    ("http:503", [], 3, "sansio-chat: server error: HTTP 503"),
    ("malformed", [], 5, "sansio-chat: error: stream event data is not JSON"),
    ("cut", [], 5, "sansio-chat: error: the reply ended before"),
    ("reset", [], 4, "sansio-chat: error: connection broken (http://127.0.0.1:"),
    ("stall:5", ["--timeout", "0.3"], 4, "sansio-chat: error: read timeout (http://127.0.0.1:"),
]


@pytest.mark.parametrize(("fault", "extra", "status", "line"), FAILURES)
def test_failures_have_distinct_exit_codes_and_one_line(
    emulator: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    extra: list[str],
    status: int,
    line: str,
) -> None:
    emulator.fault(fault)
    assert _ask(emulator, *extra) == status
    out, err = capsys.readouterr()
    assert err.startswith(line)
    assert err.count("\n") == 1
    assert "Traceback" not in err
    partial = out.rstrip("\n")
    assert emulator.expected_reply("hello").startswith(partial)


def test_json_errors_carry_the_partial_text(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.fault("cut")
    assert _ask(emulator, "--json") == 5
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["type"] == "error"
    assert last["error"] == "StreamInterrupted"
    assert last["exit_code"] == 5
    assert last["partial_text"]


def test_debug_adds_the_traceback(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.fault("cut")
    assert _ask(emulator, "--debug") == 5
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_closed_port_fails_fast_with_a_network_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["ask", "hello", "--base-url", f"http://127.0.0.1:{port}"]) == 4
    err = capsys.readouterr().err
    assert err.startswith(f"sansio-chat: error: cannot connect (http://127.0.0.1:{port}):")


@pytest.mark.parametrize(
    "argv",
    [["ask"], ["nonsense"], ["ask", "hi", "--timeout", "soon"], ["ask", "hi", "--model", "gpt 5"]],
)
def test_usage_errors_exit_with_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_CODES["usage"] == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err


def test_an_unreadable_conversation_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    assert main(["ask", "hi", "--conversation", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"sansio-chat: error: {path}: conversation JSON")


def test_demo_needs_no_network(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "hello", "--delay", "0"]) == 0
    out, err = capsys.readouterr()
    assert len(out.split()) > 3
    assert out.endswith("\n")
    assert err.startswith("sansio-chat demo: emulator on http://127.0.0.1:")


def test_serve_without_the_gateway_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sansio_chat.adapters.gateway", None)
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sansio-chat: failed: serve: sansio_chat.adapters.gateway is not")


def test_server_commands_take_their_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--help"]) == 0
    assert "--dialect" in capsys.readouterr().out
    assert main(["serve", "--help"]) == 0
    assert "--api-key" in capsys.readouterr().out


def test_the_module_runs_as_a_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sansio_chat.adapters.cli", "demo", "hi", "--delay", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_the_conversation_limit_is_announced_then_refused(
    emulator: EmulatorHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.control.configure(conversation_limit=1)
    path = str(tmp_path / "chat.json")
    assert _ask(emulator, "--conversation", path) == 0
    assert capsys.readouterr().err == (  # issue 17: says how to start a new one
        "sansio-chat: the service ended this conversation; start a new conversation: "
        "/new in chat, or run without -c/--conversation\n"
    )
    assert _ask(emulator, "--conversation", path) == 3
    assert capsys.readouterr().err == (  # says it once, and how
        "sansio-chat: refused: this conversation is exhausted (the service refuses further "
        "turns); start a new conversation (/new in chat, or run without -c/--conversation)\n"
    )


def test_the_emulator_command_serves_until_interrupted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = [sys.executable, "-m", "sansio_chat.adapters.cli", "emulator", "--port", "0"]
    with subprocess.Popen([*command, "--seed", "5"], stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            first = child.stdout.readline()
            url = next(word for word in first.split() if word.startswith("http://127.0.0.1:"))
            assert main(["ask", "hello", "--base-url", url, "--min-interval", "0"]) == 0
            assert capsys.readouterr().out.strip()
        finally:
            child.send_signal(signal.SIGINT)
            assert child.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\xff\xfe", "stdin is not UTF-8 text (byte 0xff at offset 0)"),
        (b"caf\xc3", "stdin is not UTF-8 text (byte 0xc3 at offset 3)"),
    ],
)
def test_stdin_that_is_not_utf8_is_a_usage_error(
    emulator: EmulatorHandle, data: bytes, words: str
) -> None:
    command = [sys.executable, "-m", "sansio_chat.adapters.cli", "ask", "-", "--no-save"]
    command += ["--base-url", emulator.base_url, "--min-interval", "0"]
    done = subprocess.run(command, input=data, capture_output=True, timeout=60, check=False)
    assert done.returncode == EXIT_CODES["usage"]
    assert done.stderr.decode() == f"sansio-chat: error: {words}\n"
    assert emulator.control.exchanges == []


def test_piped_bytes_are_read_as_utf8_text(emulator: EmulatorHandle) -> None:
    command = [sys.executable, "-m", "sansio_chat.adapters.cli", "ask", "-", "--no-save"]
    command += ["--base-url", emulator.base_url, "--min-interval", "0", "--plain"]
    done = subprocess.run(
        command, input="naïve\r\n".encode(), capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == emulator.expected_reply("naïve") + "\n"


def test_ask_reads_the_prompt_from_stdin(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin\n"))
    assert main(["ask", "-", "--base-url", emulator.base_url, "--min-interval", "0"]) == 0
    assert capsys.readouterr().out == emulator.expected_reply("from stdin") + "\n"
