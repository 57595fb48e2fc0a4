"""The fe-version a client shares between conversations: the cache's expiry, and the page read
again within a turn when the service refuses a challenge sent with a given fe-version."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddg2026_support import (
    FE_VERSION_2026,
    PAGE,
    Challenges,
    page_reply,
)
from sansio_chat import (
    ChallengeError,
    ChallengeResult,
    Conversation,
    HttpRequest,
    LocalProtocolError,
    RateLimited,
    SolveChallenge,
)
from sansio_chat.providers.ddg import FE_VERSION_TTL, DuckDuckGoState, FeVersionCache
from session_driver import (
    FE_VERSION,
    ddg_token,
    drive,
    error_reply,
    first_turn_replies,
    new_session,
)
from test_ddg2026_session import session_2026

REFUSED = error_reply(418, "ERR_CHALLENGE")
STALE = "serp_20250101_000000_ET-0123456789abcdef0123"


def holding(fe_version: str) -> Conversation:
    conversation = Conversation(provider="ddg", model="gpt-4o-mini")
    return DuckDuckGoState(fe_version=fe_version).store(conversation)


def kinds(requests: Sequence[HttpRequest]) -> list[str]:
    """``page``, ``status`` or ``chat`` for each request."""
    names = [r.url.rsplit("/", 1)[-1] for r in requests]
    return [name if name in ("status", "chat") else "page" for name in names]


def stale_page_solver(challenges: Challenges) -> Callable[[SolveChallenge], ChallengeResult]:
    """The browser's answers; a page described from a stale fe-version gets a wrong one (the
    page a script sees names the frontend it came with)."""

    def solve(step: SolveChallenge) -> ChallengeResult:
        if step.page == PAGE:
            return challenges.solve(step)
        expected = challenges.issued[step.script].expected
        assert isinstance(expected, dict)
        return ChallengeResult(value={**expected, "client_hashes": ["stale"]}, duration_ms=9.6)

    return solve


# -- the cache ---------------------------------------------------------------------------------


def test_an_empty_cache_gives_nothing() -> None:
    assert FeVersionCache().current(0.0) == ""


def test_a_learned_value_is_given_until_it_expires() -> None:
    cache = FeVersionCache(ttl=60)
    cache.learn(holding(FE_VERSION), now=100.0)
    assert cache.current(100.0) == FE_VERSION
    assert cache.current(159.9) == FE_VERSION
    assert cache.current(160.0) == ""
    assert cache.current(100.0) == ""  # expired is gone, even for an earlier reading


def test_the_expiry_counts_from_when_a_value_was_first_seen() -> None:
    cache = FeVersionCache(ttl=60)
    cache.learn(holding(FE_VERSION), now=0.0)
    cache.learn(holding(FE_VERSION), now=50.0)  # the same value again: still the first expiry
    assert cache.current(59.0) == FE_VERSION
    assert cache.current(61.0) == ""


def test_a_new_value_replaces_the_old_with_its_own_expiry() -> None:
    cache = FeVersionCache(ttl=60)
    cache.learn(holding(STALE), now=0.0)
    cache.learn(holding(FE_VERSION), now=50.0)
    assert cache.current(100.0) == FE_VERSION


def test_a_conversation_without_a_value_leaves_the_cache_alone() -> None:
    cache = FeVersionCache()
    cache.learn(holding(FE_VERSION), now=0.0)
    cache.learn(Conversation(provider="ddg", model="gpt-4o-mini"), now=1.0)
    assert cache.current(2.0) == FE_VERSION


def test_forget_drops_the_value() -> None:
    cache = FeVersionCache()
    cache.learn(holding(FE_VERSION), now=0.0)
    cache.forget()
    assert cache.current(1.0) == ""


def test_the_default_lifetime_and_the_repr() -> None:
    cache = FeVersionCache()
    assert cache.ttl == FE_VERSION_TTL == 1800.0
    cache.learn(holding(FE_VERSION), now=0.0)
    assert FE_VERSION not in repr(cache)
    assert "held" in repr(cache)


@pytest.mark.parametrize("ttl", [0, -1.0, math.nan])
def test_a_lifetime_that_is_not_positive_is_refused(ttl: float) -> None:
    with pytest.raises(LocalProtocolError, match="ttl"):
        FeVersionCache(ttl=ttl)


@given(
    ttl=st.floats(min_value=0.001, max_value=1e6),
    seen=st.floats(min_value=0, max_value=1e6),
    later=st.floats(min_value=0, max_value=2e6),
)
def test_a_value_is_given_within_its_lifetime(ttl: float, seen: float, later: float) -> None:
    cache = FeVersionCache(ttl=ttl)
    cache.learn(holding(FE_VERSION), now=seen)
    now = seen + later
    assert cache.current(now) == (FE_VERSION if now < seen + ttl else "")


# -- the page read again when a given value is refused (2025-03) -------------------------------


def test_a_refused_challenge_with_a_given_fe_version_reads_the_page_again_without_a_retry() -> None:
    session, clock = new_session(fe_version=STALE, min_interval=0)
    session.start_turn("Hi")
    page, status, chat = first_turn_replies(ddg_token("ok"))
    out = drive(session, clock, [status, REFUSED, page, status, chat])
    assert out.error is None, out.error
    assert kinds(out.requests) == ["status", "chat", "page", "status", "chat"]
    assert out.requests[1].header("x-fe-version") == STALE
    assert out.requests[4].header("x-fe-version") == FE_VERSION
    assert out.sleeps == []  # no back-off, no retry spent: nothing was wrong but the version
    assert not [e for e in out.events if isinstance(e, RateLimited)]
    assert DuckDuckGoState.of(session.conversation).fe_version == FE_VERSION


def test_the_page_is_read_again_once_per_turn_then_refusals_are_retried() -> None:
    session, clock = new_session(fe_version=STALE, min_interval=0)
    session.start_turn("Hi")
    page, status, chat = first_turn_replies(ddg_token("ok"))
    out = drive(session, clock, [status, REFUSED, page, status, REFUSED, status, chat])
    assert out.error is None, out.error
    assert kinds(out.requests) == ["status", "chat", "page", "status", "chat", "status", "chat"]
    assert len(out.sleeps) == 1  # the second refusal is an ordinary retry


def test_a_later_turn_refused_for_its_saved_fe_version_reads_the_page_again() -> None:
    session, clock = new_session(conversation=holding(STALE), model="gpt-4o-mini", min_interval=0)
    session.start_turn("Hi")
    page, status, chat = first_turn_replies(ddg_token("ok"))
    out = drive(session, clock, [status, REFUSED, page, status, chat])
    assert out.error is None, out.error
    assert kinds(out.requests) == ["status", "chat", "page", "status", "chat"]


def test_a_version_fetched_in_this_turn_is_not_fetched_again_on_a_refusal() -> None:
    session, clock = new_session(min_interval=0)
    session.start_turn("Hi")
    page, status, chat = first_turn_replies(ddg_token("ok"))
    out = drive(session, clock, [page, status, REFUSED, status, chat])
    assert out.error is None, out.error
    assert kinds(out.requests) == ["page", "status", "chat", "status", "chat"]
    assert len(out.sleeps) == 1


def test_refusals_after_the_page_was_read_again_still_end_in_a_challenge_error() -> None:
    session, clock = new_session(fe_version=STALE, min_interval=0)
    before = session.conversation
    session.start_turn("Hi")
    page, status, _ = first_turn_replies()
    out = drive(session, clock, [status, REFUSED, page, *[status, REFUSED] * 4])
    assert isinstance(out.error, ChallengeError)
    assert session.conversation == before


# -- the same in dialect 2026 -----------------------------------------------------------------


def test_2026_a_refused_proof_with_a_given_fe_version_reads_the_page_and_answers_afresh() -> None:
    challenges = Challenges(seed=11)
    session, clock = session_2026(fe_version=STALE)
    session.start_turn("x")
    replies = [
        challenges.status_reply(),
        REFUSED,
        page_reply(),
        challenges.status_reply(),
        challenges.chat_reply("ok"),
    ]
    out = drive(session, clock, replies, solve=stale_page_solver(challenges))
    assert out.error is None, out.error
    assert out.text == "ok"
    assert kinds(out.requests) == ["status", "chat", "page", "status", "chat"]
    assert [step.page == PAGE for step in out.solves] == [False, True]
    assert out.requests[1].header("x-fe-version") == STALE
    assert out.requests[4].header("x-fe-version") == FE_VERSION_2026
    assert challenges.check_proof(out.requests[4], out.solves[-1].script) is None
    assert out.sleeps == []
    assert DuckDuckGoState.of(session.conversation).fe_version == FE_VERSION_2026


def test_2026_a_warm_session_skips_the_page() -> None:
    challenges = Challenges(seed=12)
    session, clock = session_2026(fe_version=FE_VERSION_2026)
    session.start_turn("x")
    replies = [challenges.status_reply(), challenges.chat_reply("ok")]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert out.error is None, out.error
    assert kinds(out.requests) == ["status", "chat"]


def test_discovery_with_a_given_fe_version_reads_no_page_in_2026() -> None:
    challenges = Challenges(seed=13)
    session, clock = session_2026(dialect=None, fe_version=FE_VERSION_2026)
    session.start_turn("x")
    replies = [challenges.status_reply(), challenges.chat_reply("ok")]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert out.error is None, out.error
    assert kinds(out.requests) == ["status", "chat"]
