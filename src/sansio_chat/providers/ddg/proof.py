"""The ``x-vqd-hash-1`` proof of dialect ``2026``: what a challenge script resolved to, hashed.

The script runs outside the core (a :class:`~sansio_chat.SolveChallenge` step); here its
result becomes the header: each client value is hashed as ``base64(sha256(String(value)))``
with JavaScript's ``String()``, and ``meta`` gains the frontend's ``origin``, ``stack`` and
``duration``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import Any, Final

from sansio_chat._errors import ChallengeError

__all__ = ["DEFAULT_STACK", "MAX_PROOF_BYTES", "build_proof", "js_string"]

# The Error stack a frontend bundle records; the entry file's hash changes with each deploy.
DEFAULT_STACK = (
    "Error\nat l (https://duck.ai/dist/duckai-dist/entry.duckai.a3b6f0e1.js:2:1417204)\n"
    "at async https://duck.ai/dist/duckai-dist/entry.duckai.a3b6f0e1.js:2:1265533"
)
# A proof travels in one header; real ones are about 1 KiB. A script result this large is an
# attack or a bug, not an answer.
MAX_PROOF_BYTES: Final = 16 * 1024


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _js_number(value: float) -> str:
    # ECMAScript Number::toString: the shortest round-trip digits (which repr() also gives),
    # laid out by the standard's rules for where the decimal point and exponent go.
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0")
    digits = (whole + fraction).lstrip("0")
    # value = 0.digits * 10**n
    n = len(whole) + int(exponent or 0) if whole != "0" else int(exponent or 0)
    if whole == "0":
        n -= len(fraction) - len(fraction.lstrip("0"))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        head = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{head}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def js_string(value: object) -> str:
    """``String(value)`` as JavaScript computes it, for a value that came out of JSON.

    Strings are themselves; ``true``/``false``/``null``; numbers as ECMAScript prints
    them (``1``, ``0.5``, ``1e+21``; an integer beyond 2**53 as the double nearest to it,
    as JavaScript holds it); an array joins its items' strings with ``,``
    (``null`` items as empty); an object is ``[object Object]``.
    """
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        if abs(value) <= 2**53:
            return str(value)
        # JavaScript holds the nearest double (JSON.parse of a long integer does the same).
        try:
            return _js_number(float(value))
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def _utf8(text: str) -> bytes:
    # TextEncoder's UTF-8: a lone surrogate becomes U+FFFD, as in the browser that hashes.
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def _hash(value: object) -> str:
    digest = hashlib.sha256(_utf8(js_string(value))).digest()
    return base64.b64encode(digest).decode("ascii")


def _script_result(value: object) -> tuple[list[str], list[Any], dict[str, Any], dict[str, Any]]:
    if not isinstance(value, dict):
        raise ChallengeError(
            f"the challenge script resolved to {type(value).__name__}, not an object"
        )
    server_hashes = value.get("server_hashes")
    client_values = value.get("client_hashes")
    signals = value.get("signals", {})
    meta = value.get("meta")
    if not (
        isinstance(server_hashes, list)
        and server_hashes
        and all(isinstance(h, str) for h in server_hashes)
    ):
        raise ChallengeError("the script's result has no server_hashes strings")
    if not isinstance(client_values, list) or not client_values:
        raise ChallengeError("the script's result has no client_hashes values")
    if not isinstance(meta, dict) or not isinstance(signals, dict):
        raise ChallengeError("the script's result has no meta object")
    return server_hashes, client_values, signals, meta


def build_proof(
    value: object, *, origin: str, duration_ms: float, stack: str = DEFAULT_STACK
) -> str:
    """The ``x-vqd-hash-1`` proof for what a challenge script resolved to.

    Each client value is hashed as ``base64(sha256(String(value)))``; ``meta`` gains
    ``origin``, ``stack`` and ``duration`` (whole milliseconds, as a string) after the
    script's own keys. A result of the wrong shape, or one too large for a header, raises
    :class:`~sansio_chat.ChallengeError`.
    """
    server_hashes, client_values, signals, meta = _script_result(value)
    if not math.isfinite(duration_ms) or duration_ms < 0:
        raise ChallengeError(f"duration_ms must be a finite number >= 0, not {duration_ms!r}")
    proof = {
        "server_hashes": server_hashes,
        "client_hashes": [_hash(v) for v in client_values],
        "signals": signals,
        "meta": {**meta, "origin": origin, "stack": stack, "duration": str(round(duration_ms))},
    }
    try:
        # ASCII JSON: the same value once decoded, and no lone surrogate can break the bytes.
        text = json.dumps(proof, separators=(",", ":"), allow_nan=False).encode("ascii")
    except ValueError as exc:
        raise ChallengeError(f"the script's result cannot be sent: {exc}") from exc
    if len(text) > MAX_PROOF_BYTES:
        raise ChallengeError(
            f"the script's result makes a {len(text)}-byte proof (limit {MAX_PROOF_BYTES})"
        )
    return base64.b64encode(text).decode("ascii")
