"""SSEDecoder's small-chunk paths: a chunk tested for CR first, and a CR that ends a small
chunk taken as a line break there (the next chunk's leading LF then ends no line)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sansio_chat import RemoteProtocolError, ServerSentEvent, SSEDecoder
from sansio_chat.testing import reference_decode


def msg(data: str, *, event: str = "message", id: str = "") -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id)


def feed_chunks(chunks: list[bytes], **limits: int) -> tuple[list[ServerSentEvent], bool]:
    decoder = SSEDecoder(**limits)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    events += decoder.close()
    return events, decoder.ended_mid_event


def test_an_lf_after_a_cr_that_ended_a_small_chunk_is_not_a_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    # The LF completes the CRLF: were it a blank line, `a` would be dispatched alone.
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"data: b\n\n") == [msg("a\nb")]


def test_a_cr_that_ended_a_small_chunk_then_a_cr_is_a_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\r") == [msg("a")]
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [msg("b")]


def test_a_small_chunk_ending_an_event_with_a_cr() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a") == []
    assert decoder.feed(b"\r\n\r") == [msg("a")]
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"data: b\r") == []
    assert decoder.feed(b"\r") == [msg("b")]
    decoder.close()
    assert decoder.ended_mid_event is False


def test_a_stream_cut_after_a_cr_ending_a_small_chunk() -> None:
    assert feed_chunks([b"data: a\r\n", b"\r"]) == ([msg("a")], False)
    assert feed_chunks([b"data: a\r"]) == ([], True)
    assert feed_chunks([b": comment\r"]) == ([], False)


@pytest.mark.parametrize(
    "chunk", [b"data: a\r\rdata: b\r", b"data: a\r\r\r", b"\r\r\n", b"data: a\r\n\r\r"]
)
def test_lone_crs_before_a_cr_ending_a_small_chunk(chunk: bytes) -> None:
    # After CRLFs become LFs, another CR is left: the chunk takes the general path as it
    # came (a CR followed by a CRLF must stay two line breaks, not become one CRLF).
    chunks = [chunk, b"\ndata: z\n\n"]
    expected = reference_decode(b"".join(chunks))
    assert feed_chunks(chunks) == (list(expected.events), expected.ended_mid_event)


def test_a_cr_ending_the_first_small_chunk_of_the_stream() -> None:
    assert feed_chunks([b"\xef\xbb\xbfdata: a\r", b"\n\r\n"]) == ([msg("a")], False)
    assert feed_chunks([b"\xef\xbb", b"\xbf\r", b"\ndata: a\n\n"]) == ([msg("a")], False)


def test_the_line_limit_on_a_line_ended_by_a_cr_in_a_small_chunk() -> None:
    decoder = SSEDecoder(max_event_bytes=100, max_line_bytes=4)
    assert decoder.feed(b"abcd\r") == []  # a line of exactly the limit, an unknown field
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=4") as info:
        decoder.feed(b"abcde\r")
    assert (info.value.limit, info.value.observed) == (4, 5)
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"\n")  # failed for good


def test_the_event_limit_on_an_event_ended_by_a_cr_in_a_small_chunk() -> None:
    decoder = SSEDecoder(max_event_bytes=4, max_line_bytes=100)
    assert decoder.feed(b"data: 1234\r") == []
    assert decoder.feed(b"\r") == [msg("1234")]
    decoder.feed(b"data: 12\r")
    with pytest.raises(RemoteProtocolError, match="max_event_bytes=4"):
        decoder.feed(b"data: 345\r")


CRLF_STREAM = (
    b"data: one\r\n\r\n"
    b"event: tick\r\nid: 7\r\ndata: two\r\ndata: lines\r\n\r\n"
    b": comment\r\n"
    b"data: three\r\r"
    b"retry: 15\r\ndata: four\r\n\r\n"
)


@pytest.mark.parametrize("cut", range(1, len(CRLF_STREAM)))
def test_every_two_chunk_cut_of_a_crlf_stream(cut: int) -> None:
    expected = reference_decode(CRLF_STREAM)
    assert feed_chunks([CRLF_STREAM[:cut], CRLF_STREAM[cut:]]) == (
        list(expected.events),
        expected.ended_mid_event,
    )


@pytest.mark.parametrize("size", range(1, 12))
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_small_chunks_of_every_size_and_line_break(size: int, newline: bytes) -> None:
    stream = CRLF_STREAM.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", newline)
    expected = reference_decode(stream)
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    assert feed_chunks(chunks) == (list(expected.events), expected.ended_mid_event)


@given(
    st.lists(
        st.sampled_from([b"data: x", b"\r", b"\n", b"\r\n", b":", b"id: 1", b""]), max_size=12
    ),
    st.integers(min_value=1, max_value=6),
)
def test_cr_and_lf_mixtures_in_small_chunks_match_the_reference(
    parts: list[bytes], size: int
) -> None:
    stream = b"".join(parts)
    expected = reference_decode(stream)
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    assert feed_chunks(chunks) == (list(expected.events), expected.ended_mid_event)
    # Every split into three chunks of a short stream, too.
    if len(stream) <= 10:
        for a, b in itertools.combinations(range(len(stream) + 1), 2):
            pieces = [stream[:a], stream[a:b], stream[b:]]
            assert feed_chunks(pieces) == (list(expected.events), expected.ended_mid_event)
