"""Whole turns of a real session against the pure emulator (no I/O): the session and the
emulator agree on every exchange, in both dialects, with the real challenge solver."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from sansio_chat import (
    Backoff,
    ChatSession,
    ConversationLimitError,
    Event,
    Finished,
    HttpRequest,
    HTTPStatusError,
    Pacer,
    RateLimited,
    RateLimitError,
    RemoteProtocolError,
    SansioChatError,
    Sleep,
    StreamInterrupted,
    TokenEvent,
    TurnComplete,
    providers,
)
from sansio_chat.emulator import Emulator, EmulatorConfig, EmulatorRequest, Write
from session_driver import FakeClock

BASE = "http://127.0.0.1:8999"


def turn(session: ChatSession, emulator: Emulator, clock: FakeClock, prompt: str) -> list[Event]:
    session.start_turn(prompt)
    events: list[Event] = []
    while True:
        step = session.next_step()
        if isinstance(step, TurnComplete):
            return events
        if isinstance(step, Sleep):
            clock.now += step.seconds
            continue
        assert isinstance(step, HttpRequest)
        url = urlsplit(step.url)
        plan = emulator.handle(
            EmulatorRequest(
                method=step.method,
                path=unquote(url.path),
                query=url.query,
                headers=step.headers,
                body=step.body,
            )
        )
        session.receive_response_head(plan.status, plan.headers)
        for action in plan.body:
            if isinstance(action, Write):
                session.receive_data(action.data)
                events.extend(session.events())
        session.receive_eof()
        events.extend(session.events())


def setup(provider: str = "ddg", **config: object) -> tuple[ChatSession, Emulator, FakeClock]:
    emulator = Emulator(EmulatorConfig(seed=11, **config))  # type: ignore[arg-type]
    clock = FakeClock()
    server_dialect = config.get("dialect", "2025-03")
    client_dialect = "2024" if server_dialect == "2024" else "2025-03"
    options: dict[str, Any] = {"dialect": client_dialect} if provider == "ddg" else {}
    session = providers.get(provider).new_session(
        base_url=BASE,
        pacer=Pacer(clock=clock),
        backoff=Backoff(rng=random.Random(5)),
        **options,
    )
    return session, emulator, clock


def text(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TokenEvent))


@pytest.mark.parametrize("dialect", ["2024", "2025-03", "2025-03-lenient"])
def test_three_turns(dialect: str) -> None:
    session, emulator, clock = setup(dialect=dialect)
    for n, prompt in enumerate(["Hello", "and then?", "thanks 👋"], start=1):
        events = turn(session, emulator, clock, prompt)
        assert events[-1] == Finished(reason="stop")
        assert text(events) == emulator.expected_reply(prompt)
        assert len(session.conversation.messages) == 2 * n


def test_fragmented_writes() -> None:
    session, emulator, clock = setup(faults=("fragment:3x*",))
    events = turn(session, emulator, clock, "Hi")
    assert text(events) == emulator.expected_reply("Hi")


def test_conversation_limit() -> None:
    session, emulator, clock = setup(conversation_limit=2)
    turn(session, emulator, clock, "one")
    events = turn(session, emulator, clock, "two")
    assert events[-1] == Finished(reason="conversation_limit")
    with pytest.raises(ConversationLimitError):
        session.start_turn("three")


def test_storm_of_429_is_retried() -> None:
    session, emulator, clock = setup(faults=("429x2@ddg",))
    events = turn(session, emulator, clock, "Hi")
    assert [e.attempt for e in events if isinstance(e, RateLimited)] == [1, 2]
    assert events[-1] == Finished(reason="stop")


def test_challenge_refusal_is_recovered() -> None:
    session, emulator, clock = setup(faults=("418x1@ddg",))
    events = turn(session, emulator, clock, "Hi")
    assert [e.reason for e in events if isinstance(e, RateLimited)] == ["ERR_CHALLENGE"]
    assert text(events) == emulator.expected_reply("Hi")


def test_invalid_vqd_is_recovered() -> None:
    session, emulator, clock = setup(faults=("400x1@ddg",))
    events = turn(session, emulator, clock, "Hi")
    assert events[-1] == Finished(reason="stop")


def test_endless_429_runs_out() -> None:
    session, emulator, clock = setup(faults=("429x*@ddg",))
    with pytest.raises(RateLimitError):
        turn(session, emulator, clock, "Hi")


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("cut@ddg", StreamInterrupted),
        ("reset:40@ddg", StreamInterrupted),
        ("malformed@ddg", RemoteProtocolError),
        ("http:503@ddg", HTTPStatusError),
        ("oversized:2000000@ddg", RemoteProtocolError),
    ],
)
def test_faults_end_in_typed_errors_and_leave_the_conversation(
    fault: str, error: type[SansioChatError]
) -> None:
    session, emulator, clock = setup()
    turn(session, emulator, clock, "one")
    before = session.conversation.to_json()
    emulator.add_fault(fault)
    with pytest.raises(error):
        turn(session, emulator, clock, "two")
    assert session.conversation.to_json() == before
    # the next turn works again
    events = turn(session, emulator, clock, "three")
    assert events[-1] == Finished(reason="stop")


@pytest.mark.parametrize("final", [False, True])
def test_darkai(final: bool) -> None:
    session, emulator, clock = setup("darkai", darkai_final_response=final)
    events = turn(session, emulator, clock, "Hello")
    assert text(events) == emulator.expected_reply("Hello")
    assert events[-1] == Finished(reason="stop")
