"""Incremental server-sent events decoder: bytes in, events out.

It implements the WHATWG HTML standard's "interpreting an event stream" (what a browser's
``EventSource`` does) on bytes, so that any chunking of the same stream gives the same events:
lines end at CRLF, LF or CR, one UTF-8 BOM is dropped at the start of the stream, every line is
decoded as UTF-8 with replacement. The contract is in ``docs/sse.md``; the choices the standard
leaves open are documented on :class:`SSEDecoder`.

Three paths: a chunk that completes no line is appended to the partial line (with tiny chunks
that is most calls: two ``in`` tests, a length check, an append); a small chunk that ends a
line, an event or both in the usual ways is decoded on the spot, its CRLFs (and a CR that ends
it) made LFs first; the complete lines of any other chunk are interpreted in slices of bounded
size, a slice that is nothing but ``data: …`` lines each followed by a blank line (what chat
services send) at once with a few C-level ``bytes``/``str`` operations, any other line by line. The
partial line is only ever appended to, never rescanned, so feeding ``N`` bytes in any chunking
costs ``O(N)``, and no step allocates more than a slice's worth of objects.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Final, final

from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "SSEDecoder", "ServerSentEvent"]

# 1 MiB: chat services send events of a few hundred bytes, and the largest legitimate single
# events seen in the wild (a whole reply or a tool result in one event) stay well below this,
# while a server that streams without line breaks is stopped before it can take much memory.
DEFAULT_MAX_EVENT_BYTES: Final = 1024 * 1024

_BOM: Final = b"\xef\xbb\xbf"
_DATA: Final = b"data: "
# Chromium ignores a `retry` value that does not fit in an unsigned 64-bit integer; so do we,
# which also keeps int() away from its digit-count limit.
_RETRY_MAX: Final = 2**64 - 1
# Below this many events a run's events are built one by one; above, column-wise with map(),
# whose fixed cost (five map objects) is repaid from about 16-24 events on (CPython 3.11).
_BULK_MIN: Final = 20
# Below this many bytes of complete lines, going line by line costs less than preparing the
# run path.
_SMALL_RUN: Final = 400
# From this size of the first event on, a run of events is cut with memchr-based find().
_LONG_EVENT: Final = 512
# The complete lines of a chunk are interpreted at most this many bytes at a time (cut at a
# line break; a longer line is one slice of its own), and at most 1/16 of the decoder's limits:
# a line costs a Python object of about 40-60 bytes, so a slice of 3-byte lines takes up to
# ~16 times its size while it is being interpreted.
_MAX_SLICE: Final = 64 * 1024
_MIN_SLICE: Final = 1024


class _Phase(enum.Enum):
    """Where the decoder is; anything but ``OPEN`` sends a chunk with a line break to
    :meth:`SSEDecoder._resume` first."""

    OPEN = "open"
    START = "start"  # no line complete yet: a BOM may still be in the buffer
    AFTER_CR = "after CR"  # the last chunk ended with CR: a LF starting the next one ends no line
    CLOSED = "closed"
    FAILED = "failed"


_OPEN: Final = _Phase.OPEN


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSentEvent:
    """One dispatched server-sent event, as a browser's ``MessageEvent`` would carry it.

    Attributes:
        event: the event type: the last ``event`` field of the event, or ``"message"``.
        data: the ``data`` field values joined with ``"\\n"``.
        id: the last event id at dispatch: the last ``id`` field seen in this or an earlier
            event (it persists), ``""`` when none was sent or after an empty ``id``.
        retry: the reconnection time in milliseconds at dispatch: the last valid ``retry``
            field seen in this or an earlier event (it persists), ``None`` when none was sent.
    """

    event: str = "message"
    data: str
    id: str = ""
    retry: int | None = None


# The decoder's fast constructor. The generated __init__ of a frozen dataclass sets each field
# through object.__setattr__ by name, which costs more than all the rest of the decoding of a
# short event; these fill the same slots through the slots' own setters (what
# object.__setattr__ ends up calling). The result is an ordinary ServerSentEvent: same type,
# equality, hash and repr, still frozen.
_new: Final = object.__new__
_set_event, _set_data, _set_id, _set_retry = (
    ServerSentEvent.__dict__[name].__set__ for name in ("event", "data", "id", "retry")
)


def _new_event(event_type: str, data: str, id: str, retry: int | None) -> ServerSentEvent:
    """``ServerSentEvent(event=event_type, data=data, id=id, retry=retry)``, faster."""
    event: ServerSentEvent = _new(ServerSentEvent)
    _set_event(event, event_type)
    _set_data(event, data)
    _set_id(event, id)
    _set_retry(event, retry)
    return event


def _make_message_events(
    datas: list[str], id: str, retry: int | None, out: list[ServerSentEvent]
) -> None:
    """Append one ``message`` event per item of ``datas`` to ``out``: many at once are built
    column by column, each setter mapped over all of them."""
    n = len(datas)
    if n < _BULK_MIN:
        for data in datas:
            out.append(_new_event("message", data, id, retry))
        return
    events: list[ServerSentEvent] = list(map(_new, repeat(ServerSentEvent, n)))
    deque(map(_set_event, events, repeat("message", n)), 0)
    deque(map(_set_data, events, datas), 0)
    deque(map(_set_id, events, repeat(id, n)), 0)
    deque(map(_set_retry, events, repeat(retry, n)), 0)
    out += events


def _decode(raw: bytes | bytearray) -> str:
    return raw.decode("utf-8", "replace")


def _split_run(text: bytes, end: int, nl: bytes) -> list[str] | None:
    """The data of each event in ``text[:end]`` if it is ``data: X`` + ``nl`` + ``nl``
    repeated with no CR or LF in any X, else ``None``."""
    body = str(memoryview(text)[6 : end - 2 * len(nl)], "utf-8", "replace")
    sep = "\r\n\r\ndata: " if len(nl) == 2 else "\n\ndata: "
    first = body.find(sep[0])
    if first < _LONG_EVENT:
        # Short events: one str.split, then one check that no line break is left over.
        datas = body.split(sep)
        rest = "".join(datas) if len(datas) > 1 else body
        if "\n" in rest or "\r" in rest:
            return None
        return datas
    # Long events: str.split's search is slower than memchr, so step from break to break.
    datas = []
    pos = 0
    while first >= 0:
        if not body.startswith(sep, first):
            return None
        datas.append(body[pos:first])
        pos = first + len(sep)
        first = body.find(sep[0], pos)
    datas.append(body[pos:])
    if len(nl) == 2 or 13 in text:
        for data in datas:
            if "\n" in data or "\r" in data:
                return None
    return datas


def _as_bytes(data: object) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise LocalProtocolError(
        f"SSEDecoder.feed() takes bytes (or bytearray / memoryview), not {type(data).__name__}"
    )


class SSEDecoder:
    """Turns the bytes of an event stream into :class:`ServerSentEvent` values.

    Feed the response body with :meth:`feed` in chunks of any size, then call :meth:`close` at
    the end of the body. Exactly what a browser does, with these choices where the standard
    leaves room: a ``retry`` value is taken only if it is one or more ASCII digits and below
    2**64 (an empty one is ignored); ``retry`` persists across events like ``id``.

    Args:
        max_event_bytes: the largest ``data`` of one event, in bytes of UTF-8 (the ``data``
            values and the line breaks joining them). Default 1 MiB.
        max_line_bytes: the longest line, in bytes, without its line break (a complete line
            or one still arriving). Defaults to ``max_event_bytes``.

    Exceeding a limit raises :class:`~sansio_chat.RemoteProtocolError` with ``limit`` and
    ``observed`` set; the decoder is then unusable (further :meth:`feed` calls raise the same
    way, :meth:`close` returns ``[]``). Events decoded earlier in the failing call are lost.

    Memory, whatever the input and its chunking (``L`` = ``max_line_bytes``, ``E`` =
    ``max_event_bytes``): between calls the decoder holds at most ``L + E`` bytes (the partial
    line and the pending event's data) plus what the server chose to keep pending: the event
    type (at most ``L`` bytes) and the last event id, pending and committed (each a ``str`` of
    at most ``L`` characters, at most ``2 L`` bytes). During a call it allocates at most about
    ``L + E`` more, besides the chunk given and the events returned, however large the chunk:
    the chunk is never copied whole. A few KiB of fixed overhead come on top.

    Attributes:
        ended_mid_event: after :meth:`close`, whether the stream ended inside an event: a
            field line, or an unfinished line that is not a comment, came after the last
            blank line. Such an event is never dispatched (the standard drops it).
        last_event_id: the event source's last event id, updated at every blank line as the
            standard says (the value a client sends as ``Last-Event-ID`` when it reconnects).
        retry: the reconnection time in milliseconds the server asked for, or ``None``.
    """

    __slots__ = (
        "_buf",
        "_buf_limit",
        "_data",
        "_error",
        "_event_type",
        "_fast_max",
        "_field_seen",
        "_id_buffer",
        "_max_event",
        "_max_line",
        "_phase",
        "_slice",
        "ended_mid_event",
        "last_event_id",
        "retry",
    )

    ended_mid_event: bool
    last_event_id: str
    retry: int | None

    def __init__(
        self,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_line_bytes: int | None = None,
    ) -> None:
        if max_line_bytes is None:
            max_line_bytes = max_event_bytes
        if max_event_bytes < 1 or max_line_bytes < 1:
            raise LocalProtocolError("SSE limits must be positive")
        self._max_event = max_event_bytes
        self._max_line = max_line_bytes
        # A run of complete `data: ` events no longer than this needs no per-line size check.
        self._fast_max = min(max_event_bytes, max_line_bytes)
        self._slice = max(_MIN_SLICE, min(_MAX_SLICE, (max_event_bytes + max_line_bytes) // 16))
        self._phase = _Phase.START
        self._buf = bytearray()  # the partial line at the end of the input so far
        # The most the buffer may hold: max_line_bytes, + 3 while it starts with a BOM, -1
        # once closed or failed (so that the check every append makes refuses any input).
        self._buf_limit = max_line_bytes
        # The event's `data` values, each followed by LF, as the standard builds its data
        # buffer: its length is what max_event_bytes bounds, + 1.
        self._data = bytearray()
        self._event_type = b""
        self._field_seen = False  # a non-comment line came after the last blank line
        self._id_buffer = ""
        self._error: RemoteProtocolError | None = None
        self.ended_mid_event = False
        self.last_event_id = ""
        self.retry = None

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk of the stream; return the events it completed, in order.

        Raises:
            RemoteProtocolError: the stream exceeded a size limit, now or earlier.
            LocalProtocolError: the decoder was closed, or ``data`` is not bytes-like.
        """
        if data.__class__ is not bytes:  # (cheaper than type(data) in CPython 3.11)
            data = _as_bytes(data)
        # `13 in data` is a memchr (`b"\r" in data` would first try the argument as an
        # integer and pay for a TypeError). CR first: a chunk of an LF stream that ends a line
        # then takes two of them, not three.
        if 13 in data:
            if self._phase is not _OPEN:
                return self.feed(self._resume(data))
            if len(data) >= _SMALL_RUN:
                return self._cut_lines(data)
            # A small chunk: its CRLFs are made LFs (one C call), and so is a CR that ends it
            # (the phase remembers it); a lone CR elsewhere takes the general path.
            lf_only = data.replace(b"\r\n", b"\n")
            if 13 in lf_only:
                if lf_only.find(13) != len(lf_only) - 1:
                    return self._cut_lines(data)  # (the chunk as it came)
                self._phase = _Phase.AFTER_CR
                lf_only = lf_only[:-1] + b"\n"
            data = lf_only
        elif 10 not in data:
            # No line ends here: with tiny chunks, most calls.
            buf = self._buf
            if len(buf) + len(data) > self._buf_limit:
                return self._overflow(data)
            buf += data
            return []
        elif self._phase is not _OPEN:
            return self.feed(self._resume(data))
        elif len(data) >= _SMALL_RUN:
            return self._cut_lines(data)
        # A small chunk with a LF and no CR. With small chunks the fixed cost of a call is
        # most of the work: the usual ways an event ends in one are decoded here, without a
        # further call.
        buf = self._buf  # one partial line, no CR or LF in it
        head, blank, rest = data.partition(b"\n\n")
        if blank and 10 not in head and 10 not in rest:
            # The only line breaks end a line and then the event: how most events end.
            # No field since the last blank line means no data or event type pending.
            buf += head
            if not self._field_seen and buf.startswith(_DATA) and len(buf) <= self._fast_max:
                del buf[: len(_DATA)]
                self.last_event_id = last_id = self._id_buffer
                text = buf.decode("utf-8", "replace")
                out = [_new_event("message", text, last_id, self.retry)]
            else:
                buf += blank
                out = []
                self._lines(bytes(buf), out)
            buf.clear()
            if len(rest) > self._buf_limit:
                self._too_long(len(rest))
            buf += rest
            return out
        if not blank and data.count(10) == 1:
            if data[-1] == 10:
                # The chunk ends a line: often the data line of an event whose blank line
                # comes in the next chunk.
                buf += data
                out = []
                if not self._field_seen and buf.startswith(_DATA) and len(buf) <= self._fast_max:
                    self._data = buf[len(_DATA) :]  # the value and its LF
                    self._field_seen = True
                else:
                    self._lines(bytes(buf), out)
                buf.clear()
                return out
            pending = self._data
            if data[0] == 10 and not buf and pending and not self._event_type:
                # The chunk starts with the blank line that ends an event.
                del pending[-1]
                self.last_event_id = last_id = self._id_buffer
                out = [
                    _new_event("message", pending.decode("utf-8", "replace"), last_id, self.retry)
                ]
                pending.clear()
                self._field_seen = False
                if len(data) - 1 > self._buf_limit:
                    self._too_long(len(data) - 1)
                buf += data[1:]
                return out
        return self._cut_lines(data)

    def iter_events(self, chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
        """Feed the chunks of ``chunks`` in order, yield each event as it completes, and
        :meth:`close` the decoder after the last chunk.

        The same events, errors and state as calling :meth:`feed` on each chunk then
        :meth:`close`, but a chunk that completes no line costs no call: with small chunks
        (a few bytes each) that is most of the cost of :meth:`feed`. Leaving the loop early
        leaves the decoder open, and the events of the chunk being decoded are not yielded.
        """
        feed = self.feed
        for data in chunks:
            if data.__class__ is bytes and 13 not in data and 10 not in data:
                buf = self._buf  # (read each time: close() replaces it)
                if len(buf) + len(data) > self._buf_limit:
                    self._overflow(data)
                else:
                    buf += data
            else:
                yield from feed(data)
        self.close()

    def close(self) -> list[ServerSentEvent]:
        """Mark the end of the stream. Returns ``[]``: the standard dispatches nothing at the
        end (an unfinished event is dropped); :attr:`ended_mid_event` tells whether one was.
        Calling it again does nothing."""
        if self._phase is _Phase.CLOSED:
            return []
        if self._phase is _Phase.FAILED:
            self.ended_mid_event = True
        else:
            pending = bytes(self._buf)
            if self._phase is _Phase.START and pending.startswith(_BOM):
                pending = pending[len(_BOM) :]
            self.ended_mid_event = self._field_seen or (pending[:1] not in (b"", b":"))
        self._stop(_Phase.CLOSED)
        return []

    def _stop(self, phase: _Phase) -> None:
        """Close or fail: drop what is held, refuse any further input."""
        self._phase = phase
        self._buf = bytearray()
        self._buf_limit = -1
        self._data = bytearray()
        self._event_type = b""

    def _refusal(self) -> ProtocolError:
        """The error for input to a closed or failed decoder."""
        error = self._error
        if self._phase is _Phase.CLOSED or error is None:
            return LocalProtocolError("SSEDecoder.feed() called after close()")
        return RemoteProtocolError(
            f"the event stream already failed: {error}",
            limit=error.limit,
            observed=error.observed,
        )

    def _overflow(self, data: bytes) -> list[ServerSentEvent]:
        """``data``, which completes no line, would take the buffer past its limit: refuse
        it, unless the excess is a BOM before the first line (which does not count)."""
        if self._buf_limit < 0:
            raise self._refusal()
        buf = self._buf
        observed = len(buf) + len(data)
        if self._phase is _Phase.START and (bytes(buf[:3]) + data[:3]).startswith(_BOM):
            observed -= len(_BOM)
            if observed <= self._max_line:
                self._buf_limit = self._max_line + len(_BOM)
                buf += data
                return []
        self._too_long(observed)
        raise AssertionError("unreachable")  # pragma: no cover

    def _resume(self, data: bytes) -> bytes:
        """Leave a phase other than ``OPEN`` on a chunk with a line break; returns what is
        left of the chunk to decode."""
        phase = self._phase
        if phase is _Phase.AFTER_CR:
            self._phase = _OPEN
            if data[0] == 10 and not self._buf:
                return data[1:]  # the LF of a CRLF split across chunks
            return data
        if phase is not _Phase.START:
            raise self._refusal()
        # The first line ends in this chunk: now a BOM can be told apart.
        self._phase = _OPEN
        buf = self._buf
        self._buf_limit = self._max_line
        held = len(buf)
        if held >= len(_BOM):
            if buf.startswith(_BOM):
                del buf[: len(_BOM)]
        elif _BOM.startswith(bytes(buf)) and data.startswith(_BOM[held:]):
            buf.clear()
            return data[len(_BOM) - held :]
        return data

    def _cut_lines(self, data: bytes) -> list[ServerSentEvent]:
        """Interpret the complete lines of the buffer + ``data``, a slice at a time, and keep
        the partial line after them."""
        end = data.rfind(10)
        cr = data.rfind(13)
        if cr > end:
            end = cr
            if cr + 1 == len(data):
                self._phase = _Phase.AFTER_CR
        buf = self._buf
        out: list[ServerSentEvent] = []
        start = 0
        while start <= end:
            stop = end + 1
            if stop - start > self._slice:
                stop = self._slice_end(data, start)
            if start or not buf:
                text = data[start:stop] if start or stop < len(data) else data
            else:
                text = bytes(buf) + data[:stop]
                buf.clear()
            if len(text) >= _SMALL_RUN:
                self._complete_lines(text, out)
            else:
                self._lines(text, out)
            start = stop
        if len(data) - start > self._buf_limit:
            self._too_long(len(data) - start)
        buf += data[start:]
        return out

    def _slice_end(self, data: bytes, start: int) -> int:
        """Where the slice of ``data`` from ``start`` ends: after the last line break within
        the slice size, or after the line that starts there if it is longer."""
        limit = start + self._slice
        stop = max(data.rfind(10, start, limit), data.rfind(13, start, limit))
        if stop < 0:
            # One line longer than a slice: it must still fit the line limit.
            lf = data.find(10, limit)
            cr = data.find(13, limit)
            stop = lf if cr < 0 or 0 <= lf < cr else cr
            size = stop - start + (len(self._buf) if start == 0 else 0)
            if size > self._max_line:
                self._too_long(size)
        if data[stop] == 13 and data[stop + 1 : stop + 2] == b"\n":
            stop += 1  # a CRLF is one line break: never cut between its halves
        return stop + 1

    def _fail(self, message: str, limit: int, observed: int) -> None:
        self._error = RemoteProtocolError(message, limit=limit, observed=observed)
        self._stop(_Phase.FAILED)
        raise self._error

    def _too_long(self, observed: int) -> None:
        self._fail(
            f"SSE line of at least {observed} bytes exceeds max_line_bytes={self._max_line}",
            self._max_line,
            observed,
        )

    def _complete_lines(self, text: bytes, out: list[ServerSentEvent]) -> None:
        """Interpret ``text``, a run of whole lines, taking a run of plain events at once."""
        if 13 in text:
            lf = text.find(10)
            if lf < 1 or text[lf - 1] != 13:
                self._lines(text, out)  # CR line breaks, or mixed ones: the general path
                return
            nl = b"\r\n"
        else:
            nl = b"\n"
        if self._data or self._event_type or not text.startswith(_DATA):
            # Finish the event in progress line by line, up to the first blank line.
            if text.startswith(nl):
                cut = len(nl)
            else:
                cut = text.find(nl + nl)
                if cut < 0:
                    self._lines(text, out)
                    return
                cut += 2 * len(nl)
            if cut == len(text):
                self._lines(text, out)
                return
            self._lines(text[:cut], out)
            text = text[cut:]
            if not text.startswith(_DATA):
                self._lines(text, out)
                return
        # The run of complete events up to the last blank line, taken at once when it is
        # exactly `data: X`, line break, line break, repeated, with no CR or LF in any X.
        blank = nl + nl
        size = len(text)
        if text.endswith(blank):
            end = size
        else:
            end = text.rfind(10, 0, size - 1) + 1  # where the last line starts
            if end == 0 or not text.endswith(blank, 0, end):
                self._lines(text, out)
                return
        if end > self._fast_max:
            self._lines(text, out)
            return
        datas = _split_run(text, end, nl)
        if datas is None:
            self._lines(text, out)
            return
        _make_message_events(datas, self._id_buffer, self.retry, out)
        self.last_event_id = self._id_buffer
        self._field_seen = False
        if end != size:
            self._lines(text[end:], out)

    def _lines(self, text: bytes, out: list[ServerSentEvent]) -> None:
        """The standard's algorithm, one line at a time. ``text`` ends with a line break.

        Written for speed: with small chunks every event passes through here."""
        data = self._data
        seen = self._field_seen
        max_line = self._max_line
        max_data = self._max_event + len(_DATA)  # the limit, for a whole `data: ` line
        for line in text.splitlines():  # exactly CR, LF and CRLF, as the standard wants
            if not line:
                # A blank line: dispatch.
                self.last_event_id = last_id = self._id_buffer
                if data:
                    del data[-1]  # the LF after the last value
                    event_type = self._event_type
                    out.append(
                        _new_event(
                            event_type.decode("utf-8", "replace") if event_type else "message",
                            data.decode("utf-8", "replace"),
                            last_id,
                            self.retry,
                        )
                    )
                    data.clear()
                self._event_type = b""
                seen = False
            elif len(line) > max_line:
                self._too_long(len(line))
            elif line[:6] == _DATA:
                if len(data) + len(line) > max_data:
                    self._event_too_big(len(data) + len(line) - len(_DATA))
                data += line[6:]
                data += b"\n"
                seen = True
            elif line[0] != 0x3A:  # not a comment
                self._field(line, data)
                seen = True
        self._field_seen = seen

    def _field(self, line: bytes, data: bytearray) -> None:
        """A field line other than ``data: …``."""
        colon = line.find(b":")
        if colon < 0:
            field = line
            value = b""
        else:
            field = line[:colon]
            value = line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if field == b"data":
            if len(data) + len(value) > self._max_event:
                self._event_too_big(len(data) + len(value))
            data += value
            data += b"\n"
        elif field == b"event":
            self._event_type = value
        elif field == b"id":
            if b"\0" not in value:
                self._id_buffer = _decode(value)
        elif field == b"retry" and value.isdigit():
            digits = value.lstrip(b"0")
            if len(digits) <= 20:
                retry = int(digits or b"0")
                if retry <= _RETRY_MAX:
                    self.retry = retry
        # Any other field is ignored.

    def _event_too_big(self, observed: int) -> None:
        self._fail(
            f"SSE event data of at least {observed} bytes exceeds "
            f"max_event_bytes={self._max_event}",
            self._max_event,
            observed,
        )
