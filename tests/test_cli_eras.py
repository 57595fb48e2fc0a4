"""The command line across DuckDuckGo's eras (issue 18) and the options of issue 15:
``--dialect`` (default: discover), ``--solver``, ``--max-reply-chars``, ``models --live``,
the demo's 2026 flow, and ``serve --workers`` / ``serve --max-reply-chars``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sansio_chat.adapters.cli import main

from browser import require_chromium
from fixtures_emulator import EmulatorHandle, serve_command

ERAS = ("2024", "2025-03", "2025-03-lenient", "2026")
Factory = Callable[..., EmulatorHandle]


def _ask(handle: EmulatorHandle, prompt: str, *extra: str) -> int:
    return main(["ask", prompt, "--base-url", handle.base_url, "--min-interval", "0", *extra])


def _saved(path: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("how", ["--conversation", "-c"])
@pytest.mark.parametrize("era", ERAS)
def test_ask_holds_a_conversation_in_every_era_without_dialect(
    emulator_factory: Factory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    era: str,
    how: str,
) -> None:
    monkeypatch.setenv("SANSIO_CHAT_DATA_DIR", str(tmp_path / "data"))
    emulator = emulator_factory(dialect=era, reply_tokens=3)
    path = tmp_path / "talk.json"
    replies = []
    for turn, prompt in enumerate(["one", "two", "three"]):
        if how == "--conversation":
            continuation = ["--conversation", str(path)]
        else:
            continuation = [] if turn == 0 else ["-c"]
        assert _ask(emulator, prompt, "--plain", *continuation) == 0, capsys.readouterr().err
        replies.append(capsys.readouterr().out.strip())
    assert replies == [emulator.expected_reply(p) for p in ("one", "two", "three")]
    if how == "-c":
        (path,) = (tmp_path / "data").rglob("*.json")
    saved = _saved(path)
    messages = saved["messages"]
    assert isinstance(messages, list)
    assert [m["content"] for m in messages if m["role"] == "user"] == ["one", "two", "three"]
    # Discovered, and kept with the conversation (the lenient server is a 2025-03 one to
    # a client: it only forgives more).
    state = saved["state"]
    assert isinstance(state, dict)
    assert state["ddg"]["dialect"] == era.removesuffix("-lenient")


def test_a_pinned_dialect_of_the_served_era_works(
    emulator_factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = emulator_factory(dialect="2026", reply_tokens=2)
    assert _ask(emulator, "hi", "--dialect", "2026", "--solver", "v8", "--no-save", "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # Pinned: the model is known before the first request (2026's default).
    assert lines[0] == {"type": "start", "provider": "ddg", "model": "gpt-5.4-mini"}
    assert lines[-1]["type"] == "finished"


@pytest.mark.browser
def test_the_chromium_solver_answers_a_2026_turn(
    emulator_factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    require_chromium()
    emulator = emulator_factory(dialect="2026", reply_tokens=2)
    assert _ask(emulator, "hi", "--solver", "chromium", "--no-save", "--plain") == 0
    assert capsys.readouterr().out.strip() == emulator.expected_reply("hi")


def test_max_reply_chars_ends_an_over_long_reply(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    emulator.control.configure(reply_tokens=40)
    path = tmp_path / "talk.json"
    status = _ask(emulator, "hi", "--max-reply-chars", "10", "--conversation", str(path))
    err = capsys.readouterr().err
    assert status == 5
    assert err == "sansio-chat: error: the reply exceeds --max-reply-chars (10 characters)\n"
    assert not path.exists()
    # The same reply fits the default limit.
    assert _ask(emulator, "hi", "--no-save") == 0


def test_models_live_lists_the_service_s_models_with_their_capabilities(
    emulator_factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = emulator_factory(dialect="2026")
    assert main(["models", "--live", "--base-url", emulator.base_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert all(line.startswith("ddg/") and line.endswith("]") for line in lines)
    assert any("access" in line for line in lines)
    assert main(["models", "--live", "--json", "--base-url", emulator.base_url]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [f"ddg/{e['id']}" for e in entries] == [line.split()[0] for line in lines]
    for entry in entries:
        assert {"has_access", "supports_image_upload", "supported_tools", "access_tier"} <= set(
            entry
        )
    assert emulator.control.requests_to("models")


@pytest.mark.parametrize("era", ["2024", "2025-03"])
def test_models_live_against_a_server_without_a_model_list(
    emulator_factory: Factory, capsys: pytest.CaptureFixture[str], era: str
) -> None:
    emulator = emulator_factory(dialect=era)
    status = main(["models", "--live", "--base-url", emulator.base_url])
    out, err = capsys.readouterr()
    assert status == 3
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "/duckchat/v1/models" in err
    assert "no model list" in err


def test_models_live_of_darkai_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--live", "-p", "darkai"]) == 2
    assert "publishes no model list" in capsys.readouterr().err


def test_the_demo_shows_the_2026_flow_with_the_v8_solver(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--json", "--delay", "0"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # 2026's default model: the emulator spoke 2026 and the V8 solver answered its challenge.
    assert lines[0] == {"type": "start", "provider": "ddg", "model": "gpt-5.4-mini"}
    assert lines[-1]["type"] == "finished"
    assert main(["demo", "--plain", "--delay", "0"]) == 0
    err = capsys.readouterr().err
    assert "dialect 2026" in err
    assert "--solver v8" in err


def test_the_demo_s_emulator_follows_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json", "--delay", "0", "--dialect", "2024"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["model"] == "gpt-4o-mini"
    assert main(["demo", "--plain", "--delay", "0", "--dialect", "2025-03"]) == 0
    err = capsys.readouterr().err
    assert "dialect 2025-03" in err
    assert "--solver" not in err


def _serve(emulator: EmulatorHandle, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        serve_command(emulator.base_url, *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        start_new_session=True,
    )


def _stop(child: subprocess.Popen[str]) -> str:
    child.send_signal(signal.SIGTERM)
    try:
        _, err = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        _, err = child.communicate()
    return err


def _gateway_url(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    line = child.stdout.readline()
    return next(word for word in line.split() if word.startswith("http://"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="--workers forks (POSIX)")
def test_serve_with_two_workers_answers_from_both(emulator: EmulatorHandle) -> None:
    child = _serve(emulator, "--workers", "2")
    try:
        url = _gateway_url(child)
        for _ in range(200):  # a fresh connection each time: the kernel picks the worker
            assert httpx.get(f"{url}/models", timeout=10).status_code == 200
        reply = httpx.post(
            f"{url}/chat/completions",
            json={"model": "ddg/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        assert reply.status_code == 200
        assert reply.json()["choices"][0]["message"]["content"] == emulator.expected_reply("hi")
    finally:
        err = _stop(child)
    workers = {line.split(":", 1)[0] for line in err.splitlines() if line.startswith("gateway[")}
    assert len(workers) == 2, err


def test_serve_max_reply_chars_makes_an_over_long_reply_a_502(emulator: EmulatorHandle) -> None:
    emulator.control.configure(reply_tokens=40)  # 40 words: well over 40 characters
    child = _serve(emulator, "--max-reply-chars", "40")
    try:
        url = _gateway_url(child)
        body = {"model": "ddg/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        reply = httpx.post(f"{url}/chat/completions", json=body, timeout=30)
        assert reply.status_code == 502
        assert reply.json()["error"]["type"] == "upstream_error"
        emulator.control.configure(reply_tokens=2)  # a short reply still passes
        reply = httpx.post(f"{url}/chat/completions", json=body, timeout=30)
        assert reply.status_code == 200
    finally:
        _stop(child)
