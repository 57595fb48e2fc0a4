"""The public surface: ``__all__`` is exact and private-free, and every name of the public
contract in ARCHITECTURE.md can be imported where the contract says."""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest

import sansio_chat

TOP_LEVEL_CONTRACT = [
    "SSEDecoder",
    "ServerSentEvent",
    "HttpRequest",
    "Sleep",
    "TurnComplete",
    "NEED_DATA",
    "TokenEvent",
    "VqdUpdate",
    "RateLimited",
    "Finished",
    "SansioChatError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "ModelNotSupportedError",
    "StreamInterrupted",
    "ChallengeError",
    "RateLimitError",
    "ConversationLimitError",
    "InputLimitError",
    "HTTPStatusError",
    "TransportError",
    "Timeout",
]

MODULE_CONTRACT = [
    ("sansio_chat.providers.ddg_challenge", "build_x_vqd_hash_1"),
    ("sansio_chat.providers.ddg_challenge", "dom_fingerprint"),
    ("sansio_chat.providers", "get"),
    ("sansio_chat.adapters.httpx", "ChatClient"),
    ("sansio_chat.adapters.httpx", "AsyncChatClient"),
    ("sansio_chat.adapters.h11", None),
    ("sansio_chat.adapters.cli", "main"),
    ("sansio_chat.testing", "event_streams"),
    ("sansio_chat.testing", "chunkings"),
]

ERROR_TREE = [
    ("LocalProtocolError", "SansioChatError"),
    ("RemoteProtocolError", "SansioChatError"),
    ("ModelNotSupportedError", "LocalProtocolError"),
    ("StreamInterrupted", "RemoteProtocolError"),
    ("ChallengeError", "RemoteProtocolError"),
    ("RateLimitError", "SansioChatError"),
    ("ConversationLimitError", "SansioChatError"),
    ("InputLimitError", "SansioChatError"),
    ("HTTPStatusError", "SansioChatError"),
    ("TransportError", "SansioChatError"),
    ("Timeout", "TransportError"),
]


def test_everything_in_all_exists() -> None:
    missing = [name for name in sansio_chat.__all__ if not hasattr(sansio_chat, name)]
    assert missing == []


def test_all_has_no_private_names_and_no_duplicates() -> None:
    private = [n for n in sansio_chat.__all__ if n.startswith("_") and not n.startswith("__")]
    assert private == []
    assert len(set(sansio_chat.__all__)) == len(sansio_chat.__all__)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from sansio_chat import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(sansio_chat.__all__)


@pytest.mark.parametrize("name", TOP_LEVEL_CONTRACT)
def test_contract_name_is_exported_at_the_top(name: str) -> None:
    assert name in sansio_chat.__all__
    assert getattr(sansio_chat, name) is not None


@pytest.mark.parametrize(
    ("module", "name"), MODULE_CONTRACT, ids=[f"{m}:{n}" for m, n in MODULE_CONTRACT]
)
def test_contract_name_is_importable_from_its_module(module: str, name: str | None) -> None:
    imported = importlib.import_module(module)
    if name is not None:
        assert hasattr(imported, name)


@pytest.mark.parametrize(("child", "parent"), ERROR_TREE)
def test_error_tree(child: str, parent: str) -> None:
    assert issubclass(getattr(sansio_chat, child), getattr(sansio_chat, parent))


def test_sse_contract_shape() -> None:
    fields = {f.name: f for f in dataclasses.fields(sansio_chat.ServerSentEvent)}
    assert list(fields) == ["event", "data", "id", "retry"]
    assert fields["event"].default == "message"
    assert fields["id"].default == ""
    assert fields["retry"].default is None
    params = inspect.signature(sansio_chat.SSEDecoder).parameters
    assert params["max_event_bytes"].default == 1024 * 1024
    decoder = sansio_chat.SSEDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: x\n\n") == [sansio_chat.ServerSentEvent(data="x")]
    assert decoder.close() == []
    assert decoder.ended_mid_event is False


def test_public_names_have_docstrings() -> None:
    undocumented = [
        name
        for name in sansio_chat.__all__
        if not name.startswith("__")
        and (
            inspect.isclass(getattr(sansio_chat, name))
            or inspect.isfunction(getattr(sansio_chat, name))
        )
        and not inspect.getdoc(getattr(sansio_chat, name))
    ]
    assert undocumented == []
