"""The servers' edges (issue 13 items 3, 11, 12, 13): long back-off, proxy names, framing, h2c,
and a clean stop mid-stream of the real ``emulator`` and ``serve`` processes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import pytest
from sansio_chat.adapters.emulator import EmulatorApp
from sansio_chat.adapters.gateway import create_gateway_app
from sansio_chat.adapters.httpx import aiter_turn, async_http_client, http_client, iter_turn
from sansio_chat.adapters.serving import serve_in_thread

from sansio_chat import Pacer, TransportError, providers
from sansio_chat.emulator import EmulatorConfig

CHAT = {"model": "darkai/llama-3-70b", "messages": [{"role": "user", "content": "hi"}]}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- item 3 (gateway part): a long back-off frees the slot ------------------------------


def _with_retry_after(app: Any, value: bytes) -> Any:
    """``app`` (the emulator) with ``Retry-After: value`` added to its 429 replies."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                message = {**message, "headers": [*message["headers"], (b"retry-after", value)]}
            await send(message)

        await app(scope, receive, send_with_header)

    return wrapped


@pytest.mark.anyio
async def test_a_long_retry_after_answers_429_and_frees_the_slot() -> None:
    emulator = EmulatorApp(EmulatorConfig(seed=7))
    emulator.control.fault("429x1")
    with serve_in_thread(_with_retry_after(emulator, b"1e6")) as upstream:
        app = create_gateway_app(
            base_url=upstream.base_url, min_interval=0, max_concurrency=1, queue_timeout=3
        )
        transport = httpx.ASGITransport(app=app)
        results: dict[str, httpx.Response] = {}
        body = {**CHAT, "model": "ddg/gpt-4o-mini"}
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:

            async def call(name: str) -> None:
                results[name] = await client.post("/v1/chat/completions", json=body)

            with anyio.fail_after(10):
                async with anyio.create_task_group() as group:
                    group.start_soon(call, "first")
                    await anyio.sleep(0.5)
                    group.start_soon(call, "second")
        await app.aclose()
    first, second = results["first"], results["second"]
    assert first.status_code == 429, first.text
    assert first.headers["retry-after"] == "1000000"
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    assert second.status_code == 200, second.text
    assert second.json()["choices"][0]["message"]["content"]


# --- item 11: a failed proxy connection names the proxy (httpx clients) -----------------


@pytest.mark.anyio
async def test_httpx_async_proxy_failure_names_the_proxy() -> None:
    port = _closed_port()
    session = providers.get("darkai").new_session(
        base_url="http://target.invalid:8080", pacer=Pacer(0)
    )
    async with async_http_client(proxy=f"http://user:pw@127.0.0.1:{port}") as http:
        with pytest.raises(TransportError) as caught:
            async for _ in aiter_turn(session, http, "hi"):
                pass
    message = str(caught.value)
    assert f"proxy http://127.0.0.1:{port}" in message
    assert "pw" not in message
    assert "user" not in message


def test_httpx_sync_proxy_failure_names_the_proxy() -> None:
    port = _closed_port()
    session = providers.get("darkai").new_session(
        base_url="https://target.invalid:8443", pacer=Pacer(0)
    )
    with (
        http_client(proxy=f"http://user:pw@127.0.0.1:{port}") as http,
        pytest.raises(TransportError) as caught,
    ):
        list(iter_turn(session, http, "hi"))
    message = str(caught.value)
    assert f"proxy http://127.0.0.1:{port}" in message
    assert "pw" not in message
    assert "user" not in message


# --- item 12: transport edges over a raw socket ------------------------------------------


def _read_until_closed_or_quiet(sock: socket.socket, quiet: float = 1.5) -> tuple[bytes, bool]:
    sock.settimeout(quiet)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data, False
    return data, True


@contextmanager
def _gateway(**settings: Any) -> Iterator[int]:
    app = create_gateway_app(base_url="http://127.0.0.1:9", min_interval=0, **settings)
    with serve_in_thread(app) as server:
        yield server.port


def test_content_length_with_chunked_is_refused_and_the_connection_closed() -> None:
    body = json.dumps({"model": "gpt-4o-mini", "messages": []}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    smuggled = b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n"
    with _gateway() as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
            b"content-type: application/json\r\ncontent-length: 5\r\n"
            b"transfer-encoding: chunked\r\n\r\n" + chunked + smuggled
        )
        data, closed = _read_until_closed_or_quiet(sock)
    assert data.startswith(b"HTTP/1.1 400")
    assert data.count(b"HTTP/1.1 ") == 1  # the pipelined request was not answered
    assert closed


H2C_UPGRADE = (
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings\r\n"
    b"upgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
)


def test_h2c_upgrade_is_answered_over_http11_by_default() -> None:
    with _gateway() as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(H2C_UPGRADE)
        data, _ = _read_until_closed_or_quiet(sock, quiet=1.0)
    assert data.startswith(b"HTTP/1.1 200")


def test_h2c_is_served_when_asked_for() -> None:
    app = create_gateway_app(base_url="http://127.0.0.1:9")
    with (
        serve_in_thread(app, h2c=True) as server,
        socket.create_connection(("127.0.0.1", server.port)) as sock,
    ):
        sock.sendall(H2C_UPGRADE)
        data, _ = _read_until_closed_or_quiet(sock, quiet=1.0)
    assert data.startswith(b"HTTP/1.1 101")


def test_http2_preface_is_not_spoken_by_default() -> None:
    # Prior-knowledge HTTP/2 with a body over the limit: hypercorn's HTTP/2 side failed
    # on the early 413; by default the preface is not taken as HTTP/2 at all.
    with _gateway(max_body_bytes=10) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        data, _ = _read_until_closed_or_quiet(sock, quiet=1.0)
    assert data.startswith(b"HTTP/1.1 ")


# --- item 13: the real processes stop cleanly mid-stream ---------------------------------


def _start(*argv: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SANSIO_CHAT_API_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "sansio_chat.adapters.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    assert match, line
    return process, int(match.group(1))


def _post(port: int, path: str, payload: dict[str, object]) -> socket.socket:
    body = json.dumps(payload).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n%s" % (path.encode(), len(body), body)
    )
    return sock


def _stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"the server did not stop on {sig.name}: {err}")
    return process.returncode, err


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_emulator_stops_cleanly_mid_stream(sig: signal.Signals, backend: str) -> None:
    # --log-level warning: the access line of the cut request is not what is checked here.
    process, port = _start(
        "emulator",
        "--port",
        "0",
        "--fault",
        "drip:0.5:4",
        "--backend",
        backend,
        "--log-level",
        "warning",
    )
    with _post(port, "/chat", {"query": "hi", "model": "llama-3-70b"}) as sock:
        sock.settimeout(10)
        assert sock.recv(100).startswith(b"HTTP/1.1 200")  # streaming now
        code, err = _stop(process, sig)
    assert code == 0
    assert _not_access_lines(err) == []


def _not_access_lines(err: str) -> list[str]:
    """stderr without the servers' one access line per request (``emulator: GET / 200 …``)."""
    return [
        line
        for line in err.splitlines()
        if not re.match(r"(emulator|gateway): [A-Z]+ /\S* \d{3} \d+ms", line)
    ]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_gateway_stops_cleanly_mid_stream(sig: signal.Signals) -> None:
    emulator, emulator_port = _start("emulator", "--port", "0", "--fault", "drip:0.5:4")
    try:
        gateway, port = _start(
            "serve",
            "--port",
            "0",
            "--base-url",
            f"http://127.0.0.1:{emulator_port}",
            "--min-interval",
            "0",
            "--log-level",
            "warning",  # the access line of the cut request is not what is checked here
        )
        with _post(port, "/v1/chat/completions", {**CHAT, "stream": True}) as sock:
            sock.settimeout(10)
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
            time.sleep(0.3)
            code, err = _stop(gateway, sig)
        assert code == 0
        assert _not_access_lines(err) == []
    finally:
        _stop(emulator, signal.SIGTERM)
