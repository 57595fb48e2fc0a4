"""The gateway's settings: :class:`GatewayConfig`, its defaults, and their validation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sansio_chat import providers
from sansio_chat.providers import normalize_base_url
from sansio_chat.providers.ddg import DIALECTS

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_QUEUE_TIMEOUT",
    "GatewayConfig",
    "checked",
]

# A few upstream turns at once: the services pace requests per client anyway, so more in
# flight mostly means more waiting upstream and more 429s.
DEFAULT_MAX_CONCURRENCY = 4
# Long enough to ride out a burst behind the pacer, short of typical client timeouts.
DEFAULT_QUEUE_TIMEOUT = 30.0
# Far above what a service takes (DuckDuckGo: 16,000 characters of content), far below
# what could hurt the process.
DEFAULT_MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayConfig:
    """Settings of the gateway.

    Attributes:
        providers: provider names, in model-resolution order (``ddg`` first by default).
        base_url: upstream base URL for every provider, or a mapping name → URL (``None``:
            the real services).
        api_key: when set, every request needs ``Authorization: Bearer <api_key>``.
        max_concurrency: upstream turns running at once; further requests queue.
        queue_timeout: seconds a request may wait for a slot before a 429 (``None``: wait
            as long as the client does; ``0``: refuse at once).
        max_body_bytes: the largest request body accepted (413 above it).
        proxy: proxy URL for upstream requests.
        timeout: upstream timeout in seconds (``None``: the client's default).
        verify: verify upstream TLS certificates.
        min_interval: minimum seconds between requests to one upstream host (``None``:
            the library default, 1.5).
        max_retries: retries of a refused upstream request (``None``: the library
            default, 3); a gateway may prefer to fail fast and let its clients retry.
        retry_base_delay: back-off base delay in seconds (``None``: the library default).
        solver: answers DuckDuckGo's script challenges (dialect ``2026``): ``"v8"``
            (default; made on the first challenge), ``"chromium"``, or a solver object
            (``solve``, ``asolve``, ``close``; closed with the gateway).
        dialect: the DuckDuckGo dialect (``"2024"``, ``"2025-03"``, ``"2026"``); ``None``:
            discovered from the service's answers. It decides DuckDuckGo's model names: in
            ``2026`` the live list once ``GET /v1/models`` fetched it; ``None`` accepts both
            eras' names and lists today's.
        max_reply_chars: the longest upstream reply, in characters (``None``: the library
            default, 4 Mi); a longer one ends the completion with a 502.
    """

    providers: tuple[str, ...] = ("ddg", "darkai")
    base_url: str | Mapping[str, str] | None = None
    api_key: str | None = dataclasses.field(default=None, repr=False)  # a secret
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    queue_timeout: float | None = DEFAULT_QUEUE_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    proxy: str | None = None
    timeout: float | None = None
    verify: bool = True
    min_interval: float | None = None
    max_retries: int | None = None
    retry_base_delay: float | None = None
    solver: str | Any = "v8"
    dialect: str | None = None
    max_reply_chars: int | None = None

    def base_url_for(self, provider: str) -> str | None:
        """Return the upstream base URL configured for ``provider``."""
        if isinstance(self.base_url, Mapping):
            return self.base_url.get(provider)
        return self.base_url


def checked(config: GatewayConfig) -> GatewayConfig:
    """``config`` with its base URLs normalized; raises ``ValueError`` for a bad setting."""
    if not config.providers:
        raise ValueError("at least one provider is needed")
    for name in config.providers:
        providers.get(name)  # raises for an unknown name
    if isinstance(config.base_url, Mapping):
        unknown = sorted(set(config.base_url) - set(config.providers))
        if unknown:
            raise ValueError(f"base_url given for provider(s) not served: {', '.join(unknown)}")
        base_url: str | dict[str, str] | None = {
            name: normalize_base_url(url) for name, url in config.base_url.items()
        }
    else:
        base_url = None if config.base_url is None else normalize_base_url(config.base_url)
    if config.max_concurrency < 1:
        raise ValueError("max_concurrency must be >= 1")
    if config.queue_timeout is not None and config.queue_timeout < 0:
        raise ValueError("queue_timeout must be >= 0 (or None)")
    if config.max_body_bytes < 1:
        raise ValueError("max_body_bytes must be >= 1")
    if config.max_retries is not None and config.max_retries < 0:
        raise ValueError("max_retries must be >= 0")
    if isinstance(config.solver, str) and config.solver not in ("v8", "chromium"):
        raise ValueError(f"unknown solver {config.solver!r}; use 'v8' or 'chromium'")
    if not isinstance(config.solver, str) and not callable(getattr(config.solver, "asolve", None)):
        raise ValueError("solver must be 'v8', 'chromium' or an object with asolve(step)")
    if config.dialect is not None:
        if "ddg" not in config.providers:
            raise ValueError("dialect is a DuckDuckGo setting; the ddg provider is not served")
        if config.dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {config.dialect!r}; known: {', '.join(DIALECTS)}")
    if config.max_reply_chars is not None and (
        isinstance(config.max_reply_chars, bool)
        or not isinstance(config.max_reply_chars, int)
        or config.max_reply_chars < 1
    ):
        raise ValueError("max_reply_chars must be an int >= 1 (or None)")
    if config.api_key == "":
        raise ValueError("api_key must not be empty (use None for no authentication)")
    return dataclasses.replace(config, base_url=base_url)
