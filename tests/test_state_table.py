"""The state table, exhaustively: every (State, Input) pair either transitions as the table
says or raises LocalProtocolError and changes nothing, at the table level and through the
public session API."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddg2026_support import OPTIONS, Challenges, page_reply
from sansio_chat import (
    NEED_DATA,
    TRANSITIONS,
    ChallengeResult,
    ChatSession,
    Input,
    LocalProtocolError,
    SansioChatError,
    State,
)
from sansio_chat._state import StateMachine
from session_driver import new_session

ALL_PAIRS = [(s, i) for s in State for i in Input]


@pytest.mark.parametrize(
    ("state", "event"), ALL_PAIRS, ids=[f"{s.name}-{i.name}" for s, i in ALL_PAIRS]
)
def test_every_pair(state: State, event: Input) -> None:
    machine = StateMachine(state)
    if (state, event) in TRANSITIONS:
        assert machine.process(event) is TRANSITIONS[state, event]
        assert machine.state is TRANSITIONS[state, event]
    else:
        with pytest.raises(LocalProtocolError) as info:
            machine.process(event)
        assert info.value.state == state.name
        assert machine.state is state


@given(st.sampled_from(State), st.lists(st.sampled_from(Input), max_size=30))
def test_random_input_sequences(start: State, inputs: list[Input]) -> None:
    machine = StateMachine(start)
    for event in inputs:
        before = machine.state
        allowed = machine.allows(event)
        try:
            machine.process(event)
        except LocalProtocolError:
            assert not allowed
            assert machine.state is before
        else:
            assert allowed
            assert machine.state is TRANSITIONS[before, event]


def test_error_is_absorbing_except_for_start_turn() -> None:
    leaving = {
        event
        for (state, event), target in TRANSITIONS.items()
        if state is State.ERROR and target is not State.ERROR
    }
    assert leaving == {Input.START_TURN}


def test_every_state_is_reachable_from_idle() -> None:
    seen, frontier = {State.IDLE}, [State.IDLE]
    while frontier:
        current = frontier.pop()
        for (state, _), target in TRANSITIONS.items():
            if state is current and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(State)


def test_generated_doc_is_current() -> None:
    path = Path(__file__).resolve().parent.parent / "tools" / "state_diagram.py"
    spec = importlib.util.spec_from_file_location("state_diagram", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.render()
    for (state, event), target in TRANSITIONS.items():
        assert f"{state.name} --> {target.name}: {event.name}" in text
    assert module.TARGET.read_text(encoding="utf-8") == text


# --- the same property through the public API --------------------------------------------


def _status(session: ChatSession) -> None:
    session.receive_response_head(200, [(b"x-vqd-4", b"4-1")])


def reach_solving(state: State) -> ChatSession:
    """A dialect-2026 session holding a challenge step (``SOLVE``) or its answer (``SOLVED``)."""
    challenges = Challenges(seed=1)
    session, _clock = new_session(**{**OPTIONS, "min_interval": 0})
    session.start_turn("hi")
    for reply in (page_reply(), challenges.status_reply()):
        session.next_step()
        session.receive_response_head(reply.status, reply.headers)
        session.receive_data(reply.body)
        session.receive_eof()
        assert session.next_event() is NEED_DATA
    step = session.next_step()
    if state is State.SOLVED:
        session.receive_challenge_result(challenges.solve(step))  # type: ignore[arg-type]
    return session


def reach(state: State) -> ChatSession:
    """A session in ``state`` (dialect 2024, or 2026 for the challenge states)."""
    if state in (State.SOLVE, State.SOLVED):
        return reach_solving(state)
    session, _clock = new_session(dialect="2024", min_interval=0)
    if state is State.IDLE:
        return session
    session.start_turn("hi")
    if state is State.SEND:
        return session
    if state is State.BACKOFF:
        session.next_step()
        session.receive_response_head(429, [])
        session.receive_eof()
        assert type(session.next_event()).__name__ == "RateLimited"
        assert session.next_event() is NEED_DATA
        return session
    session.next_step()
    if state is State.AWAIT_HEAD:
        return session
    if state is State.ERROR:
        session.receive_response_head(200, [])
        session.receive_eof()
        with pytest.raises(SansioChatError):
            session.next_event()
        return session
    if state in (State.RECV_BODY, State.RECV_EOF):
        _status(session)
        if state is State.RECV_EOF:
            session.receive_eof()
        return session
    assert state is State.DONE
    _status(session)
    session.receive_eof()
    assert session.next_event() is NEED_DATA
    session.next_step()
    session.receive_response_head(200, [("content-type", "text/event-stream")])
    session.receive_data(b'data: {"message":"a"}\n\ndata: [DONE]\n\n')
    session.receive_eof()
    assert [type(e).__name__ for e in session.events()] == ["TokenEvent", "Finished"]
    return session


CALLS: dict[str, tuple[Callable[[ChatSession], object], set[Input]]] = {
    "start_turn": (lambda s: s.start_turn("again"), {Input.START_TURN}),
    "next_step": (
        lambda s: s.next_step(),
        {Input.SEND_SLEEP, Input.SEND_REQUEST, Input.SEND_CHALLENGE, Input.SEND_TURN_COMPLETE},
    ),
    "receive_challenge_result": (
        lambda s: s.receive_challenge_result(ChallengeResult(value={}, duration_ms=1)),
        {Input.RECV_SOLUTION},
    ),
    "receive_challenge_failure": (
        lambda s: s.receive_challenge_failure("no engine"),
        {Input.RECV_SOLUTION},
    ),
    "receive_response_head": (lambda s: s.receive_response_head(200, []), {Input.RECV_HEAD}),
    "receive_data": (lambda s: s.receive_data(b"data: x"), {Input.RECV_DATA}),
    "receive_eof": (lambda s: s.receive_eof(), {Input.RECV_EOF}),
    "abort_turn": (lambda s: s.abort_turn(), {Input.ABORT}),
}


@pytest.mark.parametrize("state", list(State), ids=[s.name for s in State])
def test_reach_gives_the_state(state: State) -> None:
    assert reach(state).state is state


@pytest.mark.parametrize("state", list(State), ids=[s.name for s in State])
@pytest.mark.parametrize("call", list(CALLS))
def test_every_state_and_call_through_the_api(state: State, call: str) -> None:
    session = reach(state)
    action, inputs = CALLS[call]
    allowed = any((state, event) in TRANSITIONS for event in inputs)
    conversation = session.conversation.to_json()
    if allowed:
        action(session)
        assert session.state is not State.ERROR or call == "abort_turn"
    else:
        with pytest.raises(LocalProtocolError) as info:
            action(session)
        assert info.value.state == state.name
        assert session.state is state
        assert session.conversation.to_json() == conversation


@pytest.mark.parametrize("state", list(State), ids=[s.name for s in State])
def test_next_event_is_allowed_except_in_error(state: State) -> None:
    session = reach(state)
    if state is State.ERROR:
        with pytest.raises(LocalProtocolError):
            session.next_event()
        assert session.state is State.ERROR
    else:
        session.next_event()


def test_a_refused_call_leaves_the_session_usable() -> None:
    session = reach(State.AWAIT_HEAD)
    with pytest.raises(LocalProtocolError):
        session.next_step()
    with pytest.raises(LocalProtocolError):
        session.receive_data(b"x")
    _status(session)
    session.receive_eof()
    assert session.next_event() is NEED_DATA
    assert session.state is State.SEND
