"""Replay the h11 reply-reader fuzz corpus through the harness's invariants, without atheris."""

from __future__ import annotations

from pathlib import Path

import h11
import pytest
from sansio_chat.adapters._drivers.h11_connection import Link

from fuzz_support import FUZZ, load_harness

CORPUS = sorted((FUZZ / "corpus" / "h11").iterdir())


HARNESS = load_harness("fuzz_h11_reply")


def _seed(name: str) -> bytes:
    return (FUZZ / "corpus" / "h11" / name).read_bytes()


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_input_keeps_the_invariants(path: Path) -> None:
    HARNESS.check(path.read_bytes())


def test_the_harness_catches_a_reader_that_hands_over_one_chunk_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def one_chunk(self: Link) -> bytes | None:
        event = await self._next()
        return bytes(event.data) if isinstance(event, h11.Data) else None

    monkeypatch.setattr(Link, "read", one_chunk)
    with pytest.raises(AssertionError, match="more pieces than network reads"):
        HARNESS.check(_seed("chunked-one-read"))


def test_the_harness_catches_a_reader_that_loses_good_chunks_to_a_bad_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def all_or_nothing(self: Link) -> bytes | None:
        parts = []
        while True:
            event = self._h11.next_event()  # an error drops what was collected
            if isinstance(event, h11.Data):
                parts.append(bytes(event.data))
            elif event is h11.NEED_DATA and not parts:
                await self._receive()
            else:
                return b"".join(parts) or None

    monkeypatch.setattr(Link, "read", all_or_nothing)
    with pytest.raises(AssertionError, match="the body differs"):
        HARNESS.check(_seed("malformed-after-good"))
