"""Models by dialect: DuckDuckGo seen through the gateway's dialect, and the live listing.

In dialect ``2026`` the service's own list (``GET /duckchat/v1/models``) is the truth: the
gateway fetches it once per :data:`LIVE_MODELS_TTL` (a failure is remembered for
:data:`FAILED_MODELS_TTL`, then the built-in list is shown) and lists each model with its
capability flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sansio_chat import ModelNotSupportedError
from sansio_chat.providers.ddg import ModelInfo
from sansio_chat.providers.ddg.models import MODEL_ALIASES_2026, MODELS_2026
from sansio_chat.providers.ddg.provider import MODEL_ALIASES as SEED_ERA_ALIASES
from sansio_chat.providers.ddg.provider import MODELS as SEED_ERA_MODELS

__all__ = ["FAILED_MODELS_TTL", "LIVE_MODELS_TTL", "DialectProvider", "live_entries"]

LIVE_MODELS_TTL = 600.0
"""Seconds a fetched model list is served before it is fetched again."""
FAILED_MODELS_TTL = 60.0
"""Seconds after a failed fetch before the next try (the built-in list is shown meanwhile)."""


class DialectProvider:
    """DuckDuckGo in one dialect: that era's models, aliases and validation.

    In ``2026`` a model is accepted when the live list (once fetched) or the built-in list
    holds it, or an alias names one; the provider's own check (retired ids) applies too.
    """

    def __init__(self, provider: Any, dialect: str) -> None:
        self.provider = provider
        self.dialect = dialect
        self.era = provider.dialect(dialect)
        self.live: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The provider's name (``ddg``)."""
        return str(self.provider.name)

    @property
    def models(self) -> Sequence[str]:
        """The model ids of the era: the live ones when known; the seed eras' own list (the
        provider's is today's, which a seed-era session refuses)."""
        if not self.era.script_challenge:
            return SEED_ERA_MODELS
        return self.live or MODELS_2026

    @property
    def model_aliases(self) -> Mapping[str, str]:
        """Alias → model id in the era."""
        if not self.era.script_challenge:
            return dict(SEED_ERA_ALIASES)
        return {alias: self.validate_model(alias) for alias in MODEL_ALIASES_2026}

    def validate_model(self, model: str) -> str:
        """The era's id for ``model``, or ``ModelNotSupportedError``."""
        resolved = str(self.provider.validate_model(model, self.dialect))
        if self.era.script_challenge and resolved not in (*self.models, *MODELS_2026):
            raise ModelNotSupportedError(model, self.models, provider=self.name)
        return resolved


def live_entries(
    provider: str, live: Iterable[ModelInfo], others: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """``/v1/models`` entries: each live model as ``provider/id`` and bare, with its flags,
    then the ``(id, owner)`` pairs of the other providers not already listed."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    models = list(live)
    named = [(f"{provider}/{m.id}", m) for m in models] + [(m.id, m) for m in models]
    for model_id, info in named:
        if model_id in seen:
            continue
        seen.add(model_id)
        entries.append(
            {
                "id": model_id,
                "object": "model",
                "created": 0,
                "owned_by": provider,
                "name": info.name,
                "upstream_provider": info.provider,
                "has_access": info.has_access,
                "supports_image_upload": info.supports_image_upload,
                "supported_tools": list(info.supported_tools),
                "access_tier": info.access_tier,
            }
        )
    for model_id, owner in others:
        if owner != provider and model_id not in seen:
            seen.add(model_id)
            entries.append({"id": model_id, "object": "model", "created": 0, "owned_by": owner})
    return entries
