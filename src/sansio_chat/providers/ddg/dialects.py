"""DuckDuckGo's protocol eras (dialects) as data.

A dialect is a value: which exchanges a turn performs and which headers the chat request
carries. The turn (:mod:`.turn`) reads these flags and knows no dialect by name, so adding
a dialect is adding a :class:`Dialect` here (and to :data:`DIALECTS`); a dialect with an
exchange the others lack adds one flag here and one exchange module beside :mod:`.turn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "DEFAULT_DIALECT",
    "DIALECTS",
    "DIALECT_2024",
    "DIALECT_2025_03",
    "DIALECT_2026",
    "Dialect",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """One era of the protocol, as data.

    Attributes:
        name: ``"2024"``, ``"2025-03"`` or ``"2026"``.
        fe_version: the chat request carries ``x-fe-version``, read once from the page.
        challenge: the status reply carries an ``x-vqd-hash-1`` challenge and the chat
            request carries its solution.
        token: the status reply hands out an ``x-vqd-4`` token the chat request sends back.
        script_challenge: the challenge is a script only a browser-like engine can answer:
            the session asks for its result with a ``SolveChallenge`` step, and every chat
            reply carries the next challenge.
        base_url: where the service of this era lives.
    """

    name: str
    fe_version: bool
    challenge: bool
    token: bool = True
    script_challenge: bool = False
    base_url: str = "https://duckduckgo.com"


DIALECT_2024 = Dialect(name="2024", fe_version=False, challenge=False)
DIALECT_2025_03 = Dialect(name="2025-03", fe_version=True, challenge=True)
DIALECT_2026 = Dialect(
    name="2026",
    fe_version=True,
    challenge=True,
    token=False,
    script_challenge=True,
    base_url="https://duck.ai",
)
DIALECTS: MappingProxyType[str, Dialect] = MappingProxyType(
    {d.name: d for d in (DIALECT_2024, DIALECT_2025_03, DIALECT_2026)}
)
DEFAULT_DIALECT = DIALECT_2026
"""Today's era: its host is the default base URL. A session given no dialect discovers the era
from the service's answers (:mod:`.discovery`); this is not a pin."""
