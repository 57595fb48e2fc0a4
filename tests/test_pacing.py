"""Pacer and Backoff: pure values driven by an injected clock and RNG."""

from __future__ import annotations

import random

import pytest

from sansio_chat import Backoff, LocalProtocolError, Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_pacer_spaces_requests_per_host() -> None:
    clock = Clock()
    pacer = Pacer(min_interval=1.5, clock=clock)
    assert pacer.reserve("a") == 0.0
    assert pacer.reserve("a") == 1.5
    assert pacer.reserve("b") == 0.0  # another host
    clock.now += 1.0
    assert pacer.delay("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert pacer.reserve("a") == 0.0
    assert pacer.delay("a") == 1.5


def test_pacer_delay_does_not_record() -> None:
    clock = Clock()
    pacer = Pacer(clock=clock)
    assert pacer.delay("a") == 0.0
    assert pacer.delay("a") == 0.0
    pacer.record("a")
    assert pacer.delay("a") == 1.5
    assert "a" in repr(pacer)
    assert pacer.clock is clock


def test_zero_interval_never_waits() -> None:
    pacer = Pacer(min_interval=0, clock=Clock())
    assert [pacer.reserve("a") for _ in range(3)] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "1", True])
def test_pacer_rejects_bad_interval(bad: object) -> None:
    with pytest.raises(LocalProtocolError):
        Pacer(min_interval=bad)  # type: ignore[arg-type]


def test_backoff_formula_replays_from_the_rng() -> None:
    backoff = Backoff(base_delay=2.0, max_retries=3, rng=random.Random(42))
    reference = random.Random(42)
    for attempt in (1, 2, 3):
        assert backoff.delay(attempt) == 2.0 * 2**attempt * (1 + reference.random())


def test_backoff_bounds() -> None:
    backoff = Backoff(rng=random.Random(1))
    for attempt in (1, 2, 3):
        delay = backoff.delay(attempt)
        assert 2.0 * 2**attempt <= delay < 2.0 * 2**attempt * 2


def test_retry_after_is_a_lower_bound() -> None:
    backoff = Backoff(rng=random.Random(1), max_wait=200.0)
    assert backoff.delay(1, retry_after=100.0) == 100.0
    assert backoff.delay(1, retry_after=0.5) >= 4.0


def test_no_wait_exceeds_max_wait_and_a_longer_retry_after_is_not_accepted() -> None:
    backoff = Backoff(rng=random.Random(1), base_delay=50.0)
    assert backoff.max_wait == 60.0
    assert backoff.delay(3) == 60.0
    assert backoff.accepts(None)
    assert backoff.accepts(60.0)
    assert not backoff.accepts(60.5)
    assert not backoff.accepts(1e300)
    assert "max_wait=60.0" in repr(backoff)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "5", True])
def test_max_wait_must_be_seconds(bad: object) -> None:
    with pytest.raises(LocalProtocolError):
        Backoff(max_wait=bad)  # type: ignore[arg-type]


def test_allows_counts_retries_from_one() -> None:
    backoff = Backoff(max_retries=2)
    assert [backoff.allows(n) for n in (0, 1, 2, 3)] == [False, True, True, False]
    assert not Backoff(max_retries=0).allows(1)
    assert "max_retries=2" in repr(backoff)


@pytest.mark.parametrize(
    "kwargs",
    [{"base_delay": -1.0}, {"max_retries": -1}, {"max_retries": 1.5}, {"max_retries": True}],
)
def test_backoff_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_default_rngs_are_independent_of_the_global_state() -> None:
    random.seed(0)
    a = Backoff().delay(1)
    random.seed(0)
    b = Backoff().delay(1)
    assert a != b  # fresh Random() instances, not the module's global generator
