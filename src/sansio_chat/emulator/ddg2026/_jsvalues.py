"""JavaScript value semantics the generator's model needs: ``parseInt``, UTF-16.

The generator predicts what a browser computes, so every operation it folds into a challenge
is modelled here with JavaScript's exact rules, not Python's. ``String(v)`` is the core's
(:func:`sansio_chat.providers.ddg.proof.js_string`): the client hashes with it, so the
emulator checks with the same one definition.
"""

from __future__ import annotations

import unicodedata

__all__ = ["js_parse_int", "utf16_units"]

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
