"""Every driver against a hostile server: the session is left ready, nothing is sent twice.

Issue 13, items 3, 5 and 6: a turn that ends early (transport error, timeout, cancellation,
the caller closing the stream) leaves the session able to start the next turn with its
conversation unchanged; the h11 driver never resends a request that may have reached the
server; a wait is never longer than the total timeout, and an absurd one is a typed error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import aclosing, closing
from typing import Any

import anyio
import httpx
import pytest
from sansio_chat.adapters import h11 as h11_driver
from sansio_chat.adapters.httpx import Timeouts, aiter_turn, iter_turn

from adapters_support import FakeSession
from hostile_server import SSE_HEAD, Conn, HostileServer, respond
from sansio_chat import (
    ChatSession,
    Conversation,
    Event,
    HttpRequest,
    Message,
    Pacer,
    Sleep,
    State,
    Timeout,
    TokenEvent,
    TransportError,
    providers,
)

FIRST = b'data: {"event": "text-chunk", "data": {"text": "Hel"}}\n\n'
HISTORY = Conversation(
    provider="darkai",
    model=providers.get("darkai").default_model,
    messages=(Message(role="user", content="hi"), Message(role="assistant", content="hello")),
)
READY = (State.IDLE, State.DONE, State.ERROR)


def _session(server: HostileServer) -> ChatSession:
    return providers.get("darkai").new_session(
        base_url=server.url, conversation=HISTORY, pacer=Pacer(0)
    )


def _reset_after_first(conn: Conn) -> None:
    conn.send(SSE_HEAD + FIRST)
    conn.reset()


def _stall_after_first(conn: Conn) -> None:
    conn.send(SSE_HEAD + FIRST)
    conn.stall()


def _assert_ready(session: ChatSession) -> None:
    assert session.state in READY
    assert session.conversation == HISTORY
    session.start_turn("again")  # raised LocalProtocolError before the fix
    assert session.conversation == HISTORY


async def _drain(events: AsyncGenerator[Event, None]) -> None:
    async with aclosing(events):
        async for _ in events:
            pass


AsyncDriver = Callable[[ChatSession, HostileServer, Timeouts], AsyncGenerator[Event, None]]


def _httpx_async(session: ChatSession, server: HostileServer, timeouts: Timeouts) -> Any:
    async def run() -> AsyncGenerator[Event, None]:
        async with httpx.AsyncClient() as http:
            turn = aiter_turn(session, http, "more", timeouts=timeouts)
            async with aclosing(turn):
                async for event in turn:
                    yield event

    return run()


def _h11_async(session: ChatSession, server: HostileServer, timeouts: Timeouts) -> Any:
    return h11_driver.aiter_turn(session, "more", timeouts=timeouts)


ASYNC_DRIVERS = pytest.mark.parametrize("driver", [_httpx_async, _h11_async], ids=["httpx", "h11"])


@pytest.mark.anyio
@ASYNC_DRIVERS
async def test_async_transport_error_leaves_the_session_ready(
    driver: AsyncDriver, hostile_server: Callable[..., HostileServer]
) -> None:
    server = hostile_server(_reset_after_first)
    session = _session(server)
    with pytest.raises(TransportError):
        await _drain(driver(session, server, Timeouts(read=5)))
    _assert_ready(session)


@pytest.mark.anyio
@ASYNC_DRIVERS
async def test_async_timeout_leaves_the_session_ready(
    driver: AsyncDriver, hostile_server: Callable[..., HostileServer]
) -> None:
    server = hostile_server(_stall_after_first)
    session = _session(server)
    with pytest.raises(Timeout) as caught:
        await _drain(driver(session, server, Timeouts(read=0.3)))
    assert caught.value.partial_text == "Hel"
    assert "Cancelled" not in str(caught.value)
    assert "0.3 s" in str(caught.value)
    assert server.url in str(caught.value)
    _assert_ready(session)


@pytest.mark.anyio
@ASYNC_DRIVERS
async def test_async_cancellation_leaves_the_session_ready(
    driver: AsyncDriver, hostile_server: Callable[..., HostileServer]
) -> None:
    server = hostile_server(_stall_after_first)
    session = _session(server)
    tokens: list[Event] = []
    with anyio.move_on_after(30) as scope:  # cancelled while the server stalls
        async with aclosing(driver(session, server, Timeouts(read=30))) as turn:
            async for event in turn:
                tokens.append(event)
                if isinstance(event, TokenEvent):
                    scope.cancel()
    assert scope.cancelled_caught
    assert TokenEvent(text="Hel") in tokens
    _assert_ready(session)


@pytest.mark.anyio
@ASYNC_DRIVERS
async def test_async_early_close_leaves_the_session_ready(
    driver: AsyncDriver, hostile_server: Callable[..., HostileServer]
) -> None:
    server = hostile_server(_stall_after_first)
    session = _session(server)
    async with aclosing(driver(session, server, Timeouts(read=30))) as turn:
        async for event in turn:
            if isinstance(event, TokenEvent):
                break
    _assert_ready(session)


def _sync_turn(session: ChatSession, timeouts: Timeouts) -> Generator[Event, None, None]:
    with httpx.Client() as http, closing(iter_turn(session, http, "more", timeouts=timeouts)) as t:
        yield from t


def test_sync_transport_error_leaves_the_session_ready(
    hostile_server: Callable[..., HostileServer],
) -> None:
    session = _session(hostile_server(_reset_after_first))
    with pytest.raises(TransportError):
        list(_sync_turn(session, Timeouts(read=5)))
    _assert_ready(session)


def test_sync_timeout_leaves_the_session_ready(
    hostile_server: Callable[..., HostileServer],
) -> None:
    server = hostile_server(_stall_after_first)
    session = _session(server)
    with pytest.raises(Timeout) as caught:
        list(_sync_turn(session, Timeouts(read=0.3)))
    assert "0.3 s" in str(caught.value)
    assert server.url in str(caught.value)
    _assert_ready(session)


def test_sync_early_close_leaves_the_session_ready(
    hostile_server: Callable[..., HostileServer],
) -> None:
    session = _session(hostile_server(_stall_after_first))
    with closing(_sync_turn(session, Timeouts(read=30))) as turn:
        for event in turn:
            if isinstance(event, TokenEvent):
                break
    _assert_ready(session)


# --- item 6: the h11 driver sends the chat POST once -------------------------------------

REPLY = b"t:Hello\ndone\n"


def _fake(server: HostileServer, *steps: str | Sleep) -> FakeSession:
    script: list[HttpRequest | Sleep] = []
    for step in steps:
        if isinstance(step, Sleep):
            script.append(step)
            continue
        body = b"{}" if step == "POST" else b""
        script.append(HttpRequest(method=step, url=f"{server.url}/x", headers=(), body=body))
    return FakeSession(script)


def _keep_alive(body: bytes) -> bytes:
    return respond(headers=((b"content-length", str(len(body)).encode()),), body=body)


@pytest.mark.anyio
async def test_h11_never_resends_a_request_the_server_never_answers(
    hostile_server: Callable[..., HostileServer],
) -> None:
    server = hostile_server(lambda conn: conn.stall())
    session = _fake(server, "POST")
    with pytest.raises(Timeout, match="read timeout"):
        await _drain(h11_driver.aiter_turn(session, "hi", timeouts=Timeouts(read=0.3)))
    assert server.count("POST") == 1  # was 2: the read timeout was retried
    assert session.aborted == 1


@pytest.mark.anyio
async def test_h11_never_resends_on_a_reused_connection_once_written(
    hostile_server: Callable[..., HostileServer],
) -> None:
    def handler(conn: Conn) -> None:
        if conn.request is not None and conn.request.method == "GET":
            conn.send(_keep_alive(b""))
        else:
            conn.reset()  # the POST reached the server: it may have acted on it

    server = hostile_server(handler)
    session = _fake(server, "GET", "POST")
    with pytest.raises(TransportError):
        await _drain(h11_driver.aiter_turn(session, "hi", timeouts=Timeouts(read=5)))
    assert server.count("POST") == 1
    assert server.connections == 1


@pytest.mark.anyio
async def test_h11_replaces_a_kept_alive_connection_the_server_closed_while_idle(
    hostile_server: Callable[..., HostileServer],
) -> None:
    def handler(conn: Conn) -> None:
        if conn.request is not None and conn.request.method == "GET":
            conn.send(_keep_alive(b""))
            conn.close()  # idle close without saying so (no "connection: close")
        else:
            conn.send(_keep_alive(REPLY))

    server = hostile_server(handler)
    session = _fake(server, "GET", Sleep(seconds=0.05), "POST")
    events = [e async for e in h11_driver.aiter_turn(session, "hi", timeouts=Timeouts(read=5))]
    assert TokenEvent(text="Hello") in events
    assert server.count("POST") == 1
    assert server.connections == 2


# --- item 3 (driver side): every wait bounded, an absurd one typed -----------------------


@pytest.mark.parametrize("seconds", [1e300, float("inf"), float("nan")])
def test_sync_absurd_wait_is_a_timeout_not_an_overflow(seconds: float) -> None:
    session = FakeSession([Sleep(seconds=seconds)])
    with httpx.Client() as http, pytest.raises(Timeout, match="retry wait"):
        list(iter_turn(session, http, "hi"))
    assert session.aborted == 1


@pytest.mark.anyio
@pytest.mark.parametrize("seconds", [1e300, float("inf")])
async def test_async_absurd_wait_is_a_timeout(seconds: float) -> None:
    session = FakeSession([Sleep(seconds=seconds)])
    with anyio.fail_after(5), pytest.raises(Timeout, match="retry wait"):
        await _drain(h11_driver.aiter_turn(session, "hi"))
    async with httpx.AsyncClient() as http:
        with anyio.fail_after(5), pytest.raises(Timeout, match="retry wait"):
            await _drain(aiter_turn(session, http, "hi"))


def test_a_wait_past_the_total_timeout_fails_at_once() -> None:
    session = FakeSession([Sleep(seconds=30)])
    with httpx.Client() as http, pytest.raises(Timeout, match="total timeout of 1 s"):
        list(iter_turn(session, http, "hi", timeouts=Timeouts(total=1)))


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_timeouts_refuse_values_that_are_not_positive_seconds(value: float) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        Timeouts(read=value)
