"""``V8Solver``: challenge scripts in V8 (mini-racer) on a model of the duck.ai page."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections import OrderedDict
from functools import lru_cache
from importlib import resources
from typing import Any

from sansio_chat import ChallengeError, ChallengeResult, SolveChallenge

from ._base import page_json, run_off_loop
from ._fragment import MAX_SNIPPET_CHARS, parse_fragment

__all__ = ["V8Solver"]

_INSTALL_HINT = (
    "the V8 solver needs mini-racer (a dependency of sansio-chat that is missing here): "
    'pip install mini-racer (or: pip install "sansio-chat[js]")'
)
_MAX_ROUNDS = 8
_MAX_SNIPPETS = 64
_MAX_RESULT_CHARS = 1 << 20
_FRAGMENT_CACHE = 512


@lru_cache(maxsize=1)
def _prelude() -> str:
    text = resources.files(__package__).joinpath("page_model.js").read_text(encoding="utf-8")
    return text.rstrip().rstrip(";")


def _load_mini_racer() -> Any:
    try:
        import py_mini_racer
    except ImportError as exc:
        raise ChallengeError(_INSTALL_HINT) from exc
    return py_mini_racer


def _expression(script: str) -> str:
    """The script as one expression: a trailing ``;`` (a statement's end) is dropped."""
    return script.rstrip().rstrip(";")


class V8Solver:
    """Evaluates challenge scripts in V8 on a model of a clean duck.ai page.

    Every solve gets a fresh V8 isolate (nothing of one evaluation is visible to the next),
    bounded by ``time_limit`` seconds of wall time and ``max_memory`` bytes of V8 heap. The
    script sees the page model only: no filesystem, network or Python callbacks. ``innerHTML``
    snippets are parsed by the project's WHATWG code between evaluation rounds: a snippet the
    model has not parsed yet ends the round, and the script runs again with it parsed.

    Args:
        time_limit: seconds one solve may take, all rounds included.
        max_memory: the V8 heap limit per solve, in bytes.

    Raises:
        ChallengeError: mini-racer is not installed (``pip install "sansio-chat[js]"``).
    """

    def __init__(self, *, time_limit: float = 2.0, max_memory: int = 64 * 1024 * 1024) -> None:
        if time_limit <= 0 or max_memory <= 0:
            raise ValueError("time_limit and max_memory must be positive")
        self._mr = _load_mini_racer()
        self.time_limit = time_limit
        self.max_memory = max_memory
        self._fragments: OrderedDict[str, dict[str, object]] = OrderedDict()
        self._closed = False

    def __repr__(self) -> str:
        return f"V8Solver(time_limit={self.time_limit!r}, max_memory={self.max_memory!r})"

    def __enter__(self) -> V8Solver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Forget cached parses; the solver holds no isolate between solves."""
        self._closed = True
        self._fragments.clear()

    async def asolve(self, step: SolveChallenge) -> ChallengeResult:
        """:meth:`solve` in a worker thread; cancellation returns at once (see ``run_off_loop``)."""
        return await run_off_loop(self, step)

    def solve(self, step: SolveChallenge) -> ChallengeResult:
        """Evaluate ``step.script`` on ``step.page``; return what its promise resolved to.

        Raises:
            ChallengeError: the script threw or rejected, did not settle within the time
                limit, exceeded the memory limit, or resolved to something JSON cannot hold.
        """
        if self._closed:
            raise ChallengeError("the V8 solver is closed")
        started = time.monotonic()
        deadline = started + self.time_limit
        # Snippets parsed before that appear verbatim in the script are known up front,
        # which saves a round; any other snippet is learnt by running again.
        snippets = {s: f for s, f in self._fragments.items() if s in step.script}
        for _round in range(_MAX_ROUNDS):
            outcome = self._round(step, snippets, deadline)
            if not isinstance(outcome, _Resolved):
                for snippet in outcome:
                    snippets[snippet] = self._parse(snippet)
                if len(snippets) > _MAX_SNIPPETS:
                    raise ChallengeError(f"the script parses more than {_MAX_SNIPPETS} snippets")
                continue
            duration = (time.monotonic() - started) * 1000.0
            return ChallengeResult(value=outcome.value, duration_ms=duration)
        raise ChallengeError(
            f"the script kept asking for new innerHTML parses ({_MAX_ROUNDS} rounds)"
        )

    def _parse(self, snippet: str) -> dict[str, object]:
        cached = self._fragments.get(snippet)
        if cached is not None:
            self._fragments.move_to_end(snippet)
            return cached
        parsed = parse_fragment(snippet).to_json()
        self._fragments[snippet] = parsed
        if len(self._fragments) > _FRAGMENT_CACHE:
            self._fragments.popitem(last=False)
        return parsed

    def _round(
        self, step: SolveChallenge, snippets: dict[str, dict[str, object]], deadline: float
    ) -> _Resolved | list[str]:
        """One evaluation: the resolved value, or the list of snippets still to parse."""
        mr = self._mr
        nonce = secrets.token_hex(8)
        handle = f"__sansio_{nonce}"
        setup = (
            f"({_prelude()})({page_json(step.page)}, "
            f"{json.dumps(snippets, ensure_ascii=True)}, {json.dumps(nonce)}); 0"
        )
        ctx = mr.MiniRacer()
        timed_out = False
        try:
            ctx.set_hard_memory_limit(self.max_memory)
            self._eval(ctx, setup, deadline)
            thrown: str | None = None
            try:
                self._eval(ctx, f"{handle}.settle((\n{_expression(step.script)}\n)); 0", deadline)
            except mr.JSParseException as exc:
                raise ChallengeError(f"the script does not parse: {_first_line(exc)}") from None
            except (mr.JSTimeoutException, mr.JSOOMException):
                raise
            except mr.JSEvalException as exc:
                thrown = _first_line(exc)
            pause = 0.0002
            while True:
                raw = self._eval(ctx, f"{handle}.poll()", deadline)
                if raw is not None:
                    return self._outcome(raw)
                if thrown is not None:
                    raise ChallengeError(f"the script threw: {thrown}")
                if ctx.was_hard_memory_limit_reached():
                    raise ChallengeError("the script exceeded the memory limit")
                if time.monotonic() >= deadline:
                    raise ChallengeError(f"the script did not settle within {self.time_limit} s")
                time.sleep(pause)
                pause = min(pause * 2, 0.005)
        except mr.JSTimeoutException:
            timed_out = True
            raise ChallengeError(f"the script did not settle within {self.time_limit} s") from None
        except mr.JSOOMException:
            raise ChallengeError("the script exceeded the memory limit") from None
        except ChallengeError:
            raise
        except Exception as exc:  # any other mini-racer failure is the script's fault
            raise ChallengeError(f"the script failed: {_first_line(exc)}") from None
        finally:
            if timed_out:
                _settle_cancelled(ctx, mr)
            # Closing the isolate also ends a runaway microtask loop, which a timed-out
            # evaluation cannot stop (mini-racer runs microtasks between tasks).
            ctx.close()

    def _eval(self, ctx: Any, code: str, deadline: float) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChallengeError(f"the script did not settle within {self.time_limit} s")
        return ctx.eval(code, timeout_sec=remaining)

    @staticmethod
    def _outcome(raw: object) -> _Resolved | list[str]:
        if not isinstance(raw, str) or len(raw) > _MAX_RESULT_CHARS + 4096:
            raise ChallengeError("the script's result is too large")
        report = json.loads(raw)
        if "missing" in report:
            missing = report["missing"]
            if any(len(s) > MAX_SNIPPET_CHARS for s in missing):
                raise ChallengeError(
                    f"an innerHTML snippet is longer than {MAX_SNIPPET_CHARS} characters"
                )
            return [str(s) for s in dict.fromkeys(missing)]
        if "error" in report:
            raise ChallengeError(f"the script rejected: {report['error'].splitlines()[0][:500]}")
        text = report["ok"]
        if text is None:
            raise ChallengeError("the script resolved to undefined or a function")
        if len(text) > _MAX_RESULT_CHARS:
            raise ChallengeError("the script's result is too large")
        return _Resolved(json.loads(text))


class _Resolved:
    """Marks a resolved value (so a value that is itself a list is not a parse request)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    # mini-racer prints "<anonymous>:LINE: Error: message" first, then the source line.
    return (lines[0] if lines else type(exc).__name__)[:500]


# How long a close waits for a terminated evaluation to report back (see _settle_cancelled).
_SETTLE_SECONDS = 0.25


def _settle_cancelled(ctx: Any, mr: Any) -> None:
    """Let the isolate report the evaluation a timeout terminated, before it is closed.

    mini-racer delivers that report to its own event loop thread, which ``close()`` stops
    before it frees the isolate: a report still on its way then meets a closed loop and
    Python prints a traceback to stderr. A trivial evaluation runs after the terminated one
    and reports after it, so once it has returned, the earlier report has been handled. A
    runaway microtask loop keeps even that from running: then the close goes ahead anyway.
    """
    with contextlib.suppress(mr.JSEvalException, mr.JSTimeoutException, RuntimeError):
        ctx.eval("0", timeout_sec=_SETTLE_SECONDS)
