"""JSON for the payload parsers: orjson when it is installed (the ``fast`` extra), else json.

Both functions raise ``ValueError`` for every text they refuse, including one nested too
deeply to parse (``json.loads`` itself raises ``RecursionError`` there).

:func:`loads` accepts and rejects the texts ``json.loads`` does and returns the same values,
with two exceptions under orjson: an integer outside the 64-bit range comes back as a
``float``, and nesting is allowed up to orjson's 1024 levels where ``json`` gives up at the
interpreter's recursion limit. Code that reads an integer field parses again with
:func:`loads_exact` (always ``json``), on the rare path where that integer is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["FAST", "loads", "loads_exact", "loads_fast"]


def loads_exact(text: str | bytes) -> Any:
    """``json.loads(text)``; nesting too deep for the recursion limit raises ``ValueError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


def _loads_with(fast: Callable[[str], Any], error: type[Exception]) -> Callable[[str], Any]:
    def loads_fast(text: str) -> Any:
        """:func:`loads_exact`, parsed by orjson whenever orjson accepts the text."""
        try:
            return fast(text)
        except error:
            # orjson refuses some texts json accepts (NaN, Infinity, 1e400, lone
            # surrogates, deep nesting): json decides those, and raises what it raises.
            return loads_exact(text)

    return loads_fast


try:
    import orjson
except ImportError:  # pragma: no cover - the CI installs the fast extra; a test covers this
    loads_fast: Callable[[str], Any] | None = None
else:
    loads_fast = _loads_with(orjson.loads, orjson.JSONDecodeError)

FAST = loads_fast is not None
"""Whether :func:`loads` uses orjson."""

loads: Callable[[str], Any] = loads_fast if loads_fast is not None else loads_exact
"""Parse JSON text (see the module docstring); refused text raises ``ValueError``."""
