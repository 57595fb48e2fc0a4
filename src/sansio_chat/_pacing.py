"""Pacing and back-off as pure values: they decide how long to wait, never wait themselves.

Time comes from an injected ``clock`` and randomness from an injected ``random.Random``, so a
test replays any schedule exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import LocalProtocolError

if TYPE_CHECKING:
    import random

__all__ = [
    "DEFAULT_BASE_DELAY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_WAIT",
    "DEFAULT_MIN_INTERVAL",
    "Backoff",
    "Pacer",
]

Clock = Callable[[], float]

# The seed spaced requests to the service 1.5 s apart; lower values invite 429/418 storms.
DEFAULT_MIN_INTERVAL = 1.5
# The seed's back-off: 2 s · 2^attempt · (1 + u), up to 3 retries after the first try.
DEFAULT_BASE_DELAY = 2.0
DEFAULT_MAX_RETRIES = 3
# The longest wait a turn sits out for a retry. A server's Retry-After beyond it ends the turn
# at once (RateLimitError with the retry_after it asked for): a hostile or confused server
# must not park a client for hours, and a person would rather be told than wait a minute more.
DEFAULT_MAX_WAIT = 60.0


def _check_seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LocalProtocolError(f"{name} must be a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise LocalProtocolError(f"{name} must be finite and >= 0, not {value!r}")
    return float(value)


class Pacer:
    """Spaces the requests to each host at least ``min_interval`` seconds apart.

    One pacer is shared by every session of one client (it is the client's, not the
    process's). It answers "send now" (``0.0``) or "wait N seconds" from the injected clock.

    Args:
        min_interval: the minimum spacing between two requests to one host, in seconds.
        clock: a monotonic clock in seconds (default :func:`time.monotonic`).
    """

    __slots__ = ("_clock", "_last", "min_interval")

    def __init__(self, min_interval: float = DEFAULT_MIN_INTERVAL, clock: Clock | None = None):
        self.min_interval = _check_seconds("min_interval", min_interval)
        self._clock: Clock = clock if clock is not None else time.monotonic
        self._last: dict[str, float] = {}

    @property
    def clock(self) -> Clock:
        """The clock this pacer reads."""
        return self._clock

    def delay(self, host: str) -> float:
        """Seconds to wait before a request to ``host`` may go out (``0.0``: send now)."""
        last = self._last.get(host)
        if last is None:
            return 0.0
        remaining = last + self.min_interval - self._clock()
        return remaining if remaining > 0 else 0.0

    def record(self, host: str) -> None:
        """Note that a request to ``host`` goes out now."""
        self._last[host] = self._clock()

    def reserve(self, host: str) -> float:
        """Return :meth:`delay`; when it is ``0.0`` also :meth:`record` the request."""
        wait = self.delay(host)
        if wait == 0.0:
            self.record(host)
        return wait

    def __repr__(self) -> str:
        return f"Pacer(min_interval={self.min_interval!r}, hosts={sorted(self._last)!r})"


class Backoff:
    """Jittered exponential back-off: ``base_delay · 2^attempt · (1 + u)``, u in [0, 1).

    ``attempt`` counts retries from 1; at most ``max_retries`` retries follow the first try.
    A server's ``Retry-After`` is a lower bound on the delay; one longer than ``max_wait``
    is not waited for (see :meth:`accepts`), and no delay exceeds ``max_wait``.

    Args:
        base_delay: seconds; the first retry waits between ``2·base_delay`` and
            ``4·base_delay``.
        max_retries: how many retries a turn may make.
        rng: the source of ``u`` (default: a fresh :class:`random.Random`; never the
            ``random`` module's global state).
        max_wait: the longest single wait, in seconds (default 60).
    """

    __slots__ = ("base_delay", "max_retries", "max_wait", "rng")

    def __init__(
        self,
        base_delay: float = DEFAULT_BASE_DELAY,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rng: random.Random | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.base_delay = _check_seconds("base_delay", base_delay)
        self.max_wait = _check_seconds("max_wait", max_wait)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise LocalProtocolError(f"max_retries must be an int >= 0, not {max_retries!r}")
        self.max_retries = max_retries
        if rng is None:
            import random  # here, not at `import sansio_chat` (bench/bench_startup.py)

            rng = random.Random()
        self.rng = rng

    def allows(self, attempt: int) -> bool:
        """Whether retry number ``attempt`` (from 1) is within ``max_retries``."""
        return 1 <= attempt <= self.max_retries

    def accepts(self, retry_after: float | None) -> bool:
        """Whether a server's ``Retry-After`` is short enough to wait for."""
        return retry_after is None or retry_after <= self.max_wait

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before retry ``attempt`` (at most ``max_wait``); draws one number from
        ``rng``."""
        wait = self.base_delay * (2.0**attempt) * (1.0 + self.rng.random())
        if retry_after is not None and retry_after > wait:
            wait = retry_after
        return min(wait, self.max_wait)

    def __repr__(self) -> str:
        return (
            f"Backoff(base_delay={self.base_delay!r}, max_retries={self.max_retries!r}, "
            f"max_wait={self.max_wait!r})"
        )
