"""Replay the SSE fuzz corpus through the harness's invariants, without atheris."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz_support import FUZZ, load_harness

CORPUS = sorted((FUZZ / "corpus" / "sse").iterdir())


HARNESS = load_harness("fuzz_sse")


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_input_keeps_the_invariants(path: Path) -> None:
    HARNESS.check(path.read_bytes())


@pytest.mark.parametrize("config", range(4))
def test_the_harness_catches_a_broken_decoder(config: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness must notice when chunkings disagree: break CRLF across chunks on purpose."""
    from sansio_chat import _sse

    resume = _sse.SSEDecoder._resume

    def forget_the_cr(self: _sse.SSEDecoder, data: bytes) -> bytes:
        if self._phase is _sse._Phase.AFTER_CR:
            self._phase = _sse._Phase.OPEN
            return data  # a LF right after a chunk's last CR now ends a second line
        return resume(self, data)

    monkeypatch.setattr(_sse.SSEDecoder, "_resume", forget_the_cr)
    with pytest.raises(AssertionError):
        HARNESS.check(bytes([config]) + b"data: a\r\ndata: b\r\n\r\n")
