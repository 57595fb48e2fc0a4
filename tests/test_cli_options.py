"""The command line as issue 17 asks: options, settings, stdin, saved conversations, errors."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sansio_chat.adapters.cli import main
from sansio_chat.adapters.cli._main import _parser
from sansio_chat.adapters.cli._model_names import resolve_model
from sansio_chat.adapters.cli._options import DIALECTS, ENVIRONMENT, PROVIDERS
from sansio_chat.adapters.cli._output import Failure

from fixtures_emulator import EmulatorHandle
from sansio_chat import providers


def _run(emulator: EmulatorHandle, *argv: str) -> int:
    return main([*argv, "--base-url", emulator.base_url, "--min-interval", "0"])


def _data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SANSIO_CHAT_DATA_DIR", str(tmp_path))
    return tmp_path / "conversations"


def test_piped_stdin_comes_before_the_prompt(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("notes\n"))
    assert _run(emulator, "ask", "summarize") == 0
    assert capsys.readouterr().out == emulator.expected_reply("notes\n\nsummarize") + "\n"


@pytest.mark.parametrize("stdin", ["", "  \n"])
def test_an_empty_ask_is_a_usage_error_and_sends_nothing(
    emulator: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert _run(emulator, "ask", "") == 2
    assert capsys.readouterr().err.startswith("sansio-chat: error: nothing to ask")
    assert emulator.control.requests_to("ddg") == []


def test_short_flags_and_the_system_prompt(
    emulator: EmulatorHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.json"
    argv = ["ask", "hi", "-p", "ddg", "-m", "o3-mini", "-s", "be brief", "--conversation"]
    assert _run(emulator, *argv, str(path)) == 0
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["model"] == "o3-mini"
    assert [m["role"] for m in saved["messages"]] == ["system", "user", "assistant"]


@pytest.mark.parametrize(
    ("model", "dialect", "provider", "resolved"),
    [
        ("darkai/gpt-4o", None, "darkai", "gpt-4o"),
        ("gpt-4", None, "ddg", "gpt-4o-mini"),
        ("darkai/llama-3.1-70b", None, "darkai", "llama-3-70b"),
        # A bare name goes to the first provider whose list holds it, as in the gateway:
        # DarkAI's ids are DarkAI's (they went to DuckDuckGo, whose today's check takes any
        # well-formed id), and gpt-4o is DuckDuckGo's where an era of it lists the name.
        ("llama-3.1-70b", None, "darkai", "llama-3-70b"),
        ("gpt-3.5-turbo", None, "darkai", "gpt-3.5-turbo"),
        ("gpt-4o", None, "ddg", "gpt-4o-mini"),
        ("gpt-4o", "2025-03", "ddg", "gpt-4o-mini"),
    ],
)
def test_model_names_as_the_gateway_takes_them(
    emulator: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    model: str,
    dialect: str | None,
    provider: str,
    resolved: str,
) -> None:
    era = ("--dialect", dialect) if dialect else ()
    assert _run(emulator, "ask", "hi", "-m", model, *era, "--json", "--no-save") == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first == {"type": "start", "provider": provider, "model": resolved}


def test_a_bare_name_no_list_holds_is_asked_of_duckduckgo() -> None:
    # Today's service adds models its built-in list does not know (the gateway takes such a
    # name only as ddg/NAME); a name DuckDuckGo refuses outright is a usage error.
    assert resolve_model(None, "gpt-9") == ("ddg", "gpt-9")
    # DuckDuckGo's 2026 list has no gpt-4o: DarkAI's, as in a gateway with --dialect 2026.
    assert resolve_model(None, "gpt-4o", "2026") == ("darkai", "gpt-4o")
    with pytest.raises(Failure, match="no such model"):
        resolve_model(None, "not a model")


def test_settings_from_the_environment(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANSIO_CHAT_BASE_URL", emulator.base_url)
    monkeypatch.setenv("SANSIO_CHAT_MIN_INTERVAL", "0")
    monkeypatch.setenv("SANSIO_CHAT_MODEL", "darkai/gpt-4o")
    assert main(["ask", "hi", "--json", "--no-save"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["provider"] == "darkai"
    monkeypatch.setenv("SANSIO_CHAT_TIMEOUT", "soon")
    assert main(["ask", "hi"]) == 2
    assert "$SANSIO_CHAT_TIMEOUT" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SANSIO_CHAT_SOLVER", "foo"),
        ("SANSIO_CHAT_DIALECT", "2025-03-lenient"),
        ("SANSIO_CHAT_PROVIDER", "openai"),
        ("SANSIO_CHAT_BASE_URL", "http://[::1"),
        ("SANSIO_CHAT_BASE_URL", "ftp://example.com"),
    ],
)
def test_a_bad_setting_from_the_environment_is_a_usage_error_naming_it(
    emulator: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["ask", "hi", "--no-save"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sansio-chat: error: ${variable}: "), err
    assert repr(value) in err
    assert err.count("\n") == 1
    assert emulator.control.exchanges == []


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--base-url", "http://[::1", "not a URL: 'http://[::1'"),
        ("--base-url", "127.0.0.1:8765", "not an http(s) URL with a host"),
        ("--base-url", "http://127.0.0.1:99999", "not a URL"),
        ("--max-reply-chars", "0", "must be 1 or more, not 0"),
    ],
)
def test_a_bad_option_value_is_a_usage_error_naming_it(
    emulator: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    words: str,
) -> None:
    assert main(["ask", "hi", "--no-save", option, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {words}" in err
    assert emulator.control.exchanges == []


def test_every_environment_variable_is_in_the_docs() -> None:
    text = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for name in ENVIRONMENT:
        assert f"`{name}`" in text
        assert f"`{name}`" in readme


def test_conversations_are_kept_listed_and_continued(
    emulator: EmulatorHandle,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = _data(monkeypatch, tmp_path)
    assert _run(emulator, "ask", "first question here") == 0
    assert _run(emulator, "ask", "second", "-c") == 0
    (saved,) = folder.glob("*.json")
    capsys.readouterr()
    assert main(["conversations"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(saved.stem)
    assert "ddg/gpt-4o-mini" in line
    assert "2 turns" in line
    assert line.endswith("first question here")
    assert _run(emulator, "ask", "third", "--conversation", saved.stem) == 0
    users = [m["content"] for m in json.loads(saved.read_text())["messages"][::2]]
    assert users == ["first question here", "second", "third"]
    assert _run(emulator, "ask", "elsewhere", "--no-save") == 0
    assert list(folder.glob("*.json")) == [saved]


def test_continue_without_a_saved_conversation_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ask", "hi", "-c"]) == 2
    assert "-c/--continue: no saved conversation" in capsys.readouterr().err


def test_an_unwritable_conversation_path_is_refused_before_any_request(
    emulator: EmulatorHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _run(emulator, "ask", "hi", "--conversation", str(blocker / "c.json")) == 2
    assert "cannot save the conversation to" in capsys.readouterr().err
    assert emulator.control.requests_to("status") == []
    assert emulator.control.requests_to("ddg") == []


def test_no_retry_gives_up_at_the_first_refusal(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.fault("429x1")
    assert _run(emulator, "ask", "hi", "--no-retry") == 3
    assert len(emulator.control.requests_to("ddg")) == 1


def test_a_retry_is_worded_as_progress(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.fault("429x1")
    assert _run(emulator, "ask", "hi", "--max-retries", "1") == 0
    err = capsys.readouterr().err
    assert err.startswith("sansio-chat: the service is busy (HTTP 429")
    assert "trying again in" in err
    emulator.fault("429x1")
    assert _run(emulator, "ask", "hi", "--quiet") == 0
    assert capsys.readouterr().err == ""


def test_a_404_hints_at_the_base_url(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "hi", "--base-url", emulator.base_url + "/nothing/here",
                 "--min-interval", "0"]) == 3  # fmt: skip
    err = capsys.readouterr().err
    assert "HTTP 404" in err
    assert "is --base-url right?" in err


def test_parameter_names_are_spoken_as_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "hi", "--base-url", "ftp://nowhere", "--no-save"]) == 2
    err = capsys.readouterr().err
    assert "--base-url" in err
    assert "base_url" not in err


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_has_a_description_and_every_flag_help() -> None:
    for name in ("ask", "chat", "models", "conversations", "emulator", "demo", "serve"):
        sub = _subcommands(_parser(name))[name]
        assert sub.description, name
        for action in sub._actions:
            assert action.help, (name, action.option_strings)
        assert "130" in (sub.epilog or "") or name in ("emulator", "serve")


def test_the_provider_names_of_the_options_are_the_registry_s() -> None:
    assert providers.names() == PROVIDERS


def test_the_dialects_offered_are_the_ones_a_client_speaks() -> None:
    from sansio_chat.providers.ddg import DIALECTS as SPOKEN

    assert tuple(SPOKEN) == DIALECTS


def test_demo_echoes_the_prompt_and_says_the_reply_is_filler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "what is this?", "--delay", "0"]) == 0
    err = capsys.readouterr().err
    assert "you> what is this?" in err
    assert "filler text" in err


def test_help_imports_no_network_stack() -> None:
    code = (
        "import sys\n"
        "from sansio_chat.adapters.cli import main\n"
        "for argv in (['--help'], ['ask', '--help'], ['models']):\n"
        "    try: main(argv)\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in ('httpx', 'anyio', 'h11', 'rich', 'prompt_toolkit')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_servers_print_one_access_line_per_request(emulator: EmulatorHandle) -> None:
    command = [sys.executable, "-m", "sansio_chat.adapters.cli", "emulator", "--port", "0"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        url = next(w for w in child.stdout.readline().split() if w.startswith("http://"))
        assert main(["ask", "hi", "--base-url", url, "--min-interval", "0", "--no-save"]) == 0
        child.send_signal(__import__("signal").SIGINT)
        err = child.stderr.read()
        child.wait(timeout=30)
    lines = [line for line in err.splitlines() if line.startswith("emulator: ")]
    # With no --dialect the first request is the status one, whose reply reveals the era.
    assert lines[0].startswith("emulator: GET /duckchat/v1/status 200 ")
    assert lines[-1].startswith("emulator: POST /duckchat/v1/chat 200 ")
    assert "model=gpt-4o-mini" in lines[-1]
    assert "tokens=" in lines[-1]
    assert "x-vqd" not in err.lower()


@pytest.mark.parametrize("emulator_config", [{"dialect": "2026"}], indirect=True)
def test_the_dialect_is_duckduckgo_s_and_darkai_models_still_run(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    # --dialect names DuckDuckGo's era: a DarkAI model runs beside it, as in the gateway.
    for model in ("gpt-3.5-turbo", "darkai/gpt-4o"):
        argv = ["ask", "hi", "-m", model, "--dialect", "2026", "--json", "--no-save"]
        assert _run(emulator, *argv) == 0, capsys.readouterr()
        first = json.loads(capsys.readouterr().out.splitlines()[0])
        assert first["provider"] == "darkai"


def test_a_provider_prefix_with_no_model_is_a_usage_error() -> None:
    for model in ("darkai/", "ddg/"):
        with pytest.raises(Failure, match="name a model after the provider"):
            resolve_model(None, model)
