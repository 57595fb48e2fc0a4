"""Checking a client's ``x-vqd-hash-1`` proof against the challenge the emulator issued.

A proof is base64 of compact JSON (docs/protocol.md, "The challenge and the proof")::

    {"server_hashes": [...], "client_hashes": [base64(sha256(String(v))) for v in values],
     "signals": {}, "meta": {"v", "challenge_id", "timestamp", "debug",
                             "origin", "stack", "duration"}}

``String(v)`` is JavaScript's: the core's ``js_string`` (re-exported here), the one
definition, so the client hashes and the emulator checks with the same code; the
SHA-256 is over its UTF-8 bytes, lone surrogates replaced by U+FFFD as ``TextEncoder`` does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Final

from sansio_chat.emulator.ddg2026._generator import PROOF_VERSION, Challenge2026
from sansio_chat.providers.ddg.proof import js_string
from sansio_chat.providers.ddg_challenge import sha256_b64

__all__ = [
    "MAX_PROOF_LENGTH",
    "client_hash",
    "decode_proof",
    "expected_client_hashes",
    "js_string",
    "verify_proof",
]

MAX_PROOF_LENGTH: Final = 64 * 1024
"""The longest proof header accepted, in characters; a longer one is refused unread."""

_MAX_STACK = 8 * 1024
_DURATION = re.compile(r"[0-9]{1,9}")
_TOP_KEYS = frozenset({"server_hashes", "client_hashes", "signals", "meta"})
_META_KEYS = frozenset({"v", "challenge_id", "timestamp", "debug", "origin", "stack", "duration"})


def client_hash(value: object) -> str:
    """One ``client_hashes`` entry: base64 of SHA-256 of ``String(value)`` in UTF-8."""
    return sha256_b64(js_string(value))


def expected_client_hashes(challenge: Challenge2026) -> tuple[str, ...]:
    """The ``client_hashes`` a proof of ``challenge`` must carry."""
    return tuple(client_hash(value) for value in challenge.client_values)


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def decode_proof(proof: str) -> dict[str, object] | str:
    """The proof's JSON object (base64, UTF-8, JSON without repeated keys), or why it cannot
    be read."""
    if len(proof) > MAX_PROOF_LENGTH:
        return f"the proof is longer than {MAX_PROOF_LENGTH} characters"
    try:
        raw = base64.b64decode(proof.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return "the proof is not base64"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "the proof is not UTF-8"
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        return f"the proof repeats the key {str(exc)[:40]!r}"
    except (ValueError, RecursionError):
        return "the proof is not JSON"
    if not isinstance(data, dict):
        return "the proof is not a JSON object"
    return data


def verify_proof(challenge: Challenge2026, proof: str, origin: str) -> str | None:
    """``None`` if ``proof`` answers ``challenge`` from ``origin``; otherwise why not.

    Checked: the exact key sets (top level and ``meta``); the server hashes; the client
    hashes against the values a clean browser computes on the emulator's page; ``signals``
    empty; ``meta.v``, ``challenge_id``, ``timestamp`` and ``debug`` as the script resolves
    them; ``meta.origin`` equal to ``origin``; ``meta.stack`` a non-empty string (at most
    8 KiB) and ``meta.duration`` decimal digits (milliseconds). Key order is not checked.
    """
    data = decode_proof(proof)
    if isinstance(data, str):
        return data
    if set(data) != _TOP_KEYS:
        return "the proof's keys are not server_hashes, client_hashes, signals, meta"
    if data["server_hashes"] != list(challenge.server_hashes):
        return "the server hashes are not the challenge's"
    hashes = data["client_hashes"]
    if not isinstance(hashes, list) or len(hashes) != len(challenge.client_values):
        return f"client_hashes must be a list of {len(challenge.client_values)} hashes"
    for index, (got, want) in enumerate(
        zip(hashes, expected_client_hashes(challenge), strict=True)
    ):
        if got != want:
            return f"client hash {index} is not what a clean browser computes"
    if data["signals"] != {}:
        return "signals must be an empty object"
    meta = data["meta"]
    if not isinstance(meta, dict) or set(meta) != _META_KEYS:
        return "meta's keys are not v, challenge_id, timestamp, debug, origin, stack, duration"
    expected: tuple[tuple[str, str], ...] = (
        ("v", PROOF_VERSION),
        ("challenge_id", challenge.challenge_id),
        ("timestamp", challenge.timestamp),
        ("debug", challenge.debug),
        ("origin", origin),
    )
    for key, want in expected:
        if meta[key] != want or not isinstance(meta[key], str):
            return f"meta.{key} is not the challenge's"
    stack = meta["stack"]
    if not isinstance(stack, str) or not stack or len(stack) > _MAX_STACK:
        return "meta.stack must be a non-empty string"
    duration = meta["duration"]
    if not isinstance(duration, str) or not _DURATION.fullmatch(duration):
        return "meta.duration must be milliseconds as a string of digits"
    return None
