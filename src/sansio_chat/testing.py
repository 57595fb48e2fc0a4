"""Hypothesis strategies for server-sent event streams, to fuzz any SSE consumer.

Why this file is long: users import one public name, ``sansio_chat.testing``; the strategies
build on each other and share one stream model.

Needs hypothesis, an optional extra: ``pip install "sansio-chat[hypothesis]"``.

- :func:`server_sent_events` — single :class:`~sansio_chat.ServerSentEvent` values that an
  event stream can carry (no CR in any value, no LF outside ``data``, no NUL in ``id``).
- :func:`event_sequences` — lists of such events in which ``id`` and ``retry`` persist the way
  the standard says (once set they only change, ``retry`` never goes back to ``None``).
- :func:`event_streams` — :class:`EventStream` values: the bytes of a stream (mixed CR, LF and
  CRLF line ends, comments, unknown and ignored fields, dataless blocks, a BOM, a cut-off last
  event) together with the events and ``ended_mid_event`` a conforming decoder must report.
- :func:`chunkings` — the ways one byte string can arrive: lists of chunks that join to it,
  including one byte at a time and cuts between CR and LF or inside a UTF-8 character.
- :func:`sse_bytes` — arbitrary bytes made of SSE-ish pieces, for totality checks.
- :func:`encode_events` and :func:`reference_decode` — a plain encoder and a deliberately naive
  whole-stream transcription of the standard, to check a decoder against.

Example::

    from hypothesis import given, strategies as st
    from sansio_chat.testing import chunkings, event_streams

    @given(st.data(), event_streams())
    def test_my_consumer(data, stream):
        chunks = data.draw(chunkings(stream.data))
        assert my_consumer(chunks) == list(stream.events)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Final, final

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised without hypothesis installed
    raise ImportError(
        "sansio_chat.testing needs hypothesis, an optional extra: "
        'pip install "sansio-chat[hypothesis]"'
    ) from exc

from ._sse import ServerSentEvent

__all__ = [
    "EventStream",
    "chunkings",
    "encode_events",
    "event_sequences",
    "event_streams",
    "reference_decode",
    "server_sent_events",
    "sse_bytes",
]

_BOM: Final = "\ufeff"
_RETRY_LIMIT: Final = 2**64  # see SSEDecoder: larger values are ignored, as Chromium does
_NEWLINES: Final = ("\n", "\r", "\r\n")
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
_KNOWN_FIELDS: Final = frozenset({"data", "event", "id", "retry"})


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class EventStream:
    """The bytes of an event stream and what a conforming decoder makes of them.

    Attributes:
        data: the stream, as the response body would carry it.
        events: the events a decoder dispatches, in order.
        ended_mid_event: whether the stream ends inside an event (a field line or an
            unfinished non-comment line after the last blank line).
    """

    data: bytes
    events: tuple[ServerSentEvent, ...]
    ended_mid_event: bool


# --- values --------------------------------------------------------------------------------


@cache
def _text(exclude: str, *, min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[str]:
    # Cached: building a character strategy filtered by codec is slow, and composites below
    # ask for the same few alphabets many times per example.
    # Mostly plain text (cheap to draw), sometimes any character with the awkward ones
    # (space, colon, NUL, U+FEFF, multi-byte) made likely.
    plain = st.text(
        st.characters(codec="ascii", exclude_characters=exclude),
        min_size=min_size,
        max_size=max_size,
    )
    awkward = st.sampled_from([c for c in " :\ufeff\x00é€😀" if c not in exclude])
    wild = st.text(
        st.characters(codec="utf-8", exclude_characters=exclude) | awkward,
        min_size=min_size,
        max_size=max_size,
    )
    return st.one_of(plain, wild)


@cache
def _event_types() -> st.SearchStrategy[str]:
    return st.one_of(st.just("message"), _text("\r\n", min_size=1))


@cache
def _ids() -> st.SearchStrategy[str]:
    return _text("\r\n\x00")


@cache
def _retries() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 10**6), st.integers(0, _RETRY_LIMIT - 1))


@cache
def _datas() -> st.SearchStrategy[str]:
    return _text("\r", max_size=30)


def server_sent_events() -> st.SearchStrategy[ServerSentEvent]:
    """Single events that an event stream can carry."""
    return st.builds(
        ServerSentEvent,
        event=_event_types(),
        data=_datas(),
        id=_ids(),
        retry=st.none() | _retries(),
    )


@st.composite
def _sequence(draw: st.DrawFn, min_size: int, max_size: int) -> list[ServerSentEvent]:
    n = draw(st.integers(min_size, max_size))
    changes = _Bits(draw(st.integers(0, 2 ** (5 * n) - 1)) if n else 0)
    events = []
    last_id = ""
    retry: int | None = None
    for _ in range(n):
        if changes.take(2) == 0:
            last_id = draw(_ids())
        if changes.take(3) == 0:
            retry = draw(_retries())
        event_type = "message" if changes.take(1) else draw(_event_types())
        events.append(
            ServerSentEvent(event=event_type, data=draw(_datas()), id=last_id, retry=retry)
        )
    return events


class _Bits:
    """Many small choices from one drawn integer: fewer draws make much faster examples,
    and the integer still shrinks towards all-zero choices."""

    __slots__ = ("_value",)

    def __init__(self, value: int) -> None:
        self._value = value

    def take(self, bits: int) -> int:
        value = self._value & ((1 << bits) - 1)
        self._value >>= bits
        return value


def event_sequences(
    *, min_size: int = 0, max_size: int = 10
) -> st.SearchStrategy[list[ServerSentEvent]]:
    """Lists of events whose ``id`` and ``retry`` persist from one event to the next."""
    return _sequence(min_size, max_size)


# --- encoding ------------------------------------------------------------------------------


def encode_events(events: Sequence[ServerSentEvent], *, newline: str = "\n") -> bytes:
    """The plainest stream that decodes to ``events``: each field as ``name: value``, ``id``
    and ``retry`` only when they change, a blank line after each event."""
    if newline not in _NEWLINES:
        raise ValueError(f"newline must be one of {_NEWLINES!r}")
    lines = []
    last_id = ""
    retry: int | None = None
    for event in events:
        if event.id != last_id:
            lines.append(f"id: {event.id}")
            last_id = event.id
        if event.retry != retry:
            if event.retry is None:
                raise ValueError("retry cannot go back to None once a stream has set it")
            lines.append(f"retry: {event.retry}")
            retry = event.retry
        if event.event != "message":
            lines.append(f"event: {event.event}")
        lines.extend(f"data: {line}" for line in event.data.split("\n"))
        lines.append("")
    return "".join(line + newline for line in lines).encode()


_IGNORED_LINES: Final = (
    "retry: -5",
    "retry: 1_000",
    "retry: 12a",
    "retry: ",
    "retry",
    "retry: ١٢",  # non-ASCII digits
    "retry: 18446744073709551616",  # 2**64
    "id: a\x00b",
    "Data: x",
    "DATA: x",
    "data : x",
    " data: x",
    "\ufeffdata: x",
    "foo: bar",
    "foo",
    "events: x",
)


@st.composite
def _comment(draw: st.DrawFn) -> str:
    return ":" + draw(_text("\r\n", max_size=12))


@st.composite
def _unknown_field(draw: st.DrawFn) -> str:
    name = draw(st.text(st.characters(codec="ascii", exclude_characters="\r\n:"), max_size=8))
    if name in _KNOWN_FIELDS:
        name += "x"
    if not name:
        name = "x"
    return name + draw(st.sampled_from(["", ":", ": "])) + draw(_text("\r\n", max_size=8))


@cache
def _noise() -> st.SearchStrategy[str]:
    """Lines that change nothing wherever they stand inside an event block."""
    return st.one_of(_comment(), _unknown_field(), st.sampled_from(_IGNORED_LINES))


def _field_line(choice: _Bits, name: str, value: str) -> str:
    if value.startswith(" ") or choice.take(1):
        return f"{name}: {value}"
    return f"{name}:{value}" if value else (name if choice.take(1) else f"{name}:")


@st.composite
def _block(
    draw: st.DrawFn,
    event: ServerSentEvent,
    last_id: str,
    retry: int | None,
    noise: bool,
) -> list[str]:
    """The lines of one event, before its blank line, in a drawn order."""
    bits = _Bits(draw(st.integers(0, 2**64 - 1)))
    fields = []
    if event.id != last_id or bits.take(3) == 0:
        fields.append(_field_line(bits, "id", event.id))
    if event.retry is not None and (event.retry != retry or bits.take(3) == 0):
        zeros = "0" * bits.take(1)
        fields.append(_field_line(bits, "retry", f"{zeros}{event.retry}"))
    if event.event != "message" or bits.take(3) == 0:
        if event.event != "message" and bits.take(2) == 0:
            # an earlier event field in the same block is overwritten by the last one
            fields.append(_field_line(bits, "event", draw(_text("\r\n", max_size=5))))
        fields.append(_field_line(bits, "event", event.event))
    data_lines = [_field_line(bits, "data", line) for line in event.data.split("\n")]
    # Interleave the other fields with the data lines, keeping each group's own order.
    lines = []
    fi = di = 0
    while fi < len(fields) or di < len(data_lines):
        if di == len(data_lines) or (fi < len(fields) and bits.take(1)):
            lines.append(fields[fi])
            fi += 1
        else:
            lines.append(data_lines[di])
            di += 1
        if noise and bits.take(3) == 0:
            lines.append(draw(_noise()))
    return lines


@st.composite
def _streams(
    draw: st.DrawFn,
    newlines: tuple[str, ...],
    noise: bool,
    bom: bool,
    cut: bool,
    max_events: int,
) -> EventStream:
    events = draw(event_sequences(max_size=max_events))
    bits = _Bits(draw(st.integers(0, 2 ** (3 * len(events) + 8) - 1)))
    lines: list[str] = []
    last_id = ""
    retry: int | None = None
    for event in events:
        if noise and bits.take(3) == 0:
            # a block that dispatches nothing: no data, maybe an event type, then a blank line
            lines.append(draw(_noise()))
            if bits.take(1):
                lines.append(_field_line(bits, "event", draw(_text("\r\n", max_size=5))))
            lines.append("")
        lines.extend(draw(_block(event, last_id, retry, noise)))
        lines.append("")
        last_id = event.id
        retry = event.retry
    tail = ""
    ended_mid_event = False
    if cut and bits.take(1):
        partial = draw(_block(draw(server_sent_events()), last_id, retry, noise))
        complete = partial[: draw(st.integers(0, len(partial) - 1))]
        last = partial[len(complete)]
        if bits.take(1):
            complete.append(last)
        else:
            tail = last[: draw(st.integers(0, len(last)))]
        lines.extend(complete)
        # _block makes no blank line: each line is a field, or noise (comments among it).
        ended_mid_event = any(not line.startswith(":") for line in complete) or (
            tail != "" and not tail.startswith(":")
        )
    elif noise and bits.take(1):
        lines.append(draw(_comment()))
    first = lines[0] if lines else tail
    # A stream that starts with U+FEFF loses it as a BOM: give such a stream a real BOM.
    pieces = [_BOM] if first.startswith(_BOM) or (bom and bits.take(1)) else []
    line_breaks = _Bits(draw(st.integers(0, 2 ** (2 * len(lines)) - 1)))
    previous = ""
    for line in lines:
        newline = newlines[line_breaks.take(2) % len(newlines)]
        if previous == "\r" and line == "" and newline == "\n":
            # CR then LF would be one CRLF line break, swallowing this blank line
            newline = "\r\n"
        pieces.append(line + newline)
        previous = newline
    pieces.append(tail)
    return EventStream(
        data="".join(pieces).encode(), events=tuple(events), ended_mid_event=ended_mid_event
    )


def event_streams(
    *,
    newlines: Sequence[str] = _NEWLINES,
    noise: bool = True,
    bom: bool = True,
    cut: bool = True,
    max_events: int = 8,
) -> st.SearchStrategy[EventStream]:
    """Encoded event streams with the events a conforming decoder must dispatch.

    Args:
        newlines: the line breaks to mix, any of ``"\\n"``, ``"\\r"``, ``"\\r\\n"``.
        noise: add comments, unknown fields, ignored fields (``retry: -5``, ``id`` with NUL,
            ``Data:`` …), dataless blocks, optional spaces after colons, repeated fields.
        bom: sometimes start with a UTF-8 byte order mark.
        cut: sometimes end with an unfinished event (``ended_mid_event`` is then true).
        max_events: the most events in one stream.
    """
    chosen = tuple(newlines)
    if not chosen or any(n not in _NEWLINES for n in chosen):
        raise ValueError(f"newlines must be a non-empty selection of {_NEWLINES!r}")
    return _streams(chosen, noise, bom, cut, max_events)


# --- chunkings and raw bytes ---------------------------------------------------------------


def _tricky_cuts(data: bytes) -> list[int]:
    """Offsets where a cut tests a decoder: after a CR, inside a UTF-8 sequence, after the
    first bytes of a BOM."""
    cuts = [i + 1 for i, byte in enumerate(data) if byte == 13]
    cuts += [i for i, byte in enumerate(data) if 0x80 <= byte < 0xC0]
    cuts += [1, 2]
    return sorted({c for c in cuts if 0 < c < len(data)})


@st.composite
def _chunkings(draw: st.DrawFn, data: bytes, empty_chunks: bool) -> list[bytes]:
    n = len(data)
    how = draw(st.sampled_from(["random", "bytes", "fixed", "tricky", "whole"]))
    if n < 2 or how == "whole":
        cuts: list[int] = []
    elif how == "bytes":
        cuts = list(range(1, n))
    elif how == "fixed":
        size = draw(st.integers(1, max(1, n - 1)))
        cuts = list(range(size, n, size))
    elif how == "tricky":
        tricky = _tricky_cuts(data)
        cuts = draw(st.lists(st.sampled_from(tricky), unique=True)) if tricky else []
    else:
        cuts = draw(st.lists(st.integers(1, n - 1), unique=True, max_size=min(n - 1, 40)))
    bounds = [0, *sorted(cuts), n]
    chunks = [data[a:b] for a, b in pairwise(bounds)]
    if empty_chunks and chunks:
        for _ in range(draw(st.integers(0, 3))):
            chunks.insert(draw(st.integers(0, len(chunks))), b"")
    return chunks


def chunkings(data: bytes, *, empty_chunks: bool = False) -> st.SearchStrategy[list[bytes]]:
    """Lists of chunks whose concatenation is ``data``: random cuts, one byte at a time,
    fixed sizes, cuts at tricky offsets (between CR and LF, inside a UTF-8 character), or
    the whole. Chunks are non-empty unless ``empty_chunks`` (then some ``b""`` are added)."""
    return _chunkings(data, empty_chunks)


_PIECES: Final = (
    b"data",
    b"data:",
    b"data: ",
    b"event:",
    b"event: x",
    b"id:",
    b"id: 1",
    b"retry:",
    b"retry: 100",
    b"retry: -5",
    b":",
    b": comment",
    b" ",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\xef\xbb\xbf",
    b"\xef\xbb",
    b"\x00",
    b"\xe2\x82",
    b"\xe2\x82\xac",
    b"\xff",
    b"\xc3",
    b"\xf0\x9f\x98\x80",
    b"1234567890",
)


def sse_bytes(*, max_pieces: int = 40) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes built mostly from SSE syntax, line breaks and broken UTF-8."""
    piece = st.one_of(st.sampled_from(_PIECES), st.binary(max_size=6))
    return st.lists(piece, max_size=max_pieces).map(b"".join)


# --- the reference -------------------------------------------------------------------------


def reference_decode(data: bytes) -> EventStream:
    """Decode a complete stream the naive way: the whole body as UTF-8 with replacement,
    one leading BOM removed, split into lines, each line handled as the standard says.

    Slow and simple on purpose, so that it can check a fast incremental decoder.
    """
    text = data.decode("utf-8", "replace")
    if text.startswith(_BOM):
        text = text[1:]
    *lines, unfinished = _LINE_BREAK.split(text)
    events = []
    data_buffer = ""
    event_type = ""
    id_buffer = ""
    retry: int | None = None
    in_event = False
    for line in lines:
        if line == "":
            if data_buffer:
                events.append(
                    ServerSentEvent(
                        event=event_type or "message",
                        data=data_buffer[:-1],
                        id=id_buffer,
                        retry=retry,
                    )
                )
            data_buffer = ""
            event_type = ""
            in_event = False
            continue
        if line.startswith(":"):
            continue
        in_event = True
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data_buffer += value + "\n"
        elif name == "event":
            event_type = value
        elif name == "id":
            if "\x00" not in value:
                id_buffer = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            significant = value.lstrip("0")
            if len(significant) <= 20 and int(significant or "0") < _RETRY_LIMIT:
                retry = int(significant or "0")
    ended = in_event or (unfinished != "" and not unfinished.startswith(":"))
    return EventStream(data=data, events=tuple(events), ended_mid_event=ended)
