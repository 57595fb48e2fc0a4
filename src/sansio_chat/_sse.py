"""Incremental server-sent events decoder: bytes in, events out.

It implements the WHATWG HTML standard's "interpreting an event stream" (what a browser's
``EventSource`` does) on bytes, so that any chunking of the same stream gives the same events:
lines end at CRLF, LF or CR, one UTF-8 BOM is dropped at the start of the stream, every line is
decoded as UTF-8 with replacement. The contract is in ``spec/SSE.md``; the choices the standard
leaves open are documented on :class:`SSEDecoder`.

Speed: a stream that is nothing but ``data: …`` lines each followed by a blank line (what chat
services send) is recognised a whole chunk at a time with a few C-level ``bytes`` operations and
decoded with one ``bytes.decode`` per chunk. In a small chunk, CRLFs and lone CRs are made LFs
first (one C call), and the usual ways an event ends in a small chunk have paths of their own in
:meth:`SSEDecoder.feed`. Everything else takes a line-by-line path that still touches each byte
a constant number of times. The pending
partial line is only ever appended to, never rescanned, so feeding ``N`` bytes in any chunking
costs ``O(N)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Final, final

from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "SSEDecoder", "ServerSentEvent"]

# 1 MiB: chat services send events of a few hundred bytes, and the largest legitimate single
# events seen in the wild (a whole reply or a tool result in one event) stay well below this,
# while a server that streams without line breaks is stopped before it can take much memory.
DEFAULT_MAX_EVENT_BYTES: Final = 1024 * 1024

_BOM: Final = b"\xef\xbb\xbf"
# Lines are cut from the decoder's bytearray buffer, or from bytes when it was empty.
_Bytes = bytes | bytearray
_DATA: Final = b"data: "
# Chromium ignores a `retry` value that does not fit in an unsigned 64-bit integer; so do we,
# which also keeps int() away from its digit-count limit.
_RETRY_MAX: Final = 2**64 - 1
# Below this many events a chunk's events are built one by one; above, column-wise with map().
_BULK_MIN: Final = 8
# Below this many bytes of complete lines, going line by line costs less than preparing the
# run path (small chunks, one event at a time).
_SMALL_RUN: Final = 400
# From this size of the first event on, a run of events is cut with memchr-based find().
_LONG_EVENT: Final = 512

# SSEDecoder._phase: anything but _OPEN sends the next chunk with a line break to _feed()'s
# slow start.
_OPEN: Final = 0
_START: Final = 1  # no line complete yet: a BOM may still be in the buffer
_SKIP_LF: Final = 2  # the last chunk ended with CR: a LF starting the next one ends no line
_CLOSED: Final = 3
_FAILED: Final = 4


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


# The generated __init__ of a frozen dataclass sets each field through object.__setattr__,
# which costs more than all the rest of the decoding of a short event. The decoder fills the
# same slots on an instance of _Unfrozen, a class of the same layout without the frozen
# __setattr__, then makes it a ServerSentEvent by setting __class__ (which Python allows
# between classes of the same layout): the result is indistinguishable from a constructed one.
_new: Final = object.__new__


class _Unfrozen:
    """A :class:`ServerSentEvent` under construction: the same slots, plain attributes."""

    __slots__ = ServerSentEvent.__slots__
    event: str
    data: str
    id: str
    retry: int | None


def _new_event(event_type: str, data: str, id: str, retry: int | None) -> ServerSentEvent:
    event: Any = _new(_Unfrozen)
    event.event = event_type
    event.data = data
    event.id = id
    event.retry = retry
    event.__class__ = ServerSentEvent
    return event  # type: ignore[no-any-return]


# Many events at once are built column by column with map(), through the slots' setters.
_slot_setters: Final[dict[str, Callable[[ServerSentEvent, Any], None]]] = {
    name: ServerSentEvent.__dict__[name].__set__ for name in ("event", "data", "id", "retry")
}


def _make_message_events(
    datas: list[str], id: str, retry: int | None, out: list[ServerSentEvent]
) -> None:
    """Append one ``message`` event per item of ``datas`` to ``out``."""
    n = len(datas)
    if n < _BULK_MIN:
        for data in datas:
            out.append(_new_event("message", data, id, retry))
        return
    events: list[ServerSentEvent] = list(map(_new, repeat(ServerSentEvent, n)))
    deque(map(_slot_setters["event"], events, repeat("message", n)), 0)
    deque(map(_slot_setters["data"], events, datas), 0)
    deque(map(_slot_setters["id"], events, repeat(id, n)), 0)
    deque(map(_slot_setters["retry"], events, repeat(retry, n)), 0)
    out += events


def _decode(raw: _Bytes) -> str:
    return raw.decode("utf-8", "replace")


class _Refused(bytearray):
    """The buffer of a closed or failed decoder: adding bytes to it (``+`` or ``+=``) raises
    ``refusal()``."""

    __slots__ = ("_refusal",)

    def __init__(self, refusal: Callable[[], ProtocolError]) -> None:
        super().__init__()
        self._refusal = refusal

    def __add__(self, other: Any) -> bytearray:
        raise self._refusal()

    def __iadd__(self, other: Any) -> _Refused:
        raise self._refusal()


def _split_run(text: _Bytes, end: int, nl: bytes) -> list[str] | None:
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
    Memory held between calls stays below ``max_line_bytes + max_event_bytes`` plus the
    small ``event`` and ``id`` values, whatever the input.

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
        "_event_size",
        "_event_type",
        "_fast_max",
        "_field_seen",
        "_id_buffer",
        "_max_event",
        "_max_line",
        "_phase",
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
        self._phase = _START
        self._buf = bytearray()  # the partial line at the end of the input so far
        # The most the buffer may hold: max_line_bytes, + 3 while it starts with a BOM.
        self._buf_limit = max_line_bytes
        self._data: list[_Bytes] = []  # the event's `data` values, not yet decoded
        self._event_size = 0  # len(b"\n".join(self._data)) + 1, or 0 when there is none
        self._event_type: _Bytes = b""
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
        # With small chunks the fixed cost of a call is most of the work, so the common cases
        # are all here, without a further call. `13 in data` is a memchr (`b"\r" in data`
        # would first try the argument as an integer and pay for a TypeError).
        if 13 in data:
            if self._phase:
                if self._phase != _SKIP_LF:
                    return self._feed(data)
                self._phase = _OPEN
                if data[0] == 10 and not self._buf:
                    data = data[1:]  # the LF of a CRLF split across chunks
            if len(data) >= _SMALL_RUN:
                return self._feed_cr(data)
            # In a small chunk every CRLF becomes one LF (one C call); then the LF paths
            # below serve CRLF streams too. A CR left over is a line break of its own.
            data = data.replace(b"\r\n", b"\n")
            if 13 in data:
                return self._feed_lone_cr(data)
        buf = self._buf
        if 10 not in data:
            # No line ends here. A closed or failed decoder's buffer refuses the +=.
            buf += data
            if len(buf) > self._buf_limit:
                self._too_long(len(buf))
            return []
        if self._phase:
            if self._phase != _SKIP_LF:
                return self._feed(data)
            self._phase = _OPEN
            if data[0] == 10 and not buf:
                return self.feed(data[1:])  # the LF of a CRLF split across chunks
        # From here on the buffer holds one partial line, with no CR or LF, and data has LF
        # line breaks only. The small chunks have paths of their own for the usual ways an
        # event ends in them (on a large chunk, partition() would cost more than it saves).
        if len(data) < _SMALL_RUN:
            head, blank, rest = data.partition(b"\n\n")
            if blank and 10 not in head and 10 not in rest:
                # The chunk's only line breaks are the two LFs after a line: how most events
                # end. No field since the last blank line means that no data and no event
                # type are pending.
                buf += head
                if not self._field_seen and buf.startswith(_DATA) and len(buf) <= self._fast_max:
                    del buf[: len(_DATA)]
                    event: Any = _new(_Unfrozen)  # as in _new_event(), without a call
                    event.event = "message"
                    event.data = buf.decode("utf-8", "replace")
                    event.id = self.last_event_id = self._id_buffer
                    event.retry = self.retry
                    event.__class__ = ServerSentEvent
                    out = [event]
                else:
                    buf += blank
                    out = []
                    self._lines(buf, out)
                buf.clear()
                buf += rest
                if len(buf) > self._buf_limit:
                    self._too_long(len(buf))
                return out
            if not blank and data.count(10) == 1:
                if data[-1] == 10:
                    # The chunk ends a line: often the data line of an event whose blank
                    # line comes in the next chunk.
                    buf += data
                    out = []
                    if (
                        not self._field_seen
                        and buf.startswith(_DATA)
                        and len(buf) <= self._fast_max
                    ):
                        self._data.append(buf[len(_DATA) : -1])
                        self._event_size = len(buf) - len(_DATA)
                        self._field_seen = True
                    else:
                        self._lines(buf, out)
                    buf.clear()
                    return out
                if data[0] == 10 and not buf:
                    # The chunk starts with a blank line: an event of one data line ends.
                    pending = self._data
                    if len(pending) == 1 and not self._event_type:
                        value = pending[0].decode("utf-8", "replace")
                        out = [_new_event("message", value, self._id_buffer, self.retry)]
                        self.last_event_id = self._id_buffer
                        self._data = []
                        self._event_size = 0
                        self._field_seen = False
                        buf += data[1:]
                        if len(buf) > self._buf_limit:
                            self._too_long(len(buf))
                        return out
        return self._cut_lines(data, data.rfind(10), False)

    def _feed_lone_cr(self, data: bytes) -> list[ServerSentEvent]:
        """:meth:`feed` for a chunk whose CRs are all lone (its CRLFs already made LFs).

        Each lone CR is a line break, as a LF is. One that ends the chunk may be the first
        half of a CRLF split across chunks: a LF right after it then ends no line."""
        ends_with_cr = data[-1] == 13
        out = self.feed(data.replace(b"\r", b"\n"))
        if ends_with_cr:
            self._phase = _SKIP_LF
        return out

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
                buf += data
                if len(buf) > self._buf_limit:
                    self._too_long(len(buf))
            else:
                yield from feed(data)
        self.close()

    def close(self) -> list[ServerSentEvent]:
        """Mark the end of the stream. Returns ``[]``: the standard dispatches nothing at the
        end (an unfinished event is dropped); :attr:`ended_mid_event` tells whether one was.
        Calling it again does nothing."""
        if self._phase == _CLOSED:
            return []
        if self._phase == _FAILED:
            self.ended_mid_event = True
        else:
            pending = bytes(self._buf)
            if self._phase == _START and pending.startswith(_BOM):
                pending = pending[len(_BOM) :]
            self.ended_mid_event = self._field_seen or (pending[:1] not in (b"", b":"))
        self._phase = _CLOSED
        self._buf = _Refused(self._refusal)
        self._data = []
        self._event_size = 0
        return []

    def _refusal(self) -> ProtocolError:
        """The error for input to a closed or failed decoder."""
        error = self._error
        if self._phase == _CLOSED or error is None:
            return LocalProtocolError("SSEDecoder.feed() called after close()")
        return RemoteProtocolError(
            f"the event stream already failed: {error}",
            limit=error.limit,
            observed=error.observed,
        )

    def _feed(self, data: bytes) -> list[ServerSentEvent]:
        """:meth:`feed` for a chunk with a line break while the decoder is starting, closed
        or failed. It leaves the rest to :meth:`feed`, calling it again."""
        if self._phase != _START:
            raise self._refusal()
        # The first line ends in this chunk: now a BOM can be told apart.
        buf = self._buf
        self._buf_limit = self._max_line
        held = len(buf)
        if held >= len(_BOM):
            if buf.startswith(_BOM):
                del buf[: len(_BOM)]
        elif _BOM.startswith(bytes(buf)) and data.startswith(_BOM[held:]):
            buf.clear()
            data = data[len(_BOM) - held :]
        self._phase = _OPEN
        return self.feed(data)

    def _feed_cr(self, data: bytes) -> list[ServerSentEvent]:
        """:meth:`feed` for a large chunk with a CR: its lines are cut as they come, CRLFs
        included (replace() would cost more than all the rest on a chunk of CRLF lines)."""
        end = data.rfind(10)
        cr = data.rfind(13)
        if cr > end:
            end = cr
        if cr + 1 == len(data):
            self._phase = _SKIP_LF
        return self._cut_lines(data, end, True)

    def _cut_lines(self, data: bytes, end: int, has_cr: bool) -> list[ServerSentEvent]:
        """Decode the lines that end at or before ``data[end]`` (the last line break of the
        chunk) and keep the rest as the partial line; ``has_cr``: whether ``data`` holds a CR."""
        buf = self._buf
        cut = len(buf) + end + 1  # the complete lines are buf[:cut]
        buf += data
        text = buf[:cut]
        del buf[:cut]
        out: list[ServerSentEvent] = []
        if cut >= _SMALL_RUN:
            self._complete_lines(text, has_cr, out)
        else:
            self._lines(text, out)
        if len(buf) > self._buf_limit:
            self._too_long(len(buf))
        return out

    def _fail(self, message: str, limit: int, observed: int) -> None:
        self._error = RemoteProtocolError(message, limit=limit, observed=observed)
        self._phase = _FAILED
        self._buf = _Refused(self._refusal)
        self._data = []
        raise self._error

    def _too_long(self, observed: int) -> None:
        if self._phase == _START and self._buf.startswith(_BOM):
            # The BOM before the first line does not count (this check runs only when the
            # buffer outgrows its limit, so the common path never pays for it).
            observed -= len(_BOM)
            if observed <= self._max_line:
                self._buf_limit = self._max_line + len(_BOM)
                return
        self._fail(
            f"SSE line of at least {observed} bytes exceeds max_line_bytes={self._max_line}",
            self._max_line,
            observed,
        )

    def _complete_lines(self, text: _Bytes, has_cr: bool, out: list[ServerSentEvent]) -> None:
        """Interpret ``text``, a run of whole lines; ``has_cr``: whether it holds a CR."""
        if has_cr:
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

    def _lines(self, text: _Bytes, out: list[ServerSentEvent]) -> None:
        """The standard's algorithm, one line at a time. ``text`` ends with a line break.

        Written for speed: with small chunks every event passes through here."""
        data = self._data
        size = self._event_size
        seen = self._field_seen
        max_line = self._max_line
        for line in text.splitlines():  # exactly CR, LF and CRLF, as the standard wants
            if not line:
                # A blank line: dispatch.
                self.last_event_id = last_id = self._id_buffer
                if data:
                    event_type = self._event_type
                    value = data[0] if len(data) == 1 else b"\n".join(data)
                    out.append(
                        _new_event(
                            event_type.decode("utf-8", "replace") if event_type else "message",
                            value.decode("utf-8", "replace"),
                            last_id,
                            self.retry,
                        )
                    )
                    data = self._data = []
                    size = 0
                self._event_type = b""
                seen = False
            elif len(line) > max_line:
                self._too_long(len(line))
            elif line[:6] == _DATA:
                size += len(line) - 5
                if size > self._max_event + 1:
                    self._event_too_big(size - 1)
                data.append(line[6:])
                seen = True
            elif line[0] != 0x3A:  # not a comment
                size = self._field(line, data, size)
                seen = True
        self._event_size = size
        self._field_seen = seen

    def _field(self, line: _Bytes, data: list[_Bytes], size: int) -> int:
        """A field line other than ``data: …``; returns the new size of the event's data."""
        colon = line.find(b":")
        field: _Bytes
        value: _Bytes
        if colon < 0:
            field = line
            value = b""
        else:
            field = line[:colon]
            value = line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if field == b"data":
            size += len(value) + 1
            if size > self._max_event + 1:
                self._event_too_big(size - 1)
            data.append(value)
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
        return size

    def _event_too_big(self, observed: int) -> None:
        self._fail(
            f"SSE event data of at least {observed} bytes exceeds "
            f"max_event_bytes={self._max_event}",
            self._max_event,
            observed,
        )
