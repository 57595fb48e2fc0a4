"""DuckDuckGo happy paths at the byte level: exact requests, exact events, commits."""

from __future__ import annotations

import json

import pytest

from sansio_chat import (
    Conversation,
    Finished,
    HttpRequest,
    LocalProtocolError,
    State,
    TitleEvent,
    TokenEvent,
    VqdUpdate,
)
from sansio_chat.providers import ddg
from sansio_chat.providers.ddg import DuckDuckGoState, dialects, wire
from sansio_chat.providers.ddg_challenge import build_x_vqd_hash_1
from session_driver import (
    CHALLENGE,
    CHALLENGE_2,
    FE_PAGE,
    FE_VERSION,
    SSE,
    Reply,
    drive,
    fake_solver,
    first_turn_replies,
    new_session,
    sse_reply,
    token,
)

UA = ddg.BROWSER.user_agent
SEC_CH_UA = ddg.BROWSER.sec_ch_ua

PAGE_HEADERS = (
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-US,en;q=0.9"),
    ("sec-ch-ua", SEC_CH_UA),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Windows"'),
    ("sec-fetch-dest", "document"),
    ("sec-fetch-mode", "navigate"),
    ("sec-fetch-site", "none"),
    ("user-agent", UA),
)
FETCH_HEADERS = (
    ("accept-language", "en-US,en;q=0.9"),
    ("origin", "https://duckduckgo.com"),
    ("referer", "https://duckduckgo.com/"),
    ("sec-ch-ua", SEC_CH_UA),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Windows"'),
    ("sec-fetch-dest", "empty"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-site", "same-origin"),
    ("user-agent", UA),
)


def status_headers(cookie: str = "dcs=1; dcm=3") -> tuple[tuple[str, str], ...]:
    return (
        ("accept", "*/*"),
        *FETCH_HEADERS,
        ("cache-control", "no-store"),
        ("pragma", "no-cache"),
        ("cookie", cookie),
        ("x-vqd-accept", "1"),
    )


def chat_headers(
    vqd: str, solution: str, *, cookie: str = "dcs=1; dcm=3"
) -> tuple[tuple[str, str], ...]:
    return (
        ("accept", "text/event-stream"),
        *FETCH_HEADERS,
        ("content-type", "application/json"),
        ("cookie", cookie),
        ("x-fe-version", FE_VERSION),
        ("x-vqd-4", vqd),
        ("x-vqd-hash-1", solution),
    )


def test_first_turn_exact_requests_and_events() -> None:
    session, clock = new_session()
    session.start_turn("Hello")
    t = drive(session, clock, first_turn_replies(token("Hel"), token("lo"), token("")))
    assert t.error is None
    assert t.completed
    page, status, chat = t.requests
    assert page == HttpRequest(
        method="GET",
        url="https://duckduckgo.com/?q=DuckDuckGo+AI+Chat&ia=chat&duckai=1",
        headers=PAGE_HEADERS,
        body=b"",
    )
    assert status == HttpRequest(
        method="GET",
        url="https://duckduckgo.com/duckchat/v1/status",
        headers=status_headers(),
        body=b"",
    )
    assert chat == HttpRequest(
        method="POST",
        url="https://duckduckgo.com/duckchat/v1/chat",
        headers=chat_headers("4-111", fake_solver(ddg_js(CHALLENGE), {})),
        body=b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}',
    )
    assert t.events == [
        VqdUpdate(vqd="4-222", vqd_hash_1=""),
        TokenEvent(text="Hel"),
        TokenEvent(text="lo"),
        Finished(reason="stop"),
    ]
    # Page, status and chat go back to back, as a browser sends them (issue 16): the pacer
    # spaces turns, and this is the first.
    assert t.sleeps == []
    assert session.state is State.IDLE
    assert session.conversation == DuckDuckGoState(
        fe_version=FE_VERSION, vqd="4-222", vqd_hash_1=CHALLENGE
    ).store(
        Conversation(provider="ddg", model="gpt-4o-mini", messages=session.conversation.messages)
    )
    assert [m.to_dict() for m in session.conversation.messages] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hello"},
    ]


def ddg_js(challenge_b64: str) -> str:
    from sansio_chat.providers.ddg_challenge import decode_challenge

    return decode_challenge(challenge_b64)


def test_real_solver_value_is_sent() -> None:
    session, clock = new_session(solver=None)
    session.start_turn("Hi")
    t = drive(session, clock, first_turn_replies(token("ok")))
    assert t.error is None
    expected = build_x_vqd_hash_1(CHALLENGE, {"User-Agent": UA, "sec-ch-ua": SEC_CH_UA})
    assert t.requests[2].header("x-vqd-hash-1") == expected
    # The solution is base64 of compact JSON with the challenge's server hashes.
    import base64

    decoded = json.loads(base64.b64decode(expected))
    assert decoded["server_hashes"] == ["s1", "s2"]
    assert decoded["signals"] == {}
    assert len(decoded["client_hashes"]) == 2


def test_second_turn_uses_rotated_token_and_new_challenge() -> None:
    session, clock = new_session()
    session.start_turn("one")
    t1 = drive(
        session,
        clock,
        first_turn_replies(
            token("A"), chat_headers=(("x-vqd-4", "4-222"), ("x-vqd-hash-1", CHALLENGE_2))
        ),
    )
    assert VqdUpdate(vqd="4-222", vqd_hash_1=CHALLENGE_2) in t1.events
    assert DuckDuckGoState.of(session.conversation).vqd_hash_1 == CHALLENGE_2
    session.start_turn([{"role": "user", "content": "two"}])
    t2 = drive(session, clock, [sse_reply(token("B"), headers=(("x-vqd-4", "4-333"),))])
    assert t2.error is None
    (chat,) = t2.requests  # no page, no status: the token came with the last reply
    assert chat.header("x-vqd-4") == "4-222"
    assert chat.header("x-vqd-hash-1") == fake_solver(ddg_js(CHALLENGE_2), {})
    assert json.loads(chat.body) == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "A"},
            {"role": "user", "content": "two"},
        ],
    }
    assert DuckDuckGoState.of(session.conversation).vqd == "4-333"
    # No new challenge in the second reply: the previous one stays.
    assert DuckDuckGoState.of(session.conversation).vqd_hash_1 == CHALLENGE_2
    assert len(session.conversation.messages) == 4


def test_reply_without_new_token_keeps_old_values() -> None:
    session, clock = new_session()
    session.start_turn("one")
    t1 = drive(session, clock, first_turn_replies(token("A"), chat_headers=()))
    assert not [e for e in t1.events if isinstance(e, VqdUpdate)]
    assert DuckDuckGoState.of(session.conversation).vqd == "4-111"
    assert DuckDuckGoState.of(session.conversation).vqd_hash_1 == CHALLENGE
    session.start_turn("two")
    t2 = drive(session, clock, [sse_reply(token("B"))])
    assert t2.requests[0].header("x-vqd-4") == "4-111"


def test_system_role_is_sent_as_user_and_kept_in_conversation() -> None:
    session, clock = new_session()
    session.start_turn(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    t = drive(session, clock, first_turn_replies(token("ok")))
    assert json.loads(t.requests[2].body)["messages"] == [
        {"role": "user", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert session.conversation.messages[0].role == "system"


def test_dialect_2024_has_no_page_and_no_challenge() -> None:
    session, clock = new_session(dialect="2024")
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        [Reply(200, (("x-vqd-4", "4-1"),)), sse_reply(token("x"), headers=(("x-vqd-4", "4-2"),))],
    )
    assert t.error is None
    status, chat = t.requests
    assert status.url.endswith("/duckchat/v1/status")
    assert chat.header("x-vqd-4") == "4-1"
    assert chat.header("x-vqd-hash-1") is None
    assert chat.header("x-fe-version") is None
    assert DuckDuckGoState.of(session.conversation).vqd == "4-2"


def test_dialect_value_objects() -> None:
    assert ddg.DIALECTS["2024"] is dialects.DIALECT_2024
    assert ddg.DEFAULT_DIALECT is dialects.DIALECT_2026  # today's era; sessions discover
    assert not dialects.DIALECT_2024.challenge
    assert dialects.DIALECT_2025_03.fe_version
    with pytest.raises(AttributeError):
        dialects.DIALECT_2024.challenge = True  # type: ignore[misc]
    session, _clock = new_session(dialect=dialects.DIALECT_2024)
    session.start_turn("Hi")
    assert session.next_step().url.endswith("/status")  # type: ignore[union-attr]


def test_base_url_override_applies_to_all_urls_but_not_origin() -> None:
    session, clock = new_session(base_url="http://127.0.0.1:8123/")
    session.start_turn("Hi")
    t = drive(session, clock, first_turn_replies(token("x")))
    assert [r.url for r in t.requests] == [
        "http://127.0.0.1:8123/?q=DuckDuckGo+AI+Chat&ia=chat&duckai=1",
        "http://127.0.0.1:8123/duckchat/v1/status",
        "http://127.0.0.1:8123/duckchat/v1/chat",
    ]
    for request in t.requests[1:]:
        assert request.header("origin") == "https://duckduckgo.com"
        assert request.header("referer") == "https://duckduckgo.com/"


def test_cookies_are_kept_per_conversation_and_committed() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    replies = first_turn_replies(token("x"))
    replies[1] = Reply(
        200,
        (
            ("x-vqd-4", "4-111"),
            ("x-vqd-hash-1", CHALLENGE),
            ("set-cookie", "ah=xx-yy; Path=/; Secure"),
            ("Set-Cookie", "l=wt-wt"),
        ),
    )
    t = drive(session, clock, replies)
    assert t.requests[2].header("cookie") == "dcs=1; dcm=3; ah=xx-yy; l=wt-wt"
    assert DuckDuckGoState.of(session.conversation).cookies == (("ah", "xx-yy"), ("l", "wt-wt"))
    other, _ = new_session()
    other.start_turn("Hi")
    assert other.next_step().header("cookie") is None  # type: ignore[union-attr]


def test_stream_markers_ping_title_and_empty_message() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        first_turn_replies("[PING]", token(""), token("a"), "[CHAT_TITLE:Greeting time]", "[PING]"),
    )
    assert t.events[1:] == [
        TokenEvent(text="a"),
        TitleEvent(title="Greeting time"),
        Finished(reason="stop"),
    ]


def test_tool_like_events_and_unknown_markers_are_ignored() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    t = drive(
        session,
        clock,
        first_turn_replies('{"toolName":"x","state":"y"}', "[SOMETHING_NEW]", token("a")),
    )
    assert [e for e in t.events if isinstance(e, TokenEvent)] == [TokenEvent(text="a")]
    assert t.error is None


def test_done_limit_conversation_finishes_and_exhausts() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    replies = first_turn_replies(token("bye"))
    replies[2] = sse_reply(token("bye"), end="[DONE][LIMIT_CONVERSATION]")
    t = drive(session, clock, replies)
    assert t.events[-1] == Finished(reason="conversation_limit")
    assert session.conversation.exhausted
    assert session.conversation.messages[-1].content == "bye"


def test_data_after_done_is_ignored() -> None:
    session, clock = new_session()
    session.start_turn("Hi")
    replies = first_turn_replies(token("a"))
    replies[2] = Reply(200, SSE, b"data: [DONE]\n\ndata: not json at all\n\n")
    t = drive(session, clock, replies)
    assert t.error is None
    assert t.events[-1] == Finished(reason="stop")


def test_continue_saved_conversation_from_json() -> None:
    session, clock = new_session()
    session.start_turn("one")
    drive(session, clock, first_turn_replies(token("A")))
    saved = session.conversation.to_json()
    restored, clock2 = new_session(conversation=Conversation.from_json(saved))
    assert restored.conversation == session.conversation
    restored.start_turn("two")
    t = drive(restored, clock2, [sse_reply(token("B"))])
    assert t.requests[0].header("x-vqd-4") == "4-222"
    assert t.requests[0].header("x-fe-version") == FE_VERSION
    assert len(restored.conversation.messages) == 4


def test_fe_version_is_fetched_once_per_session() -> None:
    session, clock = new_session()
    session.start_turn("one")
    drive(session, clock, first_turn_replies(token("A")))
    assert DuckDuckGoState.of(session.conversation).fe_version == FE_VERSION
    session.start_turn("two")
    t = drive(session, clock, [sse_reply(token("B"))])
    assert [r.method for r in t.requests] == ["POST"]


def test_page_markers_parse() -> None:
    assert wire.parse_fe_version(FE_PAGE.decode()) == FE_VERSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[DONE]", wire.StreamItem(kind="done")),
        ("[DONE][LIMIT_CONVERSATION]", wire.StreamItem(kind="done", limit=True)),
        ("[PING]", wire.StreamItem(kind="ignore")),
        ("[CHAT_TITLE:a b]", wire.StreamItem(kind="title", text="a b")),
        ('{"message":"x"}', "x"),
        ('{"message":""}', wire.StreamItem(kind="ignore")),
        ('{"role":"assistant"}', wire.StreamItem(kind="ignore")),
        (
            '{"action":"error","status":429,"type":"ERR_RATE_LIMIT"}',
            wire.StreamItem(kind="error", status=429, error_type="ERR_RATE_LIMIT"),
        ),
    ],
)
def test_parse_stream_data(text: str, expected: wire.StreamItem) -> None:
    assert wire.parse_stream_data(text) == expected


def test_chat_body_is_compact_and_keeps_unicode() -> None:
    from sansio_chat import Message

    body = wire.chat_body("o3-mini", [Message(role="user", content="привет 👋")])
    assert body == '{"model":"o3-mini","messages":[{"role":"user","content":"привет 👋"}]}'.encode()


def test_fe_version_option_skips_the_page() -> None:
    session, clock = new_session(fe_version=FE_VERSION)
    assert (
        DuckDuckGoState.of(session.conversation).fe_version == ""
    )  # known to the session, not yet committed
    session.start_turn("Hi")
    t = drive(session, clock, first_turn_replies(token("x"))[1:])
    assert [r.url.rsplit("/", 1)[-1] for r in t.requests] == ["status", "chat"]
    assert t.requests[1].header("x-fe-version") == FE_VERSION
    assert DuckDuckGoState.of(session.conversation).fe_version == FE_VERSION
    with pytest.raises(LocalProtocolError):
        new_session(fe_version=5)
