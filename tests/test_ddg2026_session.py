"""The whole dialect-2026 turn with no I/O: page, status, the solve step, chat; chained turns,
refusals, models, markers, cut streams, and the conversation's durable-stream state."""

from __future__ import annotations

import base64
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddg2026_support import (
    BASE_URL,
    FE_VERSION_2026,
    FIXED_KEY,
    OPTIONS,
    ORIGIN,
    Challenges,
    page_reply,
)
from sansio_chat import (
    ChallengeError,
    ChallengeResult,
    Conversation,
    Finished,
    HTTPStatusError,
    ImageEvent,
    LocalProtocolError,
    ModelNotSupportedError,
    RateLimited,
    SolveChallenge,
    State,
    StreamInterrupted,
    TitleEvent,
    UsageEvent,
    VqdUpdate,
    WarningEvent,
)
from sansio_chat.providers.ddg import DuckDuckGoState
from sansio_chat.providers.ddg.eras import DialectMismatchError, served_dialect
from session_driver import (
    Reply,
    bytewise,
    chunks_of,
    ddg_token,
    drive,
    error_reply,
    new_session,
    sse_reply,
)


def session_2026(**options: object):  # type: ignore[no-untyped-def]
    return new_session(**{**OPTIONS, "min_interval": 0, **options})


def first_turn(challenges: Challenges, *texts: str) -> list[Reply]:
    return [page_reply(), challenges.status_reply(), challenges.chat_reply(*texts)]


def test_first_turn_page_status_solve_chat() -> None:
    challenges = Challenges(seed=1)
    session, clock = session_2026()
    session.start_turn("Hello")
    out = drive(session, clock, first_turn(challenges, "Hi ", "there"), solve=challenges.solve)
    assert out.error is None, out.error
    assert out.completed
    assert out.text == "Hi there"
    assert [r.url for r in out.requests] == [
        BASE_URL + "/",
        BASE_URL + "/duckchat/v1/status",
        BASE_URL + "/duckchat/v1/chat",
    ]
    assert len(out.solves) == 1
    _page, status, chat = out.requests
    assert status.header("x-vqd-accept") == "1"
    assert status.header("x-vqd-4") is None
    # The proof answers the challenge the status call handed out, as the emulator checks it.
    assert challenges.check_proof(chat, out.solves[0].script) is None
    # One identity: the page the script saw is the browser the headers name.
    step_page = out.solves[0].page
    for request in out.requests:
        assert request.header("user-agent") == step_page.user_agent
        assert request.header("sec-ch-ua") == step_page.sec_ch_ua
        assert request.header("sec-ch-ua-platform") == step_page.sec_ch_ua_platform
    assert step_page.origin == ORIGIN
    assert chat.header("origin") == ORIGIN
    assert chat.header("referer") == ORIGIN + "/"
    assert chat.header("x-fe-version") == FE_VERSION_2026
    assert re.fullmatch(r"[0-9a-f]{32}", chat.header("x-ddg-journey-id") or "")
    signals = json.loads(base64.b64decode(chat.header("x-fe-signals") or ""))
    assert signals["start"] + signals["end"] == 1_750_000_000_000
    body = json.loads(chat.body)
    assert body["model"] == "gpt-5.4-mini"
    assert body["messages"] == [{"role": "user", "content": "Hello"}]
    assert body["durableStream"]["publicKey"]["n"] == FIXED_KEY.n
    # The turn is committed with what the next turn needs, and no private key by default.
    state = DuckDuckGoState.of(session.conversation)
    assert state.dialect == "2026"
    assert state.fe_version == FE_VERSION_2026
    assert state.conversation_id == body["durableStream"]["conversationId"]
    assert state.key_n == FIXED_KEY.n
    assert state.key_private == ""
    assert state.vqd == ""
    assert next(e for e in out.events if isinstance(e, VqdUpdate)).vqd_hash_1 == state.vqd_hash_1
    assert "PRIVATE" not in session.conversation.to_json()


def test_a_chained_second_turn_answers_the_reply_challenge_without_a_status_call() -> None:
    challenges = Challenges(seed=2)
    session, clock = session_2026()
    session.start_turn("one")
    first = drive(session, clock, first_turn(challenges, "a"), solve=challenges.solve)
    assert first.error is None
    chained = DuckDuckGoState.of(session.conversation).vqd_hash_1
    session.start_turn("two")
    second = drive(session, clock, [challenges.chat_reply("b")], solve=challenges.solve)
    assert second.error is None, second.error
    assert [r.url for r in second.requests] == [BASE_URL + "/duckchat/v1/chat"]
    assert base64.b64encode(second.solves[0].script.encode()).decode() == chained
    assert challenges.check_proof(second.requests[0], second.solves[0].script) is None
    one = json.loads(first.requests[-1].body)["durableStream"]
    two = json.loads(second.requests[0].body)["durableStream"]
    assert one["conversationId"] == two["conversationId"]
    assert one["messageId"] != two["messageId"]
    assert [m.content for m in session.conversation.messages] == ["one", "a", "two", "b"]


def test_a_saved_conversation_continues_with_its_chained_challenge() -> None:
    challenges = Challenges(seed=3)
    session, clock = session_2026()
    session.start_turn("one")
    assert drive(session, clock, first_turn(challenges, "a"), solve=challenges.solve).error is None
    saved = Conversation.from_json(session.conversation.to_json())
    assert saved == session.conversation
    resumed, clock2 = session_2026(conversation=saved)
    resumed.start_turn("two")
    out = drive(resumed, clock2, [challenges.chat_reply("b")], solve=challenges.solve)
    assert out.error is None
    assert len(out.requests) == 1
    assert challenges.check_proof(out.requests[0], out.solves[0].script) is None


def test_the_private_key_is_kept_only_when_asked() -> None:
    challenges = Challenges(seed=4)
    session, clock = session_2026(keep_private_key=True)
    session.start_turn("x")
    assert drive(session, clock, first_turn(challenges, "y"), solve=challenges.solve).error is None
    assert DuckDuckGoState.of(session.conversation).key_private == "PRIVATE-PEM"
    assert "PRIVATE-PEM" not in repr(session.conversation)
    assert "PRIVATE-PEM" not in repr(DuckDuckGoState.of(session.conversation))


def test_a_refused_proof_fetches_a_fresh_challenge_and_solves_again() -> None:
    challenges = Challenges(seed=5)
    session, clock = session_2026()
    session.start_turn("x")
    replies = [
        page_reply(),
        challenges.status_reply(),
        error_reply(418, "ERR_CHALLENGE"),
        challenges.status_reply(),
        challenges.chat_reply("ok"),
    ]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert out.error is None, out.error
    assert out.text == "ok"
    assert len(out.solves) == 2
    assert out.solves[0].script != out.solves[1].script
    assert [type(e) for e in out.events if isinstance(e, RateLimited)] == [RateLimited]
    assert len(out.sleeps) == 1
    assert challenges.check_proof(out.requests[-1], out.solves[1].script) is None


def test_proofs_refused_again_and_again_end_in_a_challenge_error_with_nothing_committed() -> None:
    challenges = Challenges(seed=6)
    session, clock = session_2026()
    before = session.conversation
    session.start_turn("x")
    refusal = error_reply(418, "ERR_CHALLENGE")
    replies = [page_reply()]
    for _ in range(4):
        replies += [challenges.status_reply(), refusal]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert isinstance(out.error, ChallengeError)
    assert len(out.solves) == 4  # the first try and max_retries (3) retries
    assert session.conversation == before
    assert session.state is State.ERROR


def test_a_retired_model_fetches_the_live_list_and_names_it() -> None:
    challenges = Challenges(seed=7)
    session, clock = session_2026(model="gpt-5.4-nano")
    session.start_turn("x")
    models = json.dumps(
        {"models": [{"id": "gpt-9-mini", "entityHasAccess": True}, {"id": "claude-haiku-4-5"}]}
    ).encode()
    replies = [
        page_reply(),
        challenges.status_reply(),
        error_reply(400, "ERR_BAD_REQUEST"),
        Reply(200, (("content-type", "application/json"),), models),
    ]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert isinstance(out.error, ModelNotSupportedError)
    assert out.error.model == "gpt-5.4-nano"
    assert out.error.available == ("gpt-9-mini", "claude-haiku-4-5")
    assert out.requests[-1].url == BASE_URL + "/duckchat/v1/models"


def test_a_bad_request_for_a_live_model_is_an_http_status_error() -> None:
    challenges = Challenges(seed=8)
    session, clock = session_2026()
    session.start_turn("x")
    models = json.dumps({"models": [{"id": "gpt-5.4-mini"}]}).encode()
    replies = [
        page_reply(),
        challenges.status_reply(),
        error_reply(400, "ERR_BAD_REQUEST"),
        Reply(200, (("content-type", "application/json"),), models),
    ]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert isinstance(out.error, HTTPStatusError)
    assert out.error.status == 400


def test_known_retired_ids_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(ModelNotSupportedError) as info:
        session_2026(model="gpt-4o-mini")
    assert "gpt-5.4-mini" in info.value.available


def test_aliases_map_onto_the_built_in_list() -> None:
    session, _ = session_2026(model="claude")
    assert session.conversation.model == "claude-haiku-4-5"


@pytest.mark.parametrize(
    ("extra", "expected_event"),
    [
        (("[CHAT_TITLE:Greeting]",), TitleEvent(title="Greeting")),
        (("[FIXED_COST_WINDOW_USAGE:0.5]",), UsageEvent(value="0.5")),
        (("[WARN_CONVERSATION_LIMIT:2]",), WarningEvent(kind="conversation_limit", remaining=2)),
        (("[PING]", "[SOMETHING_NEW:1]"), None),
    ],
)
def test_markers_become_typed_events(extra: tuple[str, ...], expected_event: object) -> None:
    challenges = Challenges(seed=9)
    session, clock = session_2026()
    session.start_turn("x")
    replies = [page_reply(), challenges.status_reply(), challenges.chat_reply("a", extra=extra)]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert out.error is None
    assert out.text == "a"
    marker_events = [e for e in out.events if isinstance(e, (TitleEvent, UsageEvent, WarningEvent))]
    assert marker_events == ([expected_event] if expected_event is not None else [])


@pytest.mark.parametrize(
    ("extra", "reason", "exhausted"),
    [
        (("[STOP_REASON:length]",), "stop", False),
        (("[LIMIT_ACCOUNT]",), "account_limit", False),
        (("[LIMIT_ENTITY]",), "entity_limit", False),
        (("[LIMIT_IMAGE_GENERATIONS]",), "image_limit", False),
        (("[LIMIT_CONVERSATION]",), "conversation_limit", True),
    ],
)
def test_limit_and_stop_markers_set_the_finish(
    extra: tuple[str, ...], reason: str, exhausted: bool
) -> None:
    challenges = Challenges(seed=10)
    session, clock = session_2026()
    session.start_turn("x")
    replies = [page_reply(), challenges.status_reply(), challenges.chat_reply("a", extra=extra)]
    out = drive(session, clock, replies, solve=challenges.solve)
    finished = [e for e in out.events if isinstance(e, Finished)]
    assert finished == [
        Finished(reason=reason, stop_reason="length" if "STOP" in extra[0] else "")  # type: ignore[arg-type]
    ]
    assert session.conversation.exhausted is exhausted


def test_partial_images_are_surfaced() -> None:
    challenges = Challenges(seed=11)
    session, clock = session_2026()
    session.start_turn("draw")
    image = json.dumps({"role": "partial-image", "image": "data:image/png;base64,AAAA"})
    replies = [page_reply(), challenges.status_reply(), challenges.chat_reply("a", extra=(image,))]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert out.error is None
    assert [e for e in out.events if isinstance(e, ImageEvent)] == [ImageEvent(data=image)]


def test_a_cut_stream_keeps_the_partial_text_and_commits_nothing() -> None:
    challenges = Challenges(seed=12)
    session, clock = session_2026()
    before = session.conversation
    session.start_turn("x")
    replies = [
        page_reply(),
        challenges.status_reply(),
        challenges.chat_reply("par", "tial", end=None),
    ]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert isinstance(out.error, StreamInterrupted)
    assert out.error.partial_text == "partial"
    assert session.conversation == before


def test_a_driver_that_cannot_evaluate_a_fresh_challenge_gets_a_challenge_error() -> None:
    challenges = Challenges(seed=13)
    session, clock = session_2026()
    session.start_turn("x")
    out = drive(
        session,
        clock,
        [page_reply(), challenges.status_reply()],
        solve=lambda step: "no JavaScript engine",
    )
    assert isinstance(out.error, ChallengeError)
    assert "no JavaScript engine" in str(out.error)
    session.start_turn("again")  # the session takes a new turn


def test_a_carried_challenge_the_driver_cannot_evaluate_is_replaced_by_a_fresh_one() -> None:
    challenges = Challenges(seed=14)
    session, clock = session_2026()
    session.start_turn("one")
    assert drive(session, clock, first_turn(challenges, "a"), solve=challenges.solve).error is None
    session.start_turn("two")
    calls: list[SolveChallenge] = []

    def flaky(step: SolveChallenge) -> ChallengeResult | str:
        calls.append(step)
        return "stale" if len(calls) == 1 else challenges.solve(step)

    out = drive(
        session, clock, [challenges.status_reply(), challenges.chat_reply("b")], solve=flaky
    )
    assert out.error is None, out.error
    assert len(calls) == 2
    assert [r.url.rsplit("/", 1)[1] for r in out.requests] == ["status", "chat"]


def test_a_result_of_the_wrong_shape_is_a_challenge_error_from_next_event() -> None:
    challenges = Challenges(seed=15)
    session, clock = session_2026()
    session.start_turn("x")
    out = drive(
        session,
        clock,
        [page_reply(), challenges.status_reply()],
        solve=lambda step: ChallengeResult(value=["not", "an", "object"], duration_ms=1),
    )
    assert isinstance(out.error, ChallengeError)
    assert session.state is State.ERROR


def test_challenge_answers_in_the_wrong_state_are_local_errors() -> None:
    challenges = Challenges(seed=16)
    session, _clock = session_2026()
    with pytest.raises(LocalProtocolError):
        session.receive_challenge_result(ChallengeResult(value={}, duration_ms=1))
    session.start_turn("x")
    for reply in (page_reply(), challenges.status_reply()):
        request = session.next_step()
        with pytest.raises(LocalProtocolError):
            session.receive_challenge_failure("early")
        session.receive_response_head(reply.status, reply.headers)
        session.receive_data(reply.body)
        session.receive_eof()
        list(session.events())
    step = session.next_step()
    assert isinstance(step, SolveChallenge)
    assert request is not None
    with pytest.raises(LocalProtocolError):
        session.next_step()  # the answer comes first
    with pytest.raises(LocalProtocolError):
        session.receive_challenge_result({"value": 1})  # type: ignore[arg-type]
    session.receive_challenge_result(challenges.solve(step))
    with pytest.raises(LocalProtocolError, match="drain next_event"):
        session.next_step()
    assert list(session.events()) == []
    assert session.state is State.SEND


def test_abort_while_solving_leaves_the_conversation_as_it_was() -> None:
    challenges = Challenges(seed=17)
    session, _clock = session_2026()
    before = session.conversation
    session.start_turn("x")
    for reply in (page_reply(), challenges.status_reply()):
        session.next_step()
        session.receive_response_head(reply.status, reply.headers)
        session.receive_data(reply.body)
        session.receive_eof()
        list(session.events())
    assert isinstance(session.next_step(), SolveChallenge)
    assert session.state is State.SOLVE
    session.abort_turn()
    assert session.state is State.ERROR
    assert session.conversation == before
    session.start_turn("again")


def test_a_status_reply_of_another_era_names_both_eras() -> None:
    session, clock = session_2026()
    session.start_turn("x")
    older = Reply(200, (("x-vqd-4", "4-1"), ("x-vqd-hash-1", "YQ==")), b"{}")
    out = drive(session, clock, [page_reply(), older])
    assert isinstance(out.error, DialectMismatchError)
    assert (out.error.expected, out.error.served) == ("2026", "2025-03")
    assert "2025-03" in str(out.error)
    assert "2026" in str(out.error)


@pytest.mark.parametrize(
    ("headers", "era"),
    [
        ((("x-vqd-4", "4-1"),), "2024"),
        ((("x-vqd-4", "4-1"), ("x-vqd-hash-1", "YQ==")), "2025-03"),
        ((("x-vqd-hash-1", "YQ=="),), "2026"),
        ((), ""),
    ],
)
def test_served_dialect(headers: tuple[tuple[str, str], ...], era: str) -> None:
    assert served_dialect(headers) == era


def test_a_2026_conversation_refuses_another_dialect() -> None:
    challenges = Challenges(seed=18)
    session, clock = session_2026()
    session.start_turn("x")
    assert drive(session, clock, first_turn(challenges, "y"), solve=challenges.solve).error is None
    with pytest.raises(LocalProtocolError, match="2026"):
        new_session(conversation=session.conversation, dialect="2025-03")


def test_the_2026_dialect_takes_no_pure_solver() -> None:
    with pytest.raises(LocalProtocolError, match="SolveChallenge"):
        session_2026(solver=lambda js, headers: "x")


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([bytewise, chunks_of(3), chunks_of(64), chunks_of(10_000)]))
def test_any_chunking_gives_the_same_turn(split) -> None:  # type: ignore[no-untyped-def]
    outcomes = []
    for splitter in (chunks_of(10_000), split):
        challenges = Challenges(seed=19)
        session, clock = session_2026()
        session.start_turn("x")
        replies = [
            page_reply(),
            challenges.status_reply(),
            challenges.chat_reply("a", "b", extra=("[CHAT_TITLE:t]", "[LIMIT_ACCOUNT]")),
        ]
        out = drive(session, clock, replies, solve=challenges.solve, split=splitter)
        outcomes.append((out.events, out.error, session.conversation))
    assert outcomes[0] == outcomes[1]


def test_status_reply_without_a_challenge_is_typed() -> None:
    session, clock = session_2026()
    session.start_turn("x")
    out = drive(session, clock, [page_reply(), Reply(200, (), b"{}")])
    assert isinstance(out.error, ChallengeError) or type(out.error).__name__ == "MissingHeaderError"
    assert "x-vqd-hash-1" in str(out.error)


def test_page_without_version_attributes_names_the_attribute() -> None:
    session, clock = session_2026()
    session.start_turn("x")
    out = drive(session, clock, [Reply(200, (), b"<html data-version-sha='x'>")])
    assert out.error is not None
    assert "data-version-tag" in str(out.error)


def test_sse_tokens_work_with_the_seed_sse_reply_helper() -> None:
    # The chat reply shape is the seed era's: assistant messages, then [DONE].
    challenges = Challenges(seed=20)
    session, clock = session_2026()
    session.start_turn("x")
    chat = sse_reply(ddg_token("z"), headers=(("x-vqd-hash-1", challenges.new().header),))
    out = drive(
        session, clock, [page_reply(), challenges.status_reply(), chat], solve=challenges.solve
    )
    assert out.error is None
    assert out.text == "z"


def test_done_and_limit_on_one_line_exhaust_the_conversation() -> None:
    # Found by the fuzzer: the limit after [DONE] on the same line was lost.
    challenges = Challenges(seed=21)
    session, clock = session_2026()
    session.start_turn("x")
    chat = challenges.chat_reply("a", end="[DONE][LIMIT_CONVERSATION]")
    out = drive(
        session, clock, [page_reply(), challenges.status_reply(), chat], solve=challenges.solve
    )
    assert out.error is None
    assert [e for e in out.events if isinstance(e, Finished)] == [
        Finished(reason="conversation_limit")
    ]
    assert session.conversation.exhausted


@pytest.mark.parametrize("bad", ['{"role":"partial-image", oops', '{"partial-image"'])
def test_a_partial_image_that_is_not_json_is_a_remote_protocol_error(bad: str) -> None:
    # Found by the fuzzer: this escaped as an untyped ValueError.
    from sansio_chat import RemoteProtocolError

    challenges = Challenges(seed=22)
    session, clock = session_2026()
    before = session.conversation
    session.start_turn("x")
    chat = challenges.chat_reply("a", extra=(bad,))
    out = drive(
        session, clock, [page_reply(), challenges.status_reply(), chat], solve=challenges.solve
    )
    assert isinstance(out.error, RemoteProtocolError)
    assert session.conversation == before


@pytest.mark.parametrize("value", ["9" * 5000, "\u00b2", "12"])
def test_a_warning_with_an_odd_count_is_still_a_warning(value: str) -> None:
    challenges = Challenges(seed=23)
    session, clock = session_2026()
    session.start_turn("x")
    chat = challenges.chat_reply("a", extra=(f"[WARN_CONVERSATION_LIMIT:{value}]",))
    out = drive(
        session, clock, [page_reply(), challenges.status_reply(), chat], solve=challenges.solve
    )
    assert out.error is None
    warnings = [e for e in out.events if isinstance(e, WarningEvent)]
    assert warnings == [
        WarningEvent(kind="conversation_limit", remaining=12 if value == "12" else None)
    ]


def test_a_refused_built_in_model_with_an_unreadable_live_list_is_an_http_error() -> None:
    # Found by the fuzzer: it was called unsupported while naming itself as available.
    challenges = Challenges(seed=24)
    session, clock = session_2026()
    session.start_turn("x")
    replies = [
        page_reply(),
        challenges.status_reply(),
        error_reply(400, "ERR_BAD_REQUEST"),
        Reply(500, (), b"oops"),
    ]
    out = drive(session, clock, replies, solve=challenges.solve)
    assert isinstance(out.error, HTTPStatusError)
    assert out.error.status == 400
