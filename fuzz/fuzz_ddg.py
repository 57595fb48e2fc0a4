"""Fuzz harness (atheris) for the DuckDuckGo and DarkAI sessions and the challenge solver.

The first byte of an input picks a target, the rest is its payload:

====  ===========================================================================
0     status reply headers (``name: value`` lines) for a session's status call
1     challenge text through ``ddg_challenge`` (as JavaScript and as base64)
2     DuckDuckGo chat reply body (an event stream)
3     DarkAI chat reply body (an event stream)
4     DuckDuckGo error reply (status picked by the second byte, JSON-ish body)
5     DuckDuckGo fe-version page body
6     dialect ``2026`` status reply headers (pinned ``2026``, and discovering the era)
7     dialect ``2026`` challenge result (a JSON-ish value, or a failure) for the
      status call's challenge and for a challenge carried over from the last reply
8     dialect ``2026`` chat reply (status, content type, next challenge from the
      second byte; the rest is the body: markers, partial images, errors)
9     dialect ``2026`` models reply after a ``400 ERR_BAD_REQUEST`` (status from the
      second byte, the rest is the body)
====  ===========================================================================

Status headers are ``name: value`` lines; in targets 0 and 6 a line ``b64: BYTES`` becomes
``x-vqd-hash-1`` holding base64 of ``BYTES`` (a challenge script of arbitrary bytes).

Invariants (a violation raises, which is a crash for the fuzzer):

- from a session only :class:`~sansio_chat.SansioChatError` subclasses escape, and
  ``LocalProtocolError`` never does (the harness uses the API correctly);
- from ``build_x_vqd_hash_1`` / ``dom_fingerprint`` / ``solve_challenge`` only
  :class:`~sansio_chat.ChallengeError` escapes, and a solution is base64 of compact JSON;
- feeding a body whole and one byte at a time gives the same events and the same error;
- a failed turn leaves the conversation JSON as it was (``exhausted`` aside, after the
  service's conversation limit); a finished turn committed exactly the streamed text;
- every request is well formed (header values printable ASCII, 0x20-0x7E), every ``Sleep``
  is positive and finite, every ``SolveChallenge`` describes the page the headers name.

Run (atheris is only needed for fuzzing; the module imports without it, so pytest can
replay the corpus)::

    nice python fuzz/fuzz_ddg.py -max_total_time=660 /tmp/ddg-work \
        fuzz/corpus/ddg fuzz/corpus/darkai fuzz/corpus/ddg2026
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
        ChallengeResult,
        ChatSession,
        Conversation,
        ConversationLimitError,
        Event,
        Finished,
        HttpRequest,
        LocalProtocolError,
        ModelNotSupportedError,
        Pacer,
        SansioChatError,
        Sleep,
        SolveChallenge,
        TokenEvent,
        TurnComplete,
        providers,
    )
    from sansio_chat.providers.ddg import DuckDuckGoState
    from sansio_chat.providers.ddg.eras import served_dialect
    from sansio_chat.providers.ddg.wire2026 import BROWSER_2026, DurableKey
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

# --- dialect 2026 ---
BASE_URL_2026 = "http://127.0.0.1:8765"
# A page that names its version both ways, so it serves every era a discovering session finds.
PAGE_2026 = (
    b'<html data-version-tag="serp_20260615_183429_ET" data-version-sha="ec17a44c4ba5">'
    b'<script>__DDG_BE_VERSION__="serp_20260615_183429_ET";__DDG_FE_CHAT_HASH__="ec17a44c";'
    b"</script></html>"
)
_SCRIPT_2026 = (
    "(async()=>({server_hashes:['a','b'],client_hashes:[navigator.userAgent,"
    "String(3+window.top.__DDG_BE_VERSION__.length)],signals:{},meta:{v:'4'}}))()"
)
CHALLENGE_2026 = base64.b64encode(_SCRIPT_2026.encode()).decode()
NEXT_CHALLENGE_2026 = base64.b64encode(_SCRIPT_2026.replace("'b'", "'c'").encode()).decode()
KEY_2026 = DurableKey(n="xjlCRBqkV7uY1RNqLpMIX2uwC0L8", e="AQAB", private_pem="PRIVATE-PEM")
GOOD_RESULT = ChallengeResult(
    value={
        "server_hashes": ["a", "b"],
        "client_hashes": ["Mozilla/5.0", 26, [1, None, "x"]],
        "signals": {},
        "meta": {"v": "4"},
    },
    duration_ms=9.6,
)
OK_PAGE_2026 = (200, (("content-type", "text/html"),), PAGE_2026)
OK_STATUS_2026 = (
    200,
    (("content-type", "application/json"), ("x-vqd-hash-1", CHALLENGE_2026)),
    b'{"status":"0"}',
)
OK_CHAT_2026 = (
    200,
    (("content-type", "text/event-stream"), ("x-vqd-hash-1", NEXT_CHALLENGE_2026)),
    b'data: {"role":"assistant","message":"ok","action":"success"}\n\n'
    b"data: [CHAT_TITLE:t]\n\ndata: [DONE]\n\n",
)
OK_MODELS_2026 = (
    200,
    (("content-type", "application/json"),),
    b'{"models":[{"id":"gpt-5.4-mini","entityHasAccess":true},{"id":"claude-haiku-4-5"}]}',
)
BAD_REQUEST_2026 = (
    400,
    (("content-type", "application/json"),),
    b'{"action":"error","status":400,"type":"ERR_BAD_REQUEST"}',
)
OK_STATUS_2024 = (200, (("x-vqd-4", "4-0003"),), b"")
MODELS_STATUSES = (200, 200, 200, 201, 400, 404, 429, 500)

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
        # The core refuses to hand out anything but printable ASCII in a header.
        assert all(" " <= c <= "~" for c in name + value), (name, value)
    if request.method == "POST":
        json.loads(request.body)


Answer = Callable[[HttpRequest], tuple[Reply, bool]]
"""The reply to a request, and whether it is the fuzzed one (fed through ``split``)."""
Solve = Callable[[SolveChallenge], "ChallengeResult | str"]
"""A driver's answer to a ``SolveChallenge`` step: a result, or a failure reason."""


def _run_turn(
    session: ChatSession,
    clock: _Clock,
    first: Reply,
    split: Callable[[bytes], list[bytes]],
    later: Callable[[HttpRequest], Reply],
) -> Outcome:
    """Drive one turn: ``first`` answers the first request, ``later`` every other one."""
    replies = 0

    def answer(request: HttpRequest) -> tuple[Reply, bool]:
        nonlocal replies
        replies += 1
        return (first, True) if replies == 1 else (later(request), False)

    return _drive(session, clock, answer, split)


def _drive(
    session: ChatSession,
    clock: _Clock,
    answer: Answer,
    split: Callable[[bytes], list[bytes]],
    solve: Solve | None = None,
    *,
    prepare: bool = False,
) -> Outcome:
    """Drive one turn (``prepare``: a preparation): ``answer`` replies to each request,
    ``solve`` to each challenge step."""
    before = session.conversation.to_json()
    events: list[Event] = []
    last: HttpRequest | None = None

    def drain() -> None:
        while (event := session.next_event()) is not NEED_DATA:
            events.append(event)

    if prepare:
        assert session.start_preparation()
    else:
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
            if isinstance(step, SolveChallenge):
                assert solve is not None, "a SolveChallenge step in a dialect without one"
                _check_page(step, last)
                result = solve(step)
                if isinstance(result, str):
                    session.receive_challenge_failure(result)
                else:
                    session.receive_challenge_result(result)
                drain()
                continue
            _check_request(step)
            last = step
            (status, headers, body), fuzzed = answer(step)
            session.receive_response_head(status, headers)
            drain()
            for piece in split(body) if fuzzed else [body]:
                session.receive_data(piece)
                drain()
            session.receive_eof()
            drain()
        else:
            raise AssertionError("the turn did not end")
    except ModelNotSupportedError as error:
        # A caller's error when raised before anything is sent; here a server's refusal.
        return _failed(error, events, before, session.conversation.to_json())
    except LocalProtocolError:
        raise
    except SansioChatError as error:
        return _failed(error, events, before, session.conversation.to_json())
    assert events, events
    assert isinstance(events[-1], Finished), events
    text = "".join(e.text for e in events if isinstance(e, TokenEvent))
    if prepare:
        # A preparation sends no message and commits none.
        assert text == "", events
        assert session.conversation.messages == Conversation.from_json(before).messages
        return tuple(events), None, session.conversation.to_json()
    assert session.conversation.messages[-1].content == text
    return tuple(events), None, session.conversation.to_json()


def _check_page(step: SolveChallenge, request: HttpRequest | None) -> None:
    """The page a challenge sees is the browser the requests name (a chained turn's first
    step comes before any request: the session's identity is today's browser then)."""
    page = step.page
    assert isinstance(step.script, str), step
    user_agent = request.header("user-agent") if request else BROWSER_2026.user_agent
    sec_ch_ua = request.header("sec-ch-ua") if request else BROWSER_2026.sec_ch_ua
    assert (page.user_agent, page.sec_ch_ua) == (user_agent, sec_ch_ua), (page, request)
    assert page.origin == BASE_URL_2026, page


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


# --- dialect 2026 -----------------------------------------------------------------------------


def _kind(request: HttpRequest) -> str:
    path = urlsplit(request.url).path
    for kind in ("status", "models", "chat"):
        if path.endswith("/" + kind):
            return kind
    return "page"


def _later_for(era: str) -> Callable[[HttpRequest], Reply]:
    """Good replies of ``era`` by request kind."""
    status = {"2026": OK_STATUS_2026, "2025-03": OK_STATUS, "2024": OK_STATUS_2024}[era]
    chat = OK_CHAT_2026 if era == "2026" else OK_CHAT
    replies = {"page": OK_PAGE_2026, "status": status, "chat": chat, "models": OK_MODELS_2026}
    return lambda request: replies[_kind(request)]


def _session_2026(
    *,
    dialect: str | None = "2026",
    model: str | None = None,
    conversation: Conversation | None = None,
) -> tuple[ChatSession, _Clock]:
    clock = _Clock()
    options: dict[str, object] = {"dialect": dialect}
    if dialect is None:
        options["solver"] = _fast_solver  # for the 2025-03 era, should the status reply name it
    session = providers.get("ddg").new_session(
        model,
        base_url=BASE_URL_2026,
        conversation=conversation,
        rng=random.Random(7),
        pacer=Pacer(clock=clock),
        backoff=Backoff(rng=random.Random(7)),
        key_source=lambda: KEY_2026,
        wall_clock=lambda: 1_750_000_000.0,
        **options,
    )
    return session, clock


def _good_solve(step: SolveChallenge) -> ChallengeResult:
    return GOOD_RESULT


def _fuzz_first(kind: str, fuzzed: Reply, later: Callable[[HttpRequest], Reply]) -> Answer:
    """Answers the first request of ``kind`` with ``fuzzed``, everything else with ``later``."""
    used = False

    def answer(request: HttpRequest) -> tuple[Reply, bool]:
        nonlocal used
        if not used and _kind(request) == kind:
            used = True
            return fuzzed, True
        return later(request), False

    return answer


def _both_ways_2026(
    kind: str,
    fuzzed: Reply,
    *,
    solve: Solve = _good_solve,
    model: str | None = None,
    later: Callable[[HttpRequest], Reply] | None = None,
) -> Outcome:
    """A first 2026 turn with ``fuzzed`` answering the first ``kind`` request, fed whole and
    byte by byte: the same events, error and conversation."""
    outcomes = []
    for split in (_whole, _bytewise):
        session, clock = _session_2026(model=model)
        answer = _fuzz_first(kind, fuzzed, later or _later_for("2026"))
        outcomes.append(_drive(session, clock, answer, split, solve))
    assert outcomes[0] == outcomes[1], outcomes
    return outcomes[0]


def _status_headers(payload: bytes) -> list[tuple[bytes, bytes]]:
    """``name: value`` lines; ``b64: BYTES`` is ``x-vqd-hash-1`` holding base64 of ``BYTES``."""
    headers = []
    for line in payload.split(b"\n")[:20]:
        name, _, value = line.partition(b":")
        if name == b"b64":
            name, value = b"x-vqd-hash-1", base64.b64encode(value[1:])
        headers.append((name, value))
    return headers


def _era(headers: Sequence[tuple[bytes, bytes]]) -> str:
    """The era a status reply names, as the session reads the headers."""
    decoded = [
        (name.decode("latin-1").strip().lower(), value.decode("latin-1").strip())
        for name, value in headers
    ]
    return served_dialect(decoded)


def fuzz_2026_status(payload: bytes) -> None:
    """Status reply headers, for a session pinned to 2026 and for one discovering the era."""
    headers = _status_headers(payload)
    fuzzed = (200, headers, b'{"status":"0"}')
    _both_ways_2026("status", fuzzed)
    era = _era(headers) or "2026"
    session, clock = _session_2026(dialect=None)
    outcome = _drive(
        session, clock, _fuzz_first("status", fuzzed, _later_for(era)), _whole, _good_solve
    )
    if outcome[1] is None:
        # The era is kept with the conversation: its next turn speaks it without discovering.
        state = DuckDuckGoState.of(session.conversation)
        assert state.dialect == era, (state.dialect, era)
        _drive(session, clock, lambda r: (_later_for(era)(r), False), _whole, _good_solve)
    # prepare() before the era is known: the same status reply names it, the era's page
    # follows (none in 2024), and the era stays with a conversation that has no message.
    session, clock = _session_2026(dialect=None)
    answer = _fuzz_first("status", fuzzed, _later_for(era))
    outcome = _drive(session, clock, answer, _whole, _good_solve, prepare=True)
    if outcome[1] is None:
        assert DuckDuckGoState.of(session.conversation).dialect == era
        _drive(session, clock, lambda r: (_later_for(era)(r), False), _whole, _good_solve)


_FLOATS = (0.5, -0.0, 1e21, 1e-7, 2.0**53 + 2, 123.456, math.inf, -math.inf, math.nan, 5e-324)
_RESULT_KEYS = ("server_hashes", "client_hashes", "signals", "meta")
_DURATIONS = (9.6, 0.0, 1e300, -1.0, math.nan, math.inf, 0.4999, 86_400_000.0)


class _Reader:
    """Reads a JSON-ish value (what a script may resolve to) from fuzz bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def text(self) -> str:
        size = self.byte() % 24
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        if len(raw) % 2 == 0 and self.byte() & 1:
            # UTF-16 with lone surrogates: strings a script can resolve to
            return raw.decode("utf-16-le", "surrogatepass")
        return raw.decode("latin-1")

    def value(self, depth: int = 0) -> object:
        tag = self.byte() % 12
        if depth > 40:  # the reader's own recursion; tag 10 nests deeper without it
            tag = 0
        if tag == 0:
            return None
        if tag == 1:
            return bool(self.byte() & 1)
        if tag == 2:
            size = self.byte() % 40
            raw = self.data[self.pos : self.pos + size]
            self.pos += size
            return int.from_bytes(raw, "big", signed=True)
        if tag == 3:
            return _FLOATS[self.byte() % len(_FLOATS)]
        if tag in (4, 5):
            return self.text()
        if tag in (6, 7):
            return [self.value(depth + 1) for _ in range(self.byte() % 6)]
        if tag in (8, 9):
            return {self.text(): self.value(depth + 1) for _ in range(self.byte() % 6)}
        if tag == 10:
            # Up to 4080 levels of lists, built without recursion: past any recursion limit.
            levels = self.byte() * 16
            nested = self.value(depth + 1)
            for _ in range(levels):
                nested = [nested]
            return nested
        return self.result(depth + 1)

    def result(self, depth: int = 0) -> dict[str, object]:
        """A result of the right shape whose fields are replaced at the fuzzer's choice."""
        value: dict[str, object] = dict(GOOD_RESULT.value)  # type: ignore[call-overload]
        for _ in range(self.byte() % 5):
            key = _RESULT_KEYS[self.byte() % len(_RESULT_KEYS)]
            if self.byte() & 1:
                value.pop(key, None)
            else:
                value[key] = self.value(depth + 1)
        return value


def _answer(reader: _Reader) -> ChallengeResult | str:
    """A driver's answer from fuzz bytes: a failure, a fuzzed value or a mutated good one."""
    mode = reader.byte()
    duration = _DURATIONS[(mode >> 2) % len(_DURATIONS)]
    if mode % 4 == 0:
        return reader.text() or "no engine"
    if mode % 4 == 1:
        raw = reader.data[reader.pos :]
        try:
            value: object = json.loads(raw)
        except (ValueError, RecursionError):
            value = raw.decode("latin-1")
        return ChallengeResult(value=value, duration_ms=duration)
    if mode % 4 == 2:
        return ChallengeResult(value=reader.value(), duration_ms=duration)
    return ChallengeResult(value=reader.result(), duration_ms=duration)


def fuzz_2026_result(payload: bytes) -> None:
    """What the driver answers to the first challenge: of the status call, then (a second
    turn) of the challenge the first turn's reply carried."""
    answer = _answer(_Reader(payload))
    used = False

    def solve(step: SolveChallenge) -> ChallengeResult | str:
        nonlocal used
        if used:
            return GOOD_RESULT
        used = True
        return answer

    session, clock = _session_2026()
    later = _later_for("2026")
    _drive(session, clock, lambda r: (later(r), False), _whole, solve)
    if session.conversation.messages:
        # The first turn went through: fuzz the carried challenge's answer too.
        used = False
        _drive(session, clock, lambda r: (later(r), False), _whole, solve)
    # A carried challenge answered first with a good result, whatever came before.
    _drive(session, clock, lambda r: (later(r), False), _whole, _good_solve)


_CHAT_STATUSES = (200, 200, 200, 200, 201, 400, 418, 429, 500, 503)


def _reply_2026(payload: bytes) -> Reply:
    """The chat reply of target 8: the first byte picks the status, the content type, a
    ``retry-after`` and whether the next challenge comes with it; the rest is the body."""
    flags, body = payload[0], payload[1:]
    headers = [("content-type", "application/json" if flags & 1 else "text/event-stream")]
    if not flags & 2:
        headers.append(("x-vqd-hash-1", NEXT_CHALLENGE_2026))
    if flags & 4:
        headers.append(("retry-after", "1"))
    status = _CHAT_STATUSES[(flags >> 3) % len(_CHAT_STATUSES)]
    return status, headers, body


def fuzz_2026_reply(payload: bytes) -> None:
    """A 2026 chat reply (see :func:`_reply_2026`), fed whole and byte by byte."""
    if payload:
        _both_ways_2026("chat", _reply_2026(payload))


def fuzz_2026_models(payload: bytes) -> None:
    """The live model list, fetched after the chat call refused the model as a bad request."""
    if not payload:
        return
    status = MODELS_STATUSES[payload[0] % len(MODELS_STATUSES)]
    fuzzed = (status, (("content-type", "application/json"),), payload[1:])
    good = _later_for("2026")

    def refusing(request: HttpRequest) -> Reply:
        return BAD_REQUEST_2026 if _kind(request) == "chat" else good(request)

    for model in ("gpt-5.4-mini", "gpt-9-fuzz"):
        events, error, _ = _both_ways_2026("models", fuzzed, model=model, later=refusing)
        assert error is not None, events
        assert error[0] in ("ModelNotSupportedError", "HTTPStatusError"), error


TARGETS: tuple[Callable[[bytes], None], ...] = (
    fuzz_status_headers,
    fuzz_challenge,
    fuzz_ddg_reply,
    fuzz_darkai_reply,
    fuzz_ddg_error,
    fuzz_fe_page,
    fuzz_2026_status,
    fuzz_2026_result,
    fuzz_2026_reply,
    fuzz_2026_models,
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
        **{f"ddg2026/{k}": v for k, v in _seeds_2026().items()},
    }


def _seeds_2026() -> dict[str, bytes]:
    """Seeds of targets 6-9 (``fuzz/corpus/ddg2026/``)."""
    script = _SCRIPT_2026.encode()
    token = b'data: {"role":"assistant","message":"Hel","action":"success"}\n\n'

    def sse(*items: bytes) -> bytes:
        return b"".join(b"data: " + item + b"\n\n" for item in items)

    def error(status: int, kind: str) -> bytes:
        return b'{"action":"error","status":%d,"type":"%s"}' % (status, kind.encode())

    image = b'{"role":"partial-image","image":"data:image/png;base64,AAAA","index":0}'
    return {
        "status-ok": b"\x06content-type: application/json\nb64: " + script,
        "status-header": b"\x06x-vqd-hash-1: " + CHALLENGE_2026.encode(),
        "status-set-cookie": b"\x06b64: " + script + b"\nset-cookie: dcs=1; Path=/\nSet-Cookie: x",
        "status-era-2025": b"\x06x-vqd-4: 4-1\nb64: " + _JS.encode(),
        "status-era-2024": b"\x06X-VQD-4: 4-77",
        "status-no-challenge": b"\x06content-type: text/plain",
        "status-not-utf8": b"\x06b64: \xff\xfe\x80(",
        "status-not-base64": b"\x06x-vqd-hash-1: not base64!",
        "status-non-ascii": b"\x06x-vqd-hash-1: YQ==\xe9",
        "result-good": b"\x07\x03\x00",
        "result-failure": b"\x07\x00\x05stale",
        "result-json": b"\x07\x01"
        + b'{"server_hashes":["a"],"client_hashes":[1e400,-0.0,12345678901234567890123,'
        + b'[null,[true]],{"k":1},"\\ud800"],"signals":{"x":[]},"meta":{"origin":"spoof"}}',
        "result-not-object": b"\x07\x01[1,2]",
        "result-nan-duration": b"\x07\x13\x00",
        "result-mutated": b"\x07\x03\x02\x01\x00\x03\x08\x03\x00\x04\x04abcd\x01",
        "result-deep": b"\x07\x03\x01\x02\x00\x0a\xff\x00",
        "result-value": b"\x07\x06\x08\x02\x02ab\x00\x06\x03\x0b\x00\x02\x05\x00\x00\x00\x01",
        "reply-ok": b"\x08\x00" + OK_CHAT_2026[2],
        "reply-markers": b"\x08\x00"
        + sse(b"[PING]", b"[CHAT_TITLE:Greeting]", b"[FIXED_COST_WINDOW_USAGE:0.5]")
        + token
        + sse(b"[WARN_CONVERSATION_LIMIT:2]", b"[WARN_CONVERSATION_LIMIT:x]")
        + sse(
            b"[STOP_REASON:length]",
            b"[SOMETHING_NEW:1]",
            b"[NEW_MARKER:a:b]",
            b"[LIMIT_ACCOUNT][DONE]",
        ),
        "reply-limits": b"\x08\x00"
        + token
        + sse(b"[LIMIT_ENTITY]", b"[LIMIT_IMAGE_GENERATIONS]")
        + sse(b"[DONE]"),
        "reply-limit-conversation": b"\x08\x00" + token + sse(b"[DONE][LIMIT_CONVERSATION]"),
        "reply-limit-before-done": b"\x08\x00" + token + sse(b"[LIMIT_CONVERSATION]", b"[DONE]"),
        "reply-not-a-marker": b"\x08\x00" + token + sse(b"[lower]", b"[DONE]"),
        "reply-title-brackets": b"\x08\x00" + sse(b"[CHAT_TITLE:a [b] c]", b"[DONE]"),
        "reply-partial-image": b"\x08\x00" + token + sse(image, b'{"partial-image":1}', b"[DONE]"),
        "reply-no-next-challenge": b"\x08\x02" + token + sse(b"[DONE]"),
        "reply-json-error": b"\x08\x01" + error(418, "ERR_CHALLENGE"),
        "reply-instream-challenge": b"\x08\x00" + sse(error(418, "ERR_CHALLENGE")),
        "reply-instream-after-text": b"\x08\x00" + token + sse(error(429, "ERR_RATE_LIMIT")),
        "reply-418": b"\x08\x30" + error(418, "ERR_CHALLENGE"),
        "reply-429-retry-after": b"\x08\x3c" + error(429, "ERR_RATE_LIMIT"),
        "reply-400-bad-request": b"\x08\x28" + error(400, "ERR_BAD_REQUEST"),
        "reply-cut": b"\x08\x00" + token + b'data: {"message":"x',
        "models-ok": b"\x09\x00" + OK_MODELS_2026[2],
        "models-no-access": b'\x09\x00{"models":[{"id":"gpt-5.4-mini","entityHasAccess":false}]}',
        "models-empty": b'\x09\x00{"models":[]}',
        "models-odd-entries": b'\x09\x00{"models":[1,{"id":5},{"id":"a b"},'
        + b'{"id":"x","supportedTools":"no","name":7},{"id":"gpt-9-fuzz","accessTier":"free"}]}',
        "models-not-json": b"\x09\x00<html>",
        "models-500": b"\x09\x07" + error(500, "ERR_INTERNAL"),
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
