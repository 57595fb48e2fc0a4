"""Issue 18 end to end: one client for every era. With no dialect, the clients hold a
three-turn conversation against the emulator in each dialect, over real loopback sockets;
a pinned dialect facing another era is a typed error with nothing committed."""

from __future__ import annotations

import pytest
from sansio_chat.adapters.httpx import AsyncChatClient, ChatClient

from fixtures_emulator import EmulatorHandle
from sansio_chat.emulator import EmulatorConfig
from sansio_chat.providers.ddg import DialectMismatchError, DuckDuckGoState

PROMPTS = ("one", "two", "three")
ERAS = ("2024", "2025-03", "2025-03-lenient", "2026")
ERA_OF = {"2025-03-lenient": "2025-03"}  # the lenient emulator speaks the 2025-03 protocol
# What each era's first turn needs; later turns are the chat request alone.
FIRST_TURN = {"2024": 2, "2025-03": 3, "2025-03-lenient": 3, "2026": 3}


def config(dialect: str) -> EmulatorConfig:
    return EmulatorConfig(dialect=dialect, seed=11, reply_tokens=4)


def expected(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    pairs = []
    for prompt in PROMPTS:
        pairs += [("user", prompt), ("assistant", emulator.expected_reply(prompt))]
    return pairs


@pytest.mark.anyio
@pytest.mark.parametrize(
    "emulator_config", [config(d) for d in ERAS], ids=list(ERAS), indirect=True
)
async def test_async_client_discovers_every_era(emulator: EmulatorHandle) -> None:
    dialect = emulator.control.config.dialect
    async with AsyncChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        for prompt in PROMPTS:
            assert await client.ask(prompt) == emulator.expected_reply(prompt)
        conversation = client.conversation
    assert [(m.role, m.content) for m in conversation.messages] == expected(emulator)
    assert DuckDuckGoState.of(conversation).dialect == ERA_OF.get(dialect, dialect)
    # Discovery cost no request: the first turn made what its era needs, later turns one.
    assert len(emulator.control.exchanges) == FIRST_TURN[dialect] + len(PROMPTS) - 1


@pytest.mark.parametrize(
    "emulator_config", [config(d) for d in ERAS], ids=list(ERAS), indirect=True
)
def test_sync_client_discovers_every_era(emulator: EmulatorHandle) -> None:
    dialect = emulator.control.config.dialect
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        for prompt in PROMPTS:
            assert client.ask(prompt) == emulator.expected_reply(prompt)
        assert [(m.role, m.content) for m in client.conversation.messages] == expected(emulator)
        assert DuckDuckGoState.of(client.conversation).dialect == ERA_OF.get(dialect, dialect)


@pytest.mark.parametrize(
    ("emulator_config", "pinned"),
    # (A 2024 session facing duck.ai sends duckduckgo.com's origin, which today's service
    # refuses with 400 before its era shows: that is an HTTPStatusError, also typed.)
    [(config("2025-03"), "2026"), (config("2026"), "2025-03"), (config("2024"), "2026")],
    ids=["2026-vs-2025-03", "2025-03-vs-2026", "2026-vs-2024"],
    indirect=["emulator_config"],
)
def test_a_pinned_dialect_against_another_era_is_typed_and_commits_nothing(
    emulator: EmulatorHandle, pinned: str
) -> None:
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0, dialect=pinned) as client:
        before = client.conversation
        with pytest.raises(DialectMismatchError) as info:
            client.ask("hello")
        assert info.value.expected == pinned
        assert info.value.served != pinned
        assert client.conversation == before
