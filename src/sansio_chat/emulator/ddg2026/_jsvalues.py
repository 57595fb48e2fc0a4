"""JavaScript value semantics the generator's model needs: ``String(v)``, ``parseInt``, UTF-16.

The generator predicts what a browser computes, so every operation it folds into a challenge
is modelled here with JavaScript's exact rules, not Python's.
"""

from __future__ import annotations

import math
import unicodedata

__all__ = ["js_parse_int", "js_string", "utf16_units"]

# StrWhiteSpaceChar: WhiteSpace and LineTerminator (ECMA-262, "StringToNumber"). Besides
# these, every character of Unicode category Zs counts.
_JS_WHITESPACE = frozenset("\t\n\v\f\r \u00a0\u2028\u2029\ufeff")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def utf16_units(text: str) -> list[int]:
    """``text`` as JavaScript sees it: a list of UTF-16 code units."""
    units: list[int] = []
    for ch in text:
        code = ord(ch)
        if code > 0xFFFF:
            code -= 0x10000
            units.append(0xD800 + (code >> 10))
            units.append(0xDC00 + (code & 0x3FF))
        else:
            units.append(code)
    return units


def _is_js_space(ch: str) -> bool:
    return ch in _JS_WHITESPACE or unicodedata.category(ch) == "Zs"


def js_parse_int(text: str) -> int | None:
    """``parseInt(text)`` with no radix; ``None`` stands for ``NaN``.

    The result is exact; a caller comparing it with a double must check it is a safe integer.
    """
    i = 0
    while i < len(text) and _is_js_space(text[i]):
        i += 1
    sign = 1
    if i < len(text) and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    radix = 10
    if text[i : i + 2] in ("0x", "0X"):
        radix = 16
        i += 2
    start = i
    while i < len(text) and text[i].lower() in _DIGITS[:radix] and text[i].isascii():
        i += 1
    if i == start:
        return None
    return sign * int(text[start:i], radix)


def _number_to_string(value: float) -> str:
    """``Number.prototype.toString()`` for a double (ECMA-262 Number::toString, radix 10)."""
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"  # both zeros
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value < 0:
        return "-" + _number_to_string(-value)
    # repr gives the shortest digits that round-trip, as the standard asks; only the layout
    # differs, so take the digits and the exponent apart and lay them out again.
    digits, exponent = _shortest_digits(value)
    k = len(digits)
    n = exponent  # value = 0.digits * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{mantissa}e{sign}{abs(n - 1)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Digits ``d1..dk`` (no zeros at either end) and ``n`` with ``value == 0.d1..dk * 10**n``."""
    mantissa, _, exp_text = repr(value).partition("e")
    whole, _, frac = mantissa.partition(".")
    all_digits = whole + frac
    point = len(whole) + (int(exp_text) if exp_text else 0)
    stripped = all_digits.lstrip("0")
    point -= len(all_digits) - len(stripped)
    return stripped.rstrip("0"), point


def js_string(value: object) -> str:
    """``String(value)`` in JavaScript, for a value decoded from JSON.

    Strings are themselves; ``True``/``False`` are ``"true"``/``"false"``; ``None`` (``null``)
    is ``"null"``; integers are written in decimal (as JavaScript writes a number with that
    value; beyond 2**53 the double nearest to it is written); floats follow Number::toString
    (``1e+21``, ``1.5e-7``, ``0.1``; ``-0`` is ``"0"``); a list is its items' strings joined by
    ``,`` (``null`` items as ``""``), as ``Array.prototype.join``; an object is
    ``"[object Object]"``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        if abs(value) <= 2**53:
            return str(value)
        return _number_to_string(float(value))
    if isinstance(value, float):
        return _number_to_string(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")
