"""DuckDuckGo's model list of dialect ``2026``: built-in data, and the live list's parser.

The service moves its models often; ``GET /duckchat/v1/models`` is the truth and the lists
here are a fallback. Edit them when the service changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, final

from sansio_chat._errors import RemoteProtocolError
from sansio_chat._json import loads_exact

__all__ = [
    "MODELS_2026",
    "MODEL_ALIASES_2026",
    "RETIRED_MODELS",
    "ModelInfo",
    "aliases_naming",
    "parse_models",
]

_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")

# 2026-07-22, a live /models reply quoted in a public client's tests (docs/protocol.md).
MODELS_2026: tuple[str, ...] = (
    "gpt-5.4-mini",
    "gpt-5.4-nano",
    "claude-haiku-4-5",
    "mistral-small-2603",
    "tinfoil/gpt-oss-120b",
    "tinfoil/gemma4-31b",
)
# Friendly names that follow whatever the live list holds (resolved by prefix at use).
MODEL_ALIASES_2026: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "gpt": ("gpt-5.6-luna", "gpt-5.4-mini", "gpt-5-mini"),
        "gpt-mini": ("gpt-5.4-mini", "gpt-5-mini"),
        "gpt-nano": ("gpt-5.4-nano",),
        "claude": ("claude-haiku-4-5",),
        "mistral": ("mistral-small-2603", "mistral-small"),
        "oss": ("tinfoil/gpt-oss-120b", "openai/gpt-oss-120b"),
        "gemma": ("tinfoil/gemma4-31b",),
    }
)


def aliases_naming(ids: tuple[str, ...]) -> dict[str, str]:
    """The ``2026`` aliases that name one of ``ids``, each mapped to its first candidate
    there (an alias none of whose candidates ``ids`` holds is left out)."""
    found: dict[str, str] = {}
    for alias, candidates in MODEL_ALIASES_2026.items():
        named = next((c for c in candidates if c in ids), None)
        if named is not None:
            found[alias] = named
    return found


# Ids the service answered with 400 ERR_BAD_REQUEST in 2026 (docs/protocol.md, "Errors").
RETIRED_MODELS: frozenset[str] = frozenset(
    {
        "gpt-4o-mini",
        "gpt-5-mini",
        "o3-mini",
        "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "claude-3-5-haiku-latest",
        "mistral-small-2501",
    }
)
# A models reply lists a few dozen entries; a megabyte is far beyond any real one.
MAX_MODELS_BYTES: Final = 1024 * 1024


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """One entry of ``GET /duckchat/v1/models``.

    Attributes:
        id: the model id the chat body names.
        name: the display name.
        provider: who serves it (``"openai"``, ``"anthropic"``, ...).
        has_access: ``entityHasAccess``: this client may use it.
        supports_image_upload: ``supportsImageUpload``.
        supported_tools: ``supportedTools``.
        access_tier: ``accessTier`` (``"free"``, ...); ``""`` when absent.
    """

    id: str
    name: str = ""
    provider: str = ""
    has_access: bool = True
    supports_image_upload: bool = False
    supported_tools: tuple[str, ...] = ()
    access_tier: str = ""


def _text_field(entry: Mapping[str, object], key: str) -> str:
    value = entry.get(key, "")
    return value if isinstance(value, str) else ""


def parse_models(body: bytes) -> tuple[ModelInfo, ...]:
    """The entries of a ``/duckchat/v1/models`` reply; a malformed reply raises
    ``RemoteProtocolError``. Entries without a usable id are skipped."""
    if len(body) > MAX_MODELS_BYTES:
        raise RemoteProtocolError(
            "the models reply is too large", limit=MAX_MODELS_BYTES, observed=len(body)
        )
    try:
        data = loads_exact(body)
    except ValueError as exc:
        raise RemoteProtocolError(f"the models reply is not JSON: {body[:120]!r}") from exc
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RemoteProtocolError("the models reply has no 'models' list")
    models = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        model_id = entry.get("id")
        if not isinstance(model_id, str) or _VISIBLE_ASCII.fullmatch(model_id) is None:
            continue
        tools = entry.get("supportedTools", ())
        models.append(
            ModelInfo(
                id=model_id,
                name=_text_field(entry, "name"),
                provider=_text_field(entry, "provider"),
                has_access=entry.get("entityHasAccess", True) is not False,
                supports_image_upload=entry.get("supportsImageUpload") is True,
                supported_tools=tuple(t for t in tools if isinstance(t, str))
                if isinstance(tools, list)
                else (),
                access_tier=_text_field(entry, "accessTier"),
            )
        )
    return tuple(models)
