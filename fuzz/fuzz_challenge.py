"""atheris harness for the ``x-vqd-hash-1`` challenge solver.

Input layout: the first byte chooses what the rest is (bits 0-1): a base64 header as text,
raw bytes to base64-encode into a header, a snippet to wrap in a well-formed program, or a
whole program. For every input, ``check`` asserts:

1. only ``ChallengeError`` escapes ``build_x_vqd_hash_1``, ``solve_challenge``,
   ``dom_fingerprint`` and ``inner_html``;
2. each call finishes within ``BUDGET_SECONDS`` of wall time (the solver promises 50 ms for
   any header up to 100 KiB; the budget leaves room for a loaded machine and the fuzzer's
   instrumentation: an input over budget is timed twice more on an uninstrumented copy of
   the solver, and fails if slow there both times);
3. a solved header is base64 of JSON with the program's server hashes, and
   ``inner_html_length`` agrees with the UTF-16 length of ``inner_html``;
4. a program is read alike (the same fields, or the same refusal) by the one-pass reader of
   the service's layout and by the general scans (the wrapped snippets are in that layout).

Run a campaign: ``python fuzz/fuzz_challenge.py WORKDIR fuzz/corpus/challenge`` (see
fuzz/README.md). Without atheris the module still imports, so pytest replays the corpus.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable

if __name__ == "__main__":
    import atheris

    with atheris.instrument_imports(include=["sansio_chat"]):
        import sansio_chat.providers.ddg_challenge  # noqa: F401 (instrumentation only)

import importlib.util
from types import ModuleType

from sansio_chat import ChallengeError
from sansio_chat.emulator.challenge import js_string_literal
from sansio_chat.providers import ddg_challenge as SOLVER
from sansio_chat.providers.ddg_challenge import utf16_length


def _uninstrumented() -> ModuleType:
    """A second copy of the solver module, loaded outside atheris's instrumentation."""
    spec = importlib.util.find_spec("sansio_chat.providers.ddg_challenge")
    assert spec is not None
    assert spec.origin is not None
    copy = importlib.util.spec_from_file_location("_ddg_challenge_plain", spec.origin)
    assert copy is not None
    assert copy.loader is not None
    module = importlib.util.module_from_spec(copy)
    sys.modules[copy.name] = module  # dataclasses look their module up there
    copy.loader.exec_module(module)
    return module


# Coverage and exceptions come from the instrumented module; an input over the time budget
# is timed again on this copy, since instrumentation (and libFuzzer's comparison hooks)
# slow the solver's loops down many times over.
PLAIN = _uninstrumented() if __name__ == "__main__" else SOLVER

BUDGET_SECONDS = 0.2
HEADERS = {"User-Agent": "Mozilla/5.0 fuzz", "sec-ch-ua": '"Chromium";v="156"'}


def _timed(name: str, *args: object) -> object | None:
    """Call ``SOLVER.<name>(*args)``: only ``ChallengeError`` may escape, within the budget.

    An input over budget is timed twice more on the uninstrumented copy; it fails only if
    it is over budget there both times (the machine is shared: a slow input is always slow).
    """
    result: object | None = None
    timings = []
    for module in (SOLVER, PLAIN, PLAIN):
        start = time.perf_counter()
        try:
            result = getattr(module, name)(*args)
        except ChallengeError:
            result = None
        timings.append(time.perf_counter() - start)
        if timings[-1] < BUDGET_SECONDS:
            break
    best = min(timings)
    assert best < BUDGET_SECONDS, f"{name} took {best * 1000:.0f} ms (best of three runs)"
    return result


def program(snippet: str) -> str:
    """A well-formed challenge program around ``snippet``."""
    return (
        "(function(){const e=document.createElement('div');"
        f"e.innerHTML={js_string_literal(snippet)};"
        'return {server_hashes:["s1","s2"],client_hashes:[navigator.userAgent,'
        "(function(){return String(7+e.innerHTML.length);})()],signals:{}};})();"
    )


def _outcome(read: Callable[[str], object], js: str) -> object:
    try:
        return read(js)
    except ChallengeError as error:
        return str(error)


def _check_reading(js: str) -> None:
    """Both program readers agree; the first is the one-pass reader where the layout fits."""
    assert _outcome(SOLVER._read_challenge, js) == _outcome(SOLVER._read_any_program, js)


def _check_header(header: str) -> None:
    solved = _timed("build_x_vqd_hash_1", header, HEADERS)
    if solved is not None:
        assert isinstance(solved, str)
        answer = json.loads(base64.b64decode(solved, validate=True))
        assert set(answer) == {"server_hashes", "client_hashes", "signals"}
        assert len(answer["client_hashes"]) == 2


def _check_snippet(snippet: str) -> None:
    html = _timed("inner_html", snippet)
    if html is not None:
        assert isinstance(html, str)
        assert SOLVER.inner_html_length(snippet) == utf16_length(html)
    js = program(snippet)
    if len(js) <= SOLVER.MAX_CHALLENGE_CHARS:
        assert SOLVER._USUAL_PROGRAM.fullmatch(js) is not None
        _check_reading(js)
    solved = _timed("solve_challenge", js, HEADERS)
    fingerprint = _timed("dom_fingerprint", js)
    assert (solved is None) == (fingerprint is None) == (html is None)
    if html is not None:
        assert fingerprint == str(7 + utf16_length(html))
        answer = json.loads(base64.b64decode(str(solved)))
        assert answer["server_hashes"] == ["s1", "s2"]


def check(data: bytes) -> None:
    """Assert the harness's invariants on one input (see the module docstring)."""
    if not data:
        return
    mode, rest = data[0] & 3, data[1:]
    text = rest.decode("utf-8", "replace")
    if mode == 0:
        _check_header(text)
    elif mode == 1:
        _check_header(base64.b64encode(rest).decode("ascii"))
    elif mode == 2:
        _check_snippet(text)
    else:
        _timed("solve_challenge", text, HEADERS)
        _timed("dom_fingerprint", text)
        if len(text) <= SOLVER.MAX_CHALLENGE_CHARS:
            _check_reading(text)


def test_one_input(data: bytes) -> None:
    check(data)


def main() -> None:
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
