"""SSEDecoder properties (hypothesis): chunking invariance, round trip, totality, bounded
memory, and linear work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsIndex

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sansio_chat import RemoteProtocolError, ServerSentEvent, SSEDecoder
from sansio_chat.testing import (
    EventStream,
    chunkings,
    encode_events,
    event_sequences,
    event_streams,
    reference_decode,
    server_sent_events,
    sse_bytes,
)


def feed_all(chunks: Sequence[bytes], **limits: int) -> tuple[list[ServerSentEvent], bool]:
    decoder = SSEDecoder(**limits)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    events += decoder.close()
    return events, decoder.ended_mid_event


def plain_encode(events: Sequence[ServerSentEvent], newline: str) -> bytes:
    """A test-only encoder, independent of sansio_chat.testing: other field order than
    encode_events, no space after the colon unless needed, `id` on every event."""

    def field(name: str, value: str) -> str:
        return f"{name}: {value}" if value.startswith(" ") else f"{name}:{value}"

    out: list[str] = []
    for event in events:
        out.extend(field("data", line) for line in event.data.split("\n"))
        out.append(field("event", event.event))
        out.append(field("id", event.id))
        if event.retry is not None:
            out.append(field("retry", str(event.retry)))
        out.append("")
    return "".join(line + newline for line in out).encode()


# --- chunking invariance ---------------------------------------------------------------------


@given(st.data(), event_streams())
def test_any_chunking_gives_the_stream_events(data: st.DataObject, stream: EventStream) -> None:
    chunks = data.draw(chunkings(stream.data, empty_chunks=True))
    assert feed_all(chunks) == (list(stream.events), stream.ended_mid_event)


@given(event_streams())
def test_one_byte_at_a_time_gives_the_stream_events(stream: EventStream) -> None:
    chunks = [stream.data[i : i + 1] for i in range(len(stream.data))]
    assert feed_all(chunks) == (list(stream.events), stream.ended_mid_event)


@given(st.data(), st.one_of(sse_bytes(), st.binary(max_size=200)))
@example(data=None, raw=b"data: a\r\n\r\ndata: b\n\n")
def test_arbitrary_bytes_match_the_reference_in_any_chunking(
    data: st.DataObject | None, raw: bytes
) -> None:
    reference = reference_decode(raw)
    expected = (list(reference.events), reference.ended_mid_event)
    assert feed_all([raw]) == expected
    assert feed_all([raw[i : i + 1] for i in range(len(raw))]) == expected
    if data is not None:
        assert feed_all(data.draw(chunkings(raw, empty_chunks=True))) == expected


@given(
    st.data(),
    st.one_of(sse_bytes(max_pieces=60), st.binary(max_size=300)),
    st.integers(1, 64),
)
def test_iter_events_is_feed_on_each_chunk_then_close(
    data: st.DataObject, raw: bytes, max_event: int
) -> None:
    chunks = data.draw(chunkings(raw, empty_chunks=True))

    def run(decode: Any) -> tuple[list[ServerSentEvent], tuple[int | None, int | None], Any]:
        decoder = SSEDecoder(max_event_bytes=max_event, max_line_bytes=max_event + 5)
        events: list[ServerSentEvent] = []
        limit: tuple[int | None, int | None] = (None, None)
        try:
            decode(decoder, events)
        except RemoteProtocolError as exc:
            limit = (exc.limit, exc.observed)
        decoder.close()
        return events, limit, (decoder.ended_mid_event, decoder.last_event_id, decoder.retry)

    def by_feed(decoder: SSEDecoder, events: list[ServerSentEvent]) -> None:
        for chunk in chunks:
            events += decoder.feed(chunk)

    def by_iter(decoder: SSEDecoder, events: list[ServerSentEvent]) -> None:
        events.extend(decoder.iter_events(chunks))

    assert run(by_iter) == run(by_feed)


# --- round trip ------------------------------------------------------------------------------


@given(event_sequences(max_size=12), st.sampled_from(["\n", "\r", "\r\n"]))
def test_round_trip_through_a_test_only_encoder(
    events: list[ServerSentEvent], newline: str
) -> None:
    assert feed_all([plain_encode(events, newline)]) == (events, False)


@given(event_sequences(max_size=12), st.sampled_from(["\n", "\r", "\r\n"]), st.data())
def test_round_trip_through_encode_events(
    events: list[ServerSentEvent], newline: str, data: st.DataObject
) -> None:
    encoded = encode_events(events, newline=newline)
    assert feed_all(data.draw(chunkings(encoded))) == (events, False)


@given(server_sent_events())
def test_any_single_event_round_trips(event: ServerSentEvent) -> None:
    assert feed_all([encode_events([event])]) == ([event], False)


# --- totality and bounded memory -------------------------------------------------------------


@given(
    st.data(),
    st.one_of(sse_bytes(max_pieces=80), st.binary(max_size=400)),
    st.integers(1, 64),
    st.integers(1, 64),
)
def test_only_remote_protocol_errors_and_bounded_buffers(
    data: st.DataObject, raw: bytes, max_event: int, max_line: int
) -> None:
    decoder = SSEDecoder(max_event_bytes=max_event, max_line_bytes=max_line)
    events: list[ServerSentEvent] = []
    error: RemoteProtocolError | None = None
    try:
        for chunk in data.draw(chunkings(raw, empty_chunks=True)):
            events += decoder.feed(chunk)
            assert len(decoder._buf) <= max_line + 3  # + a BOM before the first line ends
            assert len(decoder._data) <= max_event + 1  # the data values, each + LF
            assert len(decoder._event_type) <= max_line
            assert len(decoder._id_buffer.encode("utf-8", "surrogatepass")) <= 3 * max_line
    except RemoteProtocolError as exc:
        error = exc
    if error is None:
        assert tuple(events + decoder.close()) == reference_decode(raw).events
    else:
        assert error.limit in (max_event, max_line)
        assert error.observed is not None
        assert error.observed > error.limit
        assert ("max_line_bytes" in str(error)) or ("max_event_bytes" in str(error))
        # what came out before the failure is what a limitless decoder starts with
        assert tuple(events) == reference_decode(raw).events[: len(events)]
    assert decoder.close() == []


@given(st.data(), event_streams(), st.integers(8, 80))
def test_a_limit_fails_the_same_way_in_every_chunking(
    data: st.DataObject, stream: EventStream, limit: int
) -> None:
    def outcome(chunks: Sequence[bytes]) -> tuple[str, int | None] | list[ServerSentEvent]:
        try:
            return feed_all(chunks, max_event_bytes=limit)[0]
        except RemoteProtocolError as exc:
            return (str(exc).rsplit(" ", 1)[-1], exc.limit)

    whole = outcome([stream.data])
    assert outcome(data.draw(chunkings(stream.data))) == whole
    assert outcome([stream.data[i : i + 1] for i in range(len(stream.data))]) == whole


# --- linear work -----------------------------------------------------------------------------


class CountingBuffer(bytearray):
    """A bytearray that adds up the bytes each operation on it reads or copies."""

    work = 0

    def _count(self, extra: int = 0) -> None:
        CountingBuffer.work += len(self) + extra

    def __iadd__(self, other: Any) -> CountingBuffer:  # type: ignore[misc]
        CountingBuffer.work += len(other)
        return super().__iadd__(other)

    def __bytes__(self) -> bytes:
        self._count()
        return bytes(memoryview(self))

    def __contains__(self, item: Any) -> bool:
        self._count()
        return super().__contains__(item)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            self._count()
        return super().__getitem__(index)

    def find(self, *args: Any) -> int:
        self._count()
        return super().find(*args)

    def rfind(self, *args: Any) -> int:
        self._count()
        return super().rfind(*args)

    def count(self, *args: Any) -> int:
        self._count()
        return super().count(*args)

    def split(self, sep: Any = None, maxsplit: SupportsIndex = -1) -> list[bytearray]:
        self._count()
        return super().split(sep, maxsplit)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        self._count()
        return super().decode(encoding, errors)

    def startswith(self, *args: Any) -> bool:
        self._count()
        return super().startswith(*args)

    def endswith(self, *args: Any) -> bool:
        self._count()
        return super().endswith(*args)

    def __eq__(self, other: object) -> bool:
        self._count()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


def work_for(chunks: Sequence[bytes], monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(bytes of work on the pending buffer, bytes handed to line processing)."""
    handed = 0

    with monkeypatch.context() as patch:
        # _complete_lines hands parts of its text on to _lines: count the outer calls only.
        original_lines = SSEDecoder._lines
        outer = True

        def lines(self: SSEDecoder, text: bytes, out: Any) -> None:
            nonlocal handed
            if outer:
                handed += len(text)
            original_lines(self, text, out)

        def complete_lines(self: SSEDecoder, text: bytes, *args: Any) -> None:
            nonlocal handed, outer
            handed += len(text)
            outer = False
            try:
                original_complete(self, text, *args)
            finally:
                outer = True

        original_complete = SSEDecoder._complete_lines
        patch.setattr(SSEDecoder, "_complete_lines", complete_lines)
        patch.setattr(SSEDecoder, "_lines", lines)
        decoder = SSEDecoder(max_event_bytes=1 << 30)
        buffer = CountingBuffer()
        decoder._buf = buffer
        CountingBuffer.work = 0
        for chunk in chunks:
            decoder.feed(chunk)
        assert decoder._buf is buffer, "the decoder replaced its buffer; count its work again"
    return CountingBuffer.work, handed


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(b"data: " + b"x" * 60_000 + b"\n\n", id="one long line"),
        pytest.param(b"data: 0123456789abcdef\n\n" * 3_000, id="many events"),
        pytest.param(b"data: a\r\ndata: " + b"y" * 30_000 + b"\r\n\r\n", id="crlf"),
        pytest.param(b":" + b"z" * 50_000 + b"\n", id="a long comment"),
    ],
)
def test_feeding_byte_by_byte_does_linear_work(
    stream: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = len(stream)
    byte_by_byte = [stream[i : i + 1] for i in range(n)]
    buffer_work, handed = work_for(byte_by_byte, monkeypatch)
    # A constant number of passes per byte: in, out as part of a complete line, and a look
    # at the start of the buffer (the counting charges the whole buffer for any look).
    assert buffer_work <= 4 * n
    # ... and the counting sees them: every byte but the line breaks enters the buffer.
    assert buffer_work >= n - stream.count(b"\n") - stream.count(b"\r")
    # No byte reaches the general line processing twice (the common shapes of a line are
    # decoded straight from the buffer, where the counting above sees them).
    assert handed <= n
    # Doubling the input doubles the work (a quadratic decoder would quadruple it).
    double = stream * 2
    buffer_work_2, handed_2 = work_for([double[i : i + 1] for i in range(2 * n)], monkeypatch)
    assert buffer_work_2 <= 2 * buffer_work + 16
    assert handed_2 <= 2 * handed + 16
