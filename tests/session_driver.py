"""Test support for the session tests: a fake clock, scripted replies, one pure driver loop.

The one home of the session tests' helpers (``strategies.py`` adds hypothesis strategies on
top). The driver does what an adapter does (ARCHITECTURE.md, "The session loop") with
replies taken from a script instead of a network, and records every request, sleep and
event. The helpers speak the wire formats of spec/DDG.md and spec/DARKAI.md.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sansio_chat import (
    DEFAULT_MIN_INTERVAL,
    ChallengeResult,
    ChatSession,
    Event,
    HttpRequest,
    Pacer,
    SansioChatError,
    Sleep,
    SolveChallenge,
    TurnComplete,
    providers,
)

Solve = Callable[[SolveChallenge], "ChallengeResult | str"]
"""A stand-in for a driver's challenge solver: a result, or a failure reason."""

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


@dataclass(frozen=True)
class Reply:
    """A scripted response and what it means.

    Attributes:
        status, headers, body: what goes on the wire.
        text: the reply text the body's token events carry before its end marker.
        ends: the body holds an end marker (``[DONE]`` / ``stream-end``).
        label: what the reply is, for failure messages.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    text: str = ""
    ends: bool = False
    label: str = ""


def sse_reply(
    *payloads: str, headers: Sequence[tuple[str, str]] = (), end: str | None = "[DONE]"
) -> Reply:
    """A 200 event-stream reply with one ``data:`` event per payload (then ``end``)."""
    items = [*payloads, *([end] if end is not None else [])]
    body = b"".join(f"data: {p}\n\n".encode() for p in items)
    return Reply(200, (*SSE, *headers), body)


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


token = ddg_token


def ddg_error(status: int | None, error_type: str) -> bytes:
    """A DuckDuckGo error body (also sent inside the stream); no ``status`` when ``None``."""
    body: dict[str, object] = {"action": "error", "type": error_type}
    if status is not None:
        body["status"] = status
    return json.dumps(body, separators=(",", ":")).encode()


error_body = ddg_error


def error_reply(status: int, error_type: str) -> Reply:
    """A DuckDuckGo refusal: ``status`` with its JSON error body."""
    return Reply(status, (("content-type", "application/json"),), ddg_error(status, error_type))


@dataclass
class Transcript:
    """What happened during one driven turn."""

    requests: list[HttpRequest] = field(default_factory=list)
    solves: list[SolveChallenge] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    error: SansioChatError | None = None
    completed: bool = False

    @property
    def text(self) -> str:
        return "".join(
            getattr(e, "text", "") for e in self.events if type(e).__name__ == "TokenEvent"
        )


Splitter = Callable[[bytes], Sequence[bytes]]


def whole(body: bytes) -> list[bytes]:
    return [body] if body else []


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


def chunks_of(n: int) -> Splitter:
    return lambda body: [body[i : i + n] for i in range(0, len(body), n)]


@dataclass
class Script:
    """Replies per request kind (``page``, ``status``, ``chat``) for one turn, in order."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)

    def take(self, kind: str) -> Reply:
        """The next reply scripted for ``kind``."""
        queue = self.replies.get(kind)
        assert queue, f"no scripted reply for a {kind} request"
        return queue.pop(0)


def request_kind(request: HttpRequest) -> str:
    """``page``, ``status``, ``models`` or ``chat`` from a request's URL."""
    path = urlsplit(request.url).path
    if path.endswith("/duckchat/v1/status"):
        return "status"
    if path.endswith("/duckchat/v1/models"):
        return "models"
    if path.endswith("/chat"):
        return "chat"
    return "page"


def drive(
    session: ChatSession,
    clock: FakeClock,
    replies: Sequence[Reply] | Script,
    *,
    split: Splitter = whole,
    max_steps: int = 200,
    solve: Solve | None = None,
) -> Transcript:
    """Run the turn already started on ``session``; never raises a ``SansioChatError`` (it is
    recorded in the transcript).

    ``replies`` answers the requests in order (each must be used), or by request kind;
    ``solve`` answers ``SolveChallenge`` steps.
    """
    script = replies if isinstance(replies, Script) else None
    queue = [] if isinstance(replies, Script) else list(replies)
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
            if isinstance(step, SolveChallenge):
                assert solve is not None, "a SolveChallenge step, and no solver"
                out.solves.append(step)
                answer = solve(step)
                if isinstance(answer, str):
                    session.receive_challenge_failure(answer)
                else:
                    session.receive_challenge_result(answer)
                out.events.extend(session.events())
                continue
            assert isinstance(step, HttpRequest)
            out.requests.append(step)
            if script is not None:
                reply = script.take(request_kind(step))
            else:
                assert queue, f"no scripted reply left for {step.method} {step.url}"
                reply = queue.pop(0)
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
    assert not queue or out.error is not None, f"unused replies: {queue}"
    return out


Outcome = tuple[tuple[Event, ...], tuple[str, str, str] | None]


def drive_turn(
    session: ChatSession,
    clock: FakeClock,
    script: Script,
    chunker: Splitter,
    max_steps: int = 50,
    solve: Solve | None = None,
) -> Outcome:
    """:func:`drive` as a comparable value: the events and the error (type name, message,
    partial text) if one ended the turn."""
    out = drive(session, clock, script, split=chunker, max_steps=max_steps, solve=solve)
    error = out.error
    if error is None:
        return tuple(out.events), None
    return tuple(out.events), (type(error).__name__, str(error), error.partial_text)


def new_session(
    provider: str = "ddg",
    *,
    seed: int = 0,
    min_interval: float = DEFAULT_MIN_INTERVAL,
    fake_solving: bool = True,
    **options: Any,
) -> tuple[ChatSession, FakeClock]:
    """A session with a fake clock, a seeded RNG and a pacer on that clock; for ddg the fake
    solver unless ``fake_solving`` is false (then the real one)."""
    clock = FakeClock()
    if provider == "ddg":
        # The seed's era unless a test says otherwise (``dialect=None``: discover the era).
        options.setdefault("dialect", "2025-03")
    if provider == "ddg" and fake_solving and options.get("dialect") in ("2024", "2025-03"):
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
