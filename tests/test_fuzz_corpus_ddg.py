"""Replay fuzz/fuzz_ddg.py's seed corpus (no fuzzer needed), plus its known-bug inputs.

The harness asserts its invariants itself; a replayed input passes when it returns.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_support import FUZZ, load_harness

CORPORA = (FUZZ / "corpus" / "ddg", FUZZ / "corpus" / "darkai", FUZZ / "corpus" / "ddg2026")


harness = load_harness("fuzz_ddg")
SEEDS = sorted(p for corpus in CORPORA for p in corpus.iterdir() if p.is_file())


def test_corpus_is_the_documented_seed_set() -> None:
    on_disk = {f"{p.parent.name}/{p.name}": p.read_bytes() for p in SEEDS}
    assert on_disk == harness.seed_inputs()


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_replay_seed(path: Path) -> None:
    harness.TestOneInput(path.read_bytes())


def test_every_target_is_seeded() -> None:
    targets = {p.read_bytes()[0] % len(harness.TARGETS) for p in SEEDS}
    assert targets == set(range(len(harness.TARGETS)))


@settings(max_examples=50)
@given(st.integers(0, len(harness.TARGETS) - 1), st.binary(max_size=200))
def test_random_inputs_hold_the_invariants(target: int, payload: bytes) -> None:
    harness.TestOneInput(bytes([target]) + payload)


# Found while writing the harness: json.loads raises RecursionError (not a ValueError) on
# deeply nested arrays, and the payload rules let it escape the session untyped. A reply
# of about 1 KiB is enough. These must become RemoteProtocolError (or be ignored).
DEEP = b"[" * 5000


@pytest.mark.parametrize(
    "data",
    [
        b'\x02data: {"message": ' + DEEP + b"\n\n",
        b'\x03data: {"event": ' + DEEP + b"\n\n",
        b"\x04\x03" + DEEP,
        b"\x04\x06" + b'{"a":' + DEEP,
    ],
    ids=["ddg-stream", "darkai-stream", "ddg-error-body", "ddg-200-json-body"],
)
def test_deeply_nested_json_is_a_typed_error(data: bytes) -> None:
    harness.TestOneInput(data)


# Found by the harness: a response header value (or fe-version page marker) holding CR or
# NUL (the session accepts any str from receive_response_head) is copied into the next
# request's x-vqd-4, cookie or x-fe-version header, so the session hands out a request no
# HTTP client may send (a header injection when the driver does not check). Such values
# must be refused (RemoteProtocolError) or dropped.
_SOLVABLE = harness.CHALLENGE.encode()


@pytest.mark.parametrize(
    "data",
    [
        b"\x00x-vqd-4: 4-1\rInjected: yes\nx-vqd-hash-1: " + _SOLVABLE,
        b"\x00x-vqd-4: 4-1\x00\nx-vqd-hash-1: " + _SOLVABLE,
        b"\x00x-vqd-4: 4-1\nx-vqd-hash-1: " + _SOLVABLE + b"\nset-cookie: a=b\rc",
        # the atheris campaign's crash: a CR inside the page's __DDG_FE_CHAT_HASH__ marker
        b'\x05<script>__DDG_BE_VERSION__="serp_1";__DDG_FE_CHAT_HASH__="\rab";</script>',
    ],
    ids=["vqd-cr", "vqd-nul", "set-cookie-cr", "fe-version-cr"],
)
def test_response_header_values_never_reach_a_request_unchecked(data: bytes) -> None:
    harness.TestOneInput(data)


# The dialect-2026 seeds reach the paths they are named for (a replay that passes because
# every turn failed early would cover nothing).
SEEDS_2026 = harness._seeds_2026()


def _reply_outcome(name: str) -> tuple[tuple[object, ...], tuple[str, str] | None, str]:
    data = SEEDS_2026[name]
    assert data[0] == 8
    outcome: tuple[tuple[object, ...], tuple[str, str] | None, str]
    outcome = harness._both_ways_2026("chat", harness._reply_2026(data[1:]))
    return outcome


def test_2026_marker_seed_gives_every_marker_event() -> None:
    events, error, _ = _reply_outcome("reply-markers")
    assert error is None
    names = [type(e).__name__ for e in events]
    for wanted in ("TitleEvent", "UsageEvent", "WarningEvent", "TokenEvent", "VqdUpdate"):
        assert wanted in names, names
    finished = events[-1]
    assert (finished.reason, finished.stop_reason) == ("account_limit", "length")  # type: ignore[attr-defined]
    warnings = [e.remaining for e in events if type(e).__name__ == "WarningEvent"]  # type: ignore[attr-defined]
    assert warnings == [2, None]


def test_2026_partial_image_seed_is_surfaced() -> None:
    events, error, _ = _reply_outcome("reply-partial-image")
    assert error is None
    assert [type(e).__name__ for e in events].count("ImageEvent") == 1


@pytest.mark.parametrize(
    "name",
    [
        "reply-limit-before-done",
        # Found by a seed test: [DONE] used to finish before the limit after it was read.
        "reply-limit-conversation",
    ],
)
def test_2026_conversation_limit_seed_exhausts_the_conversation(name: str) -> None:
    events, error, after = _reply_outcome(name)
    assert error is None
    assert events[-1].reason == "conversation_limit"  # type: ignore[attr-defined]
    assert harness.Conversation.from_json(after).exhausted


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("reply-cut", "StreamInterrupted"),
        ("reply-not-a-marker", "RemoteProtocolError"),  # markers are upper case, else JSON
        ("reply-400-bad-request", "HTTPStatusError"),  # the live list names the model
        ("reply-json-error", None),  # a refused proof is retried with a fresh challenge
        ("reply-418", None),
    ],
)
def test_2026_reply_seed_outcomes(name: str, error: str | None) -> None:
    _events, outcome_error, _after = _reply_outcome(name)
    assert (outcome_error[0] if outcome_error else None) == error


def test_2026_discovery_seed_settles_the_era_the_status_names() -> None:
    for name, era in (
        ("status-era-2025", "2025-03"),
        ("status-era-2024", "2024"),
        ("status-ok", "2026"),
    ):
        headers = harness._status_headers(SEEDS_2026[name][1:])
        session, clock = harness._session_2026(dialect=None)
        answer = harness._fuzz_first("status", (200, headers, b""), harness._later_for(era))
        _events, error, _after = harness._drive(
            session, clock, answer, harness._whole, harness._good_solve
        )
        assert error is None, (name, error)
        assert harness.DuckDuckGoState.of(session.conversation).dialect == era


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("result-good", None),
        ("result-failure", "ChallengeError"),
        ("result-not-object", "ChallengeError"),
        ("result-nan-duration", "ChallengeError"),
        ("result-deep", "ChallengeError"),
    ],
)
def test_2026_result_seed_outcomes(name: str, outcome: str | None) -> None:
    answer = harness._answer(harness._Reader(SEEDS_2026[name][1:]))
    session, clock = harness._session_2026()
    later = harness._later_for("2026")
    _events, error, _after = harness._drive(
        session, clock, lambda r: (later(r), False), harness._whole, lambda step: answer
    )
    assert (error[0] if error else None) == outcome, error


def test_2026_models_seed_names_the_live_models() -> None:
    body = SEEDS_2026["models-ok"][2:]
    _events, error, _after = harness._both_ways_2026(
        "models",
        (200, (), body),
        model="gpt-9-fuzz",
        later=lambda r: (
            harness.BAD_REQUEST_2026
            if harness._kind(r) == "chat"
            else harness._later_for("2026")(r)
        ),
    )
    assert error is not None
    assert error[0] == "ModelNotSupportedError"
    assert "gpt-9-fuzz" in error[1]
    assert "claude-haiku-4-5" in error[1]


# Found by the 2026 campaign (fixed): an event whose data starts with "{" and mentions
# "partial-image" but is not JSON (or is nested too deeply) let a ValueError out of
# next_event(). It is a RemoteProtocolError like any other malformed event.
@pytest.mark.parametrize(
    "data",
    [
        b'\x08\x00data: {"partial-image"\n\ndata: [DONE]\n\n',
        b'\x08\x00data: {"partial-image":' + DEEP + b"\n\n",
        # the campaign's artifact
        b'\x08\x00data: {"role":"assistant","message":"Hel","action":"success"}\n\n'
        b'data: {"role":"partial-image","image":"data:image/png;base64,AAAA","index":0ta: '
        b'{"partial-iial-image":1}\n\ndata: [DONE]\n\n',
    ],
    ids=["not-json", "too-deep", "campaign"],
)
def test_partial_image_text_that_is_not_json_is_a_typed_error(data: bytes) -> None:
    harness.TestOneInput(data)
