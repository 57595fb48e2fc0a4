"""The session under random use: a hypothesis state machine with a scripted fake server.

Each machine drives one session (DuckDuckGo in both dialects, DarkAI) and calls the public
API in random orders, right and wrong, against replies that succeed, refuse (429, 418,
400, other statuses), break off, carry in-stream errors or malformed data, and arrive in
random chunks. It checks, after every call:

- only the package's typed errors escape; ``LocalProtocolError`` only for misuse, and then
  nothing changed (state and conversation JSON compared);
- remote errors come only from ``next_event()``, and end the turn with the conversation
  exactly as before it (the one documented exception: ``ConversationLimitError`` from the
  server also sets ``exhausted``);
- every request is well formed and carries the token, challenge solution and messages the
  model expects; every ``Sleep`` is positive and finite and a back-off sleep is the delay its
  ``RateLimited`` announced;
- a finished turn delivered exactly the reply text the server sent, and committed it.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import event as note
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from ddg2026_support import (
    FE_VERSION_2026,
    FIXED_KEY,
    OPTIONS,
    ORIGIN,
    PAGE,
    Challenges,
    page_reply,
)
from sansio_chat import (
    NEED_DATA,
    Backoff,
    ChallengeResult,
    ChatSession,
    Conversation,
    ConversationLimitError,
    Finished,
    HttpRequest,
    ImageEvent,
    InputLimitError,
    LocalProtocolError,
    ModelNotSupportedError,
    Pacer,
    RateLimited,
    SansioChatError,
    Sleep,
    SolveChallenge,
    State,
    TitleEvent,
    TokenEvent,
    TurnComplete,
    UsageEvent,
    VqdUpdate,
    WarningEvent,
    format_prompt,
    providers,
)
from sansio_chat.emulator.ddg2026 import verify_proof
from sansio_chat.providers.ddg import DuckDuckGoState
from sansio_chat.providers.ddg.models import MODELS_2026
from sansio_chat.providers.ddg_challenge import build_x_vqd_hash_1
from sansio_chat.testing import reference_decode
from session_driver import (
    FE_PAGE,
    FE_VERSION,
    FakeClock,
    Reply,
    ddg_error,
    ddg_token,
    new_session,
    request_kind,
)
from strategies import (
    BAD_CHALLENGES,
    CHALLENGES,
    DARKAI_END,
    check_event,
    check_request,
    check_sleep,
    darkai_chunk,
    darkai_final,
    frame,
)

IDLE_STATES = (State.IDLE, State.DONE, State.ERROR)
END_MARKERS = ("[DONE]", "[DONE][LIMIT_CONVERSATION]", DARKAI_END)
ROLES = ("system", "user", "assistant")

# --- messages -------------------------------------------------------------------------------

_content = st.text(max_size=30)
_valid_messages = st.one_of(
    _content,
    st.lists(
        st.fixed_dictionaries({"role": st.sampled_from(ROLES), "content": _content}),
        min_size=1,
        max_size=3,
    ),
)
_invalid_messages = st.sampled_from(
    [[], [{"role": "bot", "content": "x"}], [{"role": "user", "content": 5}], [{"role": "user"}], 7]
)
_long_messages = st.integers(15_990, 16_010).map(lambda n: "é" * n)


def _expected_messages(messages: Any) -> list[dict[str, str]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [dict(m) for m in messages]


def _valid(messages: Any) -> bool:
    if isinstance(messages, str):
        return _has_text(messages)
    return (
        isinstance(messages, list)
        and bool(messages)
        and all(
            isinstance(m, dict)
            and m.get("role") in ROLES
            and isinstance(m.get("content"), str)
            and set(m) == {"role", "content"}
            for m in messages
        )
        and any(_has_text(m["content"]) for m in messages)
    )


def _has_text(content: str) -> bool:
    """A turn needs some text that is not white space (a blank turn is refused unsent)."""
    return content.strip() != ""


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- the fake server --------------------------------------------------------------------------

_token_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_retry_after = st.sampled_from([None, "0", "1", "7.5", "1e3", "-3", "nan", "inf", "soon"])
_headers_noise = st.sampled_from(
    [(), (("X-Extra", " spaced "),), (("set-cookie", "sid=abc; Path=/"),), (("Set-Cookie", "x"),)]
)


class FakeServer:
    """Plans replies for requests; hands out fresh tokens and remembers what it said."""

    def __init__(self, provider: str, dialect: str) -> None:
        self.provider = provider
        self.challenge_dialect = provider == "ddg" and dialect == "2025-03"
        self.counter = 0

    def new_vqd(self) -> str:
        self.counter += 1
        return f"4-{self.counter:038d}"

    def plan(self, request: HttpRequest, draw: Callable[[Any], Any]) -> Reply:
        kind = request_kind(request)
        if self.provider == "darkai":
            return self._darkai(draw)
        fault = draw(
            st.sampled_from(["ok"] * 16 + ["429", "418c", "418b", "400v", "429c", "429i", "500"])
        )
        if fault != "ok":
            return self._refusal(fault, draw)
        if kind == "page":
            return self._page(draw)
        if kind == "status":
            return self._status(draw)
        return self._ddg_chat(draw)

    def _refusal(self, fault: str, draw: Callable[[Any], Any]) -> Reply:
        status, error_type = {
            "429": (429, draw(st.sampled_from(["ERR_RATE_LIMIT", "ERR_SERVICE_UNAVAILABLE", ""]))),
            "418c": (418, "ERR_CHALLENGE"),
            "418b": (418, "ERR_BN_LIMIT"),
            "400v": (400, "ERR_INVALID_VQD"),
            "429c": (429, "ERR_CONVERSATION_LIMIT"),
            "429i": (429, "ERR_INPUT_LIMIT"),
            "500": (draw(st.sampled_from([500, 502, 404, 403])), ""),
        }[fault]
        headers: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)
        retry_after = draw(_retry_after)
        if retry_after is not None:
            headers += (("retry-after", retry_after),)
        body = ddg_error(status, error_type) if error_type else b"<html>oops</html>"
        return Reply(status=status, headers=headers, body=body, label=fault)

    def _page(self, draw: Callable[[Any], Any]) -> Reply:
        body = draw(st.sampled_from([FE_PAGE] * 8 + [b"<html>no markers</html>"]))
        return Reply(status=200, headers=(("content-type", "text/html"),), body=body, label="page")

    def _status(self, draw: Callable[[Any], Any]) -> Reply:
        fault = draw(st.sampled_from(["ok"] * 9 + ["no_vqd", "no_challenge", "bad_challenge"]))
        headers: list[tuple[str, str]] = []
        if fault != "no_vqd":
            headers.append((draw(st.sampled_from(["x-vqd-4", "X-VQD-4"])), self.new_vqd()))
        # A challenge only from a 2025-03 server: a 2024 session facing one is facing another
        # era (DialectMismatchError, tested in test_ddg_discovery.py).
        if not self.challenge_dialect:
            pass
        elif fault == "bad_challenge":
            headers.append(("x-vqd-hash-1", draw(st.sampled_from(BAD_CHALLENGES))))
        elif fault != "no_challenge":
            headers.append(("x-vqd-hash-1", draw(st.sampled_from(CHALLENGES))))
        headers.extend(draw(_headers_noise))
        return Reply(status=200, headers=tuple(headers), body=b'{"status":"0"}', label=fault)

    def _ddg_chat(self, draw: Callable[[Any], Any]) -> Reply:
        headers: list[tuple[str, str]] = [("content-type", "text/event-stream")]
        if draw(st.booleans()):
            headers.append(("x-vqd-4", self.new_vqd()))
        if draw(st.booleans()):
            headers.append(("x-vqd-hash-1", draw(st.sampled_from(CHALLENGES + BAD_CHALLENGES))))
        fault = draw(
            st.sampled_from(["ok"] * 5 + ["cut", "instream", "malformed", "json200", "nodone"])
        )
        if fault == "json200":
            status, error_type = draw(
                st.sampled_from([(429, "ERR_RATE_LIMIT"), (418, "ERR_CHALLENGE"), (400, "X")])
            )
            body = ddg_error(status, error_type)
            return Reply(
                status=200,
                headers=(("content-type", "application/json"),),
                body=body,
                label=fault,
            )
        texts = draw(st.lists(_token_text, max_size=5))
        parts = [ddg_token(t) for t in texts]
        if draw(st.booleans()):
            parts.insert(0, "[PING]")
        if draw(st.booleans()):
            parts.append("[CHAT_TITLE:A title]")
        text, ends = "".join(texts), True
        label = "ok"
        if fault == "instream":
            status = draw(st.sampled_from([429, 418, 400, 500, None]))
            error_type = draw(
                st.sampled_from(["ERR_RATE_LIMIT", "ERR_CHALLENGE", "ERR_INVALID_VQD", "ERR_X"])
            )
            parts.append(ddg_error(status, error_type).decode())
            ends = False
        elif fault == "malformed":
            parts.append(draw(st.sampled_from(['{"message": "x"', "nonsense", "[1,2]", '"str"'])))
            ends = False
        elif fault == "nodone":
            ends = False
        else:
            limit = draw(st.integers(0, 5)) == 0
            parts.append("[DONE][LIMIT_CONVERSATION]" if limit else "[DONE]")
            label = "conversation_limit" if limit else "stop"
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        body = frame(parts, newline)
        if fault == "cut":
            # Cut at least the blank line that ends the end marker's event.
            cut = draw(st.integers(0, len(body) - 2 * len(newline)))
            body, ends = body[:cut], False
        return Reply(
            status=200, headers=tuple(headers), body=body, text=text, ends=ends, label=label
        )

    def _darkai(self, draw: Callable[[Any], Any]) -> Reply:
        fault = draw(st.sampled_from(["ok"] * 5 + ["status", "cut", "malformed", "noend"]))
        if fault == "status":
            status = draw(st.sampled_from([400, 429, 500, 503]))
            return Reply(status=status, headers=(), body=b"Internal error", label=fault)
        parts: list[str] = []
        text, has_text = "", False
        for kind in draw(
            st.lists(st.sampled_from(["chunk", "chunk", "final", "other"]), max_size=6)
        ):
            piece = draw(_token_text)
            if kind == "chunk":
                parts.append(darkai_chunk(piece))
                text, has_text = text + piece, has_text or bool(piece)
            elif kind == "final":
                parts.append(darkai_final(piece))
                if not has_text:
                    text, has_text = text + piece, bool(piece)
            else:
                parts.append('{"event":"other"}')
        ends = fault in ("ok", "cut")
        if fault == "malformed":
            parts.append(draw(st.sampled_from(['{"event":"text-chunk"}', "[", '"x"', "{"])))
        elif fault != "noend":
            parts.append(DARKAI_END)
        body = frame(parts)
        if fault == "cut":
            body, ends = body[: draw(st.integers(0, len(body) - 2))], False
        label = "stop" if ends else fault
        return Reply(
            status=200,
            headers=(("content-type", "text/event-stream"),),
            body=body,
            text=text,
            ends=ends,
            label=label,
        )


# --- the machine --------------------------------------------------------------------------------


class SessionMachine(RuleBasedStateMachine):
    """Drives one session; subclasses choose the provider and dialect."""

    provider = "ddg"
    dialect = "2025-03"

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.server = FakeServer(self.provider, self.dialect)
        self.session = self._new_session(None, 3)
        self._reset_model()

    def _new_session(self, conversation: Conversation | None, seed: int) -> ChatSession:
        options: dict[str, Any] = {"dialect": self.dialect} if self.provider == "ddg" else {}
        return providers.get(self.provider).new_session(
            conversation=conversation,
            pacer=Pacer(clock=self.clock),
            backoff=Backoff(rng=random.Random(seed), max_retries=seed % 4),
            **options,
        )

    def _reset_model(self) -> None:
        conversation = self.session.conversation
        # What the session holds between turns (committed or cached from a failed turn).
        self.vqd = DuckDuckGoState.of(conversation).vqd
        self.challenge = DuckDuckGoState.of(conversation).vqd_hash_1
        self.expected_state = State.IDLE
        self.outside_json = conversation.to_json()
        self._end_turn_model()

    def _end_turn_model(self) -> None:
        self.head_pending = False
        self.turn_json: str | None = None
        self.turn_messages: list[dict[str, str]] = []
        self.tokens: list[str] = []
        self.finished: Finished | None = None
        self.finished_all_sent = False
        self.request: HttpRequest | None = None
        self.reply: Reply | None = None
        self.cursor = 0
        self.exchange_rate_limited: RateLimited | None = None
        self.backoff_delay: float | None = None
        # After a challenge answer: "send" (the next exchange) or "error" from next_event().
        self.solved_outcome: str | None = None

    # -- helpers -----------------------------------------------------------------------------

    def snapshot(self) -> tuple[State, str]:
        return self.session.state, self.session.conversation.to_json()

    def misuse(self, call: Callable[[], object]) -> None:
        """``call`` must raise LocalProtocolError and change nothing."""
        before = self.snapshot()
        with pytest.raises(LocalProtocolError):
            call()
        assert self.snapshot() == before

    def remote_error(self, error: SansioChatError, state: State) -> None:
        assert state in (State.RECV_BODY, State.RECV_EOF, State.SOLVED), (state, error)
        if state is State.SOLVED:
            assert self.solved_outcome == "error", (self.solved_outcome, error)
        # ModelNotSupportedError subclasses LocalProtocolError, yet dialect 2026 raises it
        # for a server's 400 ERR_BAD_REQUEST on a retired model (issue 14): the one exception.
        assert not isinstance(error, LocalProtocolError) or (
            self.dialect == "2026" and isinstance(error, ModelNotSupportedError)
        ), error
        self.check_remote_error(error)
        assert self.turn_json is not None
        expected = self.turn_json
        if isinstance(error, ConversationLimitError):
            start = Conversation.from_json(self.turn_json)
            expected = replace(start, exhausted=True).to_json()
        assert self.session.conversation.to_json() == expected, error
        assert error.partial_text == "".join(self.tokens), (error, self.tokens)
        assert error.state is not None
        note(f"turn failed: {type(error).__name__}")
        self.expected_state = State.ERROR
        self.outside_json = expected
        self._end_turn_model()

    def check_remote_error(self, error: SansioChatError) -> None:
        """Dialect-specific checks of an error ``next_event()`` raised."""

    def on_solve_step(self, step: SolveChallenge) -> None:
        """``next_step()`` returned a challenge to solve (only dialect 2026 does)."""
        raise AssertionError(f"a SolveChallenge step in dialect {self.dialect!r}")

    def answer_step(self, data: st.DataObject) -> None:
        """Answer the pending ``SolveChallenge`` (only dialect 2026 asks)."""
        raise AssertionError(f"a challenge to answer in dialect {self.dialect!r}")

    def take(self, event: object) -> None:
        check_event(event)
        if isinstance(event, TokenEvent):
            assert self.finished is None
            self.tokens.append(event.text)
        elif isinstance(event, RateLimited):
            assert self.finished is None
            self.exchange_rate_limited = event
            note(f"retry after {event.status} {event.reason}")
        elif isinstance(event, VqdUpdate):
            assert event.vqd == self.vqd
        elif isinstance(event, Finished):
            assert self.finished is None
            self.finished = event
            self.check_commit(event)

    def check_commit(self, event: Finished) -> None:
        assert self.reply is not None
        assert self.reply.ends, self.reply
        assert event.reason == self.reply.label
        reply_text = "".join(self.tokens)
        assert reply_text == self.reply.text
        # The end marker had arrived: the bytes fed so far hold its whole event.
        fed = reference_decode(self.reply.body[: self.cursor]).events
        assert any(e.data in END_MARKERS for e in fed), (self.cursor, self.reply)
        assert self.turn_json is not None
        before = Conversation.from_json(self.turn_json)
        after = self.session.conversation
        assert [m.to_dict() for m in after.messages] == [
            *[m.to_dict() for m in before.messages],
            *self.turn_messages,
            {"role": "assistant", "content": reply_text},
        ]
        assert after.exhausted == (event.reason == "conversation_limit")
        assert (after.provider, after.model) == (before.provider, before.model)
        if self.provider == "ddg":
            assert DuckDuckGoState.of(after).vqd == self.vqd
            if self.dialect == "2025-03":
                assert DuckDuckGoState.of(after).vqd_hash_1 == self.challenge
                assert DuckDuckGoState.of(after).fe_version == FE_VERSION
        self.outside_json = after.to_json()
        note(f"turn finished: {event.reason}")

    def drain(self) -> None:
        """Call ``next_event()`` until NEED_DATA, following the state it leads to."""
        state = self.session.state
        if state is State.ERROR:
            self.misuse(self.session.next_event)
            return
        if self.head_pending:
            self.head_pending = False
            assert self.reply is not None
            self.head_updates(self.reply)
        while True:
            try:
                event = self.session.next_event()
            except SansioChatError as error:
                self.remote_error(error, state)
                return
            if event is NEED_DATA:
                break
            assert state in (State.RECV_BODY, State.RECV_EOF), (state, event)
            self.take(event)
        if state is State.RECV_EOF:
            self.settle()
        elif state is State.SOLVED:
            # The answer was usable: the next exchange is planned.
            assert self.solved_outcome == "send", self.solved_outcome
            self.solved_outcome = None
            self.expected_state = State.SEND
        assert self.session.state is self.expected_state

    def settle(self) -> None:
        """The exchange is over: predict where the session went."""
        if self.finished is not None:
            self.expected_state = State.DONE
        elif self.exchange_rate_limited is not None:
            self.expected_state = State.BACKOFF
            self.backoff_delay = self.exchange_rate_limited.delay
        else:
            self.expected_state = State.SEND
        self.request, self.reply, self.exchange_rate_limited = None, None, None

    def check_chat_request(self, request: HttpRequest) -> None:
        body = json.loads(request.body)
        conversation = self.session.conversation
        messages = [m.to_dict() for m in conversation.messages] + self.turn_messages
        if self.provider == "darkai":
            assert body == {"query": format_prompt(messages), "model": conversation.model}
            return
        assert set(body) == {"model", "messages"}
        assert body["model"] == conversation.model
        assert body["messages"] == [
            {"role": "user" if m["role"] == "system" else m["role"], "content": m["content"]}
            for m in messages
        ]
        assert request.header("x-vqd-4") == self.vqd
        assert self.vqd
        if self.dialect == "2025-03":
            assert request.header("x-fe-version") == FE_VERSION
            headers = {
                "User-Agent": request.header("user-agent") or "",
                "sec-ch-ua": request.header("sec-ch-ua") or "",
            }
            assert request.header("x-vqd-hash-1") == build_x_vqd_hash_1(self.challenge, headers)
        else:
            assert request.header("x-vqd-hash-1") is None
            assert request.header("x-fe-version") is None

    def head_updates(self, reply: Reply) -> None:
        """What the session learns from a response head (it reads the head first)."""
        assert self.request is not None
        headers = {k.lower(): v.strip() for k, v in reversed(reply.headers)}
        kind = request_kind(self.request)
        ok = 200 <= reply.status < 300
        if self.provider != "ddg" or not ok:
            return
        challenge_dialect = self.dialect == "2025-03"
        if kind == "status":
            vqd, challenge = headers.get("x-vqd-4", ""), headers.get("x-vqd-hash-1", "")
            if vqd and (challenge or not challenge_dialect):
                self.vqd = vqd
                if challenge_dialect:
                    self.challenge = challenge
        elif kind == "chat" and headers.get("content-type") != "application/json":
            self.vqd = headers.get("x-vqd-4") or self.vqd
            if challenge_dialect:
                self.challenge = headers.get("x-vqd-hash-1") or self.challenge

    def refused_input(
        self, messages: Any, size: int, error: InputLimitError, before: tuple[State, str]
    ) -> None:
        """``start_turn()`` refused messages over the input limit, before any request."""
        assert _valid(messages)
        assert self.provider == "ddg"
        assert size > 16_000
        assert error.status is None
        assert self.snapshot() == before

    # -- rules: the turn ------------------------------------------------------------------------

    @rule(messages=st.one_of(_valid_messages, _valid_messages, _invalid_messages, _long_messages))
    def start_turn(self, messages: Any) -> None:
        state = self.session.state
        if state not in IDLE_STATES:
            self.misuse(lambda: self.session.start_turn(messages))
            return
        before = self.snapshot()
        conversation = self.session.conversation
        size = sum(_utf16(m.content) for m in conversation.messages)
        if _valid(messages):
            size += sum(_utf16(m["content"]) for m in _expected_messages(messages))
        try:
            self.session.start_turn(messages)
        except LocalProtocolError:
            assert not _valid(messages)
            assert self.snapshot() == before
            return
        except ConversationLimitError:
            assert _valid(messages)
            assert conversation.exhausted
            assert self.snapshot() == before
            return
        except InputLimitError as error:
            self.refused_input(messages, size, error, before)
            return
        assert _valid(messages)
        assert not conversation.exhausted
        assert self.provider != "ddg" or size <= 16_000
        assert self.session.conversation.to_json() == before[1]
        self._end_turn_model()
        self.turn_json = before[1]
        self.turn_messages = _expected_messages(messages)
        self.expected_state = State.SEND
        assert self.session.state is State.SEND

    @rule(oversleep=st.sampled_from([1.0, 1.0, 0.5]))
    def next_step(self, oversleep: float) -> None:
        state = self.session.state
        if state not in (State.SEND, State.BACKOFF, State.DONE):
            self.misuse(self.session.next_step)
            return
        step = self.session.next_step()
        if isinstance(step, Sleep):
            check_sleep(step)
            assert state in (State.SEND, State.BACKOFF)
            if state is State.BACKOFF:
                assert step.seconds == self.backoff_delay
                self.backoff_delay = None
            self.clock.now += step.seconds * oversleep
            self.expected_state = State.SEND
        elif isinstance(step, HttpRequest):
            assert state is State.SEND
            check_request(step)
            if request_kind(step) == "chat":
                self.check_chat_request(step)
            self.request, self.reply, self.cursor = step, None, 0
            note(f"request: {request_kind(step)}")
            self.expected_state = State.AWAIT_HEAD
        elif isinstance(step, SolveChallenge):
            assert state is State.SEND
            self.on_solve_step(step)
            self.expected_state = State.SOLVE
        else:
            assert isinstance(step, TurnComplete)
            assert state is State.DONE
            assert self.finished is not None
            self.expected_state = State.IDLE
            self._end_turn_model()
        assert self.session.state is self.expected_state

    @precondition(lambda self: self.request is not None and self.reply is None)
    @rule(data=st.data())
    def plan_reply(self, data: st.DataObject) -> None:
        assert self.request is not None
        self.reply = self.server.plan(self.request, data.draw)

    @rule(data=st.data())
    def receive_head(self, data: st.DataObject) -> None:
        if self.session.state is not State.AWAIT_HEAD:
            status = data.draw(st.sampled_from([200, 429]))
            self.misuse(lambda: self.session.receive_response_head(status, []))
            return
        bad = data.draw(st.sampled_from([None] * 6 + [True, "200", 200.5, "headers"]))
        if bad is not None:
            if bad == "headers":
                self.misuse(lambda: self.session.receive_response_head(200, [("a", 1)]))  # type: ignore[list-item]
            else:
                self.misuse(lambda: self.session.receive_response_head(bad, []))  # type: ignore[arg-type]
            return
        if self.reply is None:
            self.plan_reply(data)
        assert self.reply is not None
        as_bytes = data.draw(st.booleans())
        headers = [(k.encode(), v.encode()) if as_bytes else (k, v) for k, v in self.reply.headers]
        self.session.receive_response_head(self.reply.status, headers)
        # The session reads a head at the next next_event(): a turn aborted before that
        # learns nothing from it.
        self.head_pending = True
        self.expected_state = State.RECV_BODY
        assert self.session.state is State.RECV_BODY

    @rule(size=st.integers(0, 64), drain=st.booleans())
    def receive_data(self, size: int, drain: bool) -> None:
        if self.session.state is not State.RECV_BODY:
            self.misuse(lambda: self.session.receive_data(b"data: x\n\n"))
            return
        assert self.reply is not None
        if size == 0 and not drain:
            self.misuse(lambda: self.session.receive_data("text"))  # type: ignore[arg-type]
            return
        chunk = self.reply.body[self.cursor : self.cursor + size]
        self.session.receive_data(chunk)
        self.cursor += len(chunk)
        if drain:
            self.drain()

    @rule()
    def receive_eof(self) -> None:
        if self.session.state is not State.RECV_BODY:
            self.misuse(self.session.receive_eof)
            return
        self.session.receive_eof()
        self.expected_state = State.RECV_EOF
        assert self.session.state is State.RECV_EOF

    @rule()
    def next_event(self) -> None:
        self.drain()

    @precondition(lambda self: self.session.state is State.AWAIT_HEAD)
    @rule(data=st.data())
    def whole_exchange(self, data: st.DataObject) -> None:
        """What an adapter does: head, the whole body in random chunks, EOF, drain."""
        if self.reply is None:
            self.plan_reply(data)
        assert self.reply is not None
        self.session.receive_response_head(self.reply.status, self.reply.headers)
        self.head_updates(self.reply)
        self.expected_state = State.RECV_BODY
        body = self.reply.body
        cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=6)))
        for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True):
            if self.session.state is not State.RECV_BODY:
                return
            self.session.receive_data(body[a:b])
            self.cursor = b
            self.drain()
        if self.session.state is State.RECV_BODY:
            self.session.receive_eof()
            self.expected_state = State.RECV_EOF
            self.drain()

    @precondition(lambda self: self.session.state not in (State.IDLE, State.ERROR))
    @rule(data=st.data(), steps=st.integers(1, 12))
    def advance(self, data: st.DataObject, steps: int) -> None:
        """Behave like a correct driver for a few steps (so that turns get somewhere)."""
        for _ in range(steps):
            state = self.session.state
            if state in (State.SEND, State.BACKOFF, State.DONE):
                self.next_step(1.0)
            elif state is State.AWAIT_HEAD:
                self.whole_exchange(data)
            elif state in (State.RECV_BODY, State.RECV_EOF, State.SOLVED):
                if state is State.RECV_BODY:
                    self.receive_eof()
                self.drain()
            elif state is State.SOLVE:
                self.answer_step(data)
            else:
                return

    @rule()
    def abort_turn(self) -> None:
        """The driver's I/O failed: a running turn ends in ERROR, nothing else changes."""
        state = self.session.state
        self.session.abort_turn()
        if state in IDLE_STATES:
            assert self.session.state is state
            return
        note(f"turn aborted in {state.name}")
        assert self.session.state is State.ERROR
        assert self.turn_json is not None
        # A reply whose Finished was delivered stays committed; otherwise nothing was.
        expected = self.outside_json if self.finished is not None else self.turn_json
        assert self.session.conversation.to_json() == expected
        self.expected_state = State.ERROR
        self.outside_json = expected
        self._end_turn_model()

    @precondition(lambda self: self.session.state in IDLE_STATES)
    @rule(messages=_valid_messages, data=st.data())
    def whole_turn(self, messages: Any, data: st.DataObject) -> None:
        """A valid turn driven like an adapter does, until it ends (or 30 steps)."""
        self.start_turn(messages)
        if self.session.state is State.SEND:
            self.advance(data, 30)

    @precondition(lambda self: self.session.state in IDLE_STATES)
    @rule(seed=st.integers(0, 7), keep=st.booleans())
    def reload(self, seed: int, keep: bool) -> None:
        """A new session: continuing the saved conversation (JSON round trip), or a fresh one."""
        conversation = None
        if keep:
            conversation = Conversation.from_json(self.session.conversation.to_json())
            assert conversation.to_json() == self.session.conversation.to_json()
        self.session = self._new_session(conversation, seed)
        self._reset_model()

    # -- invariants --------------------------------------------------------------------------------

    @invariant()
    def state_as_predicted(self) -> None:
        assert self.session.state is self.expected_state

    @invariant()
    def conversation_changes_only_at_commit(self) -> None:
        current = self.session.conversation.to_json()
        if self.turn_json is not None and self.finished is None:
            assert current == self.turn_json
        else:
            assert current == self.outside_json


class DuckDuckGoMachine(SessionMachine):
    """The default dialect: page, status, challenge, chat."""

    provider = "ddg"
    dialect = "2025-03"


class DuckDuckGo2024Machine(SessionMachine):
    """The 2024 dialect: status and chat, no challenge."""

    provider = "ddg"
    dialect = "2024"


class DarkAIMachine(SessionMachine):
    """DarkAI: one POST per turn."""

    provider = "darkai"
    dialect = ""


# --- dialect 2026: the challenge step, the chained challenge, markers, the models exchange ------

_IMAGE = json.dumps({"role": "partial-image", "image": "data:image/png;base64,AAAA"})
# (payload, the event it becomes, the finish reason it sets, the stop reason it sets)
_MARKERS_2026: tuple[tuple[str, object, str, str], ...] = (
    ("[CHAT_TITLE:A title]", TitleEvent(title="A title"), "", ""),
    ("[FIXED_COST_WINDOW_USAGE:0.5]", UsageEvent(value="0.5"), "", ""),
    ("[WARN_CONVERSATION_LIMIT:2]", WarningEvent(kind="conversation_limit", remaining=2), "", ""),
    ("[PING]", None, "", ""),
    ("[SOMETHING_NEW:1]", None, "", ""),
    ("[STOP_REASON:length]", None, "", "length"),
    ("[LIMIT_ACCOUNT]", None, "account_limit", ""),
    ("[LIMIT_ENTITY]", None, "entity_limit", ""),
    ("[LIMIT_IMAGE_GENERATIONS]", None, "image_limit", ""),
    ("[LIMIT_CONVERSATION]", None, "conversation_limit", ""),
    (_IMAGE, ImageEvent(data=_IMAGE), "", ""),
)
_MARKER_EVENTS = (TitleEvent, UsageEvent, WarningEvent, ImageEvent)
# Results the session cannot turn into a proof: ChallengeError from next_event().
_BAD_RESULTS: tuple[tuple[object, Any], ...] = (
    (["not", "an", "object"], 1.0),
    ({}, 1.0),
    ({"server_hashes": 1, "client_hashes": ["a"], "signals": {}, "meta": {}}, 1.0),
    ({"server_hashes": ["a"], "client_hashes": [], "signals": {}, "meta": {}}, 1.0),
    ({"server_hashes": ["a"], "client_hashes": ["b"], "signals": {}, "meta": 3}, 1.0),
    ({"server_hashes": ["a"], "client_hashes": ["b"], "signals": {}, "meta": {}}, float("nan")),
    ({"server_hashes": ["a"], "client_hashes": ["b"], "signals": {}, "meta": {}}, -1.0),
    ({"server_hashes": ["a"], "client_hashes": ["b"], "signals": {}, "meta": {}}, "9"),
)
# A result of the right shape for a script the fake server never issued.
_FOREIGN_RESULT = {"server_hashes": ["x"], "client_hashes": ["y"], "signals": {}, "meta": {}}
_FOREIGN_SCRIPT = base64.b64encode(b"(async function(){return 1})()").decode()


@dataclass(frozen=True)
class Reply2026(Reply):
    """A 2026 reply and what the stream's markers mean (chat), or the live list (models)."""

    events: tuple[object, ...] = ()
    stop_reason: str = ""
    exhausted: bool = False
    live: tuple[str, ...] | None = None


class FakeServer2026(FakeServer):
    """duck.ai as the emulator plays it: fresh challenges from the emulator's generator on
    status and on every chat reply, a proof checked against its challenge (418 if wrong)."""

    def __init__(self) -> None:
        super().__init__("ddg", "2026")
        self.challenges = Challenges(seed=26)
        self.proof_ok = True  # the verdict on the proof of the chat request in flight

    def plan(self, request: HttpRequest, draw: Callable[[Any], Any]) -> Reply:
        kind = request_kind(request)
        if kind == "chat" and not self.proof_ok:
            # The emulator refuses a proof that does not answer its challenge.
            return self._refusal("418c", draw)
        faults = ["ok"] * 14 + ["429", "418c", "418b", "429c", "429i", "500"]
        if kind == "chat":
            faults += ["400b"] * 3
        fault = draw(st.sampled_from(faults))
        if fault == "400b":
            body = ddg_error(400, "ERR_BAD_REQUEST")
            return Reply(400, (("content-type", "application/json"),), body, label=fault)
        if fault != "ok":
            return self._refusal(fault, draw)
        if kind == "page":
            return page_reply() if draw(st.integers(0, 8)) else Reply(200, (), b"<html>x</html>")
        if kind == "status":
            return self._status_2026(draw)
        if kind == "models":
            return self._models(draw)
        return self._chat_2026(draw)

    def _status_2026(self, draw: Callable[[Any], Any]) -> Reply:
        fault = draw(st.sampled_from(["ok"] * 9 + ["no_challenge", "older", "not_base64"]))
        if fault == "ok":
            return self.challenges.status_reply()
        headers: tuple[tuple[str, str], ...] = {
            "no_challenge": (),
            "older": (("x-vqd-4", "4-1"), ("x-vqd-hash-1", self.challenges.new().header)),
            "not_base64": (("x-vqd-hash-1", "@@not-base64@@"),),
        }[fault]
        return Reply(200, headers, b'{"status":"0"}', label=fault)

    def _models(self, draw: Callable[[Any], Any]) -> Reply:
        kind = draw(st.sampled_from(["list", "list", "garbage"]))
        if kind == "garbage":
            return Reply(200, (("content-type", "application/json"),), b"[1,", label="models")
        ids = draw(
            st.lists(
                st.sampled_from(["gpt-5.4-mini", "gpt-9-mini", "claude-haiku-4-5"]), unique=True
            )
        )
        access = [draw(st.booleans()) for _ in ids]
        entries = [{"id": i, "entityHasAccess": a} for i, a in zip(ids, access, strict=True)]
        body = json.dumps({"models": entries}).encode()
        live = tuple(i for i, a in zip(ids, access, strict=True) if a)
        headers = (("content-type", "application/json"),)
        return Reply2026(200, headers, body, label="models", live=live)

    def _chat_2026(self, draw: Callable[[Any], Any]) -> Reply:
        headers: list[tuple[str, str]] = [("content-type", "text/event-stream")]
        carried = draw(st.sampled_from(["fresh"] * 5 + ["none", "foreign", "not_base64"]))
        if carried == "fresh":
            headers.append(("x-vqd-hash-1", self.challenges.new().header))
        elif carried == "foreign":
            headers.append(("x-vqd-hash-1", _FOREIGN_SCRIPT))
        elif carried == "not_base64":
            headers.append(("x-vqd-hash-1", "@@not-base64@@"))
        fault = draw(
            st.sampled_from(["ok"] * 5 + ["cut", "instream", "malformed", "json200", "nodone"])
        )
        if fault == "json200":
            status, error_type = draw(
                st.sampled_from([(429, "ERR_RATE_LIMIT"), (418, "ERR_CHALLENGE"), (400, "X")])
            )
            return Reply(
                200,
                (("content-type", "application/json"),),
                ddg_error(status, error_type),
                label=fault,
            )
        items = draw(
            st.lists(st.one_of(_token_text, st.sampled_from(range(len(_MARKERS_2026)))), max_size=6)
        )
        parts: list[str] = []
        texts: list[str] = []
        events: list[object] = []
        reason, stop_reason, exhausted = "stop", "", False
        for item in items:
            if isinstance(item, str):
                parts.append(ddg_token(item))
                texts.append(item)
                continue
            payload, event, limit, stop = _MARKERS_2026[item]
            parts.append(payload)
            if event is not None:
                events.append(event)
            reason = limit or reason
            stop_reason = stop or stop_reason
            exhausted = exhausted or limit == "conversation_limit"
        ends = fault in ("ok", "cut")
        if fault == "instream":
            status = draw(st.sampled_from([429, 418, 400, 500, None]))
            error_type = draw(
                st.sampled_from(["ERR_RATE_LIMIT", "ERR_CHALLENGE", "ERR_BAD_REQUEST", "ERR_X"])
            )
            parts.append(ddg_error(status, error_type).decode())
        elif fault == "malformed":
            parts.append(draw(st.sampled_from(['{"message": "x"', "nonsense", "[1,2]", '"str"'])))
        elif fault != "nodone":
            parts.append("[DONE]")
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        body = frame(parts, newline)
        if fault == "cut":
            # Cut at least the blank line that ends the end marker's event.
            body, ends = body[: draw(st.integers(0, len(body) - 2 * len(newline)))], False
        return Reply2026(
            status=200,
            headers=tuple(headers),
            body=body,
            text="".join(texts),
            ends=ends,
            label=reason if ends else fault,
            events=tuple(events),
            stop_reason=stop_reason,
            exhausted=exhausted,
        )


class DuckDuckGo2026Machine(SessionMachine):
    """Dialect 2026 (duck.ai): page, status, a ``SolveChallenge`` step the driver answers,
    chat with the proof; each chat reply carries the next challenge; a refused model asks for
    the live model list."""

    provider = "ddg"
    dialect = "2026"
    server: FakeServer2026

    def __init__(self) -> None:
        self.live_models: tuple[str, ...] | None = None
        super().__init__()
        self.server = FakeServer2026()

    def _new_session(self, conversation: Conversation | None, seed: int) -> ChatSession:
        session, self.clock = new_session(
            **OPTIONS,
            min_interval=0,
            seed=seed,
            conversation=conversation,
            backoff=Backoff(rng=random.Random(seed), max_retries=seed % 4),
        )
        return session

    def _reset_model(self) -> None:
        super()._reset_model()
        state = DuckDuckGoState.of(self.session.conversation)
        assert state.vqd == ""
        # What the session's rules hold across its turns.
        self.conversation_id = state.conversation_id
        self.live_models = None
        self.message_ids: set[str] = set()

    def _end_turn_model(self) -> None:
        super()._end_turn_model()
        self.step: SolveChallenge | None = None
        self.turn_status_fetched = False
        self.marker_events: list[object] = []
        # The answered challenge of the chat request planned next, and whether the answer was
        # right. The session spends the proof when it plans that request: a turn that ends
        # before sending it solves the challenge again.
        self.proof_for: tuple[str, bool] | None = None

    # -- the challenge step ---------------------------------------------------------------------

    def on_solve_step(self, step: SolveChallenge) -> None:
        assert step.page == PAGE
        assert self.challenge, "a challenge step without a challenge"
        assert step.script == base64.b64decode(self.challenge).decode()
        # A proof at hand for this challenge is sent, not asked for again.
        assert self.proof_for is None or self.proof_for[0] != self.challenge
        self.step = step
        note("challenge step")

    def answer_step(self, data: st.DataObject) -> None:
        step = self.step
        assert step is not None
        issued = self.server.challenges.issued.get(step.script)
        kind = data.draw(st.sampled_from(["right"] * 6 + ["wrong", "bad", "failure"]))
        if kind == "failure":
            self.session.receive_challenge_failure(data.draw(st.text(max_size=20)))
            # A carried challenge may be stale: a fresh one is fetched; a fresh one is final.
            self.solved_outcome = "error" if self.turn_status_fetched else "send"
        elif kind == "bad":
            value, duration = data.draw(st.sampled_from(_BAD_RESULTS))
            self.session.receive_challenge_result(
                ChallengeResult(value=value, duration_ms=duration)
            )
            self.solved_outcome = "error"
        else:
            right = kind == "right" and issued is not None
            value = (
                issued.expected if issued is not None else json.loads(json.dumps(_FOREIGN_RESULT))
            )
            if not right:
                value["client_hashes"][0] = "tampered"
            duration = data.draw(st.floats(0, 1e6, allow_nan=False))
            self.session.receive_challenge_result(
                ChallengeResult(value=value, duration_ms=duration)
            )
            self.proof_for = (self.challenge, right)
            self.solved_outcome = "send"
        note(f"challenge answer: {kind}")
        self.step = None
        self.expected_state = State.SOLVED
        assert self.session.state is State.SOLVED

    @rule(data=st.data())
    def challenge_answer(self, data: st.DataObject) -> None:
        """``receive_challenge_result`` / ``receive_challenge_failure`` in any state."""
        if self.session.state is not State.SOLVE:
            if data.draw(st.booleans()):
                result = ChallengeResult(value={}, duration_ms=1.0)
                self.misuse(lambda: self.session.receive_challenge_result(result))
            else:
                self.misuse(lambda: self.session.receive_challenge_failure("no engine"))
            return
        bad = data.draw(st.sampled_from([None] * 6 + ["result", "reason"]))
        if bad == "result":
            self.misuse(lambda: self.session.receive_challenge_result({"value": {}}))  # type: ignore[arg-type]
        elif bad == "reason":
            self.misuse(lambda: self.session.receive_challenge_failure(7))  # type: ignore[arg-type]
        else:
            self.answer_step(data)

    # -- what the session sends and learns ---------------------------------------------------

    def check_chat_request(self, request: HttpRequest) -> None:
        body = json.loads(request.body)
        conversation = self.session.conversation
        messages = [m.to_dict() for m in conversation.messages] + self.turn_messages
        assert body["model"] == conversation.model
        assert body["messages"] == [
            {"role": "user" if m["role"] == "system" else m["role"], "content": m["content"]}
            for m in messages
        ]
        durable = body["durableStream"]
        assert durable["publicKey"]["n"] == FIXED_KEY.n
        if self.conversation_id:
            assert durable["conversationId"] == self.conversation_id
        self.conversation_id = durable["conversationId"]
        assert durable["messageId"] not in self.message_ids
        self.message_ids.add(durable["messageId"])
        assert request.header("x-fe-version") == FE_VERSION_2026
        assert request.header("user-agent") == PAGE.user_agent
        assert request.header("sec-ch-ua") == PAGE.sec_ch_ua
        assert request.header("origin") == ORIGIN
        assert request.header("x-vqd-4") is None
        # The proof answers the challenge the session holds, and was the driver's answer.
        assert self.proof_for is not None, "a chat request without an answered challenge"
        assert self.proof_for[0] == self.challenge
        issued = self.server.challenges.issued.get(base64.b64decode(self.challenge).decode())
        proof = request.header("x-vqd-hash-1")
        assert proof
        verdict = verify_proof(issued, proof, ORIGIN) if issued is not None else "not issued"
        assert (verdict is None) == self.proof_for[1], verdict
        self.server.proof_ok = verdict is None
        self.proof_for = None  # a proof answers one request
        note("chat request: " + ("after a status call" if self.turn_status_fetched else "chained"))
        self.marker_events = []

    def head_updates(self, reply: Reply) -> None:
        assert self.request is not None
        headers = {k.lower(): v.strip() for k, v in reversed(reply.headers)}
        kind = request_kind(self.request)
        if not 200 <= reply.status < 300:
            return
        challenge = headers.get("x-vqd-hash-1", "")
        if kind == "status" and challenge and "x-vqd-4" not in headers:
            self.challenge = challenge
            self.turn_status_fetched = True
        elif kind == "chat" and headers.get("content-type") != "application/json":
            self.challenge = challenge  # the next challenge, or none (fetch one next turn)

    def settle(self) -> None:
        self.learn_models()
        super().settle()

    def learn_models(self) -> None:
        if isinstance(self.reply, Reply2026) and self.reply.live is not None:
            self.live_models = self.reply.live

    def check_remote_error(self, error: SansioChatError) -> None:
        self.learn_models()
        if isinstance(error, ModelNotSupportedError):
            model = self.session.conversation.model
            assert error.model == model
            assert self.live_models is None or model not in self.live_models
            assert error.available == (self.live_models or MODELS_2026)

    # -- what the stream delivers -----------------------------------------------------------------

    def take(self, event: object) -> None:
        if isinstance(event, _MARKER_EVENTS):
            assert self.finished is None
            self.marker_events.append(event)
        elif isinstance(event, VqdUpdate):
            assert event.vqd == ""
            assert event.vqd_hash_1 == self.challenge
        elif isinstance(event, Finished):
            assert self.finished is None
            self.finished = event
            self.check_commit(event)
        else:
            super().take(event)

    def check_commit(self, event: Finished) -> None:
        reply = self.reply
        assert isinstance(reply, Reply2026), reply
        assert reply.ends, reply
        assert event.reason == reply.label
        assert event.stop_reason == reply.stop_reason
        reply_text = "".join(self.tokens)
        assert reply_text == reply.text
        assert self.marker_events == list(reply.events)
        fed = reference_decode(reply.body[: self.cursor]).events
        assert any(e.data == "[DONE]" for e in fed), (self.cursor, reply)
        assert self.turn_json is not None
        before = Conversation.from_json(self.turn_json)
        after = self.session.conversation
        assert [m.to_dict() for m in after.messages] == [
            *[m.to_dict() for m in before.messages],
            *self.turn_messages,
            {"role": "assistant", "content": reply_text},
        ]
        assert after.exhausted == reply.exhausted
        assert (after.provider, after.model) == (before.provider, before.model)
        state = DuckDuckGoState.of(after)
        assert state.dialect == "2026"
        assert state.vqd == ""
        assert state.vqd_hash_1 == self.challenge
        assert state.fe_version == FE_VERSION_2026
        assert state.conversation_id == self.conversation_id
        assert state.key_n == FIXED_KEY.n
        assert state.key_private == ""
        self.outside_json = after.to_json()
        note(f"turn finished: {event.reason}")


_SETTINGS = settings(stateful_step_count=40)

TestDuckDuckGoSession = DuckDuckGoMachine.TestCase
TestDuckDuckGoSession.settings = _SETTINGS
TestDuckDuckGo2024Session = DuckDuckGo2024Machine.TestCase
TestDuckDuckGo2024Session.settings = _SETTINGS
TestDarkAISession = DarkAIMachine.TestCase
TestDarkAISession.settings = _SETTINGS
TestDuckDuckGo2026Session = DuckDuckGo2026Machine.TestCase
TestDuckDuckGo2026Session.settings = _SETTINGS


def test_challenge_builder_sanity() -> None:
    """The fake server's challenges are solvable and its bad ones are not base64 of a program."""
    for challenge in CHALLENGES:
        value = build_x_vqd_hash_1(challenge, {"User-Agent": "u", "sec-ch-ua": "s"})
        decoded = json.loads(base64.b64decode(value))
        assert set(decoded) == {"server_hashes", "client_hashes", "signals"}


@pytest.mark.parametrize("provider", ["ddg", "darkai"])
def test_unencodable_content_is_refused_by_start_turn(provider: str) -> None:
    """Content with a lone surrogate cannot be sent as UTF-8 (or counted in UTF-16): it is a
    bad argument, so ``start_turn()`` must raise LocalProtocolError and change nothing.

    Found by this module's invariants; today a UnicodeEncodeError escapes untyped.
    """
    session = providers.get(provider).new_session(pacer=Pacer(clock=FakeClock()))
    before = session.conversation.to_json()
    with pytest.raises(LocalProtocolError):
        session.start_turn("half an emoji: \ud83d")
    assert session.state is State.IDLE
    assert session.conversation.to_json() == before
