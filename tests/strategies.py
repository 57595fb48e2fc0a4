"""Strategies and helpers for the session property tests: scripted server replies.

A reply is built as data (what the server meant to say) together with its bytes, so a test
knows the reply text a finished turn must deliver. The helpers here never import the
session's private modules: they speak the wire formats of spec/DDG.md and spec/DARKAI.md.
"""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hypothesis import strategies as st

from sansio_chat import (
    NEED_DATA,
    ChatSession,
    Event,
    Finished,
    HttpRequest,
    Pacer,
    RateLimited,
    SansioChatError,
    Sleep,
    TitleEvent,
    TokenEvent,
    TurnComplete,
    VqdUpdate,
    providers,
)
from session_driver import make_challenge

EVENT_TYPES = (TokenEvent, VqdUpdate, RateLimited, Finished, TitleEvent)

# --- time ------------------------------------------------------------------------------------


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- DuckDuckGo wire pieces --------------------------------------------------------------------

FE_VERSION = "serp_20250401_100419_ET-19d438eb199b2bf7c300"
FE_PAGE = (
    b'<!DOCTYPE html><html><head><script>window.__DDG_BE_VERSION__="serp_20250401_100419_ET";'
    b'window.__DDG_FE_CHAT_HASH__="19d438eb199b2bf7c300";</script></head><body></body></html>'
)


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


def ddg_token(text: str, *, ascii_only: bool = False) -> str:
    """One DuckDuckGo token payload (the JSON of one ``data:`` line)."""
    return json.dumps(
        {
            "role": "assistant",
            "message": text,
            "created": 1712840811713,
            "id": "compl_x",
            "action": "success",
            "model": "gpt-4o-mini",
        },
        ensure_ascii=ascii_only,
        separators=(",", ":"),
    )


def ddg_error(status: int | None, error_type: str) -> bytes:
    """A DuckDuckGo error body (also used inside the stream)."""
    body: dict[str, object] = {"action": "error", "type": error_type}
    if status is not None:
        body["status"] = status
    return json.dumps(body, separators=(",", ":")).encode()


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A scripted response and what it means.

    Attributes:
        status, headers, body: what goes on the wire.
        text: the reply text the body's token events carry before its end marker.
        ends: the body holds an end marker (``[DONE]`` / ``stream-end``).
        label: what the reply is, for failure messages.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    text: str = ""
    ends: bool = False
    label: str = ""


_token_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12
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


# --- a plain driver ------------------------------------------------------------------------------

Chunker = Callable[[bytes], Sequence[bytes]]
Outcome = tuple[tuple[Event, ...], tuple[str, str, str] | None]


@dataclass
class Script:
    """Replies per request kind for one turn, taken in order."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)

    def take(self, kind: str) -> Reply:
        """The next reply scripted for ``kind``."""
        queue = self.replies.get(kind)
        assert queue, f"no scripted reply for a {kind} request"
        return queue.pop(0)


def request_kind(request: HttpRequest) -> str:
    """``page``, ``status`` or ``chat`` from a request's URL."""
    path = urlsplit(request.url).path
    if path.endswith("/duckchat/v1/status"):
        return "status"
    if path.endswith("/chat"):
        return "chat"
    return "page"


def new_session(
    provider: str, *, seed: int = 0, **options: object
) -> tuple[ChatSession, FakeClock]:
    """A session with a fake clock, a seeded RNG and a pacer on that clock."""
    clock = FakeClock()
    session = providers.get(provider).new_session(
        clock=clock, rng=random.Random(seed), pacer=Pacer(clock=clock), **options
    )
    return session, clock


def drive_turn(
    session: ChatSession, clock: FakeClock, script: Script, chunker: Chunker, max_steps: int = 50
) -> Outcome:
    """Run a started turn against ``script`` the way an adapter does; returns the events and
    the error (type name, message, partial text) if one ended the turn."""
    events: list[Event] = []

    def drain() -> None:
        while (event := session.next_event()) is not NEED_DATA:
            events.append(event)

    try:
        for _ in range(max_steps):
            step = session.next_step()
            if isinstance(step, TurnComplete):
                return tuple(events), None
            if isinstance(step, Sleep):
                clock.now += step.seconds
                continue
            reply = script.take(request_kind(step))
            session.receive_response_head(reply.status, reply.headers)
            drain()
            for chunk in chunker(reply.body):
                session.receive_data(chunk)
                drain()
            session.receive_eof()
            drain()
        raise AssertionError("the turn did not end")
    except SansioChatError as error:
        return tuple(events), (type(error).__name__, str(error), error.partial_text)


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
