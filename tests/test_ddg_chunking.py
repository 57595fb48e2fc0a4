"""Any chunking of the same reply bytes yields the same events (and the same error)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from sansio_chat import Finished, TitleEvent, TokenEvent
from sansio_chat.providers.ddg import DuckDuckGoState
from session_driver import (
    FE_PAGE,
    SSE,
    Reply,
    Splitter,
    bytewise,
    drive,
    first_turn_replies,
    new_session,
    token,
    whole,
)

BODY = (
    b"data: [PING]\r\n\r\n"
    + f"data: {token('Привет')}\n\n".encode()
    + f"data: {token(', мир 👋')}\r\n\r\n".encode()
    + b": a comment\n"
    + f"data: {token('!')}\r\r".encode()
    + b"data: [CHAT_TITLE:\xd0\x9c\xd0\xb8\xd1\x80]\n\n"
    + f"data: {token('')}\n\n".encode()
    + b"data: [DONE]\n\n"
)
EXPECTED = [
    TokenEvent(text="Привет"),
    TokenEvent(text=", мир 👋"),
    TokenEvent(text="!"),
    TitleEvent(title="Мир"),
    Finished(reason="stop"),
]


def run(body: bytes, split: Splitter) -> tuple[list[object], object]:
    session, clock = new_session()
    session.start_turn("Hi")
    replies = first_turn_replies(chat_headers=())
    replies[2] = Reply(200, SSE, body)
    t = drive(session, clock, replies, split=split)
    return list(t.events), None if t.error is None else (type(t.error), t.error.partial_text)


def splitter_at(cuts: list[int]) -> Splitter:
    def split(body: bytes) -> list[bytes]:
        points = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
        return [body[a:b] for a, b in itertools.pairwise(points)]

    return split


def test_whole_and_bytewise_agree() -> None:
    assert run(BODY, whole) == (EXPECTED, None)
    assert run(BODY, bytewise) == (EXPECTED, None)


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    assert run(BODY, splitter_at(cuts)) == (EXPECTED, None)


@given(
    st.integers(min_value=1, max_value=len(BODY) - 1),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
)
def test_any_cut_gives_stream_interrupted_with_the_text_so_far(end: int, cuts: list[int]) -> None:
    body = BODY[:end]
    reference = run(body, whole)
    assert run(body, splitter_at(cuts)) == reference
    events, error = reference
    if error is not None:
        assert isinstance(error, tuple)
        text = "".join(e.text for e in events if isinstance(e, TokenEvent))
        assert error[1] == text


def test_json_split_inside_a_utf8_character() -> None:
    data = f"data: {token('ж')}\n\ndata: [DONE]\n\n".encode()
    cut = data.index("ж".encode()) + 1
    assert run(data, lambda b: [b[:cut], b[cut:]])[0] == [
        TokenEvent(text="ж"),
        Finished(reason="stop"),
    ]


def test_page_chunking() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, first_turn_replies(token("x")), split=bytewise)
    assert t.error is None
    assert DuckDuckGoState.of(session.conversation).fe_version.startswith("serp_")
    assert FE_PAGE  # the page went through byte by byte
