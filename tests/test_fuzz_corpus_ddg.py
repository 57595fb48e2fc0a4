"""Replay fuzz/fuzz_ddg.py's seed corpus (no fuzzer needed), plus its known-bug inputs.

The harness asserts its invariants itself; a replayed input passes when it returns.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
CORPORA = (FUZZ / "corpus" / "ddg", FUZZ / "corpus" / "darkai", FUZZ / "corpus" / "ddg2026")


def _load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_ddg", FUZZ / "fuzz_ddg.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_ddg", module)
    spec.loader.exec_module(module)
    return module


harness = _load_harness()
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
