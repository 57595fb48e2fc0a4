"""The provider catalogue and the provider objects."""

from __future__ import annotations

import pytest

from sansio_chat import (
    ChatSession,
    Conversation,
    LocalProtocolError,
    ModelNotSupportedError,
    State,
    providers,
)
from sansio_chat.providers import UnknownProviderError, ddg
from sansio_chat.providers.ddg import DuckDuckGoState
from sansio_chat.providers.ddg import models as ddg_models

_catalogued = providers.get("ddg")
assert isinstance(_catalogued, ddg.DuckDuckGoProvider)
DDG: ddg.DuckDuckGoProvider = _catalogued


def test_names_and_get() -> None:
    assert providers.names() == ("ddg", "darkai")
    for name in providers.names():
        assert providers.get(name).name == name
    assert set(providers.PROVIDERS) == {"ddg", "darkai"}


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(UnknownProviderError) as info:
        providers.get("openai")
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.known == ("ddg", "darkai")
    assert "ddg, darkai" in str(info.value)


def test_ddg_description() -> None:
    p = providers.get("ddg")
    assert (p.label, p.url, p.working) == (
        "DuckDuckGo AI Chat",
        "https://duckduckgo.com/aichat",
        True,
    )
    assert p.supports_stream
    assert p.supports_system_message
    assert p.supports_message_history
    # Today's era (dialect 2026) gives the defaults; the seed era's list stays its dialect's.
    assert p.default_model == ddg.DEFAULT_MODEL_2026 == "gpt-5.4-mini"
    assert p.models == ddg_models.MODELS_2026
    assert p.model_aliases["claude"] == "claude-haiku-4-5"
    assert ddg.DEFAULT_MODEL == "gpt-4o-mini"
    assert "working=True" in repr(p)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "gpt-4o-mini"),
        ("", "gpt-4o-mini"),
        ("gpt-4o", "gpt-4o-mini"),
        ("llama-3.3-70b", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("claude-3-haiku", "claude-3-haiku-20240307"),
        ("mistral-small-24b", "mistralai/Mistral-Small-24B-Instruct-2501"),
        ("o3-mini", "o3-mini"),
    ],
)
def test_validate_model(given: str | None, expected: str) -> None:
    assert DDG.validate_model(given, "2025-03") == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "gpt-5.4-mini"),
        ("claude", "claude-haiku-4-5"),
        ("oss", "tinfoil/gpt-oss-120b"),
        ("gpt-9-preview", "gpt-9-preview"),  # the live list decides
    ],
)
def test_validate_model_2026(given: str | None, expected: str) -> None:
    assert DDG.validate_model(given, "2026") == expected


def test_without_a_dialect_a_model_any_era_takes_is_kept_for_discovery() -> None:
    ddg_provider = providers.get("ddg")
    assert ddg_provider.validate_model(None) == "gpt-5.4-mini"
    assert ddg_provider.validate_model("gpt-4") == "gpt-4o-mini"  # a seed-era alias
    assert ddg_provider.validate_model("claude-haiku-4-5") == "claude-haiku-4-5"
    with pytest.raises(ModelNotSupportedError):
        ddg_provider.validate_model("bad id with spaces")


def test_unknown_model_lists_ids() -> None:
    with pytest.raises(ModelNotSupportedError) as info:
        DDG.validate_model("gpt-9", "2025-03")
    assert info.value.model == "gpt-9"
    assert info.value.available == ddg.MODELS
    assert "o3-mini" in str(info.value)
    with pytest.raises(ModelNotSupportedError) as retired:
        DDG.validate_model("gpt-4o-mini", "2026")
    assert retired.value.available == ddg_models.MODELS_2026
    with pytest.raises(LocalProtocolError):
        providers.get("ddg").validate_model(5)  # type: ignore[arg-type]


def test_new_session_defaults() -> None:
    session = providers.get("ddg").new_session()
    assert isinstance(session, ChatSession)
    assert session.state is State.IDLE
    assert session.provider == "ddg"
    assert session.conversation == Conversation(provider="ddg", model="gpt-5.4-mini")
    assert "ddg" in repr(session)
    assert session.pacer.min_interval == 1.5
    assert session.limits.max_event_bytes == 1024 * 1024


def test_new_session_with_conversation_and_model_override() -> None:
    conv = DuckDuckGoState(vqd="4-1").store(Conversation(provider="ddg", model="o3-mini"))
    assert providers.get("ddg").new_session(conversation=conv).conversation is conv
    switched = providers.get("ddg").new_session("gpt-4", conversation=conv).conversation
    assert switched.model == "gpt-4o-mini"
    assert DuckDuckGoState.of(switched).vqd == "4-1"


def test_new_session_refuses_foreign_conversation() -> None:
    conv = Conversation(provider="darkai", model="gpt-4o")
    with pytest.raises(LocalProtocolError, match="belongs to provider 'darkai'"):
        providers.get("ddg").new_session(conversation=conv)
    with pytest.raises(LocalProtocolError):
        providers.get("ddg").new_session(conversation={"provider": "ddg"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dialect": "2099"},
        {"dialect": 5},
        {"solver": "not callable"},
        {"browser": "chrome"},
        {"colour": "blue"},
        {"base_url": "ftp://x"},
        {"base_url": "duckduckgo.com"},
        {"base_url": "http://x/?q=1"},
        {"base_url": 5},
    ],
)
def test_new_session_refuses_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        providers.get("ddg").new_session(**kwargs)  # type: ignore[arg-type]


def test_darkai_options() -> None:
    s = providers.get("darkai").new_session(user_agent="X/1")
    s.start_turn("x")
    assert s.next_step().header("user-agent") == "X/1"  # type: ignore[union-attr]
    with pytest.raises(LocalProtocolError):
        providers.get("darkai").new_session(dialect="2024")
    with pytest.raises(LocalProtocolError):
        providers.get("darkai").new_session(user_agent="")


@pytest.mark.parametrize(
    "module",
    [
        "sansio_chat.providers",
        "sansio_chat.providers.ddg",
        "sansio_chat.providers.darkai",
        "sansio_chat._session",
        "sansio_chat._conversation",
        "sansio_chat._pacing",
        "sansio_chat._state",
    ],
)
def test_every_exported_name_exists_and_is_documented(module: str) -> None:
    import importlib
    import types

    mod = importlib.import_module(module)
    for name in mod.__all__:
        value = getattr(mod, name)
        # A type alias (Python 3.10 calls `Callable[...]` a type) keeps its docstring in the
        # source, where Python attaches none.
        if isinstance(value, types.GenericAlias):
            continue
        if isinstance(value, (type, types.FunctionType)):
            assert value.__doc__, f"{module}.{name} has no docstring"


def test_session_names_are_public() -> None:
    import sansio_chat

    for name in (
        "ChatSession",
        "Conversation",
        "Message",
        "Pacer",
        "Backoff",
        "Limits",
        "State",
        "Input",
        "TRANSITIONS",
        "format_prompt",
        "last_user_message",
    ):
        assert name in sansio_chat.__all__
        assert getattr(sansio_chat, name) is not None
