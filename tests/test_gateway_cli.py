"""``sansio-chat serve``: options, settings checks, and a real run stopped by SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
from typing import Any

import httpx
import pytest
from sansio_chat.adapters.cli.serve import (
    API_KEY_ENV,
    add_serve_arguments,
    config_from_args,
    run_serve_from_args,
)
from sansio_chat.adapters.gateway import GatewayConfig, create_gateway_app

from fixtures_emulator import EmulatorHandle, serve_command
from sansio_chat import LocalProtocolError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)


@pytest.mark.usefixtures("no_env_key")
def test_defaults_are_safe() -> None:
    args = parse()
    config = config_from_args(args)
    assert args.host == "127.0.0.1"
    assert config.api_key is None
    assert config.providers == ("ddg", "darkai")
    assert config.base_url is None
    assert config == GatewayConfig()


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, "from-env")
    assert config_from_args(parse()).api_key == "from-env"
    assert config_from_args(parse("--api-key", "flag")).api_key == "flag"


@pytest.mark.usefixtures("no_env_key")
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--base-url", "http://127.0.0.1:9"], "http://127.0.0.1:9"),
        (["--base-url", "ddg=http://a:1"], {"ddg": "http://a:1"}),
        (
            ["--base-url", "http://all:1", "--base-url", "darkai=http://d:2"],
            {"ddg": "http://all:1", "darkai": "http://d:2"},
        ),
        (
            ["--providers", "ddg", "--base-url", "http://x:1?q=a=b"],
            "http://x:1?q=a=b",  # "=" inside a URL is not a provider prefix
        ),
    ],
)
def test_base_url_options(argv: list[str], expected: Any) -> None:
    assert config_from_args(parse(*argv)).base_url == expected


@pytest.mark.usefixtures("no_env_key")
def test_other_options() -> None:
    args = parse(
        "--providers",
        "darkai, ddg",
        "--max-concurrency",
        "2",
        "--queue-timeout",
        "0",
        "--max-body-bytes",
        "1000",
        "--timeout",
        "7",
        "--min-interval",
        "0",
        "--max-retries",
        "0",
        "--no-verify",
        "--proxy",
        "http://proxy:3128",
    )
    assert config_from_args(args) == GatewayConfig(
        providers=("darkai", "ddg"),
        max_concurrency=2,
        queue_timeout=0.0,
        max_body_bytes=1000,
        timeout=7.0,
        min_interval=0.0,
        max_retries=0,
        verify=False,
        proxy="http://proxy:3128",
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"providers": ()},
        {"providers": ("ddg", "nope")},
        {"base_url": "ftp://x"},
        {"base_url": {"darkai": "http://x"}, "providers": ("ddg",)},
        {"max_concurrency": 0},
        {"queue_timeout": -1},
        {"max_body_bytes": 0},
        {"max_retries": -1},
        {"api_key": ""},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises((ValueError, LocalProtocolError)):
        create_gateway_app(**settings)


def test_provider_order_decides_bare_names() -> None:
    app = create_gateway_app(providers=("darkai", "ddg"))
    assert app.catalog.resolve("gpt-4o").public_id == "darkai/gpt-4o"
    app = create_gateway_app()
    assert app.catalog.resolve("gpt-4o").public_id == "ddg/gpt-4o-mini"


@pytest.mark.usefixtures("no_env_key")
def test_bad_options_exit_with_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_serve_from_args(parse("--providers", "ddg,unknown")) == 2
    assert "unknown provider" in capsys.readouterr().err
    assert run_serve_from_args(parse("--base-url", "a", "--base-url", "b")) == 2


@pytest.mark.usefixtures("no_env_key")
def test_port_in_use_exits_with_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run_serve_from_args(parse("--port", str(port))) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_serve_runs_until_sigterm(emulator: EmulatorHandle) -> None:
    env = {**os.environ, API_KEY_ENV: "k"}
    command = serve_command(emulator.base_url)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("sansio-chat gateway on http://127.0.0.1:")
        assert "API key required" in banner
        base = banner.split()[3]
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        auth = {"authorization": "Bearer k"}
        response = httpx.post(f"{base}/chat/completions", json=body, headers=auth, timeout=10)
        assert response.json()["choices"][0]["message"]["content"] == emulator.expected_reply("hi")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
