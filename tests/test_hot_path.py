"""The streaming hot path: orjson and json give the same results, the per-state rows of the
state table match it, and the batched event hand-off means the same as one at a time."""

from __future__ import annotations

import importlib.util
import json
import math
import pickle
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sansio_chat._json as json_module
from sansio_chat import TRANSITIONS, Input, SansioChatError, ServerSentEvent, State
from sansio_chat._json import loads_exact
from sansio_chat._session import Decision
from sansio_chat._state import _ROWS, StateMachine
from sansio_chat.providers import darkai
from sansio_chat.providers.ddg import wire
from session_driver import SSE, Reply, chunks_of, drive, first_turn_replies, new_session, token

assert json_module.loads_fast is not None, "the test environment installs orjson"
loads_fast = json_module.loads_fast

INT64 = (-(2**63), 2**64 - 1)  # what orjson returns as int; beyond it a float


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, recursively (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def same_but_big_ints(fast: Any, exact: Any) -> bool:
    """``same``, except that an integer beyond 64 bits may be the nearest float."""
    if type(exact) is int and not INT64[0] <= exact <= INT64[1]:
        return type(fast) is float and fast == float(exact)
    if isinstance(exact, dict) and isinstance(fast, dict):
        return list(fast) == list(exact) and all(
            same_but_big_ints(fast[k], exact[k]) for k in exact
        )
    if isinstance(exact, list) and isinstance(fast, list):
        return len(fast) == len(exact) and all(map(same_but_big_ints, fast, exact))
    return same(fast, exact)


def outcome(loader: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", loader(text)
    except ValueError:
        return "ValueError", None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(*INT64) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=15,
)
JSONISH = st.text(
    st.sampled_from(
        [*'{}[]",:0123456789.eE+-tnrufalsNIiy \t\n\r\\/x', "\x00", "\u00a0", "\ufeff", "é", "😀"]
    ),
    max_size=30,
)


@given(JSON_VALUES, st.booleans())
def test_orjson_path_returns_what_json_returns(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert same(loads_fast(text), json.loads(text))


@given(JSONISH)
def test_orjson_path_accepts_and_refuses_what_json_does(text: str) -> None:
    fast, exact = outcome(loads_fast, text), outcome(loads_exact, text)
    assert fast[0] == exact[0]
    assert same_but_big_ints(fast[1], exact[1])


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        '{"a":-Infinity}',
        "1e400",
        '"\\ud800"',
        '{"message":"\\udfff x"}',
        '{"a":1,"a":2}',
        " [1, 2.5, -0.0] ",
        "[" * 100 + "]" * 100,
    ],
)
def test_texts_orjson_refuses_are_decided_by_json(text: str) -> None:
    assert same(loads_fast(text), json.loads(text))


def test_big_integers_are_the_documented_difference() -> None:
    text = '{"status": 123456789012345678901234567890}'
    assert loads_exact(text) == {"status": 123456789012345678901234567890}
    assert loads_fast(text) == {"status": 1.2345678901234568e29}


@pytest.mark.parametrize("loader", [loads_exact, loads_fast], ids=["json", "orjson"])
@pytest.mark.parametrize("text", ["[" * 5000, '{"a":' * 5000 + "1" + "}" * 5000, "x", ""])
def test_refusals_are_value_errors(loader: Any, text: str) -> None:
    # json.loads itself raises RecursionError on deep nesting; the payload rules catch
    # ValueError only, so the helpers turn it into one.
    with pytest.raises(ValueError):
        loader(text)


def test_loads_exact_takes_bytes_like_json() -> None:
    assert loads_exact(b'{"type":"ERR"}') == {"type": "ERR"}
    with pytest.raises(ValueError):
        loads_exact(b"\xff")


def test_without_orjson_the_json_module_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # `import orjson` raises ImportError
    spec = importlib.util.spec_from_file_location("_json_without_orjson", json_module.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.FAST is False
    assert module.loads_fast is None
    assert module.loads is module.loads_exact
    assert module.loads('{"message":"x"}') == {"message": "x"}
    assert json_module.FAST is True
    assert json_module.loads is loads_fast


# --- both paths through the sessions --------------------------------------------------


def _record(provider: str, payloads: list[str], split: int) -> tuple[object, ...]:
    session, clock = new_session(provider, min_interval=0)
    session.start_turn("hi")
    body = b"".join(f"data: {p}\n\n".encode() for p in payloads)
    if provider == "ddg":
        replies = [*first_turn_replies()[:2], Reply(200, SSE, body)]
    else:
        replies = [Reply(200, SSE, body)]
    t = drive(session, clock, replies, split=chunks_of(split))
    error = t.error
    described: tuple[object, ...] = ()
    if error is not None:
        described = (
            type(error).__name__,
            str(error),
            error.partial_text,
            error.state,
            getattr(error, "status", None),
            getattr(error, "error_type", None),
        )
    return (t.events, described, t.completed, session.conversation.to_json())


BIG = "123456789012345678901234567890"
DEEP = "[" * 3000 + "]" * 3000
DDG_PAYLOADS = [
    f'{{"message":"x","created":{BIG}}}',
    f'{{"action":"error","status":{BIG},"type":"ERR_SOMETHING"}}',
    '{"action":"error","status":4.29e2,"type":"ERR_SOMETHING"}',
    '{"action":"error","status":429,"type":"ERR_CONVERSATION_LIMIT"}',
    '{"message":NaN}',
    '{"message":"\\ud800!"}',
    '{"message":"a","message":"b"}',
    '{"message":"x","extra":1e400}',
    f'{{"message":"x","extra":{DEEP}}}',
    "[1, 2]",
    '"text"',
    "42",
    "NaN",
    '{"message":"x"} trailing',
    "not json",
    "[PING]",
    "[CHAT_TITLE:t]",
]
DARKAI_PAYLOADS = [
    f'{{"event":"text-chunk","data":{{"text":"x","n":{BIG}}}}}',
    '{"event":"text-chunk","data":{"text":NaN}}',
    '{"event":"text-chunk","data":{"text":"\\ud800!"}}',
    '{"event":"text-chunk","data":["text"]}',
    '{"event":"final-response","data":{"message":"whole"}}',
    '{"event":"other","data":Infinity}',
    f'{{"event":"text-chunk","data":{{"text":"x","deep":{DEEP}}}}}',
    "[1, 2]",
    "null",
    "{",
]


@pytest.mark.parametrize("split", [1, 7, 10_000])
@pytest.mark.parametrize(
    ("provider", "payload", "end"),
    [("ddg", p, "[DONE]") for p in DDG_PAYLOADS]
    + [("darkai", p, '{"event":"stream-end","data":{}}') for p in DARKAI_PAYLOADS],
)
def test_sessions_behave_the_same_on_both_json_paths(
    monkeypatch: pytest.MonkeyPatch, provider: str, payload: str, end: str, split: int
) -> None:
    module = wire if provider == "ddg" else darkai
    first = token("a") if provider == "ddg" else '{"event":"text-chunk","data":{"text":"a"}}'
    payloads = [first, payload, first, end]
    results = []
    for loader in (loads_exact, loads_fast):
        monkeypatch.setattr(module, "loads", loader)
        results.append(_record(provider, payloads, split))
    assert results[0] == results[1]


def test_a_huge_in_stream_error_status_is_read_exactly() -> None:
    item = wire.parse_stream_data(f'{{"action":"error","status":{BIG},"type":"ERR_X"}}')
    assert item == wire.StreamItem(kind="error", status=int(BIG), error_type="ERR_X")


# --- the batched hand-off and the state rows ---------------------------------------------


@pytest.mark.parametrize("provider", ["ddg", "darkai"])
def test_a_decision_mid_chunk_drops_the_events_after_it(provider: str) -> None:
    if provider == "ddg":
        payloads = [token("a"), "[DONE]", token("late")]
    else:
        chunk = '{"event":"text-chunk","data":{"text":"%s"}}'
        payloads = [chunk % "a", '{"event":"stream-end","data":{}}', chunk % "late"]
    session, clock = new_session(provider, min_interval=0)
    session.start_turn("hi")
    body = b"".join(f"data: {p}\n\n".encode() for p in payloads)
    replies = [*first_turn_replies()[:2]] if provider == "ddg" else []
    t = drive(session, clock, [*replies, Reply(200, SSE, body)])
    assert t.error is None
    assert t.text == "a"
    assert session.conversation.messages[-1].content == "a"


def test_state_rows_are_the_table_regrouped() -> None:
    regrouped = {(s, i): target for s, row in _ROWS.items() for i, target in row.items()}
    assert regrouped == dict(TRANSITIONS)
    assert set(_ROWS) == set(State)


@pytest.mark.parametrize("member", [*State, *Input], ids=lambda m: m.name)
def test_states_and_inputs_stay_usable_as_keys(member: State | Input) -> None:
    copy = pickle.loads(pickle.dumps(member))
    assert copy is member
    assert {member: 1}[copy] == 1
    assert hash(copy) == hash(member)


def test_a_refused_input_keeps_the_row_of_the_state() -> None:
    machine = StateMachine(State.RECV_BODY)
    with pytest.raises(SansioChatError):
        machine.process(Input.START_TURN)
    assert machine.process(Input.RECV_DATA) is State.RECV_BODY
    assert machine.process(Input.RECV_EOF) is State.RECV_EOF
    assert not machine.allows(Input.RECV_DATA)


@pytest.mark.parametrize("provider", ["ddg", "darkai"])
def test_chat_exchanges_take_single_events_too(provider: str) -> None:
    session, _ = new_session(provider, min_interval=0)
    session.start_turn("hi")
    if provider == "ddg":
        for reply in first_turn_replies()[:2]:  # page, status
            session.next_step()
            session.receive_response_head(reply.status, reply.headers)
            session.receive_data(reply.body)
            session.receive_eof()
            assert list(session.events()) == []
        payloads = [token("a"), "[CHAT_TITLE:t]", "[DONE]"]
    else:
        chunk = '{"event":"text-chunk","data":{"text":"%s"}}'
        payloads = [chunk % "a", '{"event":"final-response","data":{"message":"a"}}']
    request = session.next_step()
    assert type(request).__name__ == "HttpRequest"
    session.receive_response_head(200, SSE)
    exchange = session._exchange
    assert exchange is not None
    results = [exchange.on_events([ServerSentEvent(data=p)]) for p in payloads]
    assert results[:-1] == [None] * (len(payloads) - 1)
    assert session._ctx is not None
    assert session._ctx.partial_text == "a"
    if provider == "ddg":
        assert isinstance(results[-1], Decision)
