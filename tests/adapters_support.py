"""Test helpers for the adapter tests: a scripted fake session and an in-memory byte stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
from anyio.abc import ByteStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sansio_chat import (
    Event,
    Finished,
    HttpRequest,
    Sleep,
    Step,
    StreamInterrupted,
    TokenEvent,
    TurnComplete,
)


class FakeSession:
    """Plays a fixed script of steps; a body of ``t:TEXT`` lines and a ``done`` line.

    Each line ``t:TEXT`` of a reply body becomes ``TokenEvent(TEXT)``; ``done`` becomes
    ``Finished``; EOF without ``done`` on the last request raises ``StreamInterrupted``.
    """

    def __init__(self, script: list[HttpRequest | Sleep]) -> None:
        self.script = script
        self.turns: list[Any] = []
        self.heads: list[tuple[int, list[tuple[bytes, bytes]]]] = []
        self.bodies: list[bytes] = []
        self.feeds: list[int] = []  # receive_data calls per reply
        self.committed: list[str] = []
        self._steps: Iterator[HttpRequest | Sleep] = iter(())
        self._remaining = 0
        self._buffer = bytearray()
        self._eof = False
        self._text: list[str] = []
        self._done = False
        self.aborted = 0
        # Every call goes to a worker thread, as for a session with a heavy solve ahead.
        self.costly_work_ahead = True

    def start_turn(self, messages: Any, /) -> None:
        self.turns.append(messages)
        self._steps = iter(self.script)
        self._remaining = sum(isinstance(step, HttpRequest) for step in self.script)
        self._text, self._done = [], False

    def next_step(self) -> Step:
        return next(self._steps, TurnComplete())

    def abort_turn(self) -> None:
        self.aborted += 1
        self._steps = iter(())

    def receive_challenge_result(self, result: object, /) -> None:
        raise AssertionError("the fake session asks for no challenge")

    def receive_challenge_failure(self, reason: str, /) -> None:
        raise AssertionError("the fake session asks for no challenge")

    def receive_response_head(self, status: int, headers: list[tuple[bytes, bytes]], /) -> None:
        self.heads.append((status, list(headers)))
        self._remaining -= 1
        self._buffer = bytearray()
        self._eof = False
        self.bodies.append(b"")
        self.feeds.append(0)

    def receive_data(self, data: bytes, /) -> None:
        self._buffer += data
        self.bodies[-1] += data
        self.feeds[-1] += 1

    def receive_eof(self) -> None:
        self._eof = True

    def events(self) -> Iterator[Event]:
        while b"\n" in self._buffer:
            line, _, rest = bytes(self._buffer).partition(b"\n")
            self._buffer = bytearray(rest)
            if line.startswith(b"t:"):
                self._text.append(line[2:].decode())
                yield TokenEvent(text=line[2:].decode())
            elif line == b"done":
                self._done = True
                self.committed.append("".join(self._text))
                yield Finished(reason="stop")
        if self._eof and self._remaining == 0 and not self._done:
            self._eof = False
            raise StreamInterrupted("cut", partial_text="".join(self._text))


class MemoryByteStream(ByteStream):
    """One end of an in-memory, bidirectional byte stream pair."""

    def __init__(
        self, send: MemoryObjectSendStream[bytes], receive: MemoryObjectReceiveStream[bytes]
    ) -> None:
        self._send, self._receive = send, receive

    @classmethod
    def pair(cls) -> tuple[MemoryByteStream, MemoryByteStream]:
        """Two connected ends."""
        a_send, a_receive = anyio.create_memory_object_stream[bytes](100)
        b_send, b_receive = anyio.create_memory_object_stream[bytes](100)
        return cls(a_send, b_receive), cls(b_send, a_receive)

    async def send(self, item: bytes) -> None:
        if item:  # like a socket: sending nothing sends nothing
            await self._send.send(item)

    async def send_eof(self) -> None:
        await self._send.aclose()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            raise
        except anyio.ClosedResourceError:
            raise anyio.EndOfStream from None

    async def aclose(self) -> None:
        await self._send.aclose()
        await self._receive.aclose()
