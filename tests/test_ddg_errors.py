"""DuckDuckGo refusals and failures: every row of spec/DDG.md's error table, retries replayed
exactly from the injected clock and RNG, and the conversation untouched by a failed turn."""

from __future__ import annotations

import random

import pytest

from sansio_chat import (
    Backoff,
    ChallengeError,
    ConversationLimitError,
    Finished,
    HTTPStatusError,
    InputLimitError,
    LocalProtocolError,
    RateLimited,
    RateLimitError,
    RemoteProtocolError,
    State,
    StreamInterrupted,
    TokenEvent,
)
from sansio_chat.providers import ddg
from sansio_chat.providers.ddg import DuckDuckGoState, wire
from session_driver import (
    CHALLENGE,
    FE_PAGE,
    SSE,
    Reply,
    drive,
    error_body,
    first_turn_replies,
    new_session,
    sse_reply,
    token,
)

PAGE = Reply(200, (("content-type", "text/html"),), FE_PAGE)
STATUS = Reply(200, (("x-vqd-4", "4-111"), ("x-vqd-hash-1", CHALLENGE)))
STATUS_2 = Reply(200, (("x-vqd-4", "4-999"), ("x-vqd-hash-1", CHALLENGE)))
OK = sse_reply(token("fine"), headers=(("x-vqd-4", "4-222"),))


def refusal(status: int, error_type: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(
        status, (("content-type", "application/json"), *headers), error_body(status, error_type)
    )


def expected_delays(seed: int, count: int, base: float = 2.0) -> list[float]:
    rng = random.Random(seed)
    return [base * 2**attempt * (1 + rng.random()) for attempt in range(1, count + 1)]


def test_rate_limit_is_retried_with_the_seed_formula() -> None:
    session, clock = new_session(seed=7)
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, refusal(429, "ERR_RATE_LIMIT"), OK])
    assert t.error is None
    (delay,) = expected_delays(7, 1)
    assert t.events[0] == RateLimited(delay=delay, attempt=1, status=429, reason="ERR_RATE_LIMIT")
    # only the back-off: page and status are not paced, and the pacer is satisfied after a
    # back-off of >= 4 s
    assert t.sleeps == [delay]
    assert [r.url.rsplit("/", 1)[-1] for r in t.requests[2:]] == ["chat", "chat"]
    assert t.requests[3].header("x-vqd-4") == "4-111"
    assert t.events[-1] == Finished(reason="stop")


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_retries_run_out_in_rate_limit_error(seed: int) -> None:
    session, clock = new_session(seed=seed)
    before = session.conversation.to_json()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, *[refusal(429, "ERR_SERVICE_UNAVAILABLE")] * 4])
    delays = expected_delays(seed, 3)
    assert t.events == [
        RateLimited(delay=d, attempt=n, status=429, reason="ERR_SERVICE_UNAVAILABLE")
        for n, d in enumerate(delays, start=1)
    ]
    assert t.sleeps == delays
    assert isinstance(t.error, RateLimitError)
    assert t.error.status == 429
    assert t.error.error_type == "ERR_SERVICE_UNAVAILABLE"
    assert t.error.state == "RECV_EOF"
    assert session.state is State.ERROR
    assert session.conversation.to_json() == before


def test_max_retries_and_base_delay_are_configurable() -> None:
    session, clock = new_session(
        backoff=Backoff(base_delay=0.5, max_retries=1, rng=random.Random(3))
    )
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [PAGE, STATUS, refusal(429, "ERR_RATE_LIMIT"), refusal(429, "ERR_RATE_LIMIT")],
    )
    assert [e.delay for e in t.events if isinstance(e, RateLimited)] == expected_delays(3, 1, 0.5)
    assert isinstance(t.error, RateLimitError)


def test_retry_after_is_a_lower_bound() -> None:
    session, clock = new_session(seed=1)
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [PAGE, STATUS, refusal(429, "ERR_RATE_LIMIT", (("retry-after", "45"),)), OK],
    )
    assert t.events[0] == RateLimited(delay=45.0, attempt=1, status=429, reason="ERR_RATE_LIMIT")
    assert t.sleeps[-1] == 45.0


@pytest.mark.parametrize("retry_after", ["61", "86400", "1e300"])
def test_a_retry_after_beyond_max_wait_ends_the_turn_at_once(retry_after: str) -> None:
    # Issue 13 item 3: a hostile Retry-After must not park the client; the caller is told.
    session, clock = new_session(seed=1)
    before = session.conversation
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [PAGE, STATUS, refusal(429, "ERR_RATE_LIMIT", (("retry-after", retry_after),))],
    )
    assert isinstance(t.error, RateLimitError)
    assert t.error.retry_after == float(retry_after)
    assert not any(isinstance(e, RateLimited) for e in t.events)
    assert t.sleeps == []  # no back-off wait
    assert session.conversation == before


def test_retry_after_below_the_backoff_is_ignored() -> None:
    session, clock = new_session(seed=1)
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, refusal(429, "X", (("retry-after", "0.1"),)), OK])
    assert t.sleeps[-1] == expected_delays(1, 1)[0]


def test_non_json_429_is_retried_as_rate_limit() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, Reply(429, (), b"<html>slow down</html>"), OK])
    assert t.events[0] == RateLimited(delay=t.sleeps[-1], attempt=1, status=429, reason="")
    assert t.error is None


def test_challenge_refusal_fetches_fresh_status_and_retries() -> None:
    session, clock = new_session(seed=2)
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, refusal(418, "ERR_CHALLENGE"), STATUS_2, OK])
    assert t.error is None
    assert [r.url.rsplit("/", 1)[-1] for r in t.requests] == [
        "?q=DuckDuckGo+AI+Chat&ia=chat&duckai=1",
        "status",
        "chat",
        "status",
        "chat",
    ]
    assert t.requests[4].header("x-vqd-4") == "4-999"
    assert t.events[0] == RateLimited(
        delay=expected_delays(2, 1)[0], attempt=1, status=418, reason="ERR_CHALLENGE"
    )


def test_too_many_challenge_refusals_end_in_challenge_error() -> None:
    session, clock = new_session()
    before = session.conversation.to_json()
    session.start_turn("Hi")
    replies = [PAGE, STATUS]
    for _ in range(3):
        replies += [refusal(418, "ERR_CHALLENGE"), STATUS_2]
    replies.append(refusal(418, "ERR_CHALLENGE"))
    t = drive(session, clock, replies)
    assert isinstance(t.error, ChallengeError)
    assert len([e for e in t.events if isinstance(e, RateLimited)]) == 3
    assert session.conversation.to_json() == before


def test_bot_network_limit_is_retried_then_rate_limit_error() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, *[refusal(418, "ERR_BN_LIMIT")] * 4])
    assert [e.status for e in t.events if isinstance(e, RateLimited)] == [418, 418, 418]
    assert isinstance(t.error, RateLimitError)
    assert t.error.error_type == "ERR_BN_LIMIT"
    # no fresh status for a bot-network limit: chat, chat, chat, chat
    assert [r.method for r in t.requests[2:]] == ["POST"] * 4


def test_invalid_vqd_fetches_a_fresh_token_once() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, refusal(400, "ERR_INVALID_VQD"), STATUS_2, OK])
    assert t.error is None
    assert not [e for e in t.events if isinstance(e, RateLimited)]
    assert t.requests[4].header("x-vqd-4") == "4-999"


def test_invalid_vqd_twice_is_an_http_status_error() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [PAGE, STATUS, refusal(400, "ERR_INVALID_VQD"), STATUS_2, refusal(400, "ERR_INVALID_VQD")],
    )
    assert isinstance(t.error, HTTPStatusError)
    assert t.error.status == 400
    assert t.error.error_type == "ERR_INVALID_VQD"


def test_conversation_limit_marks_the_conversation_exhausted() -> None:
    session, clock = new_session()
    session.start_turn("one")
    drive(session, clock, [PAGE, STATUS, OK])
    before = session.conversation
    session.start_turn("two")
    t = drive(session, clock, [refusal(429, "ERR_CONVERSATION_LIMIT")])
    assert isinstance(t.error, ConversationLimitError)
    assert t.error.status == 429
    # Only the flag changed: no messages were added.
    assert session.conversation.exhausted
    assert session.conversation.messages == before.messages
    assert DuckDuckGoState.of(session.conversation).vqd == DuckDuckGoState.of(before).vqd
    with pytest.raises(ConversationLimitError) as info:
        session.start_turn("three")
    assert info.value.status is None
    assert info.value.state == "ERROR"
    assert session.state is State.ERROR


def test_exhausted_conversation_refuses_before_any_request() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    replies = [PAGE, STATUS, sse_reply(token("x"), end="[DONE][LIMIT_CONVERSATION]")]
    drive(session, clock, replies)
    with pytest.raises(ConversationLimitError):
        session.start_turn("again")
    assert session.state is State.IDLE
    with pytest.raises(LocalProtocolError):
        session.next_step()


def test_server_input_limit() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, refusal(429, "ERR_INPUT_LIMIT")])
    assert isinstance(t.error, InputLimitError)
    assert t.error.status == 429
    assert t.error.observed == 2
    assert t.error.limit == 16_000


def test_local_input_limit_before_any_request() -> None:
    session, _ = new_session()
    session.start_turn("x" * 16_000)  # exactly at the limit: accepted
    session2, _ = new_session()
    with pytest.raises(InputLimitError) as info:
        session2.start_turn("x" * 16_001)
    assert info.value.status is None
    assert info.value.limit == 16_000
    assert info.value.observed == 16_001
    assert session2.state is State.IDLE
    with pytest.raises(LocalProtocolError):
        session2.next_step()


def test_input_limit_counts_utf16_code_units_over_all_messages() -> None:
    session, _ = new_session()
    with pytest.raises(InputLimitError) as info:
        session.start_turn(
            [{"role": "system", "content": "a" * 8_000}, {"role": "user", "content": "😀" * 4_001}]
        )
    assert info.value.observed == 16_002


@pytest.mark.parametrize("status", [403, 404, 500, 502, 503])
def test_other_statuses_are_http_status_errors(status: int) -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [PAGE, STATUS, Reply(status, (("content-type", "text/html"),), b"<h1>no</h1>")],
    )
    assert isinstance(t.error, HTTPStatusError)
    assert t.error.status == status
    assert t.error.body == "<h1>no</h1>"


def test_unknown_418_is_an_http_status_error() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, refusal(418, "ERR_SOMETHING")])
    assert isinstance(t.error, HTTPStatusError)
    assert t.error.error_type == "ERR_SOMETHING"


def test_error_body_is_bounded() -> None:
    from sansio_chat import Limits

    session, clock = new_session(limits=Limits(max_error_body_bytes=100))
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [PAGE, STATUS, Reply(500, (), b"x" * 10_000)],
        split=lambda b: [b[i : i + 33] for i in range(0, len(b), 33)],
    )
    assert isinstance(t.error, HTTPStatusError)
    assert t.error.body == "x" * 100


def test_status_errors_page_errors_follow_the_table() -> None:
    session, clock = new_session(seed=4)
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [refusal(429, "ERR_RATE_LIMIT"), PAGE, refusal(429, "ERR_RATE_LIMIT"), STATUS, OK],
    )
    assert [e.attempt for e in t.events if isinstance(e, RateLimited)] == [1, 2]
    assert t.error is None
    session2, clock2 = new_session()
    session2.start_turn("Hi")
    t2 = drive(session2, clock2, [PAGE, Reply(503, (), b"down")])
    assert isinstance(t2.error, HTTPStatusError)
    assert t2.error.status == 503


def test_in_stream_error_before_text_is_retried() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    bad = sse_reply('{"action":"error","status":429,"type":"ERR_RATE_LIMIT"}', end=None)
    t = drive(session, clock, [PAGE, STATUS, bad, OK])
    assert t.error is None
    assert isinstance(t.events[0], RateLimited)
    assert t.text == "fine"


def test_in_stream_error_after_text_is_not_retried() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    bad = sse_reply(
        token("par"),
        token("tial"),
        '{"action":"error","status":429,"type":"ERR_RATE_LIMIT"}',
        end=None,
    )
    t = drive(session, clock, [PAGE, STATUS, bad])
    assert isinstance(t.error, RateLimitError)
    assert t.error.partial_text == "partial"
    # the tokens before the error were delivered first
    assert [e for e in t.events if isinstance(e, TokenEvent)] == [
        TokenEvent(text="par"),
        TokenEvent(text="tial"),
    ]


def test_in_stream_conversation_limit() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    bad = sse_reply('{"action":"error","status":429,"type":"ERR_CONVERSATION_LIMIT"}', end=None)
    t = drive(session, clock, [PAGE, STATUS, bad])
    assert isinstance(t.error, ConversationLimitError)
    assert session.conversation.exhausted


def test_json_refusal_with_200_status() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [
            PAGE,
            STATUS,
            Reply(200, (("content-type", "application/json"),), error_body(429, "ERR_INPUT_LIMIT")),
        ],
    )
    assert isinstance(t.error, InputLimitError)


def test_json_200_that_is_no_error_is_a_protocol_error() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [PAGE, STATUS, Reply(200, (("content-type", "application/json"),), b'{"hello":1}')],
    )
    assert isinstance(t.error, RemoteProtocolError)


@pytest.mark.parametrize("payload", ["not json", "[1,2]x", "42", '{"message": 5}'])
def test_malformed_stream_data_is_a_remote_protocol_error(payload: str) -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, sse_reply(token("a"), payload)])
    assert type(t.error) is RemoteProtocolError
    assert t.error.partial_text == "a"


def test_cut_stream_is_stream_interrupted_and_changes_nothing() -> None:
    session, clock = new_session()
    session.start_turn("one")
    drive(session, clock, [PAGE, STATUS, OK])
    before = session.conversation.to_json()
    session.start_turn("two")
    cut = sse_reply(token("half"), token(" way"), headers=(("x-vqd-4", "4-333"),), end=None)
    t = drive(session, clock, [cut])
    assert isinstance(t.error, StreamInterrupted)
    assert t.error.partial_text == "half way"
    assert t.error.state == "RECV_EOF"
    assert session.conversation.to_json() == before
    # The rotated token is cached by the session and used by the next turn.
    session.start_turn("three")
    t2 = drive(session, clock, [sse_reply(token("ok"))])
    assert t2.requests[0].header("x-vqd-4") == "4-333"
    assert [m.content for m in session.conversation.messages] == ["one", "fine", "three", "ok"]


def test_cut_in_the_middle_of_an_event() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    cut = Reply(200, SSE, b'data: {"message":"a"}\n\ndata: {"mess')
    t = drive(session, clock, [PAGE, STATUS, cut])
    assert isinstance(t.error, StreamInterrupted)
    assert t.error.partial_text == "a"


def test_stream_event_limit() -> None:
    from sansio_chat import Limits

    session, clock = new_session(limits=Limits(max_event_bytes=64))
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, STATUS, sse_reply(token("x" * 200))])
    assert isinstance(t.error, RemoteProtocolError)
    assert t.error.limit is not None


def test_page_limit() -> None:
    from sansio_chat import Limits

    session, clock = new_session(limits=Limits(max_page_bytes=50))
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE])
    assert type(t.error) is RemoteProtocolError
    assert t.error.limit == 50
    assert t.error.observed == len(FE_PAGE)


@pytest.mark.parametrize(
    ("page", "marker"),
    [
        (b"<html>nothing</html>", "__DDG_BE_VERSION__"),
        (b'__DDG_BE_VERSION__="serp_1"', "__DDG_FE_CHAT_HASH__"),
        (b'__DDG_BE_VERSION__="";__DDG_FE_CHAT_HASH__="ab"', "__DDG_BE_VERSION__"),
    ],
)
def test_missing_fe_version_marker_is_a_typed_error(page: bytes, marker: str) -> None:
    session, clock = new_session()
    before = session.conversation.to_json()
    session.start_turn("Hi")
    t = drive(session, clock, [Reply(200, (), page)])
    assert isinstance(t.error, ddg.MissingMarkerError)
    assert isinstance(t.error, RemoteProtocolError)
    assert t.error.marker == marker
    assert marker in str(t.error)
    assert session.conversation.to_json() == before


def test_status_without_token_is_a_typed_error_not_a_retry_loop() -> None:
    # A challenge and no token is how today's era answers: the error names both eras.
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, Reply(200, (("x-vqd-hash-1", CHALLENGE),))])
    assert isinstance(t.error, ddg.DialectMismatchError)
    assert (t.error.expected, t.error.served) == ("2025-03", "2026")
    assert len(t.requests) == 2


def test_status_without_either_header_names_the_missing_token() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, Reply(200, ())])
    assert isinstance(t.error, ddg.MissingHeaderError)
    assert t.error.header == "x-vqd-4"
    assert len(t.requests) == 2


def test_status_without_challenge_in_2025_03_names_the_2024_era() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, Reply(200, (("x-vqd-4", "4-1"),))])
    assert isinstance(t.error, ddg.DialectMismatchError)
    assert (t.error.expected, t.error.served) == ("2025-03", "2024")


def test_pacer_answers_sleep_again_when_the_clock_is_early() -> None:
    from sansio_chat import HttpRequest, Sleep

    session, clock = new_session()
    session.start_turn("Hi")
    assert drive(session, clock, first_turn_replies(token("a"))).error is None
    session.start_turn("again")  # the next turn's chat request comes too soon after the last
    first = session.next_step()
    assert first == Sleep(seconds=1.5)
    clock.now += 1.0  # the driver slept less than asked
    second = session.next_step()
    assert isinstance(second, Sleep)
    assert second.seconds == pytest.approx(0.5)
    clock.now += 0.5
    assert isinstance(session.next_step(), HttpRequest)


def test_one_pacer_spaces_the_sessions_of_one_client() -> None:
    from sansio_chat import HttpRequest, Pacer, Sleep, providers
    from session_driver import FakeClock

    clock = FakeClock()
    pacer = Pacer(clock=clock)
    # DarkAI's turn is its chat request alone: the first request of each session is paced.
    a = providers.get("darkai").new_session(pacer=pacer)
    b = providers.get("darkai").new_session(pacer=pacer)
    a.start_turn("x")
    b.start_turn("y")
    assert isinstance(a.next_step(), HttpRequest)
    assert b.next_step() == Sleep(seconds=1.5)
    other = providers.get("ddg").new_session(pacer=pacer, dialect="2024")  # another host
    other.start_turn("z")
    assert isinstance(other.next_step(), HttpRequest)


def test_challenge_refusal_of_the_status_call_is_retried() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(session, clock, [PAGE, refusal(418, "ERR_CHALLENGE"), STATUS, OK])
    assert t.error is None
    assert [r.url.rsplit("/", 1)[-1] for r in t.requests[1:]] == ["status", "status", "chat"]


def test_cookie_without_value_pair_is_skipped() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    status = Reply(200, (*STATUS.headers, ("set-cookie", "garbage"), ("set-cookie", "a=1")))
    t = drive(session, clock, [PAGE, status, OK])
    assert DuckDuckGoState.of(session.conversation).cookies == (("a", "1"),)
    assert t.error is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("12", 12.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ("-3", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert wire.parse_retry_after(value) == expected


def test_small_parsers() -> None:
    assert wire.parse_set_cookie("novalue") is None
    assert wire.parse_set_cookie("=x") is None
    assert wire.parse_set_cookie(" a = b ; Path=/") == ("a", "b")
    assert wire.parse_error_body(b"[1]") == ("", None)
    assert wire.parse_error_body(b"<html>") == ("", None)
    assert wire.parse_error_body(b'{"type":"T","status":"429"}') == ("T", None)
    assert wire.parse_stream_data(' {"message":"x"}') == "x"
    assert wire.parse_stream_data(' {"message":""}') == wire.StreamItem(kind="ignore")
    assert wire.parse_stream_data('{"action":"error"}') == wire.StreamItem(kind="error")
