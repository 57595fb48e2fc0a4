"""AsyncChatClient end to end over 127.0.0.1 against the emulator, on asyncio and trio."""

from __future__ import annotations

import json
import random
import socket
from pathlib import Path

import anyio
import pytest
from sansio_chat.adapters.httpx import AsyncChatClient, Timeouts

from fixtures_emulator import EmulatorHandle
from sansio_chat import (
    Backoff,
    ChallengeError,
    ConversationLimitError,
    Finished,
    HTTPStatusError,
    LocalProtocolError,
    RateLimited,
    RateLimitError,
    RemoteProtocolError,
    SansioChatError,
    StreamInterrupted,
    Timeout,
    TokenEvent,
    TransportError,
    VqdUpdate,
)

pytestmark = pytest.mark.anyio


def _client(emulator: EmulatorHandle, **options: object) -> AsyncChatClient:
    defaults: dict[str, object] = {
        "base_url": emulator.base_url,
        "min_interval": 0,
        "timeout": Timeouts(connect=5, read=5, total=30),
        "backoff": Backoff(base_delay=0.001, rng=random.Random(7)),
    }
    return AsyncChatClient(**{**defaults, **options})  # type: ignore[arg-type]


async def test_a_full_turn(emulator: EmulatorHandle) -> None:
    async with _client(emulator) as client:
        reply = await client.ask("hello")
        assert reply == emulator.expected_reply("hello")
        messages = [(m.role, m.content) for m in client.conversation.messages]
    assert messages == [("user", "hello"), ("assistant", reply)]


async def test_stream_yields_tokens_as_they_arrive(emulator: EmulatorHandle) -> None:
    emulator.control.configure(reply_tokens=5)
    async with _client(emulator) as client, client.stream("hello") as tokens:
        pieces = [token async for token in tokens]
    assert len(pieces) == 5
    assert "".join(pieces) == emulator.expected_reply("hello")
    assert tokens.finished == Finished(reason="stop")


async def test_multi_turn_rotates_the_vqd(emulator: EmulatorHandle) -> None:
    async with _client(emulator) as client:
        rotations: list[VqdUpdate] = []
        for prompt in ("one", "two", "three"):
            async with client.events(prompt) as events:
                rotations += [event async for event in events if isinstance(event, VqdUpdate)]
        assert len(client.conversation.messages) == 6
    chats = emulator.control.requests_to("ddg")
    assert len(emulator.control.requests_to("status")) == 1  # later turns use the rotated token
    assert [chat.status for chat in chats] == [200, 200, 200]
    sent = [chat.request.header("x-vqd-4") for chat in chats]
    assert sent[1:] == [update.vqd for update in rotations[:2]]
    assert len(set(sent)) == 3
    history = json.loads(chats[2].request.body)["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant", "user"]


async def test_darkai_turn(emulator: EmulatorHandle) -> None:
    async with _client(emulator, provider="darkai") as client:
        assert await client.ask("hello") == emulator.expected_reply("hello")
        assert client.provider == "darkai"


@pytest.mark.parametrize("storm", ["429x2", "418x2", "400", "418:ERR_BN_LIMITx2"])
async def test_retries_succeed_after_a_storm(emulator: EmulatorHandle, storm: str) -> None:
    async with _client(emulator) as client:
        await client.ask("warm up")
        emulator.fault(storm)
        async with client.events("hello") as events:
            seen = [event async for event in events]
    tokens = "".join(event.text for event in seen if isinstance(event, TokenEvent))
    assert tokens == emulator.expected_reply("hello")
    assert seen[-1] == Finished(reason="stop")
    waits = [event for event in seen if isinstance(event, RateLimited)]
    if storm == "418x2":
        # The first refused challenge of a turn whose fe-version came from an earlier turn
        # reads the page again at once (the frontend may have changed); the second is retried.
        assert [wait.attempt for wait in waits] == [1]
        assert len(emulator.control.requests_to("page")) == 2
    elif storm != "400":  # a rejected vqd is refetched at once, without a wait
        assert [wait.attempt for wait in waits] == [1, 2]


FAULTS: list[tuple[str, type[SansioChatError], bool]] = [
    # (fault switch, the error it must raise, whether some reply text arrives first)
    ("429x9", RateLimitError, False),
    ("418x9", ChallengeError, False),
    ("http:500", HTTPStatusError, False),
    ("cut", StreamInterrupted, True),
    ("reset", TransportError, True),
    ("malformed", RemoteProtocolError, True),
    ("malformed:nodelim", RemoteProtocolError, False),
    ("oversized", RemoteProtocolError, True),
    ("stall:5", Timeout, True),
    ("stall:5:head", Timeout, False),
]


@pytest.mark.parametrize(("fault", "error", "partial"), FAULTS)
async def test_a_fault_is_a_typed_error_and_leaves_the_conversation(
    emulator: EmulatorHandle, fault: str, error: type[SansioChatError], partial: bool
) -> None:
    async with _client(emulator, timeout=Timeouts(connect=5, read=0.3)) as client:
        await client.ask("warm up")
        before = client.conversation
        emulator.fault(fault)
        with anyio.fail_after(10):  # no hang
            with pytest.raises(error) as caught:
                await client.ask("hello")
        assert client.conversation == before
        expected = emulator.expected_reply("hello")
        assert expected.startswith(caught.value.partial_text)
        assert bool(caught.value.partial_text) == partial
        emulator.control.clear_faults()
        assert await client.ask("hello") == expected  # the client carries on
        assert len(client.conversation.messages) == 4


@pytest.mark.parametrize("fault", ["fragment", "fragment:1", "invalid-utf8", "drip:0.001"])
async def test_a_fault_that_keeps_the_reply_whole(emulator: EmulatorHandle, fault: str) -> None:
    emulator.fault(fault)
    async with _client(emulator) as client:
        reply = await client.ask("hello")
    if fault == "invalid-utf8":
        assert "\ufffd" in reply
    else:
        assert reply == emulator.expected_reply("hello")


async def test_the_total_timeout_bounds_a_slow_drip(emulator: EmulatorHandle) -> None:
    emulator.control.configure(reply_tokens=40)
    emulator.fault("drip:0.01:32")
    async with _client(emulator, timeout=Timeouts(read=5, total=0.5)) as client:
        with anyio.fail_after(10), pytest.raises(Timeout, match="total timeout") as caught:
            await client.ask("hello")
        assert caught.value.partial_text
        assert client.conversation.messages == ()


async def test_a_closed_port_is_a_quick_transport_error(emulator: EmulatorHandle) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with _client(emulator, base_url=f"http://127.0.0.1:{port}") as client:
        with anyio.fail_after(10), pytest.raises(TransportError) as caught:
            await client.ask("hello")
    assert type(caught.value) is TransportError
    assert str(caught.value).startswith(f"cannot connect (http://127.0.0.1:{port}): [Errno ")


async def test_cancelling_a_stream_leaves_the_conversation(emulator: EmulatorHandle) -> None:
    async with _client(emulator) as client:
        await client.ask("warm up")
        before = client.conversation
        emulator.fault("stall:30")
        received: list[str] = []
        with anyio.move_on_after(30) as scope:  # cancelled once the stall has begun
            async with client.stream("hello") as tokens:
                async for token in tokens:
                    received.append(token)
                    scope.cancel()
        assert scope.cancelled_caught
        assert received  # the stall came after the first token
        assert client.conversation == before
        emulator.control.clear_faults()
        assert await client.ask("hello") == emulator.expected_reply("hello")


async def test_stopping_a_stream_early_leaves_the_conversation(emulator: EmulatorHandle) -> None:
    async with _client(emulator) as client:
        before = client.conversation
        async with client.stream("hello") as tokens:
            async for _ in tokens:
                break
        assert tokens.finished is None
        assert client.conversation == before
        assert await client.ask("hello") == emulator.expected_reply("hello")
        assert len(client.conversation.messages) == 2


async def test_a_new_turn_abandons_a_stream_left_open(emulator: EmulatorHandle) -> None:
    async with _client(emulator) as client:
        old = client.stream("first")
        await old.__anext__()
        assert await client.ask("second") == emulator.expected_reply("second")
        with pytest.raises(LocalProtocolError, match="abandoned"):
            await old.__anext__()
        await old.aclose()
        assert next(m.content for m in client.conversation.messages) == "second"


async def test_conversations_save_and_load(emulator: EmulatorHandle, tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    async with _client(emulator) as client:
        await client.ask("one")
        client.save(path)
    async with _client(emulator) as again:
        again.load(path)
        assert again.conversation == client.conversation
        await again.ask("two")
        assert len(again.conversation.messages) == 4
        again.new_conversation()
        assert not again.conversation.messages
    history = json.loads(emulator.control.requests_to("ddg")[-1].request.body)["messages"]
    assert [m["content"] for m in history][::2] == ["one", "two"]


async def test_a_conversation_of_another_provider_is_refused(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    path = tmp_path / "chat.json"
    async with _client(emulator, provider="darkai") as client:
        client.save(path)
    async with _client(emulator) as other:
        with pytest.raises(LocalProtocolError, match="darkai"):
            other.load(path)


async def test_the_conversation_limit_ends_the_conversation(emulator: EmulatorHandle) -> None:
    emulator.control.configure(conversation_limit=1)
    async with _client(emulator) as client:
        async with client.stream("one") as tokens:
            assert "".join([token async for token in tokens]) == emulator.expected_reply("one")
        assert tokens.finished == Finished(reason="conversation_limit")
        assert client.conversation.exhausted
        sent = len(emulator.control.exchanges)
        with pytest.raises(ConversationLimitError):
            await client.ask("two")
        assert len(emulator.control.exchanges) == sent  # refused before any request
        client.new_conversation()
        assert await client.ask("two") == emulator.expected_reply("two")


FIRST_TURN_FAULTS: list[tuple[str, type[SansioChatError] | None]] = [
    # faults of the exchanges before the chat: the fe-version page and the status token
    ("http:503@page", HTTPStatusError),
    ("stall:5:head@page", Timeout),
    ("http:500@status", HTTPStatusError),
    ("reset@status", TransportError),
    ("429x9@status", RateLimitError),
    ("429x2@status", None),  # retried, then the turn succeeds
    ("418x2@status", None),
]


@pytest.mark.parametrize(("fault", "error"), FIRST_TURN_FAULTS)
async def test_faults_before_the_chat(
    emulator: EmulatorHandle, fault: str, error: type[SansioChatError] | None
) -> None:
    emulator.fault(fault)
    async with _client(emulator, timeout=Timeouts(connect=5, read=0.3)) as client:
        if error is None:
            assert await client.ask("hello") == emulator.expected_reply("hello")
            return
        with anyio.fail_after(10), pytest.raises(error) as caught:
            await client.ask("hello")
        assert caught.value.partial_text == ""
        assert client.conversation.messages == ()
        emulator.control.clear_faults()
        assert await client.ask("hello") == emulator.expected_reply("hello")


DARKAI_FAULTS: list[tuple[str, type[SansioChatError] | None]] = [
    ("cut@darkai", StreamInterrupted),
    ("reset@darkai", TransportError),
    ("malformed@darkai", RemoteProtocolError),
    ("oversized@darkai", RemoteProtocolError),
    ("http:500@darkai", HTTPStatusError),
    ("429@darkai", HTTPStatusError),  # DarkAI has no retry protocol
    ("stall:5@darkai", Timeout),
    ("fragment@darkai", None),
    ("drip:0.001@darkai", None),
]


@pytest.mark.parametrize(("fault", "error"), DARKAI_FAULTS)
async def test_darkai_faults(
    emulator: EmulatorHandle, fault: str, error: type[SansioChatError] | None
) -> None:
    emulator.fault(fault)
    options = {"provider": "darkai", "timeout": Timeouts(connect=5, read=0.3)}
    async with _client(emulator, **options) as client:
        if error is None:
            assert await client.ask("hello") == emulator.expected_reply("hello")
            return
        with anyio.fail_after(10), pytest.raises(error) as caught:
            await client.ask("hello")
        assert emulator.expected_reply("hello").startswith(caught.value.partial_text)
        assert client.conversation.messages == ()
        emulator.control.clear_faults()
        assert await client.ask("hello") == emulator.expected_reply("hello")
