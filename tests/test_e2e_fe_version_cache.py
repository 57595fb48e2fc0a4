"""Issue 16, item 1, end to end: a client reads the page once and shares the fe-version between
its conversations; when the service ships a new frontend, the refused turn reads the page
again and succeeds, and later conversations use the new version. Both clients, both async
backends, every era with an fe-version, over loopback sockets against the emulator."""

from __future__ import annotations

import pytest
from sansio_chat.adapters.httpx import AsyncChatClient, ChatClient

from fixtures_emulator import EmulatorHandle
from sansio_chat.emulator import EmulatorConfig
from sansio_chat.providers.ddg import DuckDuckGoState

ERAS = ("2025-03", "2026")


def config(dialect: str) -> EmulatorConfig:
    return EmulatorConfig(dialect=dialect, seed=5, reply_tokens=3)


def endpoints_since(emulator: EmulatorHandle, start: int) -> list[tuple[str, int]]:
    """The (endpoint, status) of each request answered after the first ``start``."""
    return [(e.endpoint, e.status) for e in emulator.control.exchanges[start:]]


def seen(emulator: EmulatorHandle) -> int:
    return len(emulator.control.exchanges)


# Discovering (no dialect pinned), the status call comes first: it names the era.
FIRST = [("status", 200), ("page", 200), ("ddg", 200)]
WARM_NEW_CONVERSATION = [("status", 200), ("ddg", 200)]
REDEPLOYED = [("status", 200), ("ddg", 418), ("page", 200), ("status", 200), ("ddg", 200)]


@pytest.mark.anyio
@pytest.mark.parametrize("emulator_config", [config(d) for d in ERAS], ids=ERAS, indirect=True)
async def test_async_client_shares_the_fe_version_between_conversations(
    emulator: EmulatorHandle,
) -> None:
    async with AsyncChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        start = seen(emulator)
        assert await client.ask("one") == emulator.expected_reply("one")
        assert endpoints_since(emulator, start) == FIRST
        start = seen(emulator)
        await client.ask("two")
        assert endpoints_since(emulator, start) == [("ddg", 200)]  # a later turn: chat alone
        client.new_conversation()
        start = seen(emulator)
        assert await client.ask("three") == emulator.expected_reply("three")
        assert endpoints_since(emulator, start) == WARM_NEW_CONVERSATION
        state = DuckDuckGoState.of(client.conversation)
        assert state.fe_version == emulator.control.fe_version


@pytest.mark.parametrize("emulator_config", [config(d) for d in ERAS], ids=ERAS, indirect=True)
def test_sync_client_shares_the_fe_version_between_conversations(
    emulator: EmulatorHandle,
) -> None:
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        start = seen(emulator)
        client.ask("one")
        assert endpoints_since(emulator, start) == FIRST
        client.new_conversation()
        start = seen(emulator)
        assert client.ask("two") == emulator.expected_reply("two")
        assert endpoints_since(emulator, start) == WARM_NEW_CONVERSATION


@pytest.mark.anyio
@pytest.mark.parametrize("emulator_config", [config("2026")], ids=["2026"], indirect=True)
async def test_a_new_frontend_is_read_within_the_refused_turn_and_then_shared(
    emulator: EmulatorHandle,
) -> None:
    async with AsyncChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        await client.ask("one")
        old = DuckDuckGoState.of(client.conversation).fe_version
        new = emulator.control.deploy_frontend()
        assert new != old
        client.new_conversation()
        start = seen(emulator)
        assert await client.ask("two") == emulator.expected_reply("two")
        assert endpoints_since(emulator, start) == REDEPLOYED
        assert DuckDuckGoState.of(client.conversation).fe_version == new
        client.new_conversation()
        start = seen(emulator)
        await client.ask("three")
        assert endpoints_since(emulator, start) == WARM_NEW_CONVERSATION
        sent = emulator.control.exchanges[-1].request.header("x-fe-version")
        assert sent == new


@pytest.mark.parametrize("emulator_config", [config("2026")], ids=["2026"], indirect=True)
def test_a_saved_conversation_from_before_a_deployment_carries_on(
    emulator: EmulatorHandle,
) -> None:
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        client.ask("one")
        saved = client.conversation
    new = emulator.control.deploy_frontend()
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        client.ask("first")  # this client's cache now holds the new version
        start = seen(emulator)
        with ChatClient(
            "ddg", base_url=emulator.base_url, min_interval=0, conversation=saved
        ) as resumed:
            assert resumed.ask("two") == emulator.expected_reply("two")
            assert DuckDuckGoState.of(resumed.conversation).fe_version == new
            assert [m.content for m in resumed.conversation.messages][::2] == ["one", "two"]
        chat = [e for e in emulator.control.exchanges[start:] if e.endpoint == "ddg"]
        assert [e.status for e in chat] == [418, 200]
