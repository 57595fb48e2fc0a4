"""Replay the challenge-solver fuzz corpus through the harness's invariants, without atheris."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz_support import FUZZ, load_harness

CORPUS = sorted((FUZZ / "corpus" / "challenge").iterdir())


HARNESS = load_harness("fuzz_challenge")


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_input_keeps_the_invariants(path: Path) -> None:
    HARNESS.check(path.read_bytes())


def test_the_harness_catches_an_untyped_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness must notice an error other than ChallengeError escaping the solver."""
    from sansio_chat.providers import ddg_challenge

    def broken(snippet: str) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(ddg_challenge, "_check_snippet_cost", broken)
    with pytest.raises(RecursionError):
        HARNESS.check(b"\x02<b>x</b>")


def test_the_harness_enforces_its_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.21, 1.0, 1.21, 2.0, 2.21])
    assert HARNESS.BUDGET_SECONDS < 0.21
    monkeypatch.setattr(HARNESS.time, "perf_counter", lambda: next(clock))
    with pytest.raises(AssertionError, match="took"):
        HARNESS.check(b"\x00")
