"""Issue 13, items 8, 9, 11: no secret in a repr or a log line; typed errors at the edges."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from sansio_chat.adapters import h11 as h11_driver
from sansio_chat.adapters.cli import main
from sansio_chat.adapters.gateway import GatewayConfig

from fixtures_emulator import EmulatorHandle
from sansio_chat import HttpRequest, Pacer, TransportError, VqdUpdate, providers

CLI = (sys.executable, "-m", "sansio_chat.adapters.cli")
SECRETS = ("x-vqd-4", "x-vqd-hash-1", "cookie", "authorization")


def test_repr_of_a_request_hides_secret_header_values() -> None:
    request = HttpRequest(
        method="POST",
        url="https://duck.ai/duckchat/v1/chat",
        headers=(
            ("x-vqd-4", "4-TOKEN"),
            ("x-vqd-hash-1", "SOLVED"),
            ("cookie", "dcm=COOKIE"),
            ("authorization", "Bearer KEY"),
            ("content-type", "application/json"),
        ),
        body=b"{}",
    )
    text = repr(request)
    for value in ("4-TOKEN", "SOLVED", "COOKIE", "KEY"):
        assert value not in text
    assert "application/json" in text
    assert request.header("x-vqd-4") == "4-TOKEN"  # the value itself is untouched


def test_repr_of_a_vqd_update_hides_the_token() -> None:
    text = repr(VqdUpdate(vqd="4-TOKEN", vqd_hash_1="CHALLENGE"))
    assert "4-TOKEN" not in text
    assert "CHALLENGE" not in text
    assert "VqdUpdate" in text


def test_repr_of_the_gateway_config_hides_the_api_key() -> None:
    assert "s3cret-key" not in repr(GatewayConfig(api_key="s3cret-key"))


def test_a_debug_run_logs_no_token_cookie_or_key(emulator: EmulatorHandle) -> None:
    run = subprocess.run(
        [*CLI, "--debug", "chat", "--base-url", emulator.base_url, "--min-interval", "0"],
        input="hello\nand again\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "x-vqd-4" in run.stderr.lower()  # the debug log does show the headers' names
    issued = {
        value
        for exchange in emulator.control.exchanges
        for name, value in exchange.request.headers
        if name.lower() in SECRETS and len(value) >= 8
    }
    assert len(issued) >= 2  # tokens of both turns, and the solved challenges
    for value in issued:
        assert value not in run.stderr
        assert value not in run.stdout


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["serve", "--api-key=", "--port", "0"], None, "--api-key"),
        (["serve", "--api-key", "  ", "--port", "0"], None, "--api-key"),
        (["serve", "--port", "0"], "", "SANSIO_CHAT_API_KEY"),
    ],
)
def test_an_empty_api_key_refuses_to_start(
    argv: list[str],
    env: str | None,
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if env is not None:
        monkeypatch.setenv("SANSIO_CHAT_API_KEY", env)
    else:
        monkeypatch.delenv("SANSIO_CHAT_API_KEY", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert named in err
    assert "empty" in err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["ask", "hi", "--timeout", "nan"], "--timeout"),
        (["ask", "hi", "--timeout", "0"], "--timeout"),
        (["ask", "hi", "--timeout", "-1"], "--timeout"),
        (["ask", "hi", "--proxy", "notaurl"], "--proxy"),
        (["emulator", "--port", "99999"], "--port"),
        (["serve", "--port", "99999"], "--port"),
        (["serve", "--timeout", "nan"], "--timeout"),
    ],
)
def test_bad_option_values_are_one_line_usage_errors(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert named in err
    assert "Traceback" not in err


def test_a_socks_proxy_without_the_extra_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("h11")  # always there; the point is socksio's absence below
    try:
        import socksio  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - the extra is installed: then the URL is accepted
        pytest.skip("socksio is installed")
    assert main(["ask", "hi", "--proxy", "socks5://127.0.0.1:1080"]) == 2
    err = capsys.readouterr().err
    assert "--proxy" in err
    assert "socksio" in err


def test_a_conversation_file_that_is_not_utf8_is_a_usage_error(
    tmp_path: os.PathLike[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = os.path.join(tmp_path, "conversation.json")
    with open(path, "wb") as file:
        file.write(b"\xff\xfe{}")
    argv = ["ask", "hi", "--conversation", path, "--base-url", f"http://127.0.0.1:{_closed_port()}"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert path in err
    assert "UTF-8" in err
    assert err.count("\n") == 1


@pytest.mark.anyio
async def test_a_failed_proxy_connection_names_the_proxy() -> None:
    proxy = f"http://user:pw@127.0.0.1:{_closed_port()}"
    session = providers.get("darkai").new_session(
        base_url="http://target.invalid:8080", pacer=Pacer(0)
    )
    with pytest.raises(TransportError) as caught:
        async for _ in h11_driver.aiter_turn(session, "hi", proxy=proxy):
            pass
    message = str(caught.value)
    assert f"proxy http://127.0.0.1:{proxy.rsplit(':', 1)[1]}" in message
    assert "pw" not in message
