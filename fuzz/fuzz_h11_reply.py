"""atheris harness for the h11 driver's reply reader (``Link`` in
``sansio_chat.adapters._drivers.h11_connection``).

Input layout: the first byte chooses how the server's bytes are split into network reads (0:
all in one; else read sizes derived from it); the rest is what a server sends back to one
``GET`` before it closes the connection. For every input, ``check`` sends the request with
``Link.request`` and reads the body with ``Link.read`` until ``None`` or an error, over an
in-memory stream that hands out exactly those reads, and asserts:

1. only ``h11.RemoteProtocolError`` escapes (the driver maps it to ``TransportError``), and
   nothing hangs: every read either returns or fails;
2. the reply head and the body bytes equal what h11 gives for the same bytes fed at once;
   the reader fails exactly when h11 does, having returned the same body bytes before
   failing (good chunks that share a read with a malformed one are not lost);
3. ``read()`` never returns empty bytes, returns at most one piece per network read (every
   chunk one read brought is handed over at once), and no piece is larger than one read
   (64 KiB): an endless or huge body is handed over in bounded pieces.

Run a campaign: ``python fuzz/fuzz_h11_reply.py /tmp/h11-work fuzz/corpus/h11`` (see
fuzz/README.md). Without atheris the module still imports, so pytest replays the corpus
through ``check``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

if __name__ == "__main__":
    import atheris

    with atheris.instrument_imports(include=["sansio_chat", "h11"]):
        import sansio_chat.adapters._drivers.h11_connection  # noqa: F401 (instrumented)

import anyio
import anyio.lowlevel
import h11
from anyio.abc import ByteStream
from sansio_chat.adapters._drivers.common import Timeouts
from sansio_chat.adapters._drivers.h11_connection import Link

from sansio_chat import HttpRequest

_READ_SIZE = 65536  # what Link asks of one receive()
_REQUEST = HttpRequest(method="GET", url="http://svc.test/chat", headers=(("accept", "*/*"),))


class _Replay(ByteStream):
    """A server that sends ``reads`` (one per ``receive``), then closes; what it is sent is
    dropped."""

    def __init__(self, reads: list[bytes]) -> None:
        self._reads = reads
        self.received = 0

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint()

    async def send_eof(self) -> None:
        await anyio.lowlevel.checkpoint()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint()
        if not self._reads:
            raise anyio.EndOfStream
        self.received += 1
        piece = self._reads.pop(0)
        if len(piece) > max_bytes:
            self._reads.insert(0, piece[max_bytes:])
            piece = piece[:max_bytes]
        return piece

    async def aclose(self) -> None:
        await anyio.lowlevel.checkpoint()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What reading the reply gave: its head, its body pieces, and whether it failed."""

    head: tuple[int, list[tuple[bytes, bytes]]] | None
    pieces: list[bytes]
    failed: bool


def _reads(reply: bytes, config: int) -> list[bytes]:
    if config == 0 or not reply:
        return [reply] if reply else []
    reads, position, step = [], 0, config
    while position < len(reply):
        size = 1 + (reply[position] ^ step) % 29
        reads.append(reply[position : position + size])
        position += size
        step = (step * 5 + 3) & 0xFF
    return reads


def _by_link(reads: list[bytes]) -> tuple[Outcome, int]:
    stream = _Replay(list(reads))

    async def connect(host: str, port: int) -> ByteStream:
        return stream

    async def run() -> Outcome:
        link = Link(connect, None, True, Timeouts.of(None))
        head: tuple[int, list[tuple[bytes, bytes]]] | None = None
        pieces: list[bytes] = []
        try:
            response = await link.request(_REQUEST)
            head = (response.status_code, list(response.headers))
            while (piece := await link.read()) is not None:
                pieces.append(piece)
        except h11.RemoteProtocolError:
            return Outcome(head, pieces, failed=True)
        finally:
            await link.aclose()
        return Outcome(head, pieces, failed=False)

    return anyio.run(run), stream.received


def _by_h11(reply: bytes) -> Outcome:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/chat", headers=[("host", "svc.test")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(reply)
    conn.receive_data(b"")
    head: tuple[int, list[tuple[bytes, bytes]]] | None = None
    body: list[bytes] = []
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                head = (event.status_code, list(event.headers))
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return Outcome(head, body, failed=False)
            elif isinstance(event, h11.ConnectionClosed) or event is h11.NEED_DATA:
                return Outcome(head, body, failed=True)
    except h11.RemoteProtocolError:
        return Outcome(head, body, failed=True)


def check(data: bytes) -> None:
    """Assert the harness's invariants on one input (see the module docstring)."""
    if not data:
        return
    config, reply = data[0], data[1:]
    reads = _reads(reply, config)
    got, received = _by_link(reads)
    expected = _by_h11(reply)
    assert got.failed == expected.failed, (got, expected)
    assert got.head == expected.head, (got.head, expected.head)
    assert b"".join(got.pieces) == b"".join(expected.pieces), "the body differs"
    assert all(got.pieces), "read() returned empty bytes"
    assert len(got.pieces) <= received, "more pieces than network reads"
    assert all(len(piece) <= _READ_SIZE for piece in got.pieces), "a piece over one read"


def main() -> None:
    import atheris

    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
