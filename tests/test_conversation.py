"""Messages, validation, format_prompt, last_user_message and the Conversation value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sansio_chat import Conversation, LocalProtocolError, Message, format_prompt, last_user_message
from sansio_chat._conversation import coerce_messages, utf16_length


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


FULL = Conversation(
    provider="ddg",
    model="gpt-4o-mini",
    messages=(
        Message(role="user", content="Привет 😀"),
        Message(role="assistant", content='a "quote"\n'),
    ),
    fe_version="serp_1-ab",
    vqd="4-83645609328624947555923623796318577259",
    vqd_hash_1="ZnVuY3Rpb24=",
    cookies=(("ah", "secret-cookie"), ("l", "wt")),
    exhausted=True,
)


def test_json_round_trip_is_exact() -> None:
    text = FULL.to_json()
    assert Conversation.from_json(text) == FULL
    assert Conversation.from_json(text).to_json() == text
    assert Conversation.from_dict(FULL.to_dict()) == FULL
    assert Conversation.from_json(FULL.to_json(indent=2)) == FULL
    assert Conversation.from_json(text.encode()) == FULL


def test_to_dict_layout() -> None:
    assert FULL.to_dict() == {
        "format": 1,
        "provider": "ddg",
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "Привет 😀"},
            {"role": "assistant", "content": 'a "quote"\n'},
        ],
        "fe_version": "serp_1-ab",
        "vqd": "4-83645609328624947555923623796318577259",
        "vqd_hash_1": "ZnVuY3Rpb24=",
        "cookies": [["ah", "secret-cookie"], ["l", "wt"]],
        "exhausted": True,
    }


def test_repr_redacts_tokens_and_cookie_values() -> None:
    text = repr(FULL)
    assert "4-8364" not in text
    assert "ZnVuY3Rpb24=" not in text
    assert "secret-cookie" not in text
    assert "Привет" not in text
    assert "<redacted>" in text
    assert "ah=<redacted>" in text
    assert "gpt-4o-mini" in text
    assert "vqd=''" in repr(Conversation(provider="ddg", model="m"))


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
    ],
)
def test_from_json_rejects_malformed_input(bad: str) -> None:
    with pytest.raises(LocalProtocolError):
        Conversation.from_json(bad)


def test_from_dict_accepts_cookie_mapping_and_defaults() -> None:
    c = Conversation.from_dict({"provider": "ddg", "model": "m", "cookies": {"a": "1"}})
    assert c.cookies == (("a", "1"),)
    assert c.messages == ()
    assert not c.exhausted


def test_with_messages_and_constructor_coercion() -> None:
    c = Conversation(provider="ddg", model="m", messages=[{"role": "user", "content": "a"}])  # type: ignore[arg-type]
    assert c.messages == (Message(role="user", content="a"),)
    d = c.with_messages([{"role": "assistant", "content": "b"}])
    assert len(d.messages) == 2
    assert len(c.messages) == 1


texts = st.text(max_size=30)


@given(
    st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), texts), max_size=6),
    texts,
    texts,
    st.lists(st.tuples(texts, texts), max_size=3),
    st.booleans(),
)
def test_round_trip_property(
    messages: list[tuple[str, str]],
    vqd: str,
    challenge: str,
    cookies: list[tuple[str, str]],
    exhausted: bool,
) -> None:
    c = Conversation(
        provider="darkai",
        model="gpt-4o",
        messages=tuple(Message(role=r, content=t) for r, t in messages),
        vqd=vqd,
        vqd_hash_1=challenge,
        cookies=tuple(cookies),
        exhausted=exhausted,
    )
    assert Conversation.from_json(c.to_json()) == c


@pytest.mark.parametrize(
    "kwargs",
    [
        {"provider": 1},
        {"vqd": None},
        {"exhausted": "no"},
        {"cookies": [("a",)]},
        {"cookies": [("a", 1)]},
        {"cookies": "a=b"},
    ],
)
def test_constructor_validates(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"provider": "ddg", "model": "m", **kwargs}
    with pytest.raises(LocalProtocolError):
        Conversation(**fields)  # type: ignore[arg-type]


def test_constructor_accepts_a_cookie_mapping() -> None:
    c = Conversation(provider="ddg", model="m", cookies={"a": "1"})  # type: ignore[arg-type]
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
