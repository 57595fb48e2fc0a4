"""The clients refuse misuse with a typed error at once: arguments of the wrong type, a closed
client, a file that is not a conversation; and their built-in model lists by era."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from sansio_chat.adapters._drivers import client as client_module
from sansio_chat.adapters.httpx import AsyncChatClient, ChatClient, Timeouts

from fixtures_emulator import EmulatorHandle
from sansio_chat import Conversation, LocalProtocolError, providers
from sansio_chat.providers.ddg.models import MODELS_2026
from sansio_chat.providers.ddg.provider import MODELS as SEED_ERA_MODELS


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [(None, providers.get("ddg").models), ("2026", MODELS_2026), ("2025-03", SEED_ERA_MODELS)],
)
def test_builtin_models_follow_the_era(dialect: str | None, expected: tuple[str, ...]) -> None:
    with ChatClient(dialect=dialect) as client:
        assert [model.id for model in client.models(live=False)] == list(expected)


def test_a_closed_client_refuses_work(emulator: EmulatorHandle) -> None:
    client = ChatClient(base_url=emulator.base_url, min_interval=0, dialect="2026")
    client.close()
    for work in (lambda: client.ask("hi"), client.prepare, client.models):
        with pytest.raises(LocalProtocolError, match="the client is closed"):
            work()
    assert emulator.control.exchanges == []


@pytest.mark.anyio
async def test_a_closed_async_client_refuses_work(emulator: EmulatorHandle) -> None:
    client = AsyncChatClient(base_url=emulator.base_url, min_interval=0, dialect="2026")
    await client.aclose()
    with pytest.raises(LocalProtocolError, match="the client is closed"):
        await client.ask("hi")
    with pytest.raises(LocalProtocolError, match="the client is closed"):
        await client.prepare()
    with pytest.raises(LocalProtocolError, match="the client is closed"):
        await client.models()
    assert emulator.control.exchanges == []


BAD_ARGUMENTS: list[tuple[dict[str, Any], str]] = [
    ({"conversation": "x"}, "conversation must be a Conversation, not str"),
    ({"solver": "nope"}, "nope"),
    ({"solver": 3}, "solver must have solve"),
    ({"timeout": -1}, "timeout: the connect timeout must be a positive number"),
    ({"timeout": [1]}, "timeout: a number of seconds or a Timeouts, not list"),
    ({"timeout": "5"}, "timeout: a number of seconds or a Timeouts, not str"),
    ({"proxy": 5}, "proxy must be a URL str, not int"),
    ({"http": 5}, "http must be an httpx.Client"),
    ({"verify": 5}, "verify must be True, False, a CA bundle path or an ssl.SSLContext"),
    ({"clock": 5}, "clock must be a function returning seconds"),
    ({"rng": 5}, "rng must be a random.Random, not int"),
]


@pytest.mark.parametrize(("arguments", "words"), BAD_ARGUMENTS)
def test_an_argument_of_the_wrong_type_is_refused_at_once(
    arguments: dict[str, Any], words: str
) -> None:
    with pytest.raises(LocalProtocolError) as raised:
        ChatClient(**arguments)
    assert words in str(raised.value)


def test_the_async_client_wants_an_async_httpx_client() -> None:
    with httpx.Client() as http, pytest.raises(LocalProtocolError, match=r"httpx\.AsyncClient"):
        AsyncChatClient(http=http)  # type: ignore[arg-type]


def test_right_arguments_still_pass() -> None:
    timeouts = Timeouts(connect=1, read=2)
    with ChatClient(timeout=timeouts, clock=lambda: 0.0, rng=random.Random(1), verify=False):
        pass
    with ChatClient(timeout=5):
        pass


def test_load_refuses_what_is_not_a_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ChatClient()
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(b'{"provider":"ddg","model":"caf\xe9"}')
    with pytest.raises(LocalProtocolError, match="malformed"):
        client.load(not_utf8)
    with monkeypatch.context() as patch:
        patch.setattr(client_module, "MAX_CONVERSATION_BYTES", 64)
        big = tmp_path / "big.json"
        big.write_bytes(b" " * 65)
        with pytest.raises(LocalProtocolError, match="larger than 64 bytes"):
            client.load(big)
    with pytest.raises(IsADirectoryError):  # the operating system's error, as from open()
        client.load(tmp_path)
    before = client.conversation
    saved = tmp_path / "ok.json"
    client.save(saved)
    client.load(saved)
    assert client.conversation == before


@pytest.mark.parametrize("field", ["provider", "model"])
def test_a_conversation_names_no_lone_surrogate(field: str) -> None:
    document = {"provider": "ddg", "model": "gpt-5.4-mini", field: "a\ud800"}
    with pytest.raises(LocalProtocolError, match=f"Conversation.{field} is not valid Unicode"):
        Conversation.from_json(json.dumps(document))


BLANK_TURNS: list[Any] = [
    "",
    " \n\t\u3000",
    [{"role": "user", "content": ""}],
    [{"role": "system", "content": " "}, {"role": "user", "content": "\n"}],
]


@pytest.mark.parametrize("prompt", BLANK_TURNS)
def test_a_blank_turn_is_refused_unsent(emulator: EmulatorHandle, prompt: Any) -> None:
    with ChatClient(base_url=emulator.base_url, min_interval=0) as client:
        assert client.ask("hello") == emulator.control.expected_reply("hello")
        before = client.conversation
        sent = len(emulator.control.exchanges)
        with pytest.raises(LocalProtocolError, match="nothing to send"):
            client.ask(prompt)
        assert client.conversation == before
        assert len(emulator.control.exchanges) == sent
        # The client is still usable, and a message with text beside a blank one is sent.
        client.ask([{"role": "system", "content": ""}, {"role": "user", "content": "again"}])
        assert client.conversation.messages[-2].content == "again"


@pytest.mark.anyio
async def test_the_async_client_refuses_a_blank_turn_unsent(emulator: EmulatorHandle) -> None:
    async with AsyncChatClient(base_url=emulator.base_url, min_interval=0) as client:
        with pytest.raises(LocalProtocolError, match="nothing to send"):
            await client.ask("   ")
        assert client.conversation.messages == ()
    assert emulator.control.exchanges == []
