"""Fuzz harness (atheris) for the DuckDuckGo and DarkAI sessions and the challenge solver.

The first byte of an input picks a target, the rest is its payload:

====  ===========================================================================
0     status reply headers (``name: value`` lines) for a session's status call
1     challenge text through ``ddg_challenge`` (as JavaScript and as base64)
2     DuckDuckGo chat reply body (an event stream)
3     DarkAI chat reply body (an event stream)
4     DuckDuckGo error reply (status picked by the second byte, JSON-ish body)
5     DuckDuckGo fe-version page body
====  ===========================================================================

Invariants (a violation raises, which is a crash for the fuzzer):

- from a session only :class:`~sansio_chat.SansioChatError` subclasses escape, and
  ``LocalProtocolError`` never does (the harness uses the API correctly);
- from ``build_x_vqd_hash_1`` / ``dom_fingerprint`` / ``solve_challenge`` only
  :class:`~sansio_chat.ChallengeError` escapes, and a solution is base64 of compact JSON;
- feeding a body whole and one byte at a time gives the same events and the same error;
- a failed turn leaves the conversation JSON as it was (``exhausted`` aside, after the
  service's conversation limit); a finished turn committed exactly the streamed text;
- every request is well formed, every ``Sleep`` is positive and finite.

Run (atheris is only needed for fuzzing; the module imports without it, so pytest can
replay the corpus)::

    nice python fuzz/fuzz_ddg.py -max_total_time=660 /tmp/ddg-work \
        fuzz/corpus/ddg fuzz/corpus/darkai
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

try:
    import atheris
except ImportError:  # replaying the corpus under pytest needs no atheris
    atheris = None

# Coverage feedback for the package only (instrumenting everything loaded is slow).
_instrumented = (
    atheris.instrument_imports(include=["sansio_chat"])
    if atheris is not None and __name__ == "__main__"
    else contextlib.nullcontext()
)
with _instrumented:
    from sansio_chat import (
        NEED_DATA,
        Backoff,
        ChallengeError,
        ChatSession,
        Conversation,
        ConversationLimitError,
        Event,
        Finished,
        HttpRequest,
        LocalProtocolError,
        Pacer,
        SansioChatError,
        Sleep,
        TokenEvent,
        TurnComplete,
        providers,
    )
    from sansio_chat.providers.ddg import DuckDuckGoState
    from sansio_chat.providers.ddg_challenge import (
        build_x_vqd_hash_1,
        dom_fingerprint,
        solve_challenge,
    )

FE_VERSION = "serp_20250401_100419_ET-19d438eb199b2bf7c300"
HEADERS = {"User-Agent": "Mozilla/5.0 fuzz", "sec-ch-ua": '"Chromium";v="133"'}
_JS = (
    "(function(){const e=document.createElement('div');e.innerHTML='<b>x</b>';"
    'return {server_hashes:["a","b"],client_hashes:[navigator.userAgent,(function()'
    "{return String(5 + e.innerHTML.length);})()],signals:{}};})();"
)
CHALLENGE = base64.b64encode(_JS.encode()).decode()
OK_STATUS = (200, (("x-vqd-4", "4-0002"), ("x-vqd-hash-1", CHALLENGE)), b"")
OK_CHAT = (
    200,
    (("content-type", "text/event-stream"),),
    b'data: {"message":"ok"}\n\ndata: [DONE]\n\n',
)
OK_DARKAI = (
    200,
    (("content-type", "text/event-stream"),),
    b'data: {"event":"text-chunk","data":{"text":"ok"}}\n\ndata: {"event":"stream-end"}\n\n',
)
ERROR_STATUSES = (400, 403, 418, 429, 500, 502, 200, 201, 299, 301, 404, 599)
MAX_STEPS = 40

Reply = tuple[int, Sequence[tuple[str, str]] | Sequence[tuple[bytes, bytes]], bytes]
Outcome = tuple[tuple[Event, ...], tuple[str, str] | None, str]


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _fast_solver(js_text: str, headers: object) -> str:
    return "solved-" + str(len(js_text))


def _session(provider: str, *, fresh: bool = False) -> tuple[ChatSession, _Clock]:
    """A session whose first request is the chat call (or, ``fresh``, the status call)."""
    clock = _Clock()
    options: dict[str, object] = {}
    conversation = None
    if provider == "ddg":
        options["solver"] = _fast_solver
        options["dialect"] = "2025-03"
        conversation = DuckDuckGoState(
            fe_version=FE_VERSION,
            vqd="" if fresh else "4-0001",
            vqd_hash_1="" if fresh else CHALLENGE,
        ).store(Conversation(provider="ddg", model="gpt-4o-mini"))
    session = providers.get(provider).new_session(
        conversation=conversation,
        pacer=Pacer(clock=clock),
        backoff=Backoff(rng=random.Random(7)),
        **options,
    )
    return session, clock


def _check_request(request: HttpRequest) -> None:
    assert request.method in ("GET", "POST"), request
    parts = urlsplit(request.url)
    assert parts.scheme in ("http", "https"), request.url
    assert parts.netloc, request.url
    for name, value in request.headers:
        assert isinstance(name, str), name
        assert isinstance(value, str), value
        assert name, name
        assert name == name.lower().strip(), name
        assert not any(c in value for c in "\r\n\x00"), (name, value)
    if request.method == "POST":
        json.loads(request.body)


def _run_turn(
    session: ChatSession,
    clock: _Clock,
    first: Reply,
    split: Callable[[bytes], list[bytes]],
    later: Callable[[HttpRequest], Reply],
) -> Outcome:
    """Drive one turn: ``first`` answers the first request, ``later`` every other one."""
    before = session.conversation.to_json()
    events: list[Event] = []
    replies = 0

    def drain() -> None:
        while (event := session.next_event()) is not NEED_DATA:
            events.append(event)

    session.start_turn("fuzz")
    try:
        for _ in range(MAX_STEPS):
            step = session.next_step()
            if isinstance(step, TurnComplete):
                break
            if isinstance(step, Sleep):
                assert step.seconds > 0, step
                assert math.isfinite(step.seconds), step
                clock.now += step.seconds
                continue
            _check_request(step)
            status, headers, body = first if replies == 0 else later(step)
            replies += 1
            session.receive_response_head(status, headers)
            drain()
            for piece in split(body) if replies == 1 else [body]:
                session.receive_data(piece)
                drain()
            session.receive_eof()
            drain()
        else:
            raise AssertionError("the turn did not end")
    except LocalProtocolError:
        raise
    except SansioChatError as error:
        return _failed(error, events, before, session.conversation.to_json())
    assert events, events
    assert isinstance(events[-1], Finished), events
    text = "".join(e.text for e in events if isinstance(e, TokenEvent))
    assert session.conversation.messages[-1].content == text
    return tuple(events), None, session.conversation.to_json()


def _failed(error: SansioChatError, events: list[Event], before: str, after: str) -> Outcome:
    """Check a failed turn: the partial text is what was delivered, nothing committed."""
    text = "".join(e.text for e in events if isinstance(e, TokenEvent))
    partial = error.partial_text
    assert partial == text, (partial, text)
    expected = before
    if isinstance(error, ConversationLimitError):
        expected = replace(Conversation.from_json(before), exhausted=True).to_json()
    assert after == expected, (before, after)
    return tuple(events), (type(error).__name__, str(error)), after


def _whole(body: bytes) -> list[bytes]:
    return [body]


def _bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


def _later_ddg(request: HttpRequest) -> Reply:
    return OK_STATUS if request.url.endswith("/status") else OK_CHAT


def _later_darkai(request: HttpRequest) -> Reply:
    return OK_DARKAI


def _both_ways(provider: str, first: Reply, *, fresh: bool = False) -> None:
    later = _later_ddg if provider == "ddg" else _later_darkai
    session, clock = _session(provider, fresh=fresh)
    whole = _run_turn(session, clock, first, _whole, later)
    session, clock = _session(provider, fresh=fresh)
    bytewise = _run_turn(session, clock, first, _bytewise, later)
    assert whole == bytewise, (whole, bytewise)


# --- targets ----------------------------------------------------------------------------------


def fuzz_status_headers(payload: bytes) -> None:
    """Status reply headers; the turn then goes on with a good chat reply."""
    headers = []
    for line in payload.split(b"\n")[:20]:
        name, _, value = line.partition(b":")
        headers.append((name, value))
    session, clock = _session("ddg", fresh=True)
    _run_turn(session, clock, (200, headers, b""), _whole, _later_ddg)
    # The same headers with the real solver: the challenge in them is solved for real.
    session = providers.get("ddg").new_session(
        conversation=DuckDuckGoState(fe_version=FE_VERSION).store(
            Conversation(provider="ddg", model="gpt-4o-mini")
        ),
        pacer=Pacer(clock=clock),
        dialect="2025-03",
    )
    _run_turn(session, clock, (200, headers, b""), _whole, _later_ddg)


def _check_solution(value: str) -> None:
    decoded = json.loads(base64.b64decode(value, validate=True))
    assert set(decoded) == {"server_hashes", "client_hashes", "signals"}, decoded
    assert len(decoded["client_hashes"]) == 2


def fuzz_challenge(payload: bytes) -> None:
    """Challenge text: as a JavaScript program, and as the base64 header value."""
    text = payload.decode("utf-8", "replace")
    calls: list[Callable[[], object]] = [
        lambda: dom_fingerprint(text),
        lambda: _check_solution(solve_challenge(text, HEADERS)),
        lambda: _check_solution(build_x_vqd_hash_1(base64.b64encode(payload).decode(), HEADERS)),
        lambda: _check_solution(build_x_vqd_hash_1(payload.decode("latin-1"), HEADERS)),
    ]
    for call in calls:
        try:
            call()
        except ChallengeError:
            pass
    try:
        fingerprint = dom_fingerprint(text)
    except ChallengeError:
        return
    assert fingerprint.isdigit(), fingerprint


def fuzz_ddg_reply(payload: bytes) -> None:
    """A DuckDuckGo chat reply body, fed whole and byte by byte."""
    _both_ways("ddg", (200, (("content-type", "text/event-stream"),), payload))


def fuzz_darkai_reply(payload: bytes) -> None:
    """A DarkAI chat reply body, fed whole and byte by byte."""
    _both_ways("darkai", (200, (("content-type", "text/event-stream"),), payload))


def fuzz_ddg_error(payload: bytes) -> None:
    """A DuckDuckGo refusal: status from the first byte, the rest is the body."""
    if not payload:
        return
    status = ERROR_STATUSES[payload[0] % len(ERROR_STATUSES)]
    headers = (("content-type", "application/json"), ("retry-after", str(payload[0] % 5)))
    _both_ways("ddg", (status, headers, payload[1:]))
    _both_ways("ddg", (status, headers, payload[1:]), fresh=True)


def fuzz_fe_page(payload: bytes) -> None:
    """The fe-version page of a fresh DuckDuckGo session."""
    session = providers.get("ddg").new_session(
        solver=_fast_solver, pacer=Pacer(clock=(clock := _Clock())), dialect="2025-03"
    )
    whole = _run_turn(session, clock, (200, (), payload), _whole, _later_ddg)
    session = providers.get("ddg").new_session(
        solver=_fast_solver, pacer=Pacer(clock=(clock := _Clock())), dialect="2025-03"
    )
    bytewise = _run_turn(session, clock, (200, (), payload), _bytewise, _later_ddg)
    assert whole == bytewise


TARGETS: tuple[Callable[[bytes], None], ...] = (
    fuzz_status_headers,
    fuzz_challenge,
    fuzz_ddg_reply,
    fuzz_darkai_reply,
    fuzz_ddg_error,
    fuzz_fe_page,
)


def TestOneInput(data: bytes) -> None:
    """One fuzz input: the first byte picks the target, the rest is its payload."""
    if not data:
        return
    TARGETS[data[0] % len(TARGETS)](data[1:])


def seed_inputs() -> dict[str, bytes]:
    """The seed corpus, by file name (``fuzz/corpus/{ddg,darkai}/``)."""
    token = b'data: {"role":"assistant","message":"Hel","created":1,"action":"success"}\n\n'
    ddg = {
        "status-ok": b"\x00x-vqd-4: 4-123\nx-vqd-hash-1: " + CHALLENGE.encode(),
        "status-no-vqd": b"\x00x-vqd-hash-1: " + CHALLENGE.encode(),
        "status-set-cookie": b"\x00X-VQD-4: 4-9\nx-vqd-hash-1: "
        + CHALLENGE.encode()
        + b"\nset-cookie: dcs=2; Path=/",
        "challenge-js": b"\x01" + _JS.encode(),
        "challenge-hex-offset": b"\x01" + _JS.replace("String(5", "String(0x1F").encode(),
        "challenge-escapes": b"\x01"
        + _JS.replace("<b>x</b>", "<p title=\\'a\\'>\\u00e9\\x41\\u{1F600}<br></p>").encode(),
        "reply-ok": b"\x02" + token + b'data: {"message":" there"}\n\ndata: [DONE]\n\n',
        "reply-limit": b"\x02" + token + b"data: [DONE][LIMIT_CONVERSATION]\n\n",
        "reply-markers": b"\x02data: [PING]\r\n\r\ndata: [CHAT_TITLE:T]\r\n\r\n"
        + token
        + b'data: {"message":""}\r\n\r\ndata: [DONE]\r\n\r\n',
        "reply-cut": b"\x02" + token + b'data: {"message":"x',
        "reply-instream-error": b"\x02"
        + token
        + b'data: {"action":"error","status":429,"type":"ERR_RATE_LIMIT"}\n\n',
        "reply-instream-challenge": b'\x02data: {"action":"error","status":418,'
        b'"type":"ERR_CHALLENGE"}\n\n',
        "reply-malformed": b"\x02data: {nope}\n\n",
        "error-429": b"\x04\x03" + b'{"action":"error","status":429,"type":"ERR_RATE_LIMIT"}',
        "error-418": b"\x04\x02" + b'{"action":"error","status":418,"type":"ERR_CHALLENGE"}',
        "error-400-vqd": b"\x04\x00" + b'{"action":"error","status":400,"type":"ERR_INVALID_VQD"}',
        "error-conversation-limit": b"\x04\x03"
        + b'{"action":"error","status":429,"type":"ERR_CONVERSATION_LIMIT"}',
        "error-200-json": b"\x04\x06" + b'{"action":"error","status":429,"type":"ERR_INPUT_LIMIT"}',
        "error-html": b"\x04\x04<html>bad gateway</html>",
        "page-ok": b'\x05<script>__DDG_BE_VERSION__="serp_1";__DDG_FE_CHAT_HASH__="ab";</script>',
        "page-missing": b'\x05<script>__DDG_BE_VERSION__="serp_1";</script>',
    }
    darkai = {
        "reply-ok": b'\x03data: {"event":"text-chunk","data":{"text":"Hi"}}\n\n'
        b'data: {"event":"stream-end","data":{}}\n\n',
        "reply-final": b'\x03data: {"event":"text-chunk","data":{"text":"Hi"}}\n\n'
        b'data: {"event":"final-response","data":{"message":"Hi"}}\n\n'
        b'data: {"event":"stream-end"}\n\n',
        "reply-final-only": b'\x03data: {"event":"final-response","data":{"message":"All"}}\n\n'
        b'data: {"event":"stream-end"}\n\n',
        "reply-split-json": b'\x03data: {"event":"text-ch\r\n',
        "reply-unknown": b'\x03data: {"event":"ping"}\n\ndata: {"event":"stream-end"}\n\n',
        "reply-cut": b'\x03data: {"event":"text-chunk","data":{"text":"Hi"}}\n\n',
        "reply-bad-json": b"\x03data: [1,2\n\n",
    }
    return {
        **{f"ddg/{k}": v for k, v in ddg.items()},
        **{f"darkai/{k}": v for k, v in darkai.items()},
    }


def main(argv: list[str]) -> None:
    """Run atheris on :func:`TestOneInput` (libFuzzer options and corpus dirs in ``argv``)."""
    if atheris is None:
        raise SystemExit("fuzzing needs atheris: pip install atheris")
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-seeds"]:
        from pathlib import Path

        root = Path(__file__).parent / "corpus"
        for name, data in seed_inputs().items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    else:
        main(sys.argv)
