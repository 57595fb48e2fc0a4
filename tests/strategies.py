"""Hypothesis strategies and checks for the session property tests: scripted server replies.

A reply is built as data (what the server meant to say) together with its bytes, so a test
knows the reply text a finished turn must deliver. The clock, replies, builders and the
driver loop come from ``session_driver`` (the one home of the session tests' helpers).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from urllib.parse import urlsplit

from hypothesis import strategies as st

from sansio_chat import (
    Finished,
    HttpRequest,
    RateLimited,
    Sleep,
    TitleEvent,
    TokenEvent,
    VqdUpdate,
)
from session_driver import (
    FE_PAGE,
    Reply,
    Script,
    ddg_token,
    make_challenge,
)

EVENT_TYPES = (TokenEvent, VqdUpdate, RateLimited, Finished, TitleEvent)

# --- DuckDuckGo wire pieces --------------------------------------------------------------------


CHALLENGES = (
    make_challenge(),
    make_challenge("<p>one<p>two &amp; <br/>three", 0x2A, ("a", "b", "c")),
    make_challenge("<table><td>x</table><!-- c -->", 12345, ("z",)),
    make_challenge("<i>emoji 😀 é</i>", 7, ("q1", "q2")),
)
BAD_CHALLENGES = (
    "!!!not base64!!!",
    base64.b64encode(b"return 1;").decode(),
    base64.b64encode(b"\xff\xfe\x00garbage").decode(),
    base64.b64encode(b"e.innerHTML = 'x'; return String(5 + e.innerHTML.length)").decode(),
)


def darkai_chunk(text: str) -> str:
    """A DarkAI ``text-chunk`` payload."""
    return json.dumps({"event": "text-chunk", "data": {"text": text}}, ensure_ascii=False)


def darkai_final(text: str) -> str:
    """A DarkAI ``final-response`` payload."""
    return json.dumps({"event": "final-response", "data": {"message": text}}, ensure_ascii=False)


DARKAI_END = json.dumps({"event": "stream-end", "data": {}})


def frame(payloads: Sequence[str], newline: str = "\n") -> bytes:
    """Server-sent events, one ``data:`` line per payload."""
    return b"".join(f"data: {p}{newline}{newline}".encode() for p in payloads)


# --- replies as data ----------------------------------------------------------------------------

_token_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=12
)


@st.composite
def ddg_streams(draw: st.DrawFn, *, max_tokens: int = 8) -> Reply:
    """A whole successful DuckDuckGo chat stream (tokens, pings, titles, empty messages, an
    end marker, sometimes data after it), with its reply text."""
    parts: list[str] = []
    text = ""
    for _ in range(draw(st.integers(0, max_tokens))):
        kind = draw(st.sampled_from(["token", "token", "token", "ping", "title", "other"]))
        if kind == "token":
            piece = draw(_token_text)
            parts.append(ddg_token(piece, ascii_only=draw(st.booleans())))
            text += piece
        elif kind == "ping":
            parts.append("[PING]")
        elif kind == "title":
            parts.append("[CHAT_TITLE:" + draw(st.text("abc xyzé", max_size=6)) + "]")
        else:
            parts.append('{"action":"success","role":"assistant","tool":"x"}')
    if draw(st.booleans()):
        parts.append(ddg_token(""))
    limit = draw(st.booleans())
    parts.append("[DONE][LIMIT_CONVERSATION]" if limit else "[DONE]")
    if draw(st.integers(0, 4)) == 0:
        parts.append(ddg_token("after the end"))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return Reply(
        status=200,
        headers=(("content-type", "text/event-stream"),),
        body=frame(parts, newline),
        text=text,
        ends=True,
        label="conversation_limit" if limit else "stop",
    )


@st.composite
def darkai_streams(draw: st.DrawFn, *, max_tokens: int = 8) -> Reply:
    """A whole successful DarkAI stream (text-chunks, maybe a final-response, unknown events,
    stream-end), with the reply text a client must deliver (final-response not counted twice)."""
    parts: list[str] = []
    text = ""
    has_text = False
    for _ in range(draw(st.integers(0, max_tokens))):
        kind = draw(st.sampled_from(["chunk", "chunk", "chunk", "final", "unknown"]))
        piece = draw(_token_text)
        if kind == "chunk":
            parts.append(darkai_chunk(piece))
            text += piece
            has_text = has_text or bool(piece)
        elif kind == "final":
            parts.append(darkai_final(piece))
            if not has_text:
                text += piece
                has_text = bool(piece)
        else:
            parts.append('{"event":"debug","data":{"x":1}}')
    parts.append(DARKAI_END)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return Reply(
        status=200,
        headers=(("content-type", "text/event-stream"),),
        body=frame(parts, newline),
        text=text,
        ends=True,
        label="stop",
    )


# --- request checks ------------------------------------------------------------------------------


def check_request(request: HttpRequest) -> None:
    """Assert that ``request`` is something a driver can send as is."""
    assert isinstance(request, HttpRequest)
    assert request.method in ("GET", "POST"), request.method
    parts = urlsplit(request.url)
    assert parts.scheme in ("http", "https"), request.url
    assert parts.netloc, request.url
    assert not any(c in request.url for c in "\r\n \x00"), request.url
    assert isinstance(request.headers, tuple)
    for pair in request.headers:
        assert isinstance(pair, tuple), pair
        assert len(pair) == 2, pair
        name, value = pair
        assert isinstance(name, str), pair
        assert isinstance(value, str), pair
        assert name, pair
        assert name == name.lower(), name
        assert all(33 <= ord(c) < 127 and c != ":" for c in name), name
        assert not any(c in value for c in "\r\n\x00"), (name, value)
    assert isinstance(request.body, bytes)
    if request.method == "GET":
        assert request.body == b""
    else:
        assert request.header("content-type") == "application/json"
        json.loads(request.body)


def check_sleep(step: Sleep) -> None:
    """A sleep a driver can carry out."""
    assert isinstance(step.seconds, float | int)
    assert step.seconds > 0, step.seconds
    assert math.isfinite(step.seconds), step.seconds


def check_event(event: object) -> None:
    """An event of the public vocabulary, with sane fields."""
    assert isinstance(event, EVENT_TYPES), event
    if isinstance(event, TokenEvent):
        assert isinstance(event.text, str)
        assert event.text
    elif isinstance(event, RateLimited):
        assert event.delay > 0, event
        assert math.isfinite(event.delay), event
        assert event.attempt >= 1
    elif isinstance(event, Finished):
        assert event.reason in ("stop", "conversation_limit")


# --- scripted turns ------------------------------------------------------------------------------


def ddg_first_turn(chat: Reply, challenge: str = CHALLENGES[0]) -> Script:
    """The page, status and chat replies of a fresh DuckDuckGo session's first turn."""
    return Script(
        {
            "page": [Reply(status=200, headers=(("content-type", "text/html"),), body=FE_PAGE)],
            "status": [
                Reply(
                    status=200,
                    headers=(("x-vqd-4", "4-1111"), ("x-vqd-hash-1", challenge)),
                    body=b"",
                )
            ],
            "chat": [chat],
        }
    )
