"""ChatClient (synchronous httpx) end to end over 127.0.0.1 against the emulator."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest
from sansio_chat.adapters.httpx import ChatClient, Timeouts

from fixtures_emulator import EmulatorHandle
from sansio_chat import (
    Backoff,
    Conversation,
    Finished,
    RateLimited,
    StreamInterrupted,
    Timeout,
    TokenEvent,
    TransportError,
)


def _client(emulator: EmulatorHandle, **options: object) -> ChatClient:
    defaults: dict[str, object] = {
        "base_url": emulator.base_url,
        "min_interval": 0,
        "timeout": Timeouts(connect=5, read=5, total=30),
        "backoff": Backoff(base_delay=0.001, rng=random.Random(7)),
    }
    return ChatClient(**{**defaults, **options})  # type: ignore[arg-type]


def test_turns_stream_and_continue(emulator: EmulatorHandle) -> None:
    with _client(emulator) as client:
        assert client.ask("one") == emulator.expected_reply("one")
        with client.stream("two") as tokens:
            pieces = list(tokens)
        assert "".join(pieces) == emulator.expected_reply("two")
        assert tokens.finished == Finished(reason="stop")
        assert len(client.conversation.messages) == 4
    assert len(emulator.control.requests_to("status")) == 1


def test_retries_after_a_429_storm(emulator: EmulatorHandle) -> None:
    emulator.fault("429x3")
    with _client(emulator) as client, client.events("hello") as events:
        seen = list(events)
    assert [e.attempt for e in seen if isinstance(e, RateLimited)] == [1, 2, 3]
    assert "".join(e.text for e in seen if isinstance(e, TokenEvent)) == emulator.expected_reply(
        "hello"
    )


@pytest.mark.parametrize(
    ("fault", "error"),
    [("cut", StreamInterrupted), ("reset", TransportError), ("stall:5", Timeout)],
)
def test_a_failed_turn_leaves_the_conversation(
    emulator: EmulatorHandle, fault: str, error: type[Exception]
) -> None:
    with _client(emulator, timeout=Timeouts(read=0.3)) as client:
        client.ask("warm up")
        before = client.conversation
        emulator.fault(fault)
        with pytest.raises(error) as caught:
            client.ask("hello")
        assert caught.value.partial_text  # type: ignore[attr-defined]
        assert client.conversation == before
        emulator.control.clear_faults()
        assert client.ask("hello") == emulator.expected_reply("hello")


def test_the_total_timeout_is_checked_between_reads(emulator: EmulatorHandle) -> None:
    emulator.control.configure(reply_tokens=40)
    emulator.fault("drip:0.01:32")
    with _client(emulator, timeout=Timeouts(read=5, total=0.3)) as client:
        with pytest.raises(Timeout, match="total timeout") as caught:
            client.ask("hello")
        assert caught.value.partial_text
        assert client.conversation.messages == ()


def test_stopping_early_leaves_the_conversation(emulator: EmulatorHandle) -> None:
    with _client(emulator) as client:
        for _ in client.stream("hello"):
            break
        assert client.conversation.messages == ()
        assert client.ask("hello") == emulator.expected_reply("hello")


def test_a_closed_port_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ChatClient(base_url=f"http://127.0.0.1:{port}", timeout=2)
    with client, pytest.raises(TransportError, match="cannot connect"):
        client.ask("hello")


def test_conversation_argument_and_save(emulator: EmulatorHandle, tmp_path: Path) -> None:
    with _client(emulator) as client:
        client.ask("one")
        client.save(tmp_path / "c.json")
    saved = Conversation.from_json((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert saved == client.conversation
    with _client(emulator, conversation=saved) as again:
        assert again.provider == "ddg"
        again.ask("two")
        assert [m.content for m in again.conversation.messages][::2] == ["one", "two"]
