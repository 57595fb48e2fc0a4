"""atheris harness for ``sansio_chat.SSEDecoder``.

Input layout: the first byte chooses the limits (bits 0-1) and the chunk sizes of the third
chunking (bits 2-7); the rest is the event stream. For every input, ``check`` decodes the
stream three ways — whole, one byte at a time, and in chunks of sizes derived from the input —
and asserts:

1. only ``RemoteProtocolError`` escapes ``feed``; ``close`` never raises;
2. the three ways agree: the same events, ``ended_mid_event``, ``last_event_id`` and
   ``retry``; or all three fail, on the same limit, and the events each way returned before
   failing are a prefix of the byte-at-a-time ones;
3. without a failure, the events equal those of ``sansio_chat.testing.reference_decode`` (a
   naive whole-stream transcription of the standard); with one, they are a prefix of them;
4. between calls the decoder never buffers more than its limits allow;
5. a failed decoder keeps failing with ``RemoteProtocolError``; a closed one refuses input
   with ``LocalProtocolError``;
6. ``iter_events`` over the third chunking gives exactly what ``feed`` on each of its chunks
   then ``close`` gives: the same events, the same error (limit and size seen) and state.

Run a campaign: ``python fuzz/fuzz_sse.py fuzz/corpus/sse`` (see fuzz/README.md). Without
atheris the module still imports, so pytest replays the corpus through ``check``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

if __name__ == "__main__":
    import atheris

    # Import (and so instrument) the package before anything else imports it.
    with atheris.instrument_imports(include=["sansio_chat"]):
        import sansio_chat.testing  # noqa: F401 (imported for instrumentation only)

from sansio_chat import LocalProtocolError, RemoteProtocolError, ServerSentEvent, SSEDecoder
from sansio_chat.testing import reference_decode

_LIMITS = (1024 * 1024, 8, 33, 200)


@dataclass
class Outcome:
    events: list[ServerSentEvent]
    error: RemoteProtocolError | None
    ended_mid_event: bool
    last_event_id: str
    retry: int | None


def _decode(chunks: list[bytes], max_event: int) -> Outcome:
    max_line = max_event + 7
    decoder = SSEDecoder(max_event_bytes=max_event, max_line_bytes=max_line)
    events: list[ServerSentEvent] = []
    error: RemoteProtocolError | None = None
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
            # invariant 4: what stays buffered is bounded by the limits
            # (+ 3: until the first line ends, the buffer may hold a BOM too)
            assert len(decoder._buf) <= max_line + 3, "partial line over the line limit"
            assert len(decoder._data) <= max_event + 1, "event data over the event limit"
    except RemoteProtocolError as exc:
        error = exc
    if error is not None:
        assert error.limit in (max_event, max_line), error.limit
        assert error.observed is not None
        assert error.observed > error.limit
        try:
            decoder.feed(b"data: x\n\n")
        except RemoteProtocolError:
            pass
        else:
            raise AssertionError("a failed decoder accepted more input")
    assert decoder.close() == []
    try:
        decoder.feed(b"x")
    except LocalProtocolError:
        pass
    else:
        raise AssertionError("a closed decoder accepted more input")
    return Outcome(events, error, decoder.ended_mid_event, decoder.last_event_id, decoder.retry)


def _decode_iter(chunks: list[bytes], max_event: int) -> Outcome:
    decoder = SSEDecoder(max_event_bytes=max_event, max_line_bytes=max_event + 7)
    events: list[ServerSentEvent] = []
    error: RemoteProtocolError | None = None
    try:
        events.extend(decoder.iter_events(chunks))
    except RemoteProtocolError as exc:
        error = exc
    assert decoder.close() == []
    return Outcome(events, error, decoder.ended_mid_event, decoder.last_event_id, decoder.retry)


def _same_error(a: RemoteProtocolError | None, b: RemoteProtocolError | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.limit, a.observed) == (b.limit, b.observed)


def _sizes_chunking(stream: bytes, seed: int) -> list[bytes]:
    chunks = []
    pos = 0
    step = seed
    while pos < len(stream):
        size = 1 + (stream[pos] ^ step) % 23
        chunks.append(stream[pos : pos + size])
        pos += size
        step = (step * 5 + 3) & 0xFF
    return chunks


def _limit_name(error: RemoteProtocolError) -> str:
    return "max_line_bytes" if "max_line_bytes" in str(error) else "max_event_bytes"


def check(data: bytes) -> None:
    """Assert the harness's invariants on one input (see the module docstring)."""
    if not data:
        return
    config, stream = data[0], data[1:]
    max_event = _LIMITS[config & 3]
    sized = _sizes_chunking(stream, config >> 2)
    outcomes = [
        _decode([stream], max_event),
        _decode([stream[i : i + 1] for i in range(len(stream))], max_event),
        _decode(sized, max_event),
    ]
    iterated = _decode_iter(sized, max_event)
    assert _same_error(iterated.error, outcomes[2].error), "iter_events failed differently"
    assert iterated.events == outcomes[2].events, "iter_events disagrees with feed"
    assert (iterated.ended_mid_event, iterated.last_event_id, iterated.retry) == (
        outcomes[2].ended_mid_event,
        outcomes[2].last_event_id,
        outcomes[2].retry,
    )
    bytewise = outcomes[1]
    failed = [o.error is not None for o in outcomes]
    assert all(failed) or not any(failed), f"only some chunkings failed: {failed}"
    reference = reference_decode(stream)
    if bytewise.error is None:
        for outcome in outcomes:
            assert outcome.events == bytewise.events, "chunkings disagree on the events"
            assert outcome.ended_mid_event == bytewise.ended_mid_event
            assert outcome.last_event_id == bytewise.last_event_id
            assert outcome.retry == bytewise.retry
        assert tuple(bytewise.events) == reference.events, "differs from the reference"
        assert bytewise.ended_mid_event == reference.ended_mid_event
    else:
        name = _limit_name(bytewise.error)
        for outcome in outcomes:
            assert outcome.error is not None
            assert _limit_name(outcome.error) == name, "chunkings failed on different limits"
            assert outcome.events == bytewise.events[: len(outcome.events)]
        assert tuple(bytewise.events) == reference.events[: len(bytewise.events)]


def test_one_input(data: bytes) -> None:
    check(data)


def main() -> None:
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
