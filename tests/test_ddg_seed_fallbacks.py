"""Where the seed silently fell back to a made-up value, we raise a typed error instead.

The seed answered an unparseable challenge with the fingerprint ``"1000"`` and the server
hashes ``["1", "2"]``, a failed solution with ``""``, and a page without fe-version markers
with an empty ``x-fe-version``: requests the service refuses, sent as if nothing were wrong.
"""

from __future__ import annotations

import base64

import pytest

from sansio_chat import ChallengeError, State
from sansio_chat.providers import ddg
from sansio_chat.providers.ddg import wire
from session_driver import FE_PAGE, Reply, drive, first_turn_replies, new_session, token

GARBAGE_JS = base64.b64encode(b"(function(){ return 'no snippet, no offset'; })()").decode()
NO_HASHES_JS = base64.b64encode(
    b"(function(){const e=document.createElement('div');e.innerHTML='<p>x</p>';"
    b"return {client_hashes:[String(5 + e.innerHTML.length)]};})()"
).decode()


@pytest.mark.parametrize(
    "challenge",
    [GARBAGE_JS, NO_HASHES_JS, "%%% not base64 %%%", base64.b64encode(b"\xff\xfe").decode()],
)
def test_unsolvable_fresh_challenge_raises_instead_of_1000_and_1_2(challenge: str) -> None:
    session, clock = new_session(solver=None)  # the real solver
    before = session.conversation.to_json()
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [Reply(200, (), FE_PAGE), Reply(200, (("x-vqd-4", "4-1"), ("x-vqd-hash-1", challenge)))],
    )
    assert isinstance(t.error, ChallengeError)
    assert t.error.reason
    # nothing was sent with a made-up solution: no chat request at all
    assert [r.method for r in t.requests] == ["GET", "GET"]
    assert session.state is State.ERROR
    assert session.conversation.to_json() == before


def test_a_stale_stored_challenge_is_replaced_by_a_fresh_one() -> None:
    from sansio_chat import Conversation
    from sansio_chat.providers.ddg import DuckDuckGoState

    conversation = DuckDuckGoState(fe_version="serp_1-ab", vqd="4-1", vqd_hash_1=GARBAGE_JS).store(
        Conversation(provider="ddg", model="gpt-4o-mini")
    )
    session, clock = new_session(solver=None, conversation=conversation)
    session.start_turn("Hi")
    replies = first_turn_replies(token("ok"))[1:]
    t = drive(session, clock, replies)
    assert t.error is None
    assert [r.url.rsplit("/", 1)[-1] for r in t.requests] == ["status", "chat"]
    assert t.requests[1].header("x-vqd-hash-1") not in ("", None)


def test_solution_is_never_empty() -> None:
    session, clock = new_session(solver=lambda js, headers: "")
    session.start_turn("Hi")
    t = drive(session, clock, first_turn_replies(token("x"))[:2])
    assert isinstance(t.error, ChallengeError)
    assert "no header value" in t.error.reason


def test_a_failing_custom_solver_becomes_a_challenge_error() -> None:
    def broken(js: str, headers: object) -> str:
        raise ValueError("engine crashed")

    session, clock = new_session(solver=broken)
    session.start_turn("Hi")
    t = drive(session, clock, first_turn_replies(token("x"))[:2])
    assert isinstance(t.error, ChallengeError)
    assert isinstance(t.error.__cause__, ValueError)


def test_page_without_markers_raises_instead_of_empty_fe_version() -> None:
    with pytest.raises(ddg.MissingMarkerError) as info:
        wire.parse_fe_version("<html></html>")
    assert info.value.marker == "__DDG_BE_VERSION__"


def test_the_solver_sees_the_headers_the_request_carries() -> None:
    seen: list[dict[str, str]] = []

    def solver(js: str, headers: dict[str, str]) -> str:
        seen.append(dict(headers))
        return "ok"

    browser = ddg.Browser(user_agent="UA/1", sec_ch_ua='"X";v="1"')
    session, clock = new_session(solver=solver, browser=browser)
    session.start_turn("Hi")
    t = drive(session, clock, first_turn_replies(token("x")))
    assert seen == [{"User-Agent": "UA/1", "sec-ch-ua": '"X";v="1"'}]
    assert t.requests[2].header("user-agent") == "UA/1"
    assert t.requests[2].header("sec-ch-ua") == '"X";v="1"'
