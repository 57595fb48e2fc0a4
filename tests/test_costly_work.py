"""``ChatSession.costly_work_ahead``: true before every call that solves a challenge or makes a
key pair (so the async drivers run that call in a worker thread), and false where nothing
heavy comes (so they do not pay for a thread hop on every exchange)."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest

import sansio_chat.providers.ddg.turn as turn_module
from ddg2026_support import FIXED_KEY, OPTIONS, Challenges, page_reply
from sansio_chat import (
    ChatSession,
    HttpRequest,
    Pacer,
    SolveChallenge,
    TurnComplete,
    providers,
)
from sansio_chat.providers.ddg.turn import INLINE_SOLVE_LIMIT
from sansio_chat.providers.ddg_challenge import solve_challenge
from session_driver import (
    CHALLENGE_2,
    Reply,
    ddg_token,
    first_turn_replies,
    make_challenge,
    sse_reply,
)

# Over the inline limit: the built-in solver may take long enough to matter to a loop.
BIG_CHALLENGE = make_challenge("<b>" + "x" * (INLINE_SOLVE_LIMIT * 2) + "</b>", 5)


class Recorder:
    """Counts solves, and heavy work: key pairs made, solves of a user's solver (cost unknown)
    and of challenges over ``INLINE_SOLVE_LIMIT`` (the built-in solver's small ones are
    quick, and may run on the loop)."""

    def __init__(self) -> None:
        self.work = 0
        self.solves = 0
        self.user_solver = False

    def solver(self, js_text: str, headers: Mapping[str, str]) -> str:
        self.solves += 1
        header_length = len(base64.b64encode(js_text.encode()))
        if self.user_solver or header_length > INLINE_SOLVE_LIMIT:
            self.work += 1
        return solve_challenge(js_text, headers)

    def key_source(self) -> Any:
        self.work += 1
        return FIXED_KEY


Call = tuple[str, bool, bool]  # (the call, costly_work_ahead before it, heavy work in it)


def run_turn(
    session: ChatSession,
    recorder: Recorder,
    prompt: str,
    replies: list[Reply],
    solve: Callable[[SolveChallenge], Any] | None = None,
) -> list[Call]:
    """Drive one turn as the async drivers do, noting the flag before each call they may
    send to a worker thread, and whether heavy work ran in that call."""
    calls: list[Call] = []

    def call(name: str, action: Callable[[], object]) -> None:
        before, work = session.costly_work_ahead, recorder.work
        action()
        calls.append((name, before, recorder.work > work))

    def drain() -> None:
        list(session.events())

    call("start_turn", lambda: session.start_turn(prompt))
    queue = list(replies)
    while True:
        step = session.next_step()
        if isinstance(step, TurnComplete):
            return calls
        if isinstance(step, SolveChallenge):
            assert solve is not None
            result = solve(step)

            def answer(result: Any = result) -> None:
                session.receive_challenge_result(result)

            call("challenge result", answer)
            call("drain after the result", drain)
            continue
        assert isinstance(step, HttpRequest), step
        reply = queue.pop(0)
        session.receive_response_head(reply.status, reply.headers)
        call(f"head of {reply.label or step.url}", drain)
        session.receive_data(reply.body)
        drain()  # the hot loop drains on the loop: nothing heavy may happen here
        session.receive_eof()
        call(f"end of {reply.label or step.url}", drain)


def assert_sound(calls: list[Call]) -> None:
    for name, flagged, worked in calls:
        assert flagged or not worked, f"{name}: heavy work ran with costly_work_ahead false"


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(turn_module, "solve_challenge", recorder.solver)
    return recorder


def ddg_session(recorder: Recorder, **options: Any) -> ChatSession:
    return providers.get("ddg").new_session(
        rng=random.Random(1), pacer=Pacer(min_interval=0), **options
    )


@pytest.mark.parametrize("dialect", ["2025-03", None])
def test_2025_03_the_flag_is_raised_exactly_where_the_solver_runs(
    recorder: Recorder, dialect: str | None
) -> None:
    session = ddg_session(recorder, dialect=dialect)
    carried = (("x-vqd-4", "4-333"), ("x-vqd-hash-1", make_challenge("<i>x</i>", 3)))
    replies = first_turn_replies(ddg_token("a"), chat_headers=carried)
    if dialect is None:  # discovering, the status call comes first
        replies = [replies[1], replies[0], replies[2]]
    first = run_turn(session, recorder, "one", replies)
    assert_sound(first)
    assert recorder.solves == 1
    # The service's challenges are small: the built-in solver answers them on the loop.
    assert not any(before for _, before, _ in first)
    # A later turn answers the challenge the reply carried: small, solved on the loop.
    later = run_turn(session, recorder, "two", [sse_reply(ddg_token("b"))])
    assert_sound(later)
    assert recorder.solves == 2
    assert not any(before for _, before, _ in later)


@pytest.mark.parametrize("case", ["large challenge", "user solver"])
def test_a_carried_challenge_is_solved_off_the_loop_when_it_may_be_slow(
    recorder: Recorder, case: str
) -> None:
    # A challenge over the inline limit, or any one given to a user's solver (cost unknown).
    options: dict[str, Any] = {"dialect": "2025-03"}
    carried = BIG_CHALLENGE
    assert len(carried) > INLINE_SOLVE_LIMIT
    if case == "user solver":
        recorder.user_solver = True
        options["solver"] = recorder.solver
        carried = CHALLENGE_2
    headers = (("x-vqd-4", "4-222"), ("x-vqd-hash-1", carried))
    replies = first_turn_replies(ddg_token("a"), chat_headers=headers)
    session = ddg_session(recorder, **options)
    assert_sound(run_turn(session, recorder, "one", replies))
    later = run_turn(session, recorder, "two", [sse_reply(ddg_token("b"))])
    assert later[0] == ("start_turn", True, True)


@pytest.mark.parametrize("dialect", ["2025-03", None])
def test_a_large_challenge_in_a_status_reply_is_flagged_by_its_head(
    recorder: Recorder, dialect: str | None
) -> None:
    session = ddg_session(recorder, dialect=dialect)
    page, status, chat = first_turn_replies(ddg_token("a"))
    headers = (("x-vqd-4", "4-111"), ("x-vqd-hash-1", BIG_CHALLENGE))
    status = Reply(200, headers, status.body, label="status")
    replies = [page, status, chat] if dialect else [status, page, chat]
    first = run_turn(session, recorder, "one", replies)
    assert_sound(first)
    assert recorder.work == 1
    # Flagged from the head on (the drains until the solve may go to a thread: a large
    # challenge is rare, and only hostile ones are large).
    assert [before for name, before, _ in first if name == "head of status"] == [True]
    assert [worked for _, _, worked in first].count(True) == 1


@pytest.mark.parametrize("dialect", ["2026", None])
def test_2026_the_flag_covers_the_key_pair_and_later_turns_stay_on_the_loop(
    recorder: Recorder, dialect: str | None
) -> None:
    challenges = Challenges(seed=3)
    session = ddg_session(
        recorder, **{**OPTIONS, "dialect": dialect, "key_source": recorder.key_source}
    )
    replies = [page_reply(), challenges.status_reply(), challenges.chat_reply("a")]
    if dialect is None:  # discovering, the status call comes first
        replies = [replies[1], replies[0], replies[2]]
    first = run_turn(session, recorder, "one", replies, challenges.solve)
    assert_sound(first)
    assert recorder.work == 1  # one key pair per conversation
    assert ("challenge result", True, True) in first
    later = run_turn(session, recorder, "two", [challenges.chat_reply("b")], challenges.solve)
    assert_sound(later)
    assert not any(flagged for _, flagged, _ in later)


def test_darkai_never_has_costly_work() -> None:
    session = providers.get("darkai").new_session(pacer=Pacer(min_interval=0))
    assert not session.costly_work_ahead
    session.start_turn("hi")
    assert not session.costly_work_ahead
