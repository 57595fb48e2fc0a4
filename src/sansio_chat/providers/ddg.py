"""DuckDuckGo AI Chat (spec/DDG.md): dialects, models, request builders, payload rules."""

from __future__ import annotations

from types import MappingProxyType

DEFAULT_BASE_URL = "https://duckduckgo.com"
DEFAULT_MODEL = "gpt-4o-mini"
MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "claude-3-haiku-20240307",
    "o3-mini",
    "mistralai/Mistral-Small-24B-Instruct-2501",
)
MODEL_ALIASES = MappingProxyType(
    {
        "gpt-4": "gpt-4o-mini",
        "gpt-4o": "gpt-4o-mini",
        "llama-3.3-70b": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "claude-3-haiku": "claude-3-haiku-20240307",
        "mistral-small": "mistralai/Mistral-Small-24B-Instruct-2501",
        "mistral-small-24b": "mistralai/Mistral-Small-24B-Instruct-2501",
    }
)
# The service's inputCharLimit (16e3), counted in UTF-16 code units like JavaScript's length.
INPUT_CHAR_LIMIT = 16_000
