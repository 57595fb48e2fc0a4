"""Incremental server-sent events decoder: bytes in, events out.

It implements the WHATWG HTML standard's "interpreting an event stream" (what a browser's
``EventSource`` does) on bytes, so that any chunking of the same stream gives the same events:
lines end at CRLF, LF or CR, one UTF-8 BOM is dropped at the start of the stream, every line is
decoded as UTF-8 with replacement. The contract is in ``spec/SSE.md``; the choices the standard
leaves open are documented on :class:`SSEDecoder`.

Speed: a stream that is nothing but ``data: …`` lines each followed by a blank line (what chat
services send) is recognised a whole chunk at a time with a few C-level ``bytes`` operations and
decoded with one ``bytes.decode`` per chunk; everything else takes a line-by-line path that still
touches each byte a constant number of times. The pending partial line is only ever appended
to, never rescanned, so feeding ``N`` bytes in any chunking costs ``O(N)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Final, final

from ._errors import LocalProtocolError, RemoteProtocolError

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
# Below this many events a chunk's events are built one by one; above, column-wise with map().
_BULK_MIN: Final = 8
# From this size of the first event on, a run of events is cut with memchr-based find().
_LONG_EVENT: Final = 512

_OPEN: Final = 0
_START: Final = 1  # nothing decided yet about a BOM at the start of the stream
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
# which costs more than all the rest of the decoding of a short event. The decoder builds its
# events by filling the slots directly; the result is indistinguishable from a constructed one.
_new: Final = object.__new__
_slot_setters: Final[dict[str, Callable[[ServerSentEvent, Any], None]]] = {
    name: ServerSentEvent.__dict__[name].__set__ for name in ("event", "data", "id", "retry")
}
_set_event: Final = _slot_setters["event"]
_set_data: Final = _slot_setters["data"]
_set_id: Final = _slot_setters["id"]
_set_retry: Final = _slot_setters["retry"]


def _make_event(event: str, data: str, id: str, retry: int | None) -> ServerSentEvent:
    sse: ServerSentEvent = _new(ServerSentEvent)
    _set_event(sse, event)
    _set_data(sse, data)
    _set_id(sse, id)
    _set_retry(sse, retry)
    return sse


def _make_message_events(
    datas: list[str], id: str, retry: int | None, out: list[ServerSentEvent]
) -> None:
    """Append one ``message`` event per item of ``datas`` to ``out``."""
    n = len(datas)
    if n < _BULK_MIN:
        for data in datas:
            out.append(_make_event("message", data, id, retry))
        return
    events: list[ServerSentEvent] = list(map(_new, repeat(ServerSentEvent, n)))
    deque(map(_set_event, events, repeat("message", n)), 0)
    deque(map(_set_data, events, datas), 0)
    deque(map(_set_id, events, repeat(id, n)), 0)
    deque(map(_set_retry, events, repeat(retry, n)), 0)
    out += events


def _decode(raw: bytes) -> str:
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
        "_scanned",
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
        self._data: list[bytes] = []  # the event's `data` values, not yet decoded
        self._event_size = 0  # len(b"\n".join(self._data)) + 1, or 0 when there is none
        self._event_type = b""
        self._field_seen = False  # a non-comment line came after the last blank line
        self._id_buffer = ""
        self._error: RemoteProtocolError | None = None
        self._scanned = 0  # bytes handed to line processing; tests use it to prove O(N)
        self.ended_mid_event = False
        self.last_event_id = ""
        self.retry = None

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk of the stream; return the events it completed, in order.

        Raises:
            RemoteProtocolError: the stream exceeded a size limit.
            LocalProtocolError: the decoder was closed.
        """
        # `10 in data` is a memchr; `b"\n" in data` would first try the argument as an
        # integer and pay for a TypeError, which costs more than the rest of this path.
        if self._phase or 10 in data or 13 in data:
            return self._feed(data)
        buf = self._buf
        buf += data
        if len(buf) > self._max_line:
            self._too_long(len(buf))
        return []

    def close(self) -> list[ServerSentEvent]:
        """Mark the end of the stream. Returns ``[]``: the standard dispatches nothing at the
        end (an unfinished event is dropped); :attr:`ended_mid_event` tells whether one was.
        Calling it again does nothing."""
        if self._phase == _CLOSED:
            return []
        if self._phase == _FAILED:
            self.ended_mid_event = True
        else:
            buf = self._buf
            self.ended_mid_event = self._field_seen or (bool(buf) and buf[0] != 0x3A)
        self._phase = _CLOSED
        self._buf = bytearray()
        self._data = []
        self._event_size = 0
        return []

    def _enter(self, data: bytes) -> bytes:
        """The rare states, checked before a chunk: returns what is left of it to decode."""
        phase = self._phase
        if phase == _SKIP_LF:
            if not data:
                return data
            self._phase = _OPEN
            return data[1:] if data[0] == 0x0A else data
        if phase == _START:
            head = bytes(self._buf) + data
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._buf[:] = head
                return b""
            self._phase = _OPEN
            self._buf.clear()
            return head[len(_BOM) :] if head.startswith(_BOM) else head
        if phase == _CLOSED:
            raise LocalProtocolError("SSEDecoder.feed() called after close()")
        error = self._error
        assert error is not None
        raise RemoteProtocolError(
            f"the event stream already failed: {error}",
            limit=error.limit,
            observed=error.observed,
        )

    def _feed(self, data: bytes) -> list[ServerSentEvent]:
        """:meth:`feed` for a chunk that completes a line, or in a rare state."""
        if self._phase:
            data = self._enter(data)
            if not data:
                return []
        buf = self._buf
        end = data.rfind(10)
        has_cr = 13 in data
        if has_cr:
            cr = data.rfind(13)
            if cr > end:
                end = cr
        if end < 0:
            buf += data
            if len(buf) > self._max_line:
                self._too_long(len(buf))
            return []
        tail = b""
        if end + 1 == len(data):
            if data[end] == 13:
                self._phase = _SKIP_LF
        else:
            tail = data[end + 1 :]
            data = data[: end + 1]
        if buf:
            # The buffer holds one partial line: no line break, so has_cr stays right.
            buf += data
            data = bytes(buf)
            buf.clear()
        self._scanned += len(data)
        out: list[ServerSentEvent] = []
        self._complete_lines(data, has_cr, out)
        if tail:
            buf += tail
            if len(buf) > self._max_line:
                self._too_long(len(buf))
        return out

    def _fail(self, message: str, limit: int, observed: int) -> None:
        self._error = RemoteProtocolError(message, limit=limit, observed=observed)
        self._phase = _FAILED
        self._buf.clear()
        self._data = []
        raise self._error

    def _too_long(self, observed: int) -> None:
        self._fail(
            f"SSE line of at least {observed} bytes exceeds max_line_bytes={self._max_line}",
            self._max_line,
            observed,
        )

    def _complete_lines(self, text: bytes, has_cr: bool, out: list[ServerSentEvent]) -> None:
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

    def _lines(self, text: bytes, out: list[ServerSentEvent]) -> None:
        """The standard's algorithm, one line at a time. ``text`` ends with a line break."""
        lines = text.splitlines()  # exactly CR, LF and CRLF, as the standard wants
        data = self._data
        size = self._event_size
        seen = self._field_seen
        max_line = self._max_line
        max_event = self._max_event
        try:
            for line in lines:
                if not line:
                    # A blank line: dispatch.
                    self.last_event_id = self._id_buffer
                    if data:
                        out.append(
                            _make_event(
                                _decode(self._event_type) if self._event_type else "message",
                                _decode(data[0]) if len(data) == 1 else _decode(b"\n".join(data)),
                                self._id_buffer,
                                self.retry,
                            )
                        )
                        data = self._data = []
                        size = 0
                    self._event_type = b""
                    seen = False
                    continue
                if len(line) > max_line:
                    self._too_long(len(line))
                if line.startswith(_DATA):
                    value = line[6:]
                    field = b"data"
                else:
                    colon = line.find(b":")
                    if colon == 0:
                        continue  # a comment
                    if colon < 0:
                        field = line
                        value = b""
                    else:
                        field = line[:colon]
                        value = line[colon + 1 :]
                        if value.startswith(b" "):
                            value = value[1:]
                seen = True
                if field == b"data":
                    size += len(value) + 1
                    if size - 1 > max_event:
                        self._fail(
                            f"SSE event data of at least {size - 1} bytes exceeds "
                            f"max_event_bytes={max_event}",
                            max_event,
                            size - 1,
                        )
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
        finally:
            self._event_size = size
            self._field_seen = seen
