"""JSON for the payload parsers: orjson when it is installed (the ``fast`` extra), else json.

:func:`loads` accepts and rejects exactly the texts ``json.loads`` does and returns the same
values, with one exception: under orjson an integer outside the 64-bit range comes back as
a ``float``. Code that reads an integer field uses :func:`loads_exact` (the ``json`` module
always), on the rare path where the integer is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["FAST", "loads", "loads_exact", "loads_fast"]

loads_exact: Callable[[str], Any] = json.loads
"""``json.loads``: malformed text raises ``ValueError`` (``json.JSONDecodeError``)."""


def _loads_with(fast: Callable[[str], Any], error: type[Exception]) -> Callable[[str], Any]:
    def loads_fast(text: str) -> Any:
        """``json.loads(text)``, parsed by orjson whenever orjson accepts the text."""
        try:
            return fast(text)
        except error:
            # orjson refuses some texts json accepts (NaN, Infinity, 1e400, lone
            # surrogates, deep nesting): json decides those, and raises what it raises.
            return json.loads(text)

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
"""Parse JSON text; malformed text raises ``ValueError``. See the module docstring."""
