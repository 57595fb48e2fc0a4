"""Text measures the services apply: lengths as JavaScript counts them."""

from __future__ import annotations

__all__ = ["utf16_length"]


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, as JavaScript's ``length`` counts it.

    A code point beyond the BMP is two units; a lone surrogate is one (no encoding happens,
    so any ``str`` is measured).
    """
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
