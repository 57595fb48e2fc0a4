"""DarkAI (spec/DARKAI.md): one POST, a text-chunk / stream-end SSE reply."""

from __future__ import annotations

from types import MappingProxyType

DEFAULT_BASE_URL = "https://darkai.foundation"
DEFAULT_MODEL = "llama-3-70b"
MODELS: tuple[str, ...] = ("llama-3-70b", "gpt-4o", "gpt-3.5-turbo")
MODEL_ALIASES = MappingProxyType({"llama-3.1-70b": "llama-3-70b"})
