"""DuckDuckGo's models as the gateway serves them in one dialect, and the model objects of
``GET /v1/models``.

Each dialect's models are a closed list (the routing table, ``_routes.py``, is built from
it): the seed eras' built-in ids and aliases; in ``2026`` the service's own list
(``GET /duckchat/v1/models``) once fetched, else the built-in one, with the friendly aliases
that name one of its models; with no dialect (the era is discovered per request) both eras'
lists, of which only today's are listed (the service's era refuses the other era's names).
The gateway fetches the live list once per :data:`LIVE_MODELS_TTL` (a failure is remembered
for :data:`FAILED_MODELS_TTL`, the last list known staying in use) and lists each model with
its capability flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sansio_chat import ModelNotSupportedError
from sansio_chat.providers.ddg import DIALECTS, DuckDuckGoProvider, ModelInfo
from sansio_chat.providers.ddg.models import aliases_naming
from sansio_chat.providers.ddg.provider import era_models

__all__ = ["FAILED_MODELS_TTL", "LIVE_MODELS_TTL", "DuckDuckGoModels", "model_object"]

_DUCKDUCKGO = DuckDuckGoProvider()

LIVE_MODELS_TTL = 600.0
"""Seconds a fetched model list is served before it is fetched again."""
FAILED_MODELS_TTL = 60.0
"""Seconds after a failed fetch before the next try (the last list known is used meanwhile)."""


class DuckDuckGoModels:
    """DuckDuckGo in one dialect (``None``: discovered): that era's ids and aliases, closed.

    Attributes:
        dialect: ``"2024"``, ``"2025-03"``, ``"2026"`` or ``None``.
        live: the live list's ids (dialect ``2026`` only; empty until fetched).
    """

    name = "ddg"

    def __init__(self, dialect: str | None) -> None:
        if dialect is not None and dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(DIALECTS)}")
        self.dialect = dialect
        self.live: tuple[str, ...] = ()

    @property
    def _seed_era(self) -> bool:
        return self.dialect is not None and not DIALECTS[self.dialect].script_challenge

    @property
    def _live_era(self) -> bool:
        return self.dialect is not None and DIALECTS[self.dialect].script_challenge

    @property
    def models(self) -> tuple[str, ...]:
        """The era's ids: the seed eras' list; in ``2026`` the live one when fetched, else the
        built-in one; discovering, today's built-in ids and then the seed eras'."""
        if self._live_era and self.live:
            return self.live
        return era_models(self.dialect)[0]

    @property
    def model_aliases(self) -> dict[str, str]:
        """Alias → id in the era (a ``2026`` alias names the first of its candidates that
        the era's list holds, and is left out when it holds none)."""
        if self._live_era and self.live:
            return aliases_naming(self.live)
        return era_models(self.dialect)[1]

    def lists(self, name: str) -> bool:
        """Whether ``GET /v1/models`` shows ``name`` (an id or alias of the era), which is
        accepted either way. Not shown: the aliases beside a live list (it shows the
        service's models as the service names them), and when discovering, the seed eras'
        names (today's service refuses them; a seed-era one would take them)."""
        if self._live_era and self.live:
            return name in self.live
        if self.dialect is None:
            ids, aliases = era_models("2026")
            return name in ids or name in aliases
        return True

    def sendable(self, model: str) -> bool:
        """Whether a session sends ``model`` to today's service (the library refuses the ids
        the service retired, even should its live list still hold one): the table takes in
        no id that chat would then refuse."""
        try:
            _DUCKDUCKGO.validate_model(model, "2026")
        except ModelNotSupportedError:
            return False
        return True

    def unlisted(self, model: str) -> str | None:
        """The id for ``model``, a name the lists do not hold, asked for as ``ddg/model``:
        sent as it is where today's service decides (dialect ``2026`` before its live list
        is known, or discovered) and it is a well-formed id the service has not retired;
        else ``None``. The seed eras' lists and a fetched live list are complete."""
        if not model or self._seed_era or (self._live_era and self.live):
            return None  # (validate_model would take "" for the default model)
        try:
            return _DUCKDUCKGO.validate_model(model, "2026")
        except ModelNotSupportedError:
            return None

    def validate_model(self, model: str) -> str:
        """The era's id for ``model`` (an id or alias of its lists), or
        ``ModelNotSupportedError``."""
        if model in self.models:
            return model
        aliases = self.model_aliases
        if model in aliases:
            return aliases[model]
        raise ModelNotSupportedError(model, self.models, provider=self.name)


def model_object(
    model_id: str, owner: str, upstream: str, live: Mapping[str, ModelInfo]
) -> dict[str, Any]:
    """One ``GET /v1/models`` entry: ``model_id`` served by ``owner`` as ``upstream``, with the
    live list's capability flags when it is one of DuckDuckGo's live models."""
    entry: dict[str, Any] = {"id": model_id, "object": "model", "created": 0, "owned_by": owner}
    info = live.get(upstream) if owner == DuckDuckGoModels.name else None
    if info is not None:
        entry.update(
            name=info.name,
            upstream_provider=info.provider,
            has_access=info.has_access,
            supports_image_upload=info.supports_image_upload,
            supported_tools=list(info.supported_tools),
            access_tier=info.access_tier,
        )
    return entry
