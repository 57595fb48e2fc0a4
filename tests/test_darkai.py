"""DarkAI at the byte level: the one POST, the event payloads, failures and chunking."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sansio_chat import (
    Conversation,
    Finished,
    HttpRequest,
    HTTPStatusError,
    Limits,
    RemoteProtocolError,
    State,
    StreamInterrupted,
    TokenEvent,
    format_prompt,
    providers,
)
from sansio_chat.providers import darkai
from session_driver import SSE, Reply, bytewise, drive, new_session


def chunk(text: str) -> str:
    return json.dumps({"event": "text-chunk", "data": {"text": text}}, ensure_ascii=False)


END = '{"event":"stream-end","data":{}}'


def reply(*payloads: str) -> Reply:
    return Reply(200, SSE, b"".join(f"data: {p}\n\n".encode() for p in payloads))


def test_request_is_exact() -> None:
    session, clock = new_session("darkai")
    session.start_turn("Hello")
    t = drive(session, clock, [reply(chunk("Hi"), chunk(" there"), END)])
    assert t.requests == [
        HttpRequest(
            method="POST",
            url="https://darkai.foundation/chat",
            headers=(
                ("accept", "text/event-stream"),
                ("content-type", "application/json"),
                ("user-agent", darkai.USER_AGENT),
            ),
            body=b'{"query":"Hello","model":"llama-3-70b"}',
        )
    ]
    assert t.events == [TokenEvent(text="Hi"), TokenEvent(text=" there"), Finished(reason="stop")]
    assert t.sleeps == []
    assert session.state is State.IDLE
    assert [m.to_dict() for m in session.conversation.messages] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there"},
    ]
    assert session.conversation.state == {}  # DarkAI keeps nothing between turns


def test_history_is_flattened_with_format_prompt() -> None:
    session, clock = new_session("darkai", model="gpt-4o")
    session.start_turn(
        [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "one"}]
    )
    drive(session, clock, [reply(chunk("A"), END)])
    session.start_turn("two")
    t = drive(session, clock, [reply(chunk("B"), END)])
    body = json.loads(t.requests[0].body)
    assert body == {
        "query": "System: Be kind.\nUser: one\nAssistant: A\nUser: two\nAssistant:",
        "model": "gpt-4o",
    }
    assert body["query"] == format_prompt(session.conversation.messages[:-1])
    assert t.sleeps == [1.5]


def test_alias_and_base_url() -> None:
    session, clock = new_session("darkai", model="llama-3.1-70b", base_url="http://127.0.0.1:9/")
    session.start_turn("x")
    t = drive(session, clock, [reply(END)])
    assert t.requests[0].url == "http://127.0.0.1:9/chat"
    assert json.loads(t.requests[0].body)["model"] == "llama-3-70b"
    assert t.events == [Finished(reason="stop")]


def test_final_response_alone_is_the_reply() -> None:
    session, clock = new_session("darkai")
    session.start_turn("x")
    final = '{"event":"final-response","data":{"message":"Whole text"}}'
    t = drive(session, clock, [reply(final, END)])
    assert t.events == [TokenEvent(text="Whole text"), Finished(reason="stop")]
    assert session.conversation.messages[-1].content == "Whole text"


def test_final_response_after_chunks_is_not_double_counted() -> None:
    session, clock = new_session("darkai")
    session.start_turn("x")
    final = '{"event":"final-response","data":{"message":"Whole text"}}'
    t = drive(session, clock, [reply(chunk("Whole"), chunk(" text"), final, END)])
    assert t.text == "Whole text"
    assert session.conversation.messages[-1].content == "Whole text"


def test_unknown_events_are_ignored() -> None:
    session, clock = new_session("darkai")
    session.start_turn("x")
    t = drive(
        session,
        clock,
        [reply('{"event":"status","data":{"x":1}}', '{"other":true}', chunk("a"), END)],
    )
    assert t.events == [TokenEvent(text="a"), Finished(reason="stop")]


def test_cut_stream_is_interrupted_and_changes_nothing() -> None:
    session, clock = new_session("darkai")
    before = session.conversation.to_json()
    session.start_turn("x")
    t = drive(session, clock, [reply(chunk("par"), chunk("tial"))])
    assert isinstance(t.error, StreamInterrupted)
    assert t.error.partial_text == "partial"
    assert session.conversation.to_json() == before
    assert session.state is State.ERROR
    session.start_turn("again")
    assert drive(session, clock, [reply(chunk("ok"), END)]).error is None


@pytest.mark.parametrize("status", [400, 404, 429, 500, 502])
def test_non_2xx_is_http_status_error_with_bounded_body(status: int) -> None:
    session, clock = new_session("darkai", limits=Limits(max_error_body_bytes=10))
    session.start_turn("x")
    t = drive(session, clock, [Reply(status, (), b"0123456789abcdef")])
    assert isinstance(t.error, HTTPStatusError)
    assert t.error.status == status
    assert t.error.body == "0123456789"


@pytest.mark.parametrize(
    "payload", ["nope", "[1]", '{"event":"text-chunk","data":{"text":1}}', '{"event":"text-chunk"}']
)
def test_malformed_payloads(payload: str) -> None:
    session, clock = new_session("darkai")
    session.start_turn("x")
    t = drive(session, clock, [reply(payload, END)])
    assert type(t.error) is RemoteProtocolError


def test_parse_stream_data() -> None:
    assert darkai.parse_stream_data(chunk("a")) == "a"
    assert darkai.parse_stream_data(END) == darkai.StreamItem(kind="end")
    assert darkai.parse_stream_data('{"event":"x"}') == darkai.StreamItem(kind="ignore")


BODY = (
    f"data: {chunk('Gr')}\n\ndata: {chunk('üße ')}\n\n".encode()
    + f"data: {chunk('🌍')}\n\n".encode()
    + b"data: "
    + END.encode()
    + b"\n\n"
)


def run(split: object) -> tuple[list[object], object]:
    session, clock = new_session("darkai")
    session.start_turn("x")
    t = drive(session, clock, [Reply(200, SSE, BODY)], split=split)  # type: ignore[arg-type]
    return list(t.events), t.error


def test_json_split_across_reads() -> None:
    expected = [
        TokenEvent(text="Gr"),
        TokenEvent(text="üße "),
        TokenEvent(text="🌍"),
        Finished(reason="stop"),
    ]
    assert run(bytewise) == (expected, None)


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=30))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted({0, len(BODY), *cuts})

    def split(body: bytes) -> list[bytes]:
        return [body[a:b] for a, b in itertools.pairwise(points)]

    assert run(split) == run(lambda b: [b])


def test_provider_description() -> None:
    provider = providers.get("darkai")
    assert provider.working is False
    assert provider.default_model == "llama-3-70b"
    assert provider.models == ("llama-3-70b", "gpt-4o", "gpt-3.5-turbo")
    assert dict(provider.model_aliases) == {"llama-3.1-70b": "llama-3-70b"}
    assert provider.url == "https://darkai.foundation/chat"


def test_conversation_round_trip_reloads_with_darkai() -> None:
    session, clock = new_session("darkai")
    session.start_turn("x")
    drive(session, clock, [reply(chunk("y"), END)])
    restored = Conversation.from_json(session.conversation.to_json())
    again = providers.get(restored.provider).new_session(conversation=restored)
    assert again.conversation == session.conversation


def test_empty_text_chunk_gives_no_token() -> None:
    session, clock = new_session("darkai")
    session.start_turn("x")
    t = drive(session, clock, [reply(chunk(""), chunk("a"), END)])
    assert t.events == [TokenEvent(text="a"), Finished(reason="stop")]
