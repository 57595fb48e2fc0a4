"""The httpx drivers against a scripted fake session and httpx.MockTransport (no sockets)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest
from sansio_chat.adapters.httpx import (
    Timeouts,
    aiter_turn,
    async_http_client,
    http_client,
    iter_turn,
)

from adapters_support import FakeSession
from sansio_chat import (
    Finished,
    HttpRequest,
    Sleep,
    StreamInterrupted,
    Timeout,
    TokenEvent,
    TransportError,
)

STATUS = HttpRequest(
    method="GET",
    url="http://svc.test/status",
    headers=(("x-vqd-accept", "1"), ("user-agent", "UA/1"), ("cookie", "dcs=1; dcm=3")),
)
CHAT = HttpRequest(
    method="POST",
    url="http://svc.test/chat?x=1",
    headers=(("content-type", "application/json"), ("accept", "text/event-stream")),
    body=b'{"q":"hi"}',
)
REPLY = [b"t:Hel", b"lo\nt: wor", b"ld\n", b"done\n"]


class Body(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A reply body in pieces; remembers whether it was closed; may hang or fail midway."""

    def __init__(self, pieces: list[bytes], then: str = "end") -> None:
        self.pieces, self.then, self.closed = pieces, then, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.then == "hang":
            await anyio.sleep_forever()
        if self.then == "reset":
            raise httpx.ReadError("connection reset by peer")

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.then == "reset":
            raise httpx.ReadError("connection reset by peer")
        if self.then == "hang":
            raise httpx.ReadTimeout("timed out")

    async def aclose(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


class Server:
    """A MockTransport handler: records requests, replies from a queue of bodies."""

    def __init__(self, *bodies: Body) -> None:
        self.bodies = list(bodies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = self.bodies.pop(0)
        headers = [("set-cookie", "tracker=1; Path=/"), ("x-vqd-4", "4-123")]
        return httpx.Response(200, headers=headers, stream=body)


def _async_client(server: Server) -> httpx.AsyncClient:
    client = async_http_client()
    client._transport = httpx.MockTransport(server)
    return client


def _sync_client(server: Server) -> httpx.Client:
    client = http_client()
    client._transport = httpx.MockTransport(server)
    return client


def _header_pairs(request: httpx.Request) -> list[tuple[str, str]]:
    return [(k.decode(), v.decode()) for k, v in request.headers.raw]


def _check_exchanges(server: Server, session: FakeSession) -> None:
    status, chat = server.requests
    # Exactly the session's headers, plus what HTTP itself needs (host, content-length).
    assert _header_pairs(status) == [("Host", "svc.test"), *STATUS.headers]
    assert _header_pairs(chat) == [
        ("Host", "svc.test"),
        *CHAT.headers,
        ("Content-Length", str(len(CHAT.body))),
    ]
    assert chat.method == "POST"
    assert str(chat.url) == CHAT.url
    assert chat.content == CHAT.body
    # The set-cookie of the first reply was not replayed by httpx: cookies are the session's.
    assert chat.headers.get("cookie") is None
    assert session.heads[0][0] == 200
    assert (b"x-vqd-4", b"4-123") in session.heads[0][1]
    assert session.bodies[1] == b"".join(REPLY)


@pytest.mark.anyio
async def test_async_turn_sends_exactly_the_session_requests() -> None:
    session = FakeSession([STATUS, Sleep(seconds=0.001), CHAT])
    server = Server(Body([b"ok"]), Body(REPLY))
    async with _async_client(server) as client:
        events = [event async for event in aiter_turn(session, client, "hi")]
    assert events == [
        TokenEvent(text="Hello"),
        TokenEvent(text=" world"),
        Finished(reason="stop"),
    ]
    assert session.turns == ["hi"]
    assert session.committed == ["Hello world"]
    _check_exchanges(server, session)


def test_sync_turn_sends_exactly_the_session_requests() -> None:
    session = FakeSession([STATUS, Sleep(seconds=0.001), CHAT])
    server = Server(Body([b"ok"]), Body(REPLY))
    with _sync_client(server) as client:
        events = list(iter_turn(session, client, "hi"))
    assert [type(event).__name__ for event in events] == ["TokenEvent", "TokenEvent", "Finished"]
    _check_exchanges(server, session)


@pytest.mark.anyio
async def test_async_session_error_passes_through_and_closes_the_reply() -> None:
    body = Body([b"t:part\n"])
    session = FakeSession([CHAT])
    async with _async_client(Server(body)) as client:
        with pytest.raises(StreamInterrupted) as caught:
            async for _ in aiter_turn(session, client, "hi"):
                pass
    assert caught.value.partial_text == "part"
    assert body.closed


@pytest.mark.anyio
async def test_async_connection_failure_is_a_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client = async_http_client()
    client._transport = httpx.MockTransport(refuse)
    async with client:
        with pytest.raises(TransportError) as caught:
            async for _ in aiter_turn(FakeSession([CHAT]), client, "hi"):
                pass
    assert type(caught.value) is TransportError
    assert str(caught.value) == "cannot connect (http://svc.test): [Errno 111] Connection refused"
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.anyio
async def test_async_reset_mid_reply_keeps_the_partial_text() -> None:
    body = Body([b"t:Hel", b"lo\n"], then="reset")
    async with _async_client(Server(body)) as client:
        with pytest.raises(TransportError) as caught:
            async for _ in aiter_turn(FakeSession([CHAT]), client, "hi"):
                pass
    assert caught.value.partial_text == "Hello"
    assert "connection reset by peer" in str(caught.value)
    assert body.closed


def test_sync_read_timeout_is_a_timeout_with_partial_text() -> None:
    body = Body([b"t:Hel\n"], then="hang")
    with _sync_client(Server(body)) as client, pytest.raises(Timeout) as caught:
        list(iter_turn(FakeSession([CHAT]), client, "hi"))
    assert caught.value.partial_text == "Hel"
    assert str(caught.value).startswith("read timeout (http://svc.test)")
    assert body.closed


@pytest.mark.anyio
async def test_async_total_timeout_stops_a_hanging_reply() -> None:
    body = Body([b"t:Hel\n"], then="hang")
    async with _async_client(Server(body)) as client:
        turn = aiter_turn(FakeSession([CHAT]), client, "hi", timeouts=Timeouts(total=0.2))
        with pytest.raises(Timeout) as caught:
            async for _ in turn:
                pass
    assert caught.value.partial_text == "Hel"
    assert str(caught.value) == (
        "total timeout expired (http://svc.test): 0.2 s passed waiting for http://svc.test/chat"
    )
    assert body.closed


@pytest.mark.anyio
async def test_a_retry_wait_past_the_deadline_fails_at_once() -> None:
    session = FakeSession([Sleep(seconds=3600.0), CHAT])
    async with _async_client(Server(Body(REPLY))) as client:
        with pytest.raises(Timeout, match=r"retry wait of 3600\.0 s"):
            async for _ in aiter_turn(session, client, "hi", timeouts=Timeouts(total=5)):
                pass


def test_sync_retry_wait_past_the_deadline_fails_at_once() -> None:
    session = FakeSession([Sleep(seconds=3600.0), CHAT])
    with _sync_client(Server(Body(REPLY))) as client, pytest.raises(Timeout):
        list(iter_turn(session, client, "hi", timeouts=Timeouts(total=5)))


@pytest.mark.anyio
async def test_async_early_close_closes_the_reply() -> None:
    body = Body(REPLY, then="hang")
    async with _async_client(Server(body)) as client:
        turn = aiter_turn(FakeSession([CHAT]), client, "hi")
        first = await turn.__anext__()
        await turn.aclose()
    assert first == TokenEvent(text="Hello")
    assert body.closed
    # No generator of httpx's body chain is left for trio to finalize (it would warn, and
    # warnings are errors here).
    del turn
    gc.collect()


@pytest.mark.anyio
async def test_async_cancellation_closes_the_reply() -> None:
    body = Body([b"t:Hel\n"], then="hang")
    seen: list[object] = []
    async with _async_client(Server(body)) as client:
        # Cancelled while the reply hangs after its first token (no timing involved: a
        # loaded machine must not turn this into a race).
        with anyio.move_on_after(30) as scope:
            async for event in aiter_turn(FakeSession([CHAT]), client, "hi"):
                seen.append(event)
                scope.cancel()
    assert scope.cancelled_caught
    assert seen == [TokenEvent(text="Hel")]
    assert body.closed


def test_sync_early_close_closes_the_reply() -> None:
    body = Body(REPLY)
    with _sync_client(Server(body)) as client:
        turn = iter_turn(FakeSession([CHAT]), client, "hi")
        next(turn)
        turn.close()
    assert body.closed


def test_timeouts_accept_a_number_or_a_value() -> None:
    assert Timeouts.of(None) == Timeouts()
    assert Timeouts.of(3) == Timeouts(connect=3.0, read=3.0, total=None)
    value = Timeouts(connect=1, read=2, total=3)
    assert Timeouts.of(value) is value
