"""Chunking invariance through the whole session (STYLE.md 12a).

Any split of a reply's bytes into network reads, one byte at a time included, must give
the same events, the same error and the same committed conversation as the whole body.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from sansio_chat import Finished, TokenEvent
from sansio_chat.testing import chunkings
from session_driver import Outcome, Reply, Script, drive_turn, new_session
from strategies import darkai_streams, ddg_first_turn, ddg_streams


def _chunker(chat: Reply, chunks: list[bytes] | None) -> Callable[[bytes], list[bytes]]:
    """Feed ``chunks`` for the chat body and every other body whole."""

    def split(body: bytes) -> list[bytes]:
        return chunks if chunks is not None and body == chat.body else [body]

    return split


def _run_ddg(chat: Reply, chunks: list[bytes] | None) -> tuple[Outcome, str]:
    session, clock = new_session("ddg", fake_solving=False)
    session.start_turn("Hi")
    outcome = drive_turn(session, clock, ddg_first_turn(chat), _chunker(chat, chunks))
    return outcome, session.conversation.to_json()


def _run_darkai(chat: Reply, chunks: list[bytes] | None) -> tuple[Outcome, str]:
    session, clock = new_session("darkai", fake_solving=False)
    session.start_turn("Hi")
    outcome = drive_turn(session, clock, Script({"chat": [chat]}), _chunker(chat, chunks))
    return outcome, session.conversation.to_json()


def _tokens(events: tuple[object, ...]) -> str:
    return "".join(e.text for e in events if isinstance(e, TokenEvent))


@given(st.data(), ddg_streams())
def test_ddg_reply_any_chunking_same_events(data: st.DataObject, reply: Reply) -> None:
    reference = _run_ddg(reply, None)
    (events, error), _ = reference
    assert error is None
    assert _tokens(events) == reply.text
    assert events[-1] == Finished(reason="conversation_limit" if reply.label != "stop" else "stop")
    chunks = data.draw(chunkings(reply.body, empty_chunks=True))
    assert _run_ddg(reply, chunks) == reference


@given(st.data(), ddg_streams(), st.integers(min_value=0))
def test_ddg_cut_reply_any_chunking_same_outcome(
    data: st.DataObject, reply: Reply, cut_at: int
) -> None:
    cut = Reply(status=200, headers=reply.headers, body=reply.body[: cut_at % len(reply.body)])
    reference = _run_ddg(cut, None)
    chunks = data.draw(chunkings(cut.body))
    assert _run_ddg(cut, chunks) == reference


@given(st.data(), darkai_streams())
def test_darkai_reply_any_chunking_same_events(data: st.DataObject, reply: Reply) -> None:
    reference = _run_darkai(reply, None)
    (events, error), _ = reference
    assert error is None
    assert _tokens(events) == reply.text
    assert events[-1] == Finished(reason="stop")
    chunks = data.draw(chunkings(reply.body, empty_chunks=True))
    assert _run_darkai(reply, chunks) == reference


@given(st.data(), darkai_streams(), st.integers(min_value=0))
def test_darkai_cut_reply_any_chunking_same_outcome(
    data: st.DataObject, reply: Reply, cut_at: int
) -> None:
    cut = Reply(status=200, headers=reply.headers, body=reply.body[: cut_at % len(reply.body)])
    reference = _run_darkai(cut, None)
    chunks = data.draw(chunkings(cut.body))
    assert _run_darkai(cut, chunks) == reference
