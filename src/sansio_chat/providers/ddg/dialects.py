"""DuckDuckGo's protocol eras (dialects) as data.

A dialect is a value: which exchanges a turn performs and which headers the chat request
carries. The turn (:mod:`.turn`) reads these flags and knows no dialect by name, so adding
a dialect is adding a :class:`Dialect` here (and to :data:`DIALECTS`); a dialect with an
exchange the others lack adds one flag here and one exchange module beside :mod:`.turn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["DEFAULT_DIALECT", "DIALECTS", "DIALECT_2024", "DIALECT_2025_03", "Dialect"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """One era of the protocol, as data.

    Attributes:
        name: ``"2024"`` or ``"2025-03"``.
        fe_version: the chat request carries ``x-fe-version``, read once from the page.
        challenge: the status reply carries an ``x-vqd-hash-1`` challenge and the chat
            request carries its solution.
    """

    name: str
    fe_version: bool
    challenge: bool


DIALECT_2024 = Dialect(name="2024", fe_version=False, challenge=False)
DIALECT_2025_03 = Dialect(name="2025-03", fe_version=True, challenge=True)
DIALECTS: MappingProxyType[str, Dialect] = MappingProxyType(
    {DIALECT_2024.name: DIALECT_2024, DIALECT_2025_03.name: DIALECT_2025_03}
)
DEFAULT_DIALECT = DIALECT_2025_03
