"""The generic ChatSession API: argument checks, NEED_DATA, events(), error fields, purity."""

from __future__ import annotations

import ast
import random
from pathlib import Path
from typing import Any

import pytest

from sansio_chat import (
    NEED_DATA,
    Backoff,
    ChatSession,
    Finished,
    HttpRequest,
    InputLimitError,
    LocalProtocolError,
    RateLimited,
    RemoteProtocolError,
    Sleep,
    State,
    StreamInterrupted,
    TokenEvent,
    TurnComplete,
    VqdUpdate,
)
from session_driver import (
    CHALLENGE,
    FE_PAGE,
    Reply,
    drive,
    first_turn_replies,
    new_session,
    sse_reply,
    token,
)


def at_chat(**kwargs: Any) -> ChatSession:
    """A dialect-2024 session whose chat request was just handed out."""
    session, _clock = new_session(dialect="2024", min_interval=0, **kwargs)
    session.start_turn("hi")
    session.next_step()
    session.receive_response_head(200, [("x-vqd-4", "4-1")])
    session.receive_eof()
    assert session.next_event() is NEED_DATA
    request = session.next_step()
    assert isinstance(request, HttpRequest)
    return session


def test_need_data_then_events_as_bytes_arrive() -> None:
    session = at_chat()
    session.receive_response_head(200, [("content-type", "text/event-stream"), ("x-vqd-4", "4-2")])
    assert session.next_event() == VqdUpdate(vqd="4-2", vqd_hash_1="")
    assert session.next_event() is NEED_DATA
    session.receive_data(b'data: {"message":"a"')
    assert session.next_event() is NEED_DATA
    session.receive_data(b"}\n\n")
    assert session.next_event() == TokenEvent(text="a")
    assert session.next_event() is NEED_DATA
    # Beyond the typed contract (bytes): other buffers are accepted too.
    session.receive_data(bytearray(b"data: [DONE]\n\n"))  # type: ignore[arg-type]
    session.receive_data(memoryview(b""))  # type: ignore[arg-type]
    assert list(session.events()) == [Finished(reason="stop")]
    assert session.state is State.RECV_BODY
    session.receive_eof()
    assert list(session.events()) == []
    assert session.state is State.DONE
    assert session.next_step() == TurnComplete()
    assert session.state is State.IDLE
    assert session.next_event() is NEED_DATA


def test_commit_happens_when_finished_is_delivered() -> None:
    session = at_chat()
    session.receive_response_head(200, [])
    session.receive_data(b'data: {"message":"a"}\n\ndata: [DONE]\n\n')
    assert session.next_event() == TokenEvent(text="a")
    assert not session.conversation.messages  # (== () would narrow the type to empty)
    assert session.next_event() == Finished(reason="stop")
    assert [m.content for m in session.conversation.messages] == ["hi", "a"]


@pytest.mark.parametrize("status", [True, "200", 200.0, None])
def test_a_status_that_is_not_an_int_is_the_callers_error(status: object) -> None:
    session, _ = new_session()
    session.start_turn("x")
    session.next_step()
    with pytest.raises(LocalProtocolError):
        session.receive_response_head(status, [])  # type: ignore[arg-type]
    assert session.state is State.AWAIT_HEAD


@pytest.mark.parametrize("status", [-1, 0, 99, 100, 199, 600, 999, 10**30])
def test_a_status_outside_the_final_range_is_the_servers_error(status: int) -> None:
    # Issue 13 item 10: a server that sends status 999 broke the protocol; the caller did not.
    session, _ = new_session()
    before = session.conversation
    session.start_turn("x")
    session.next_step()
    session.receive_response_head(status, [])
    session.receive_eof()
    with pytest.raises(RemoteProtocolError, match=str(status)):
        list(session.events())
    assert session.state is State.ERROR
    assert session.conversation == before
    session.start_turn("again")


@pytest.mark.parametrize("headers", [[("a",)], [("a", 1)], [(1, "b")], 5, [b"ab"]])
def test_bad_headers_are_refused(headers: object) -> None:
    session, _ = new_session()
    session.start_turn("x")
    session.next_step()
    with pytest.raises(LocalProtocolError):
        session.receive_response_head(200, headers)  # type: ignore[arg-type]
    assert session.state is State.AWAIT_HEAD


def test_header_names_are_case_insensitive_and_bytes_are_accepted() -> None:
    session = at_chat()
    session.receive_response_head(200, [(b"X-VQD-4", b" 4-9 ")])
    assert session.next_event() == VqdUpdate(vqd="4-9", vqd_hash_1="")


@pytest.mark.parametrize("data", ["text", 5, None])
def test_receive_data_wants_bytes(data: object) -> None:
    session = at_chat()
    session.receive_response_head(200, [])
    with pytest.raises(LocalProtocolError):
        session.receive_data(data)  # type: ignore[arg-type]
    assert session.state is State.RECV_BODY


def test_start_turn_errors_change_nothing() -> None:
    session, _ = new_session()
    with pytest.raises(LocalProtocolError):
        session.start_turn([])
    with pytest.raises(LocalProtocolError):
        session.start_turn([{"role": "user", "content": 1}])
    with pytest.raises(InputLimitError) as info:
        session.start_turn("x" * 20_000)
    assert info.value.state == "IDLE"
    assert session.state is State.IDLE
    session.start_turn("fine")
    assert session.state is State.SEND


def test_start_turn_is_allowed_after_done_without_turn_complete() -> None:
    session, clock = new_session()
    session.start_turn("one")
    replies = first_turn_replies(token("A"))
    # drive everything but the final next_step()
    for reply in replies:
        step = session.next_step()
        while isinstance(step, Sleep):
            clock.now += step.seconds
            step = session.next_step()
        session.receive_response_head(reply.status, reply.headers)
        session.receive_data(reply.body)
        session.receive_eof()
        list(session.events())
    assert session.state is State.DONE
    session.start_turn("two")
    assert session.state is State.SEND


def test_errors_carry_state_and_partial_text_and_turn_can_restart() -> None:
    session = at_chat()
    session.receive_response_head(200, [])
    session.receive_data(b'data: {"message":"so far"}\n\n')
    session.receive_eof()
    assert session.next_event() == TokenEvent(text="so far")
    with pytest.raises(StreamInterrupted) as info:
        session.next_event()
    assert info.value.partial_text == "so far"
    assert info.value.state == "RECV_EOF"
    assert session.state is State.ERROR
    with pytest.raises(LocalProtocolError):
        session.next_event()
    with pytest.raises(LocalProtocolError):
        session.next_step()
    session.start_turn("again")
    assert session.state is State.SEND


def test_zero_backoff_retries_without_sleep() -> None:
    session, clock = new_session(
        min_interval=0, backoff=Backoff(base_delay=0, rng=random.Random(1))
    )
    session.start_turn("x")
    t = drive(
        session,
        clock,
        [
            Reply(200, (), FE_PAGE),
            Reply(200, (("x-vqd-4", "4-1"), ("x-vqd-hash-1", CHALLENGE))),
            Reply(429, (), b"{}"),
            sse_reply(token("ok")),
        ],
    )
    assert t.events[0] == RateLimited(delay=0.0, attempt=1, status=429, reason="")
    assert t.sleeps == []
    assert t.error is None


def test_every_step_type_is_frozen() -> None:
    session, _ = new_session()
    session.start_turn("x")
    step = session.next_step()
    with pytest.raises(AttributeError):
        step.url = "x"  # type: ignore[misc, union-attr]


MINE = [
    "_state.py",
    "_session.py",
    "_pacing.py",
    "_conversation.py",
    "providers/__init__.py",
    "providers/_base.py",
    "providers/ddg/__init__.py",
    "providers/ddg/dialects.py",
    "providers/ddg/provider.py",
    "providers/ddg/state.py",
    "providers/ddg/turn.py",
    "providers/ddg/wire.py",
    "providers/ddg/wire2026.py",
    "providers/ddg/turn2026.py",
    "providers/ddg/exchanges2026.py",
    "providers/ddg/proof.py",
    "providers/ddg/markers.py",
    "providers/ddg/models.py",
    "providers/ddg/eras.py",
    "providers/darkai.py",
]
BANNED = {"httpx", "anyio", "asyncio", "trio", "hypercorn", "socket", "os", "threading", "h11"}


@pytest.mark.parametrize("name", MINE)
def test_core_modules_do_no_io(name: str) -> None:
    root = Path(__file__).resolve().parent.parent / "src" / "sansio_chat"
    tree = ast.parse((root / name).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            # random.random() etc.: the module's global generator is off limits
            assert not (node.value.id == "random" and node.attr not in ("Random",)), name
            # time.monotonic and time.time only as the defaults of injected clocks
            assert not (node.value.id == "time" and node.attr not in ("monotonic", "time")), name
    assert not imported & BANNED


@pytest.mark.parametrize("where", ["send", "await_head", "recv_body"])
def test_abort_turn_ends_the_turn_and_keeps_the_conversation(where: str) -> None:
    session, clock = new_session()
    session.start_turn("one")
    drive(session, clock, first_turn_replies(token("A")))
    before = session.conversation.to_json()
    session.start_turn("two")
    if where != "send":
        clock.now += 10
        session.next_step()
    if where == "recv_body":
        session.receive_response_head(200, [("x-vqd-4", "4-5")])
        session.receive_data(b'data: {"message":"par')
    session.abort_turn()
    assert session.state is State.ERROR
    assert session.conversation.to_json() == before
    with pytest.raises(LocalProtocolError):
        session.receive_data(b"x")
    session.abort_turn()  # idempotent
    session.start_turn("three")
    clock.now += 10
    t = drive(session, clock, [sse_reply(token("B"))])
    assert t.error is None
    assert [m.content for m in session.conversation.messages] == ["one", "A", "three", "B"]


def test_abort_turn_without_a_turn_changes_nothing() -> None:
    session, _ = new_session()
    session.abort_turn()
    assert session.state is State.IDLE


def test_limits_are_validated_and_exposed() -> None:
    from sansio_chat import Limits

    for bad in (0, -1, 1.5, True):
        with pytest.raises(LocalProtocolError):
            Limits(max_event_bytes=bad)  # type: ignore[arg-type]
    session, _ = new_session(limits=Limits(max_page_bytes=10))
    assert session.limits.max_page_bytes == 10
    assert session.backoff.max_retries == 3


def test_exchange_defaults_refuse_modes_they_do_not_read() -> None:
    from sansio_chat._session import ProviderExchange, ReadSSE

    class HeadOnly(ProviderExchange):
        def on_head(self, status: int, headers: object) -> ReadSSE:  # type: ignore[override]
            return ReadSSE()

    exchange = HeadOnly()
    with pytest.raises(NotImplementedError):
        exchange.on_events([])
    with pytest.raises(NotImplementedError):
        exchange.on_eof()
    with pytest.raises(NotImplementedError):
        exchange.on_body(b"", 0)


def test_events_returned_by_the_decoder_at_close_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # The WHATWG algorithm dispatches nothing at end of input, but the decoder's contract
    # returns a list from close(); the session must not drop what it returns.
    import sansio_chat._session as session_module
    from sansio_chat import ServerSentEvent, SSEDecoder

    class Flushing(SSEDecoder):
        def close(self) -> list[ServerSentEvent]:
            super().close()
            return [ServerSentEvent(data="[DONE]")]

    monkeypatch.setattr(session_module, "SSEDecoder", Flushing)
    session = at_chat()
    session.receive_response_head(200, [])
    session.receive_data(b'data: {"message":"a"}\n\n')
    session.receive_eof()
    assert list(session.events()) == [TokenEvent(text="a"), Finished(reason="stop")]
    assert session.state is State.DONE
