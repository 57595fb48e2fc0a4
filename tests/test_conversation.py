"""Messages, validation, format_prompt, last_user_message and the Conversation value."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sansio_chat import (
    Conversation,
    LocalProtocolError,
    Message,
    format_prompt,
    last_user_message,
    providers,
)
from sansio_chat._conversation import coerce_messages
from sansio_chat._text import utf16_length
from sansio_chat.providers.ddg import DuckDuckGoState

FORMAT_1 = Path(__file__).parent / "data" / "conversation_format1.json"


def test_message_is_a_frozen_value() -> None:
    m = Message(role="user", content="hi")
    assert m.to_dict() == {"role": "user", "content": "hi"}
    assert m == Message(role="user", content="hi")
    assert hash(m) == hash(Message(role="user", content="hi"))
    with pytest.raises(AttributeError):
        m.content = "x"  # type: ignore[misc]


def test_coerce_accepts_str_dicts_and_messages() -> None:
    assert coerce_messages("hi") == (Message(role="user", content="hi"),)
    assert coerce_messages(
        [{"role": "assistant", "content": "a"}, Message(role="user", content="b")]
    ) == (
        Message(role="assistant", content="a"),
        Message(role="user", content="b"),
    )
    assert coerce_messages(iter([{"role": "system", "content": ""}])) == (
        Message(role="system", content=""),
    )


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([], "must not be empty"),
        ([{"role": "wizard", "content": "x"}], "unknown role 'wizard'"),
        ([{"role": "user", "content": 5}], "content must be a str, not int"),
        ([{"role": "user", "content": ["part"]}], "content must be a str, not list"),
        ([{"role": "user"}], "missing key 'content'"),
        ([{"content": "x"}], "missing key 'role'"),
        ([42], "expected a Message or a mapping"),
        (None, "must be a str or a list"),
        (b"bytes", "must be a str or a list"),
        ({"role": "user", "content": "x"}, "must be a str or a list"),
    ],
)
def test_bad_messages_raise_clear_errors(messages: object, fragment: str) -> None:
    with pytest.raises(LocalProtocolError, match=fragment.replace("(", r"\(")):
        coerce_messages(messages)


def test_message_constructor_validates() -> None:
    with pytest.raises(LocalProtocolError):
        Message(role="robot", content="x")
    with pytest.raises(LocalProtocolError):
        Message(role="user", content=None)  # type: ignore[arg-type]


def test_format_prompt_rules() -> None:
    assert format_prompt([{"role": "user", "content": "only"}]) == "only"
    assert format_prompt([{"role": "system", "content": "only"}]) == "only"
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Again"},
    ]
    assert format_prompt(messages) == "System: Be brief.\nUser: Hi\nUser: Again\nAssistant:"
    assert format_prompt(messages, do_continue=True) == "System: Be brief.\nUser: Hi\nUser: Again"


def test_last_user_message_rule() -> None:
    assert last_user_message([{"role": "user", "content": "a"}]) == "a"
    assert (
        last_user_message(
            [
                {"role": "user", "content": "old"},
                {"role": "assistant", "content": "x"},
                {"role": "user", "content": "b"},
                {"role": "user", "content": "c"},
            ]
        )
        == "b\nc"
    )
    assert (
        last_user_message([{"role": "user", "content": "a"}, {"role": "assistant", "content": "x"}])
        == ""
    )
    assert last_user_message([]) == ""


def test_utf16_length() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("я") == 1
    assert utf16_length("😀") == 2
    assert utf16_length("") == 0


FULL_STATE = DuckDuckGoState(
    fe_version="serp_1-ab",
    vqd="4-83645609328624947555923623796318577259",
    vqd_hash_1="ZnVuY3Rpb24=",
    cookies=(("ah", "secret-cookie"), ("l", "wt")),
)
FULL = FULL_STATE.store(
    Conversation(
        provider="ddg",
        model="gpt-4o-mini",
        messages=(
            Message(role="user", content="Привет 😀"),
            Message(role="assistant", content='a "quote"\n'),
        ),
        exhausted=True,
    )
)


def test_json_round_trip_is_exact() -> None:
    text = FULL.to_json()
    assert Conversation.from_json(text) == FULL
    assert Conversation.from_json(text).to_json() == text
    assert Conversation.from_dict(FULL.to_dict()) == FULL
    assert Conversation.from_json(FULL.to_json(indent=2)) == FULL
    assert Conversation.from_json(text.encode()) == FULL
    assert hash(Conversation.from_json(text)) == hash(FULL)


def test_to_dict_layout() -> None:
    assert FULL.to_dict() == {
        "format": 2,
        "provider": "ddg",
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "Привет 😀"},
            {"role": "assistant", "content": 'a "quote"\n'},
        ],
        "state": {
            "ddg": {
                "fe_version": "serp_1-ab",
                "vqd": "4-83645609328624947555923623796318577259",
                "vqd_hash_1": "ZnVuY3Rpb24=",
                "cookies": [["ah", "secret-cookie"], ["l", "wt"]],
            }
        },
        "exhausted": True,
    }


def test_a_file_in_format_1_is_read_into_the_provider_state() -> None:
    # Written by the format-1 code (top-level fe_version, vqd, vqd_hash_1, cookies).
    old = Conversation.from_json(FORMAT_1.read_text(encoding="utf-8"))
    assert old == replace(FULL, exhausted=False)
    assert DuckDuckGoState.of(old) == FULL_STATE
    assert Conversation.from_json(old.to_json()) == old
    assert old.to_dict()["format"] == 2
    session = providers.get("ddg").new_session(conversation=old, solver=lambda js, h: "solved")
    session.start_turn("again")
    request = session.next_step()
    assert request.header("x-vqd-4") == FULL_STATE.vqd  # type: ignore[union-attr]
    assert request.header("x-fe-version") == "serp_1-ab"  # type: ignore[union-attr]


def test_state_of_another_owner_round_trips_and_is_left_alone() -> None:
    c = Conversation(provider="ddg", model="m", state={"next": {"id": "c-1", "keys": [1, 2.5]}})
    assert Conversation.from_json(c.to_json()) == c
    assert c.state_of("next") == {"id": "c-1", "keys": (1, 2.5)}
    assert c.state_of("ddg") == {}
    d = DuckDuckGoState(vqd="4-1").store(c)
    assert d.state_of("next") == c.state_of("next")
    assert DuckDuckGoState.of(d).vqd == "4-1"
    assert DuckDuckGoState().store(d).state == {"next": c.state_of("next")}


def test_repr_redacts_tokens_and_cookie_values() -> None:
    for text in (repr(FULL), repr(FULL_STATE)):
        assert "4-8364" not in text
        assert "ZnVuY3Rpb24=" not in text
        assert "secret-cookie" not in text
        assert "<redacted>" in text
    assert "Привет" not in repr(FULL)
    assert "gpt-4o-mini" in repr(FULL)
    assert "ah=<redacted>" in repr(FULL_STATE)
    assert "vqd=''" in repr(DuckDuckGoState.of(Conversation(provider="ddg", model="m")))


@pytest.mark.parametrize(
    "bad",
    [
        "[]",
        "not json",
        '{"model":"m"}',
        '{"provider":"ddg","model":"m","messages":{}}',
        '{"provider":"ddg","model":"m","messages":[{"role":"x","content":"y"}]}',
        '{"provider":"ddg","model":"m","cookies":[["a"]]}',
        '{"provider":"ddg","model":"m","vqd":5}',
        '{"provider":"ddg","model":"m","exhausted":"yes"}',
        '{"provider":"ddg","model":"m","format":99}',
        '{"provider":"ddg","model":"m","format":true}',
        '{"format":2,"provider":"ddg","model":"m","state":[]}',
        '{"format":2,"provider":"ddg","model":"m","state":{"ddg":"x"}}',
        '{"format":2,"provider":"ddg","model":"m","state":{"ddg":{"a":'
        + "[" * 40
        + "]" * 40
        + "}}}",
    ],
)
def test_from_json_rejects_malformed_input(bad: str) -> None:
    with pytest.raises(LocalProtocolError):
        Conversation.from_json(bad)


@pytest.mark.parametrize(
    "entry",
    [
        {"vqd": 5},
        {"cookies": [["a"]]},
        {"cookies": "a=b"},
        {"fe_version": None},
        {"vqd4": "x"},
        # Issue 13 item 4: values no request header may carry are refused when read.
        {"vqd": "4-\u00e9"},
        {"vqd_hash_1": "abc\u0000"},
        {"cookies": [["dcs", "caf\u00e9"]]},
        {"fe_version": "serp\nx"},
    ],
)
def test_a_malformed_ddg_state_is_refused_when_read(entry: object) -> None:
    text = '{"format":2,"provider":"ddg","model":"gpt-4o-mini","state":{"ddg":%s}}'
    with pytest.raises(LocalProtocolError):
        Conversation.from_json(text % json.dumps(entry))
    c = Conversation(provider="ddg", model="gpt-4o-mini", state={"ddg": entry})  # type: ignore[dict-item]
    with pytest.raises(LocalProtocolError):
        providers.get("ddg").new_session(conversation=c)


def test_from_dict_accepts_cookie_mapping_and_defaults() -> None:
    c = Conversation.from_dict({"provider": "ddg", "model": "m", "cookies": {"a": "1"}})
    assert DuckDuckGoState.of(c).cookies == (("a", "1"),)
    assert c.messages == ()
    assert not c.exhausted


def test_with_messages_and_constructor_coercion() -> None:
    c = Conversation(provider="ddg", model="m", messages=[{"role": "user", "content": "a"}])  # type: ignore[arg-type]
    assert c.messages == (Message(role="user", content="a"),)
    d = c.with_messages([{"role": "assistant", "content": "b"}])
    assert len(d.messages) == 2
    assert len(c.messages) == 1


texts = st.text(max_size=30)
# Values the state keeps are sent back in headers: printable ASCII (issue 13 item 4).
header_texts = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


@given(
    st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), texts), max_size=6),
    header_texts,
    header_texts,
    st.lists(st.tuples(header_texts, header_texts), max_size=3),
    st.booleans(),
)
def test_round_trip_property(
    messages: list[tuple[str, str]],
    vqd: str,
    challenge: str,
    cookies: list[tuple[str, str]],
    exhausted: bool,
) -> None:
    c = DuckDuckGoState(vqd=vqd, vqd_hash_1=challenge, cookies=tuple(cookies)).store(
        Conversation(
            provider="darkai",
            model="gpt-4o",
            messages=tuple(Message(role=r, content=t) for r, t in messages),
            exhausted=exhausted,
        )
    )
    assert Conversation.from_json(c.to_json()) == c


@pytest.mark.parametrize(
    "kwargs",
    [
        {"provider": 1},
        {"exhausted": "no"},
        {"state": "a=b"},
        {"state": {"ddg": 5}},
        {"state": {"ddg": {"v": object()}}},
        {"state": {"ddg": {"v": float("nan")}}},
        {"state": {"ddg": {1: "x"}}},
    ],
)
def test_constructor_validates(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"provider": "ddg", "model": "m", **kwargs}
    with pytest.raises(LocalProtocolError):
        Conversation(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"vqd": None},
        {"cookies": [("a",)]},
        {"cookies": [("a", 1)]},
        {"cookies": "a=b"},
    ],
)
def test_ddg_state_constructor_validates(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        DuckDuckGoState(**kwargs)  # type: ignore[arg-type]


def test_constructor_accepts_a_cookie_mapping() -> None:
    c = DuckDuckGoState(cookies={"a": "1"})  # type: ignore[arg-type]
    assert c.cookies == (("a", "1"),)


def test_from_dict_rejects_non_mappings_and_bad_cookie_containers() -> None:
    with pytest.raises(LocalProtocolError):
        Conversation.from_dict([])  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        Conversation.from_dict({"provider": "ddg", "model": "m", "cookies": "a=b"})


def test_deeply_nested_conversation_json_is_a_typed_error() -> None:
    # json.loads raises RecursionError (not ValueError) on deep nesting; it must not escape.
    with pytest.raises(LocalProtocolError, match="malformed"):
        Conversation.from_json("[" * 100_000)
