"""SSEDecoder: the standard's own examples, the edges of the algorithm, limits, end of stream."""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc

import pytest

from sansio_chat import LocalProtocolError, RemoteProtocolError, ServerSentEvent, SSEDecoder


def decode(data: bytes, **limits: int) -> list[ServerSentEvent]:
    """Events from ``data`` fed whole, then again one byte at a time (they must agree)."""
    whole = SSEDecoder(**limits)
    events = whole.feed(data) + whole.close()
    bytewise = SSEDecoder(**limits)
    events_bytewise = [e for i in range(len(data)) for e in bytewise.feed(data[i : i + 1])]
    assert events_bytewise + bytewise.close() == events
    assert whole.ended_mid_event == bytewise.ended_mid_event
    return events


def msg(
    data: str, *, event: str = "message", id: str = "", retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


# --- the examples of the standard (WHATWG HTML, "server-sent events") ------------------------


def test_spec_example_multiline_data() -> None:
    stream = b"data: YHOO\ndata: +2\ndata: 10\n\n"
    assert decode(stream) == [msg("YHOO\n+2\n10")]


def test_spec_example_comment_and_ids() -> None:
    stream = (
        b": test stream\n"
        b"\n"
        b"data: first event\n"
        b"id: 1\n"
        b"\n"
        b"data:second event\n"
        b"id\n"
        b"\n"
        b"data:  third event\n"
        b"\n"
    )
    # The comment block fires nothing; the id set inside a block is that event's id; the
    # empty `id` resets it; only one space after the colon is removed.
    assert decode(stream) == [
        msg("first event", id="1"),
        msg("second event", id=""),
        msg(" third event", id=""),
    ]


def test_spec_example_last_block_needs_a_blank_line() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"data: first event\nid: 1\n\ndata:  third event\n")
    assert events == [msg("first event", id="1")]
    assert decoder.close() == []
    assert decoder.ended_mid_event


def test_spec_example_empty_data_fields() -> None:
    # "data" alone is a data field with an empty value; two of them join with a newline;
    # the last block is dropped because no blank line follows it.
    assert decode(b"data\n\ndata\ndata\n\ndata:") == [msg(""), msg("\n")]


def test_spec_example_space_after_colon_is_optional() -> None:
    assert decode(b"data:test\n\ndata: test\n\n") == [msg("test"), msg("test")]


def test_spec_example_event_types() -> None:
    stream = (
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    )
    assert decode(stream) == [
        msg("73857293", event="add"),
        msg("2153", event="remove"),
        msg("113411", event="add"),
    ]


# --- httpx-sse 0.4.3's deviations, as regressions (spec/SSE.md) ------------------------------


def test_regression_block_without_data_dispatches_nothing() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: ping\n\nretry: 10\n\nid: 4\n\n: comment\n\n") == []
    assert decoder.last_event_id == "4"
    assert decoder.retry == 10
    # ...and the dataless block's event type does not leak into the next event
    assert decoder.feed(b"event: ping\n\ndata: x\n\n") == [msg("x", id="4", retry=10)]


@pytest.mark.parametrize("value", [b"-5", b"1_000", b"+5", b" 5", b"5 ", b"0x10", b"1e3", b""])
def test_regression_retry_must_be_ascii_digits(value: bytes) -> None:
    events = decode(b"retry: " + value + b"\ndata: a\n\n")
    assert events == [msg("a", retry=None)]


def test_regression_retry_non_ascii_digits_ignored() -> None:
    assert decode("retry: ١٢\ndata: a\n\n".encode()) == [msg("a")]


def test_regression_leading_bom_is_stripped() -> None:
    assert decode(b"\xef\xbb\xbfdata: first\n\ndata: second\n\n") == [
        msg("first"),
        msg("second"),
    ]


# --- the algorithm's edges -------------------------------------------------------------------


@pytest.mark.parametrize(
    "stream",
    [
        b"data: a\n\ndata: b\n\n",
        b"data: a\r\n\r\ndata: b\r\n\r\n",
        b"data: a\r\rdata: b\r\r",
        b"data: a\r\n\ndata: b\n\r\n",
        b"data: a\n\r\ndata: b\r\r\n",
    ],
)
def test_line_breaks_cr_lf_crlf_and_mixed(stream: bytes) -> None:
    assert decode(stream) == [msg("a"), msg("b")]


def test_cr_then_lf_in_the_next_chunk_is_one_line_break() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []  # an empty chunk keeps the pending CR
    assert decoder.feed(b"\n") == []  # the LF completes CRLF: not a blank line
    assert decoder.feed(b"\r") == [msg("a")]
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\r") == [msg("b")]


def test_cr_cr_lf_is_two_line_breaks() -> None:
    assert decode(b"data: a\r\r\n") == [msg("a")]


def test_bom_only_once_and_only_at_the_start() -> None:
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n") == [msg("y")]
    assert decode(b"data: x\n\n\xef\xbb\xbfdata: y\n\n") == [msg("x")]


def test_bom_split_across_chunks() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: x\n\n") == [msg("x")]


def test_partial_bom_then_other_bytes_is_data() -> None:
    # EF BB then "d": not a BOM; the two bytes decode to one U+FFFD in the field name.
    assert decode(b"\xef\xbbdata: x\n\ndata: y\n\n") == [msg("y")]
    assert decode(b"\xef\xbb\n\ndata: y\n\n") == [msg("y")]


def test_bom_alone_is_an_empty_stream() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef\xbb\xbf") == []
    assert decoder.close() == []
    assert not decoder.ended_mid_event


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert decode(b"data: a\xffb\xe2\x82\n\nevent: \xc3\ndata: c\n\n") == [
        msg("a\ufffdb\ufffd"),
        msg("c", event="\ufffd"),
    ]


def test_utf8_character_split_across_chunks() -> None:
    payload = "data: héllo € 😀\n\n".encode()
    for cut in range(1, len(payload)):
        decoder = SSEDecoder()
        events = decoder.feed(payload[:cut]) + decoder.feed(payload[cut:])
        assert events == [msg("héllo € 😀")]


def test_only_one_space_is_removed_and_only_after_the_colon() -> None:
    assert decode(b"data:  two\n\ndata:\tx\n\ndata : no\n\n") == [msg(" two"), msg("\tx")]


def test_field_names_are_case_sensitive_and_unknown_fields_ignored() -> None:
    assert decode(b"Data: a\nDATA: b\nfoo: c\nevents: d\ndata: e\n\n") == [msg("e")]


def test_field_without_colon_has_an_empty_value() -> None:
    assert decode(b"event: x\nevent\ndata\n\n") == [msg("")]


def test_last_event_wins_for_event_type_and_type_resets_after_dispatch() -> None:
    assert decode(b"event: a\nevent: b\ndata: 1\n\ndata: 2\n\n") == [
        msg("1", event="b"),
        msg("2"),
    ]


def test_empty_event_type_means_message() -> None:
    assert decode(b"event:\ndata: 1\n\n") == [msg("1")]


def test_id_persists_resets_and_ignores_nul() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\x003\ndata: c\n\nid\ndata: d\n\n"
    assert decode(stream) == [msg("a", id="1"), msg("b", id="1"), msg("c", id="1"), msg("d")]


def test_id_may_hold_any_other_character() -> None:
    assert decode("id: é:€ x\ndata: a\n\n".encode()) == [msg("a", id="é:€ x")]


def test_last_event_id_is_committed_at_blank_lines_only() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 7\ndata: a\n\nid: 8\n")
    assert decoder.last_event_id == "7"
    decoder.feed(b"\n")
    assert decoder.last_event_id == "8"


def test_retry_persists_and_accepts_leading_zeros() -> None:
    assert decode(b"retry: 0050\ndata: a\n\ndata: b\n\nretry: 0\ndata: c\n\n") == [
        msg("a", retry=50),
        msg("b", retry=50),
        msg("c", retry=0),
    ]


def test_retry_beyond_64_bits_is_ignored() -> None:
    top = str(2**64 - 1).encode()
    over = str(2**64).encode()
    huge = b"9" * 5000  # also beyond int()'s default digit limit
    stream = b"retry: " + top + b"\ndata: a\n\nretry: " + over + b"\nretry: " + huge
    assert decode(stream + b"\ndata: b\n\n") == [
        msg("a", retry=2**64 - 1),
        msg("b", retry=2**64 - 1),
    ]
    assert decode(b"retry: " + b"0" * 100 + b"7\ndata: a\n\n") == [msg("a", retry=7)]


def test_comments_are_ignored_everywhere() -> None:
    assert decode(b":\n: x\ndata: a\n:data: b\ndata: c\n:\n\n") == [msg("a\nc")]


def test_nul_in_data_is_kept() -> None:
    assert decode(b"data: a\x00b\n\n") == [msg("a\x00b")]


def test_unicode_line_separators_are_not_line_breaks() -> None:
    assert decode("data: a\u2028b\x85c\x0bd\x0ce\n\n".encode()) == [msg("a\u2028b\x85c\x0bd\x0ce")]


def test_many_events_in_one_chunk_mixed_with_other_fields() -> None:
    plain = b"".join(b"data: %d\n\n" % i for i in range(50))
    stream = plain + b"event: e\ndata: x\n\n" + plain + b"id: 3\n" + plain + b"data: tail\n"
    expected = [msg(str(i)) for i in range(50)]
    expected += [msg("x", event="e")] + [msg(str(i)) for i in range(50)]
    expected += [msg(str(i), id="3") for i in range(50)]
    decoder = SSEDecoder()
    assert decoder.feed(stream) == expected
    assert decoder.feed(b"\n") == [msg("tail", id="3")]


def test_extra_blank_lines_between_events() -> None:
    assert decode(b"\n\ndata: a\n\n\n\ndata: b\n\n\n") == [msg("a"), msg("b")]


# --- the events themselves -------------------------------------------------------------------


def test_decoded_events_are_ordinary_frozen_values() -> None:
    (event,) = SSEDecoder().feed(b"event: e\nid: 1\nretry: 5\ndata: x\n\n")
    built = ServerSentEvent(event="e", data="x", id="1", retry=5)
    assert event == built
    assert hash(event) == hash(built)
    assert repr(event) == repr(built)
    assert dataclasses.replace(event, data="y") == ServerSentEvent(
        event="e", data="y", id="1", retry=5
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]


def test_bulk_built_events_are_ordinary_values() -> None:
    events = SSEDecoder().feed(b"".join(b"data: %d\n\n" % i for i in range(40)))
    assert events == [ServerSentEvent(data=str(i)) for i in range(40)]
    assert len({hash(e) for e in events}) == 40


def test_server_sent_event_defaults() -> None:
    event = ServerSentEvent(data="x")
    assert (event.event, event.data, event.id, event.retry) == ("message", "x", "", None)
    assert not hasattr(event, "__dict__")


# --- limits ----------------------------------------------------------------------------------


def test_line_limit_on_a_complete_line() -> None:
    decoder = SSEDecoder(max_event_bytes=100, max_line_bytes=10)
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=10") as info:
        decoder.feed(b"data: 12345\n\n")
    assert info.value.limit == 10
    assert info.value.observed == 11


def test_line_limit_on_a_line_still_arriving() -> None:
    decoder = SSEDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: 1234") == []
    with pytest.raises(RemoteProtocolError, match="max_line_bytes") as info:
        decoder.feed(b"5")
    assert (info.value.limit, info.value.observed) == (10, 11)


def test_line_limit_on_a_comment_too() -> None:
    with pytest.raises(RemoteProtocolError, match="max_line_bytes"):
        SSEDecoder(max_event_bytes=8).feed(b": a long comment\n")


def test_line_exactly_at_the_limit_is_accepted() -> None:
    assert decode(b"data: 1234\n\n", max_event_bytes=10) == [msg("1234")]


def test_event_limit_counts_data_and_joining_newlines() -> None:
    assert decode(b"data: 1234\ndata: 5678\n\n", max_event_bytes=9, max_line_bytes=10) == [
        msg("1234\n5678")
    ]
    decoder = SSEDecoder(max_event_bytes=8, max_line_bytes=100)
    with pytest.raises(RemoteProtocolError, match="max_event_bytes=8") as info:
        decoder.feed(b"data: 1234\ndata: 5678\n\n")
    assert (info.value.limit, info.value.observed) == (8, 9)


def test_event_limit_resets_after_each_event() -> None:
    stream = b"data: 12345678\n\n" * 20
    assert decode(stream, max_event_bytes=8, max_line_bytes=14) == [msg("12345678")] * 20


def test_default_limits_allow_a_1_mib_line() -> None:
    line = b"data: " + b"x" * (1024 * 1024 - 6)
    decoder = SSEDecoder()
    for i in range(0, len(line), 4096):
        assert decoder.feed(line[i : i + 4096]) == []
    assert decoder.feed(b"\n\n") == [msg("x" * (1024 * 1024 - 6))]
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=1048576"):
        SSEDecoder().feed(line + b"xx")


def test_a_failed_decoder_stays_failed() -> None:
    decoder = SSEDecoder(max_event_bytes=4)
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"data: 1234\n")
    with pytest.raises(RemoteProtocolError, match="already failed") as info:
        decoder.feed(b"data: 1\n\n")
    assert info.value.limit == 4
    assert decoder.close() == []
    assert decoder.ended_mid_event


@pytest.mark.parametrize("limits", [{"max_event_bytes": 0}, {"max_line_bytes": 0}])
def test_limits_must_be_positive(limits: dict[str, int]) -> None:
    with pytest.raises(LocalProtocolError):
        SSEDecoder(**limits)


# --- end of stream ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "cut"),
    [
        (b"", False),
        (b"data: a\n\n", False),
        (b"data: a\n\n: bye\n", False),
        (b"data: a\n\n: by", False),
        (b"data: a\n\n\n", False),
        (b"data: a\n", True),
        (b"data: a", True),
        (b"data: a\n\nd", True),
        (b"data: a\n\nevent: x\n", True),
        (b"data: a\n\nid: 2\n", True),
        (b"data: a\n\nretry: 2\n", True),
        (b"data: a\n\nfoo\n", True),
        (b"data: a\r", True),
        (b"data: a\n\r", False),
        (b"\xef\xbb", True),
    ],
)
def test_close_reports_an_event_cut_off(stream: bytes, cut: bool) -> None:
    decoder = SSEDecoder()
    decoder.feed(stream)
    assert not decoder.ended_mid_event
    assert decoder.close() == []
    assert decoder.ended_mid_event is cut


def test_feed_after_close_is_refused_and_close_is_idempotent() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n")
    decoder.close()
    with pytest.raises(LocalProtocolError, match="after close"):
        decoder.feed(b"\n")
    assert decoder.close() == []
    assert decoder.ended_mid_event


def test_close_drops_an_unfinished_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b") == [msg("a")]
    assert decoder.close() == []


def test_a_leading_bom_does_not_count_towards_the_line_limit() -> None:
    assert decode(b"\xef\xbb\xbfdata: 1234\n\n", max_event_bytes=10) == [msg("1234")]
    decoder = SSEDecoder(max_event_bytes=10)
    assert decoder.feed(b"\xef\xbb\xbfdata: 1234") == []
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=10") as info:
        decoder.feed(b"5")
    assert (info.value.limit, info.value.observed) == (10, 11)


def test_refusals_on_the_path_without_line_breaks() -> None:
    closed = SSEDecoder()
    closed.close()
    with pytest.raises(LocalProtocolError):
        closed.feed(b"no line break")
    failed = SSEDecoder(max_event_bytes=4)
    with pytest.raises(RemoteProtocolError):
        failed.feed(b"data: 1234")
    with pytest.raises(RemoteProtocolError, match="already failed"):
        failed.feed(b"x")
    failed.close()
    with pytest.raises(LocalProtocolError):
        failed.feed(b"x")


@pytest.mark.parametrize("data", ["data: x\n\n", None, 7, ["data: x\n\n"]])
def test_feed_refuses_what_is_not_bytes(data: object) -> None:
    decoder = SSEDecoder()
    with pytest.raises(LocalProtocolError, match="takes bytes"):
        decoder.feed(data)  # type: ignore[arg-type]
    # The refusal changed nothing: the decoder still works.
    assert decoder.feed(b"data: x\n\n") == [ServerSentEvent(data="x")]


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_feed_takes_bytes_like_input(kind: type) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(kind(b"data: a\r\n\r\ndata: b")) == [ServerSentEvent(data="a")]
    assert decoder.feed(kind(b"\n\n")) == [ServerSentEvent(data="b")]


# --- small chunks: every shape of a line break across chunks ----------------------------------


def feed_in_chunks(decoder: SSEDecoder, stream: bytes, size: int) -> list[ServerSentEvent]:
    return [e for i in range(0, len(stream), size) for e in decoder.feed(stream[i : i + size])]


SMALL_CHUNK_STREAMS = [
    b"data: a\n\nevent: e\ndata: b\n\nid: 7\ndata: c\n\nretry: 9\ndata: d\n\n: note\ndata: e\n\n",
    b"data: a\ndata: b\n\ndata: \n\ndata\n\ndata:x\n\n\n\ndata: f\n\n",
    b"data: one\n\nfoo: bar\n\ndata: two\n\nid\n\ndata: three\n\n",
]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("stream", SMALL_CHUNK_STREAMS)
def test_every_small_chunk_size_gives_the_events_of_the_whole(
    stream: bytes, newline: bytes
) -> None:
    stream = stream.replace(b"\n", newline)
    whole = SSEDecoder()
    expected = whole.feed(stream)
    assert expected
    for size in range(1, 13):
        decoder = SSEDecoder()
        assert feed_in_chunks(decoder, stream, size) == expected, size
        assert decoder.last_event_id == whole.last_event_id
        assert decoder.retry == whole.retry


def test_lone_crs_and_crlfs_mixed_in_small_chunks() -> None:
    stream = b"data: a\r\rdata: b\r\n\r\ndata: c\n\rdata: d\r\r\ndata: e\r\n\n"
    expected = [msg("a"), msg("b"), msg("c"), msg("d"), msg("e")]
    for size in range(1, 13):
        decoder = SSEDecoder()
        assert feed_in_chunks(decoder, stream, size) == expected, size


def test_a_cr_ending_a_chunk_swallows_only_an_lf_that_comes_right_after() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    # Bytes came between the CR and this LF: the LF ends the line `data: b`.
    assert decoder.feed(b"data: b") == []
    assert decoder.feed(b"\ndata: c\r\n\r\n") == [msg("a\nb\nc")]


@pytest.mark.parametrize("size", range(1, 9))
def test_limits_hold_whatever_the_chunk_size(size: int) -> None:
    def feed(stream: bytes, **limits: int) -> list[ServerSentEvent]:
        return feed_in_chunks(SSEDecoder(**limits), stream, size)

    assert feed(b"data: 1234\n\n", max_event_bytes=4, max_line_bytes=10) == [msg("1234")]
    assert feed(b"data: 1234\r\n\r\n", max_event_bytes=4, max_line_bytes=10) == [msg("1234")]
    with pytest.raises(RemoteProtocolError, match="max_event_bytes=4") as info:
        feed(b"data: 12345\n\n", max_event_bytes=4, max_line_bytes=100)
    assert (info.value.limit, info.value.observed) == (4, 5)
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=10") as info:
        feed(b"data: 12345\n\n", max_event_bytes=100, max_line_bytes=10)
    assert (info.value.limit, info.value.observed) == (10, 11)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"data: x", b"y\n\n"],  # the blank line comes with the end of the line
        [b"data: xy\n", b"\n"],  # the blank line comes in the next chunk
        [b"data: xy\n\n"],  # the whole event at once
        [b"data: xy\r", b"\n\r\n"],  # CRLF split after the CR
        [b"data: xy\n\n" * 20],  # a run of events, built in bulk
    ],
)
def test_events_built_on_every_path_are_ordinary_values(chunks: list[bytes]) -> None:
    decoder = SSEDecoder()
    event = next(e for chunk in chunks for e in decoder.feed(chunk))
    assert type(event) is ServerSentEvent
    built = ServerSentEvent(data="xy")
    assert (event, hash(event), repr(event)) == (built, hash(built), repr(built))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "z"  # type: ignore[misc]


def test_feed_takes_a_bytes_subclass() -> None:
    class Chunk(bytes):
        pass

    assert SSEDecoder().feed(Chunk(b"data: a\n\n")) == [msg("a")]


# --- iter_events -----------------------------------------------------------------------------


def test_iter_events_yields_what_feed_returns_and_closes_the_decoder() -> None:
    stream = b"".join(SMALL_CHUNK_STREAMS) + b"data: cut"
    chunks = [stream[i : i + 5] for i in range(0, len(stream), 5)]
    by_feed = SSEDecoder()
    expected = [e for chunk in chunks for e in by_feed.feed(chunk)] + by_feed.close()
    decoder = SSEDecoder()
    assert list(decoder.iter_events(iter(chunks))) == expected
    assert decoder.ended_mid_event is by_feed.ended_mid_event is True
    assert (decoder.last_event_id, decoder.retry) == (by_feed.last_event_id, by_feed.retry)
    with pytest.raises(LocalProtocolError, match="after close"):
        decoder.feed(b"x")


def test_iter_events_of_no_chunks_closes_cleanly() -> None:
    decoder = SSEDecoder()
    assert list(decoder.iter_events([])) == []
    assert not decoder.ended_mid_event


def test_iter_events_takes_bytes_like_chunks_and_refuses_others() -> None:
    chunks: list[object] = [bytearray(b"data: a"), memoryview(b"\n\n"), b"data: b\n\n"]
    assert list(SSEDecoder().iter_events(chunks)) == [msg("a"), msg("b")]  # type: ignore[arg-type]
    decoder = SSEDecoder()
    events = decoder.iter_events([b"data: a\n\n", "data: b\n\n"])  # type: ignore[list-item]
    assert next(events) == msg("a")
    with pytest.raises(LocalProtocolError, match="takes bytes"):
        next(events)


def test_iter_events_raises_limit_errors_and_the_decoder_stays_failed() -> None:
    decoder = SSEDecoder(max_event_bytes=4, max_line_bytes=10)
    events = decoder.iter_events([b"data: 1\n\n", b"data: 1", b"2345", b"\n\n"])
    assert next(events) == msg("1")
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=10") as info:
        next(events)  # the line outgrows its limit in a chunk with no line break
    assert (info.value.limit, info.value.observed) == (10, 11)
    with pytest.raises(RemoteProtocolError, match="already failed"):
        decoder.feed(b"\n\n")


def test_leaving_iter_events_early_leaves_the_decoder_open() -> None:
    decoder = SSEDecoder()
    for event in decoder.iter_events([b"data: a\n\n", b"data: b\n\n"]):
        assert event == msg("a")
        break
    assert decoder.feed(b"data: c\n\n") == [msg("c")]


# --- large chunks: runs of events cut at once, and every way out of that path -----------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_a_run_of_short_events_in_one_large_chunk(newline: bytes) -> None:
    stream = b"".join(b"data: %d" % i + newline * 2 for i in range(100))
    events = decode(stream)
    assert events == [msg(str(i)) for i in range(100)]
    assert all(type(e) is ServerSentEvent for e in events)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_a_run_of_long_events_in_one_large_chunk(newline: bytes) -> None:
    stream = b"".join(b"data: " + bytes([97 + i]) * 700 + newline * 2 for i in range(3))
    assert decode(stream) == [msg(chr(97 + i) * 700) for i in range(3)]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # a long event, then a line that is not `data: ` after the blank line
        (
            b"data: " + b"a" * 600 + b"\n\nevent: e\ndata: b\n\n",
            [msg("a" * 600), msg("b", event="e")],
        ),
        # a lone CR inside long CRLF events: a line break of its own
        (
            b"data: " + b"a" * 600 + b"\rdata: b\r\n\r\ndata: c\r\n\r\n",
            [msg("a" * 600 + "\nb"), msg("c")],
        ),
        # a lone LF inside long CRLF events
        (
            b"data: " + b"a" * 600 + b"\ndata: b\r\n\r\ndata: c\r\n\r\n",
            [msg("a" * 600 + "\nb"), msg("c")],
        ),
        # a lone LF in the last of long CRLF events: `c` is then a field (ignored)
        (
            b"data: " + b"a" * 600 + b"\r\n\r\ndata: b\nc\r\n\r\n",
            [msg("a" * 600), msg("b")],
        ),
        # a run, then an event of two data lines not finished yet
        (
            b"data: a\n\n" * 60 + b"data: b\ndata: c\n",
            [msg("a")] * 60,
        ),
        # short events, one of them of two data lines
        (
            b"data: a\n\ndata: b\ndata: c\n\n" + b"data: d\n\n" * 60,
            [msg("a"), msg("b\nc")] + [msg("d")] * 60,
        ),
    ],
)
def test_large_chunks_that_are_not_a_plain_run(stream: bytes, expected: list[object]) -> None:
    assert decode(stream) == expected


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize(
    ("start", "rest", "first"),
    [
        # the large chunk starts with the blank line ending the pending event
        (b"data: a{nl}", b"{nl}", msg("a")),
        # ... after the end of a data line
        (b"data: a{nl}dat", b"a: " + b"x" * 500 + b"{nl}{nl}", msg("a\n" + "x" * 500)),
        # an event type is pending
        (b"event: e{nl}", b"data: " + b"x" * 500 + b"{nl}{nl}", msg("x" * 500, event="e")),
    ],
)
def test_a_large_chunk_finishing_an_event_in_progress(
    newline: bytes, start: bytes, rest: bytes, first: ServerSentEvent
) -> None:
    run = b"".join(b"data: %d" % i + newline * 2 for i in range(60))
    decoder = SSEDecoder()
    assert decoder.feed(start.replace(b"{nl}", newline)) == []
    events = decoder.feed(rest.replace(b"{nl}", newline) + run)
    assert events == [first] + [msg(str(i)) for i in range(60)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_a_large_chunk_whose_only_blank_line_ends_it(newline: bytes) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a" + newline) == []
    assert decoder.feed(b"data: " + b"b" * 500 + newline * 2) == [msg("a\n" + "b" * 500)]
    # A large chunk of lines with no blank line: an unknown field `xxx…` is ignored.
    assert decoder.feed(b"id: 1" + newline + b"data: c" + newline + b"x" * 500 + newline) == []
    assert decoder.feed(b"data: d" + newline * 2) == [msg("c\nd", id="1")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_a_large_run_followed_by_an_unfinished_event(newline: bytes) -> None:
    run = b"".join(b"data: %d" % i + newline * 2 for i in range(60))
    decoder = SSEDecoder()
    assert decoder.feed(run + b"data: last" + newline + b"data: mo") == [
        msg(str(i)) for i in range(60)
    ]
    assert decoder.feed(b"re" + newline * 2) == [msg("last\nmore")]


def test_a_large_run_longer_than_the_event_limit_goes_line_by_line() -> None:
    # Each event is within the limits, the run is not: it is decoded line by line.
    assert decode(b"data: 1\n\n" * 60, max_event_bytes=10) == [msg("1")] * 60


def test_a_large_run_over_the_event_limit_goes_line_by_line_and_fails() -> None:
    decoder = SSEDecoder(max_event_bytes=5, max_line_bytes=100)
    with pytest.raises(RemoteProtocolError, match="max_event_bytes=5"):
        decoder.feed(b"data: 1\n\n" * 50 + b"data: 123456\n\n")


def test_a_data_field_without_a_space_counts_towards_the_event_limit() -> None:
    decoder = SSEDecoder(max_event_bytes=5, max_line_bytes=100)
    with pytest.raises(RemoteProtocolError, match="max_event_bytes=5") as info:
        decoder.feed(b"data:123\ndata:45\n\n")
    assert (info.value.limit, info.value.observed) == (5, 6)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"data: 1\n\n" + b"x" * 11],  # the rest after an event ending in a small chunk
        [b"data: 1\n", b"\n" + b"x" * 11],  # the rest after a blank line starting a chunk
        [b"data: 1\n\n" + b"x" * 500],  # a large chunk
        [b"data: 1\r\n\r\n" + b"x" * 500],  # a large chunk with CRs
        [b"data: 1\r\n\r\n" + b"y" * 5 + b"\n" + b"x" * 500],
    ],
)
def test_the_partial_line_after_the_last_line_break_is_held_to_the_limit(
    chunks: list[bytes],
) -> None:
    decoder = SSEDecoder(max_event_bytes=100, max_line_bytes=10)
    for chunk in chunks[:-1]:
        decoder.feed(chunk)
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=10"):
        decoder.feed(chunks[-1])


def test_a_large_chunk_with_a_cr_early_and_a_long_partial_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\n\r\n" + b"data: " + b"x" * 500) == [msg("a")]
    assert decoder.feed(b"\r\n\r\n") == [msg("x" * 500)]


@pytest.mark.parametrize("chunk", [b"", b"x", b"\n", b"\r", bytearray(b"x"), b"x" * 5000])
def test_a_closed_or_failed_decoder_refuses_every_kind_of_chunk(chunk: bytes) -> None:
    closed = SSEDecoder()
    closed.close()
    with pytest.raises(LocalProtocolError, match="after close"):
        closed.feed(chunk)
    with pytest.raises(LocalProtocolError, match="after close"):
        list(closed.iter_events([chunk]))
    failed = SSEDecoder(max_line_bytes=3)
    with pytest.raises(RemoteProtocolError):
        failed.feed(b"data")
    with pytest.raises(RemoteProtocolError, match="already failed"):
        failed.feed(chunk)
    with pytest.raises(RemoteProtocolError, match="already failed"):
        list(failed.iter_events([chunk]))


def test_a_large_chunk_of_cr_line_breaks_ending_with_a_cr() -> None:
    run = b"".join(b"data: %d\r\r" % i for i in range(60))
    assert decode(run) == [msg(str(i)) for i in range(60)]
    decoder = SSEDecoder()
    assert decoder.feed(run + b"data: a\r") == [msg(str(i)) for i in range(60)]
    # The LF right after the chunk's last CR completes a CRLF: it ends no second line.
    assert decoder.feed(b"\n\r\n") == [msg("a")]


# --- bounded memory (tracemalloc) -----------------------------------------------------------
#
# The documented bound: between calls the decoder holds at most max_line_bytes +
# max_event_bytes (+ the pending event type and ids, absent from these shapes); during a call
# it allocates at most that much more than the events it returns. Measured here within 2x,
# for every shape of input and every chunk size, including one chunk of 10 MB.

MEMORY_SHAPES = {
    "tiny data lines": b"data:\n",
    "tiny events": b"data: x\n\n",
    "long line": b"data: " + b"x" * 4093 + b"y",
    "cr only": b"\r",
    "lf only": b"\n",
    "crlf": b"data: x\r\ndata:\r\n\r\n",
    "mixed": b"data: a\rdata:\n\r\n: c\r\r\nid: 1\n",
    "comments": b":\n: comment\r\n",
}


def memory_use(stream: bytes, size: int, **limits: int) -> tuple[int, int]:
    """(most held between calls, most allocated during a call but the input and the output),
    feeding ``stream`` in chunks of ``size`` bytes; a limit error ends the stream."""
    gc.collect()
    tracemalloc.start()
    try:
        decoder = SSEDecoder(**limits)
        base = tracemalloc.get_traced_memory()[0]
        held = during = 0
        for start in range(0, len(stream), size):
            chunk = stream[start : start + size]
            tracemalloc.reset_peak()
            failed = False
            try:
                events = decoder.feed(chunk)
            except RemoteProtocolError:
                events, failed = [], True
            peak = tracemalloc.get_traced_memory()[1]
            with_output = tracemalloc.get_traced_memory()[0]
            del events
            without_output = tracemalloc.get_traced_memory()[0]
            del chunk
            now = tracemalloc.get_traced_memory()[0]
            chunk_bytes = without_output - now
            held = max(held, now - base)
            during = max(during, peak - chunk_bytes - (with_output - without_output) - base)
            if failed:
                break  # the decoder holds nothing more from here on
        return held, during
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", MEMORY_SHAPES, ids=list(MEMORY_SHAPES))
@pytest.mark.parametrize(
    ("size", "total", "limit"),
    [
        pytest.param(1, 96 * 1024, 8 * 1024, id="1 B"),
        pytest.param(7, 160 * 1024, 8 * 1024, id="7 B"),
        pytest.param(64 * 1024, 4 * 10**6, 1024 * 1024, id="64 KiB"),
        pytest.param(1024 * 1024, 4 * 10**6, 1024 * 1024, id="1 MiB"),
        pytest.param(10**7, 10**7, 1024 * 1024, id="10 MB"),
    ],
)
def test_memory_stays_within_the_documented_bound(
    shape: str, size: int, total: int, limit: int
) -> None:
    piece = MEMORY_SHAPES[shape]
    stream = piece * (total // len(piece))
    held, during = memory_use(stream, size, max_event_bytes=limit, max_line_bytes=limit)
    bound = 2 * limit  # max_line_bytes + max_event_bytes
    assert held <= 2 * bound, f"held {held} bytes between calls"
    assert during <= 2 * bound, f"allocated {during} bytes during a call"


def test_memory_bound_counts_the_pending_event_type_and_ids() -> None:
    # A long event type and two long ids (the committed one and a new pending one) are
    # held too: each at most one line, the ids decoded to str (up to 2 bytes per byte).
    limit = 64 * 1024
    line = b"\xff" * (limit - 4)
    stream = b"id: " + line + b"\n\nid: " + line[1:] + b"\nevent:" + line[:-4] + b"\ndata:\n"
    for size in (7, len(stream)):
        held, during = memory_use(stream, size, max_event_bytes=limit, max_line_bytes=limit)
        bound = 2 * limit + 5 * limit  # + the event type + 2 ids of 2 bytes per byte
        assert held <= 2 * bound
        assert during <= 2 * bound


def test_a_line_longer_than_a_slice_of_a_large_chunk() -> None:
    # The limits make slices of 1 KiB: a line of 3 KiB is a slice of its own, if it fits.
    fits = SSEDecoder(max_event_bytes=4000, max_line_bytes=4000)
    stream = b"data: a\n\n" * 200 + b"data: " + b"x" * 3000 + b"\r\n\r\n" + b"data: b\n\n"
    assert fits.feed(stream) == [msg("a")] * 200 + [msg("x" * 3000), msg("b")]
    too_long = SSEDecoder(max_event_bytes=1000, max_line_bytes=1000)
    with pytest.raises(RemoteProtocolError, match="max_line_bytes=1000") as info:
        too_long.feed(b"data: a\n\n" * 200 + b"data: " + b"x" * 3000 + b"\n\n")
    assert info.value.observed == 3006
