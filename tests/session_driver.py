"""Test support for the session tests: a fake clock, scripted replies, a pure driver loop.

The driver does what an adapter does (ARCHITECTURE.md, "The session loop") with replies
taken from a script instead of a network, and records every request, sleep and event.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sansio_chat import (
    ChatSession,
    Event,
    HttpRequest,
    Pacer,
    SansioChatError,
    Sleep,
    TurnComplete,
    providers,
)

UA_HEADERS_SEEN: list[Mapping[str, str]] = []


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fake_solver(js_text: str, headers: Mapping[str, str]) -> str:
    """A stand-in solver for tests where solving is not under test: deterministic."""
    UA_HEADERS_SEEN.append(dict(headers))
    return "solved:" + base64.b64encode(js_text.encode()).decode()[:12]


def make_challenge(
    snippet: str = "<b>hi</b>", offset: int = 100, hashes: Sequence[str] = ("s1", "s2")
) -> str:
    """A well-formed ``x-vqd-hash-1`` challenge: base64 of the JavaScript the service sent."""
    literal = snippet.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    names = ", ".join(json.dumps(h) for h in hashes)
    js = (
        "(function () {\n"
        "  const e = document.createElement('div');\n"
        f"  e.innerHTML = '{literal}';\n"
        "  return {\n"
        f"    server_hashes: [{names}],\n"
        "    client_hashes: [navigator.userAgent, (function () {\n"
        f"      return String({offset} + e.innerHTML.length);\n"
        "    })()],\n"
        "    signals: {}\n"
        "  };\n"
        "})();\n"
    )
    return base64.b64encode(js.encode()).decode()


FE_PAGE = (
    b'<!DOCTYPE html><html><head><script>window.__DDG_BE_VERSION__="serp_20250401_100419_ET";'
    b'window.__DDG_FE_CHAT_HASH__="19d438eb199b2bf7c300";</script></head><body></body></html>'
)
FE_VERSION = "serp_20250401_100419_ET-19d438eb199b2bf7c300"
CHALLENGE = make_challenge()
CHALLENGE_2 = make_challenge("<i>two</i>", 7, ("t1", "t2", "t3"))
SSE = (("content-type", "text/event-stream"),)


@dataclass
class Reply:
    """One scripted response."""

    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""


def sse_reply(
    *payloads: str, headers: Sequence[tuple[str, str]] = (), end: str | None = "[DONE]"
) -> Reply:
    """A 200 event-stream reply with one ``data:`` event per payload (then ``end``)."""
    items = [*payloads, *([end] if end is not None else [])]
    body = b"".join(f"data: {p}\n\n".encode() for p in items)
    return Reply(200, (*SSE, *headers), body)


def token(text: str) -> str:
    """A DuckDuckGo token payload."""
    return json.dumps(
        {
            "role": "assistant",
            "message": text,
            "created": 1,
            "id": "compl_x",
            "action": "success",
            "model": "gpt-4o-mini",
        },
        ensure_ascii=False,
    )


def error_body(status: int, error_type: str) -> bytes:
    """A DuckDuckGo error body."""
    return json.dumps({"action": "error", "status": status, "type": error_type}).encode()


@dataclass
class Transcript:
    """What happened during one driven turn."""

    requests: list[HttpRequest] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    error: SansioChatError | None = None
    completed: bool = False

    @property
    def text(self) -> str:
        return "".join(
            getattr(e, "text", "") for e in self.events if type(e).__name__ == "TokenEvent"
        )


Splitter = Callable[[bytes], list[bytes]]


def whole(body: bytes) -> list[bytes]:
    return [body] if body else []


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


def chunks_of(n: int) -> Splitter:
    return lambda body: [body[i : i + n] for i in range(0, len(body), n)]


def drive(
    session: ChatSession,
    clock: FakeClock,
    replies: Sequence[Reply],
    *,
    split: Splitter = whole,
    max_steps: int = 200,
) -> Transcript:
    """Run the turn already started on ``session`` against ``replies``; never raises a
    ``SansioChatError`` (it is recorded in the transcript)."""
    script = list(replies)
    out = Transcript()
    try:
        for _ in range(max_steps):
            step = session.next_step()
            if isinstance(step, TurnComplete):
                out.completed = True
                break
            if isinstance(step, Sleep):
                assert step.seconds > 0
                out.sleeps.append(step.seconds)
                clock.now += step.seconds
                continue
            assert isinstance(step, HttpRequest)
            out.requests.append(step)
            assert script, f"no scripted reply left for {step.method} {step.url}"
            reply = script.pop(0)
            session.receive_response_head(reply.status, reply.headers)
            out.events.extend(session.events())
            for piece in split(reply.body):
                session.receive_data(piece)
                out.events.extend(session.events())
            session.receive_eof()
            out.events.extend(session.events())
        else:
            raise AssertionError("the turn did not end")
    except SansioChatError as error:
        out.error = error
    assert not script or out.error is not None, f"unused replies: {script}"
    return out


def new_session(
    provider: str = "ddg", *, seed: int = 0, min_interval: float = 1.5, **options: object
) -> tuple[ChatSession, FakeClock]:
    """A session with a fake clock, a seeded RNG and (for ddg) the fake solver by default."""
    clock = FakeClock()
    if provider == "ddg":
        options.setdefault("solver", fake_solver)
    session = providers.get(provider).new_session(
        clock=clock,
        rng=random.Random(seed),
        pacer=Pacer(min_interval=min_interval, clock=clock),
        **options,
    )
    return session, clock


def first_turn_replies(
    *payloads: str, chat_headers: Sequence[tuple[str, str]] = (("x-vqd-4", "4-222"),)
) -> list[Reply]:
    """Page, status and a chat reply of ``payloads`` for a fresh ddg session (dialect 2025-03)."""
    return [
        Reply(200, (("content-type", "text/html"),), FE_PAGE),
        Reply(200, (("x-vqd-4", "4-111"), ("x-vqd-hash-1", CHALLENGE)), b'{"status":"0"}'),
        sse_reply(*payloads, headers=chat_headers),
    ]
