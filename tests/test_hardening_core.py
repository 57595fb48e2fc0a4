"""Issue 13, the core's part: a reply's size is bounded, only printable ASCII from the server
reaches a later request, and nothing of a refused value is committed."""

from __future__ import annotations

import tracemalloc

import pytest

from sansio_chat import Limits, LocalProtocolError, RemoteProtocolError, State
from session_driver import (
    CHALLENGE,
    FE_PAGE,
    Reply,
    ddg_token,
    drive,
    first_turn_replies,
    new_session,
    sse_reply,
)


def test_a_reply_longer_than_the_limit_is_a_remote_protocol_error_with_its_partial_text() -> None:
    session, clock = new_session(limits=Limits(max_reply_chars=10))
    before = session.conversation
    session.start_turn("x")
    out = drive(session, clock, first_turn_replies(*(ddg_token("abcd") for _ in range(5))))
    assert isinstance(out.error, RemoteProtocolError)
    assert out.error.limit == 10
    assert out.error.observed == 12
    assert out.error.partial_text == "abcdabcd"
    assert session.conversation == before
    assert session.state is State.ERROR


def test_a_reply_at_the_limit_is_fine() -> None:
    session, clock = new_session(limits=Limits(max_reply_chars=8))
    session.start_turn("x")
    out = drive(session, clock, first_turn_replies(ddg_token("abcd"), ddg_token("efgh")))
    assert out.error is None
    assert out.text == "abcdefgh"


def test_an_endless_reply_holds_bounded_memory_in_the_session() -> None:
    # A server that streams tokens forever: the session keeps at most the limit, then stops.
    limit = 200_000
    session, _ = new_session(limits=Limits(max_reply_chars=limit), min_interval=0)
    session.start_turn("x")
    for reply in first_turn_replies()[:2]:
        session.next_step()
        session.receive_response_head(reply.status, reply.headers)
        session.receive_data(reply.body)
        session.receive_eof()
        list(session.events())
    session.next_step()
    session.receive_response_head(200, [("content-type", "text/event-stream")])
    chunk = b"".join(f"data: {ddg_token('x' * 100)}\n\n".encode() for _ in range(100))
    tracemalloc.start()
    error = None
    sent = 0
    try:
        for _ in range(10_000):  # up to 100 Mi characters: far past the limit
            session.receive_data(chunk)
            sent += 1
            for _event in session.events():
                pass
    except RemoteProtocolError as exc:
        error = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert error is not None
    assert error.limit == limit
    assert sent < 30  # it stopped right after the limit, not at the end of the stream
    assert peak < 8 * limit  # the partial text (ASCII str) and one chunk, not the stream


@pytest.mark.parametrize("bad", [0, -5, True, "4MiB", 2.5])
def test_max_reply_chars_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(LocalProtocolError):
        Limits(max_reply_chars=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("x-vqd-4", "4-caf\u00e9"),
        ("x-vqd-4", "4-\u00ff"),
        ("set-cookie", "dcs=\u00e9t\u00e9; Path=/"),
        ("x-vqd-hash-1", "YQ==\u0080"),
    ],
)
def test_a_server_value_outside_printable_ascii_is_refused_before_anything_is_committed(
    where: str, value: str
) -> None:
    session, clock = new_session()
    before = session.conversation
    session.start_turn("x")
    page = Reply(200, (("content-type", "text/html"),), FE_PAGE)
    status_headers = {"x-vqd-4": "4-111", "x-vqd-hash-1": CHALLENGE}
    chat_headers = {"x-vqd-4": "4-222"}
    target = status_headers if where in ("x-vqd-4", "set-cookie") else chat_headers
    target[where] = value
    status = Reply(200, tuple(status_headers.items()), b"{}")
    chat = sse_reply(ddg_token("hi"), headers=tuple(chat_headers.items()))
    # Header values arrive as latin-1 bytes from a real client: send them that way.
    replies = [
        Reply(
            r.status,
            tuple((k, v.encode("latin-1", "replace").decode("latin-1")) for k, v in r.headers),
            r.body,
        )
        for r in (page, status, chat)
    ]
    out = drive(session, clock, replies[: 2 if target is status_headers else 3])
    assert isinstance(out.error, RemoteProtocolError), out.error
    assert "printable ASCII" in str(out.error)
    assert session.conversation == before
