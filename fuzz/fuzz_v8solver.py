# ruff: noqa: E501 - JavaScript fragments keep one statement per line
"""Fuzz ``V8Solver`` with generated hostile challenge scripts (hypothesis, time-boxed).

Scripts are assembled from fragments that stress the sandbox and the page model: endless
loops (sync and in microtasks), deep recursion, big allocations, never-settling promises,
throws of odd values, DOM calls with random arguments (innerHTML snippets, selectors, iframe
juggling), results JSON cannot hold, and random text. For every script:

1. ``solve`` returns a ``ChallengeResult`` or raises ``ChallengeError`` — nothing else;
2. it returns within the time limit plus a small slack;
3. the next solve of a known script still gives the known answer (the process is healthy).

Run (prints executions and failures at the end)::

    nice -n 10 .venv/bin/python fuzz/fuzz_v8solver.py --seconds 600
"""

from __future__ import annotations

import argparse
import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sansio_chat.adapters.solvers import V8Solver

from sansio_chat import ChallengeError, ChallengePage, ChallengeResult, SolveChallenge

LIMIT = 0.5
SLACK = 1.0
PAGE = ChallengePage(
    origin="https://duck.ai",
    user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0.0.0 Safari/537.36",
    brands=(("Chromium", "140"),),
)
CANARY = SolveChallenge(script="(async()=>navigator.userAgent + 0x1)()", page=PAGE)

_STATEMENTS = [
    "for(;;){}",
    "while(true) x = [x];",
    "await null; for(;;){}",
    "(function f(){ f(); })();",
    "const a = []; for(;;) a.push(new Array(1e5).fill(0.5));",
    "let s = 'ab'; for(;;) s += s;",
    "await new Promise(() => {});",
    "throw {toString(){ for(;;){} }};",
    "throw Symbol('x');",
    "throw null;",
    "x = document.createElement('div'); x.innerHTML = {s}; r = [x.innerHTML.length, x.querySelectorAll('*').length];",
    "r = document.querySelectorAll({s}).length;",
    "i = document.createElement('iframe'); document.body.appendChild(i); r = typeof i.contentWindow.self.get; i.remove();",
    "r = window.top.document.querySelector('#jsa').sandbox + '';",
    "r = Object.keys(window.top);",
    "r = navigator.userAgentData.brands;",
    "r = atob(btoa({s}));",
    "r = JSON.stringify(r) + {s};",
    "r = {a: r}; r.a.self = r;",
    "r = () => 1;",
    "r = 10n;",
    "r = new Array(1e6).join('x');",
    "setTimeout(() => { for(;;){} }, 1);",
    "await new Promise(res => setTimeout(res, 5));",
    "Object.defineProperty(window, 'x', {get(){ for(;;){} }}); r = x;",
    "r = new Proxy({}, {ownKeys(){ throw 1 }});",
    "document.body.appendChild(document.body);",
    "r = document.createElement({s});",
]


@st.composite
def scripts(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        template = draw(st.sampled_from(_STATEMENTS))
        literal = json.dumps(draw(st.text(max_size=40)))
        parts.append(template.replace("{s}", literal))
    if draw(st.booleans()):
        parts.append(draw(st.text(max_size=30)))
    body = (
        " try { " + " ".join(parts) + " } catch (e) {} " if draw(st.booleans()) else " ".join(parts)
    )
    return "(async function(){ let r = 0, x, i; " + body + " return r; })()"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    solver = V8Solver(time_limit=LIMIT, max_memory=32 * 1024 * 1024)
    expected = solver.solve(CANARY).value
    stats = {"execs": 0, "ok": 0, "challenge_error": 0, "slowest": 0.0}
    deadline = time.monotonic() + args.seconds

    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(scripts())
    def check(script: str) -> None:
        if time.monotonic() > deadline:
            return
        started = time.monotonic()
        try:
            result = solver.solve(SolveChallenge(script=script, page=PAGE))
            assert isinstance(result, ChallengeResult)
            json.dumps(result.value)
            stats["ok"] += 1
        except ChallengeError:
            stats["challenge_error"] += 1
        elapsed = time.monotonic() - started
        stats["slowest"] = max(stats["slowest"], elapsed)
        assert elapsed < LIMIT + SLACK, f"took {elapsed:.2f} s: {script!r}"
        assert solver.solve(CANARY).value == expected, f"unhealthy after {script!r}"
        stats["execs"] += 1

    while time.monotonic() < deadline:
        check()
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
