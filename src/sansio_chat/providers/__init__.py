"""The providers: each chat service's protocol rules on top of the core session, and the
catalogue, ``get("ddg")`` or ``get("darkai")``.

One module (``darkai.py``) or package (``ddg/``) per service; ``_base.py`` is what every
provider object offers. Providers import the core, never the emulator or the adapters.

Each provider object describes its service (``label``, ``url``, ``working``, models, ...),
validates model names and starts sessions with ``new_session(...)``.
"""

from __future__ import annotations

from types import MappingProxyType

from sansio_chat.providers._base import Provider, UnknownProviderError, normalize_base_url
from sansio_chat.providers.darkai import DarkAIProvider
from sansio_chat.providers.ddg import DuckDuckGoProvider

__all__ = ["PROVIDERS", "Provider", "UnknownProviderError", "get", "names", "normalize_base_url"]

PROVIDERS: MappingProxyType[str, Provider] = MappingProxyType(
    {"ddg": DuckDuckGoProvider(), "darkai": DarkAIProvider()}
)
"""Every provider, by name."""


def names() -> tuple[str, ...]:
    """The provider names, in catalogue order."""
    return tuple(PROVIDERS)


def get(name: str) -> Provider:
    """The provider called ``name``; unknown names raise :class:`UnknownProviderError`."""
    try:
        return PROVIDERS[name]
    except (KeyError, TypeError):
        raise UnknownProviderError(str(name), names()) from None
