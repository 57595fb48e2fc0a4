"""The h11 driver over in-memory anyio byte streams: keep-alive, reconnects, TLS, CONNECT."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import h11
import pytest
from anyio.abc import ByteStream, TaskGroup
from anyio.streams.tls import TLSStream
from sansio_chat.adapters.h11 import aiter_batches, aiter_turn
from sansio_chat.adapters.httpx import Timeouts

from adapters_support import FakeSession, MemoryByteStream
from sansio_chat import Finished, HttpRequest, Sleep, Timeout, TokenEvent, TransportError

TLS = Path(__file__).parent / "data" / "tls"
STATUS = HttpRequest(method="GET", url="http://svc.test/status?a=1", headers=(("x-a", "1"),))
CHAT = HttpRequest(
    method="POST",
    url="http://svc.test/chat",
    headers=(("content-type", "application/json"),),
    body=b'{"q":"hi"}',
)
REPLY = [b"t:Hel", b"lo\n", b"done\n"]


@dataclass
class Reply:
    """What the fake server answers to one request."""

    chunks: list[bytes] = field(default_factory=lambda: [b"ok"])
    status: int = 200
    close: bool = False  # send Connection: close
    then: str = ""  # "cut": stop mid-body; "hang": never finish; "drop": close before replying
    together: bool = False  # the head, every chunk and the end in one write
    garbage: bytes = b""  # with together: these raw bytes instead of the end, then close


@dataclass
class Server:
    """An h11 server over in-memory streams, one task per connection."""

    replies: list[Reply]
    tasks: TaskGroup
    connections: int = 0
    requests: list[tuple[h11.Request, bytes]] = field(default_factory=list)
    proxy: bool = False  # expect CONNECT first
    proxy_status: int = 200
    tunnels: list[h11.Request] = field(default_factory=list)
    tls: ssl.SSLContext | None = None

    async def connect(self, host: str, port: int) -> ByteStream:
        self.connections += 1
        client, server = MemoryByteStream.pair()
        self.tasks.start_soon(self._serve, server)
        return client

    async def _serve(self, stream: ByteStream) -> None:
        async with stream:
            if self.proxy and not await self._tunnel(stream):
                return
            if self.tls is not None:
                try:
                    stream = await TLSStream.wrap(
                        stream, server_side=True, ssl_context=self.tls, standard_compatible=False
                    )
                except (anyio.EndOfStream, anyio.BrokenResourceError, ssl.SSLError):
                    return  # the client gave up the handshake (an untrusted certificate)
            conn = h11.Connection(h11.SERVER)
            while self.replies:
                if self.replies[0].then == "drop" and conn.their_state is h11.IDLE:
                    self.replies.pop(0)
                    return
                request, body = await _read_request(conn, stream)
                if request is None:
                    return
                self.requests.append((request, body))
                reply = self.replies.pop(0)
                headers = [("transfer-encoding", "chunked")]
                if reply.close:
                    headers.append(("connection", "close"))
                head = conn.send(h11.Response(status_code=reply.status, headers=headers))
                if reply.together:
                    parts = [conn.send(h11.Data(data=chunk)) for chunk in reply.chunks]
                    if reply.garbage:
                        await stream.send(b"".join([head, *parts, reply.garbage]))
                        return
                    await stream.send(b"".join([head, *parts, conn.send(h11.EndOfMessage())]))
                    conn.start_next_cycle()
                    continue
                await stream.send(head)
                for chunk in reply.chunks:
                    await stream.send(conn.send(h11.Data(data=chunk)))
                if reply.then == "cut":
                    return
                if reply.then == "hang":
                    await anyio.sleep_forever()
                await stream.send(conn.send(h11.EndOfMessage()))
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()

    async def _tunnel(self, stream: ByteStream) -> bool:
        conn = h11.Connection(h11.SERVER)
        request, _ = await _read_request(conn, stream)
        assert request is not None
        self.tunnels.append(request)
        response = h11.Response(status_code=self.proxy_status, headers=[("content-length", "0")])
        await stream.send(conn.send(response))
        return self.proxy_status == 200


async def _read_request(
    conn: h11.Connection, stream: ByteStream
) -> tuple[h11.Request | None, bytes]:
    request: h11.Request | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                conn.receive_data(await stream.receive())
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                conn.receive_data(b"")
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return request, body
        elif isinstance(event, h11.ConnectionClosed):
            return None, b""
        if request is not None and request.method == b"CONNECT":
            return request, b""


async def _run(session: FakeSession, server: Server, **options: Any) -> list[object]:
    return [event async for event in aiter_turn(session, "hi", connect=server.connect, **options)]


@pytest.mark.anyio
async def test_one_connection_serves_every_exchange_of_a_turn() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(), Reply(REPLY)], tasks)
        session = FakeSession([STATUS, Sleep(seconds=0.001), CHAT])
        events = await _run(session, server)
    assert events == [TokenEvent(text="Hello"), Finished(reason="stop")]
    assert server.connections == 1
    (status, _), (chat, body) = server.requests
    assert status.method == b"GET"
    assert status.target == b"/status?a=1"
    assert list(status.headers) == [(b"host", b"svc.test"), (b"x-a", b"1")]
    assert chat.method == b"POST"
    assert chat.target == b"/chat"
    assert list(chat.headers) == [
        (b"host", b"svc.test"),
        (b"content-type", b"application/json"),
        (b"content-length", b"10"),
    ]
    assert body == CHAT.body
    assert session.heads[1][0] == 200
    assert (b"transfer-encoding", b"chunked") in session.heads[1][1]


TOKENS = [b"t:a\n", b"t:b\n", b"t:c\n", b"done\n"]


async def _batches(session: FakeSession, server: Server) -> list[tuple[object, ...]]:
    turn = aiter_batches(session, "hi", connect=server.connect)
    return [batch async for batch in turn]


@pytest.mark.anyio
async def test_chunks_one_read_brings_are_one_batch_and_one_feed() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(TOKENS, together=True), Reply(TOKENS, together=True)], tasks)
        session = FakeSession([CHAT, CHAT])
        batches = await _batches(session, server)
    tokens = tuple(TokenEvent(text=text) for text in "abc")
    assert batches == [(*tokens, Finished(reason="stop"))] * 2
    assert session.feeds == [1, 1]  # receive_data once per reply, for four chunks
    assert server.connections == 1  # the end of the body was read with it: kept alive


@pytest.mark.anyio
async def test_chunks_that_arrive_apart_are_batches_apart() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(TOKENS)], tasks)
        session = FakeSession([CHAT])
        batches = await _batches(session, server)
    assert batches == [
        (TokenEvent(text="a"),),
        (TokenEvent(text="b"),),
        (TokenEvent(text="c"),),
        (Finished(reason="stop"),),
    ]
    assert session.feeds == [4]


@pytest.mark.anyio
async def test_good_chunks_read_with_a_malformed_one_reach_the_session_first() -> None:
    reply = Reply([b"t:a\n", b"t:b\n"], together=True, garbage=b"zz\r\n")
    events: list[object] = []

    async def collect(server: Server) -> None:
        async for event in aiter_turn(FakeSession([CHAT]), "hi", connect=server.connect):
            events.append(event)

    async with anyio.create_task_group() as tasks:
        server = Server([reply], tasks)
        with pytest.raises(TransportError) as caught:
            await collect(server)
    assert events == [TokenEvent(text="a"), TokenEvent(text="b")]
    assert caught.value.partial_text == "ab"
    assert str(caught.value).startswith("connection broken (http://svc.test):")


@pytest.mark.anyio
async def test_turn_events_are_the_batches_in_order() -> None:
    replies = [Reply(TOKENS, together=True), Reply(TOKENS)]
    async with anyio.create_task_group() as tasks:
        by_batch = await _batches(FakeSession([CHAT, CHAT]), Server(list(replies), tasks))
        events = await _run(FakeSession([CHAT, CHAT]), Server(list(replies), tasks))
    assert events == [event for batch in by_batch for event in batch]


@pytest.mark.anyio
async def test_a_closed_connection_is_replaced() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(close=True), Reply(REPLY)], tasks)
        events = await _run(FakeSession([STATUS, CHAT]), server)
    assert events[-1] == Finished(reason="stop")
    assert server.connections == 2


@pytest.mark.anyio
async def test_an_idle_connection_the_server_dropped_is_retried_once() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(), Reply(then="drop"), Reply(REPLY)], tasks)
        events = await _run(FakeSession([STATUS, CHAT]), server)
    assert events[-1] == Finished(reason="stop")
    assert server.connections == 2
    assert [request.method for request, _ in server.requests] == [b"GET", b"POST"]


@pytest.mark.anyio
async def test_a_cut_reply_is_a_transport_error_with_the_partial_text() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply([b"t:Hel\n", b"t:lo"], then="cut")], tasks)
        with pytest.raises(TransportError) as caught:
            await _run(FakeSession([CHAT]), server)
    assert caught.value.partial_text == "Hel"
    assert str(caught.value).startswith("connection broken (http://svc.test):")


@pytest.mark.anyio
async def test_a_stalled_reply_hits_the_read_timeout() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply([b"t:Hel\n"], then="hang")], tasks)
        with pytest.raises(Timeout) as caught:
            await _run(FakeSession([CHAT]), server, timeouts=Timeouts(read=0.1))
        tasks.cancel_scope.cancel()
    assert caught.value.partial_text == "Hel"
    assert str(caught.value) == (
        "read timeout (http://svc.test): 0.1 s passed waiting for http://svc.test/chat"
    )


@pytest.mark.anyio
async def test_the_total_timeout_bounds_the_turn() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply([b"t:Hel\n"], then="hang")], tasks)
        with pytest.raises(Timeout, match="total timeout expired"):
            await _run(FakeSession([CHAT]), server, timeouts=Timeouts(total=0.1))
        tasks.cancel_scope.cancel()


@pytest.mark.anyio
async def test_early_close_closes_the_connection() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(REPLY, then="hang")], tasks)
        turn = aiter_turn(FakeSession([CHAT]), "hi", connect=server.connect)
        assert await turn.__anext__() == TokenEvent(text="Hello")
        await turn.aclose()
        tasks.cancel_scope.cancel()


@pytest.mark.anyio
async def test_connect_through_a_proxy_tunnel() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(), Reply(REPLY)], tasks, proxy=True)
        proxy = "http://us%40er:p%3Ass@proxy.test:3128"
        events = await _run(FakeSession([STATUS, CHAT]), server, proxy=proxy)
    assert events[-1] == Finished(reason="stop")
    (tunnel,) = server.tunnels
    assert tunnel.method == b"CONNECT"
    assert tunnel.target == b"svc.test:80"
    # base64 of "us@er:p:ss"
    assert (b"proxy-authorization", b"Basic dXNAZXI6cDpzcw==") in list(tunnel.headers)


@pytest.mark.anyio
async def test_a_refused_tunnel_is_a_transport_error() -> None:
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(REPLY)], tasks, proxy=True, proxy_status=407)
        with pytest.raises(TransportError, match=r"proxy refused CONNECT svc\.test:80: HTTP 407"):
            await _run(FakeSession([CHAT]), server, proxy="http://proxy.test:3128")


def _server_tls() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    return context


@pytest.mark.anyio
async def test_https_urls_are_wrapped_in_tls_and_verified() -> None:
    chat = HttpRequest(method="POST", url="https://svc.test/chat", headers=(), body=b"{}")
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(REPLY)], tasks, tls=_server_tls())
        events = await _run(FakeSession([chat]), server, verify=str(TLS / "ca.pem"))
    assert events[-1] == Finished(reason="stop")


@pytest.mark.anyio
async def test_verify_false_accepts_any_certificate() -> None:
    chat = HttpRequest(method="POST", url="https://svc.test/chat", headers=(), body=b"{}")
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(REPLY)], tasks, tls=_server_tls())
        events = await _run(FakeSession([chat]), server, verify=False)
    assert events[-1] == Finished(reason="stop")


@pytest.mark.anyio
async def test_an_untrusted_certificate_is_refused() -> None:
    chat = HttpRequest(method="POST", url="https://svc.test/chat", headers=(), body=b"{}")
    async with anyio.create_task_group() as tasks:
        server = Server([Reply(REPLY)], tasks, tls=_server_tls())
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            await _run(FakeSession([chat]), server)
        tasks.cancel_scope.cancel()


@pytest.mark.anyio
async def test_a_connect_that_never_completes_hits_the_connect_timeout() -> None:
    async def never(host: str, port: int) -> ByteStream:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    session = FakeSession([CHAT])
    with pytest.raises(Timeout) as caught:
        await _run_with(session, never, timeouts=Timeouts(connect=0.1))
    assert str(caught.value) == (
        "connect timeout (http://svc.test): 0.1 s passed waiting for http://svc.test/chat"
    )


async def _run_with(session: FakeSession, connect: Any, **options: Any) -> list[object]:
    turn = aiter_turn(session, "hi", connect=connect, **options)
    return [event async for event in turn]
