"""Issue 13 item 10: a status outside 200–599 is the server's fault, not the caller's:
``RemoteProtocolError`` from the clients, exit status 5 from the CLI, 502 from the gateway."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sansio_chat.adapters.cli import main
from sansio_chat.adapters.gateway import GatewayConfig, create_gateway_app
from sansio_chat.adapters.httpx import ChatClient
from sansio_chat.adapters.serving import serve_in_thread

from hostile_server import Conn, HostileServer, respond
from sansio_chat import RemoteProtocolError

Start = Callable[[Callable[[Conn], None]], HostileServer]


def weird_status(conn: Conn) -> None:
    conn.send(respond(b"HTTP/1.1 999 Weird", ((b"content-length", b"0"),)))


def test_the_client_raises_remote_protocol_error(hostile_server: Start) -> None:
    server = hostile_server(weird_status)
    with ChatClient("darkai", base_url=server.url, min_interval=0) as chat:
        before = chat.conversation
        with pytest.raises(RemoteProtocolError, match="999"):
            chat.ask("hi")
        assert chat.conversation == before


def test_the_cli_exits_with_5_naming_the_status(
    hostile_server: Start, capsys: pytest.CaptureFixture[str]
) -> None:
    server = hostile_server(weird_status)
    argv = ["ask", "hi", "-p", "darkai", "--base-url", server.url, "--min-interval", "0"]
    assert main([*argv, "--no-save", "--quiet"]) == 5
    err = capsys.readouterr().err
    assert "999" in err
    assert len(err.strip().splitlines()) == 1


def test_the_gateway_answers_502(hostile_server: Start) -> None:
    server = hostile_server(weird_status)
    config = GatewayConfig(providers=("darkai",), base_url=server.url, min_interval=0)
    with serve_in_thread(create_gateway_app(config)) as gateway:
        reply = httpx.post(
            f"{gateway.base_url}/v1/chat/completions",
            json={"model": "darkai/llama-3-70b", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
    assert reply.status_code == 502
    assert "999" in reply.json()["error"]["message"]
