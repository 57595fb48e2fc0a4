"""The shared server runner and the emulator's command line."""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from sansio_chat.adapters.cli.emulator import (
    add_emulator_arguments,
    config_from_args,
    run_emulator_from_args,
)
from sansio_chat.adapters.emulator import EmulatorApp, serve_emulator
from sansio_chat.adapters.serving import (
    ASGIMessage,
    Receive,
    Scope,
    Send,
    ServerThread,
    bind_socket,
    serve_async,
    serve_in_thread,
)

from fixtures_emulator import EmulatorHandle, raw_request
from sansio_chat.emulator import EmulatorConfig, RateLimit


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """A tiny ASGI app without lifespan support (the runner must cope)."""
    if scope["type"] != "http":
        raise RuntimeError("no lifespan here")
    await receive()
    message: ASGIMessage = {"type": "http.response.start", "status": 200, "headers": []}
    await send(message)
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_serve_in_thread_runs_any_app(backend: str) -> None:
    with serve_in_thread(hello, backend=backend) as server:
        base_url = server.base_url
        assert base_url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(base_url).text == "hello"
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url, timeout=2)


def test_a_server_thread_can_be_started_and_stopped_by_hand() -> None:
    server = ServerThread(EmulatorApp(EmulatorConfig(seed=1)))
    with pytest.raises(RuntimeError):
        _ = server.base_url
    server.start()
    try:
        with pytest.raises(RuntimeError):
            server.start()
        assert httpx.get(server.base_url + "/").status_code == 200
    finally:
        server.stop()
    server.stop()  # stopping twice is harmless


def test_stopping_does_not_wait_for_a_stalled_reply() -> None:
    timeout = httpx.Timeout(5, read=60)
    with (
        serve_emulator(EmulatorConfig(seed=1, faults=("stall:60",))) as server,
        httpx.Client(base_url=server.base_url, timeout=timeout) as client,
        client.stream("POST", "/chat", json={"query": "q", "model": "gpt-4o"}) as reply,
    ):
        stream = reply.iter_raw()
        assert next(stream)
        server.stop()
        with pytest.raises(httpx.HTTPError):
            for _ in stream:
                pass


@pytest.mark.anyio
async def test_serve_async_inside_anyio_code() -> None:
    app = EmulatorApp(EmulatorConfig(seed=2, reply_tokens=3))
    async with serve_async(app) as handle, httpx.AsyncClient(base_url=handle.base_url) as client:
        reply = await client.post("/chat", json={"query": "hey", "model": "gpt-4o"})
        assert reply.status_code == 200
        text = "".join(
            json.loads(line[6:])["data"].get("text", "")
            for line in reply.text.split("\n")
            if line.startswith("data: ")
        )
        assert text == app.control.expected_reply("hey")


def test_bind_socket_picks_a_free_port() -> None:
    with bind_socket() as one, bind_socket() as two:
        assert one.getsockname()[1] != two.getsockname()[1]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_emulator_arguments(parser)
    return parser.parse_args(list(argv))


def test_arguments_make_a_config() -> None:
    config = config_from_args(
        parse(
            "--dialect",
            "2024",
            "--seed",
            "4",
            "--fault",
            "429x3",
            "--fault",
            "cut:120",
            "--conversation-limit",
            "5",
            "--delay",
            "0.1",
            "--reply-tokens",
            "7",
            "--rate-limit",
            "3/60",
            "--events-per-write",
            "2",
            "--no-challenge-on-chat",
            "--reusable-tokens",
        )
    )
    assert config == EmulatorConfig(
        dialect="2024",
        seed=4,
        faults=("429x3", "cut:120"),
        conversation_limit=5,
        delay=0.1,
        reply_tokens=7,
        rate_limit=RateLimit(requests=3, seconds=60.0),
        events_per_write=2,
        challenge_on_chat=False,
        reusable_tokens=True,
    )
    defaults = parse()
    assert (defaults.host, defaults.port, defaults.dialect) == ("127.0.0.1", 8765, "2025-03")


def test_a_bad_fault_is_reported_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_emulator_from_args(parse("--fault", "nonsense")) == 2
    assert "nonsense" in capsys.readouterr().err


def test_a_busy_port_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    with bind_socket() as taken:
        port = taken.getsockname()[1]
        assert run_emulator_from_args(parse("--port", str(port))) == 1
    assert "cannot listen" in capsys.readouterr().err


@pytest.fixture
def cli() -> Iterator[subprocess.Popen[str]]:
    command = [
        sys.executable,
        "-m",
        "sansio_chat.adapters.cli",
        "emulator",
        "--port",
        "0",
        "--seed",
        "9",
        "--dialect",
        "2024",
        "--fault",
        "cut:50@darkai",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_command_line_serves_and_stops_cleanly(cli: subprocess.Popen[str], signum: int) -> None:
    assert cli.stdout is not None
    first = cli.stdout.readline()
    assert first.startswith("sansio-chat emulator on http://127.0.0.1:")
    assert "seed 9" in first
    base_url = first.split()[3]
    status = raw_request(base_url, "GET", "/duckchat/v1/status", {"x-vqd-accept": "1"})
    assert status.status == 200
    assert "x-vqd-hash-1" not in dict(status.headers)
    body = json.dumps({"query": "q", "model": "gpt-4o"}).encode()
    cut = raw_request(base_url, "POST", "/chat", {"content-type": "application/json"}, body)
    assert len(cut.body) == 50
    cli.send_signal(signum)
    assert cli.wait(timeout=20) == 0
    _, err = cli.communicate(timeout=10)
    assert "Traceback" not in err


async def broken(scope: Scope, receive: Receive, send: Send) -> None:
    """An app whose lifespan startup fails: hypercorn refuses to serve it."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no"})
        return
    raise AssertionError("never served")


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_failed_start_is_reported(backend: str) -> None:
    with pytest.raises(RuntimeError, match="failed to start"):
        ServerThread(broken, backend=backend).start()


def test_a_burst_of_connections_waits_in_the_backlog_without_a_lost_syn() -> None:
    """300 clients connecting at once to a socket that accepts none yet are all queued (a
    backlog of 128 dropped the rest's SYNs, and TCP retried them a second later)."""
    from sansio_chat.adapters.serving import LISTEN_BACKLOG

    listener = bind_socket()
    clients: list[socket.socket] = []
    try:
        port = listener.getsockname()[1]
        for _ in range(300):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            clients.append(client)
        _, writable, _ = select.select([], clients, [], 0.5)
        assert LISTEN_BACKLOG >= 300
        assert len(writable) == 300
        assert all(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for c in clients)
    finally:
        for client in clients:
            client.close()
        listener.close()


def test_an_idle_connection_is_kept_longer_than_a_busy_client_may_pause(
    emulator: EmulatorHandle,
) -> None:
    """A keep-alive connection idle for 6 s still takes the next request (hypercorn's own
    default closed it after 5 s, racing a busy client's next request into a reset)."""
    from sansio_chat.adapters.serving import KEEP_ALIVE_SECONDS

    assert KEEP_ALIVE_SECONDS > 6
    port = int(emulator.base_url.rsplit(":", 1)[1])
    request = f"GET / HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for pause in (0.0, 6.0):
            time.sleep(pause)
            sock.sendall(request)
            head = sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200"), head[:80]
            length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += sock.recv(65536)


def test_requests_to_names_only_real_endpoints(emulator: EmulatorHandle) -> None:
    httpx.get(emulator.base_url + "/duckchat/v1/status", headers={"x-vqd-accept": "1"})
    assert len(emulator.control.requests_to("status")) == 1
    # A misspelt endpoint would match nothing, and "nothing was asked" would always hold.
    with pytest.raises(ValueError, match="no endpoint 'chat'; the endpoints: page, status, ddg"):
        emulator.control.requests_to("chat")
