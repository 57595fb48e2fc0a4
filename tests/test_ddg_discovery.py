"""Issue 18: the DuckDuckGo era is discovered from the service's answers, with no I/O.

Every pair (dialect asked for × era the service speaks): a session asking for none learns the
era from the status reply and makes exactly the requests that era needs; a pinned session
facing another era gets a typed error naming both, with nothing committed.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddg2026_support import OPTIONS, Challenges, page_reply
from sansio_chat import Conversation, Finished
from sansio_chat.providers.ddg import DialectMismatchError, DuckDuckGoState
from session_driver import (
    CHALLENGE,
    FE_PAGE,
    Reply,
    Script,
    bytewise,
    chunks_of,
    ddg_token,
    drive,
    fake_solver,
    new_session,
    request_kind,
    sse_reply,
    whole,
)

ERAS = ("2024", "2025-03", "2026")
# What each era's first turn needs (the status call is among them in every era).
FIRST_TURN = {
    "2024": ["status", "chat"],
    "2025-03": ["status", "page", "chat"],
    "2026": ["status", "page", "chat"],
}


def served(era: str, challenges: Challenges, text: str = "hi") -> Script:
    """The replies of a service speaking ``era``, by request kind."""
    if era == "2026":
        return Script(
            {
                "page": [page_reply()],
                "status": [challenges.status_reply()],
                "chat": [challenges.chat_reply(text)],
            }
        )
    status = [("x-vqd-4", "4-111")] + ([("x-vqd-hash-1", CHALLENGE)] if era == "2025-03" else [])
    return Script(
        {
            "page": [Reply(200, (("content-type", "text/html"),), FE_PAGE)],
            "status": [Reply(200, tuple(status), b'{"status":"0"}')],
            "chat": [sse_reply(ddg_token(text), headers=(("x-vqd-4", "4-222"),))],
        }
    )


def session_for(pinned: str | None) -> Any:
    options: dict[str, Any] = {k: v for k, v in OPTIONS.items() if k != "dialect"}
    options["dialect"] = pinned
    if pinned != "2026":
        options["solver"] = fake_solver
    return new_session(min_interval=0, **options)


def kinds(out: Any) -> list[str]:
    return [request_kind(r) for r in out.requests]


@pytest.mark.parametrize("era", ERAS)
def test_discovery_costs_no_request_beyond_what_the_era_needs(era: str) -> None:
    challenges = Challenges(seed=3)
    session, clock = session_for(None)
    session.start_turn("hello")
    out = drive(session, clock, served(era, challenges), solve=challenges.solve)
    assert out.error is None, out.error
    assert out.text == "hi"
    assert kinds(out) == FIRST_TURN[era]
    assert len(out.solves) == (1 if era == "2026" else 0)
    state = DuckDuckGoState.of(session.conversation)
    assert state.dialect == era  # kept: the next turn does not discover again
    # The default model follows the era: today's for 2026, the seed era's default before.
    assert session.conversation.model == ("gpt-5.4-mini" if era == "2026" else "gpt-4o-mini")


@pytest.mark.parametrize("era", ERAS)
def test_a_discovered_era_is_kept_for_later_turns(era: str) -> None:
    challenges = Challenges(seed=4)
    session, clock = session_for(None)
    session.start_turn("one")
    assert drive(session, clock, served(era, challenges), solve=challenges.solve).error is None
    session.start_turn("two")
    second = served(era, challenges, "again")
    out = drive(session, clock, second, solve=challenges.solve)
    assert out.error is None, out.error
    assert kinds(out) == ["chat"]  # token or chained challenge: chat alone
    # And a saved conversation continues in its era with no dialect option at all.
    options = {k: v for k, v in OPTIONS.items() if k != "dialect"}
    if era != "2026":
        options["solver"] = fake_solver
    again, clock2 = new_session(
        conversation=Conversation.from_json(session.conversation.to_json()),
        dialect=None,
        min_interval=0,
        **options,
    )
    again.start_turn("three")
    out = drive(again, clock2, served(era, challenges, "more"), solve=challenges.solve)
    assert out.error is None, out.error
    assert kinds(out) == ["chat"]


@pytest.mark.parametrize("pinned", ERAS)
@pytest.mark.parametrize("era", ERAS)
def test_every_pinned_dialect_against_every_era(pinned: str, era: str) -> None:
    challenges = Challenges(seed=5)
    session, clock = session_for(pinned)
    before = session.conversation
    session.start_turn("hello")
    out = drive(session, clock, served(era, challenges), solve=challenges.solve)
    if pinned == era:
        assert out.error is None, out.error
        assert out.text == "hi"
        return
    assert isinstance(out.error, DialectMismatchError), out.error
    assert out.error.expected == pinned
    # The era that answered, exactly: a reply that cannot name it is followed by one that can.
    assert out.error.served == era
    assert pinned in str(out.error)
    assert out.error.served in str(out.error)
    assert session.conversation == before


def test_a_changed_era_mid_conversation_is_an_error_not_a_switch() -> None:
    challenges = Challenges(seed=6)
    session, clock = session_for(None)
    session.start_turn("one")
    first = drive(session, clock, served("2025-03", challenges), solve=challenges.solve)
    assert first.error is None
    before = session.conversation
    # The service moved on: the token is refused, and the fresh status reply is 2026's.
    body = b'{"action":"error","status":400,"type":"ERR_INVALID_VQD"}'
    refused = Reply(400, (("content-type", "application/json"),), body)
    script = Script({"chat": [refused], "status": [challenges.status_reply()]})
    session.start_turn("two")
    out = drive(session, clock, script, solve=challenges.solve)
    assert isinstance(out.error, DialectMismatchError)
    assert (out.error.expected, out.error.served) == ("2025-03", "2026")
    assert session.conversation == before


@settings(max_examples=30, deadline=None)
@given(
    era=st.sampled_from(ERAS),
    split=st.sampled_from([whole, bytewise, chunks_of(5), chunks_of(100)]),
)
def test_discovery_does_not_depend_on_chunking(era: str, split: Any) -> None:
    outcomes = []
    for splitter in (whole, split):
        challenges = Challenges(seed=7)
        session, clock = session_for(None)
        session.start_turn("x")
        script = served(era, challenges)
        out = drive(session, clock, script, solve=challenges.solve, split=splitter)
        outcomes.append((out.events, kinds(out), session.conversation))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][-1] == Finished(reason="stop")


@settings(max_examples=30, deadline=None)
@given(st.permutations(["status", "page", "chat"]), st.sampled_from(ERAS))
def test_discovery_plans_the_requests_whatever_order_replies_are_scripted_in(
    order: list[str], era: str
) -> None:
    # The session, not the script, decides the order: the replies may be listed in any order.
    challenges = Challenges(seed=8)
    script = served(era, challenges)
    reordered = Script({kind: script.replies[kind] for kind in order})
    session, clock = session_for(None)
    session.start_turn("x")
    out = drive(session, clock, reordered, solve=challenges.solve)
    assert out.error is None
    assert kinds(out) == FIRST_TURN[era]
