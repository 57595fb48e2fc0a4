"""DuckDuckGo's live model list (``GET /duckchat/v1/models``, dialect ``2026``) over httpx.

The request comes from the core (``models_request``) and the reply is read by the core
(``parse_models``); this module only carries it, with the drivers' timeouts and a bounded
body.
"""

from __future__ import annotations

import time

import anyio
import httpx

from sansio_chat import HttpRequest, HTTPStatusError
from sansio_chat.providers import normalize_base_url
from sansio_chat.providers.ddg import BROWSER_2026, DIALECTS, ModelInfo, models_request
from sansio_chat.providers.ddg import parse_models as _parse_models
from sansio_chat.providers.ddg.models import MAX_MODELS_BYTES

from .common import Timeouts, total_timeout, within
from .transport_errors import map_transport_errors

__all__ = ["afetch_models", "fetch_models"]


def _step(base_url: str | None) -> HttpRequest:
    base = DIALECTS["2026"].base_url if base_url is None else normalize_base_url(base_url)
    return models_request(base, BROWSER_2026)


def _request(step: HttpRequest, limits: Timeouts) -> httpx.Request:
    timeout = {"connect": limits.connect, "read": limits.read, "write": limits.read}
    return httpx.Request(
        step.method,
        step.url,
        headers=list(step.headers),
        extensions={"timeout": {**timeout, "pool": limits.connect}},
    )


def _parse(status: int, body: bytes) -> tuple[ModelInfo, ...]:
    if status != 200:
        raise HTTPStatusError(status, body[:1000].decode("utf-8", "replace"))
    return _parse_models(body)


async def afetch_models(
    http: httpx.AsyncClient,
    base_url: str | None = None,
    *,
    timeouts: Timeouts | float | None = None,
) -> tuple[ModelInfo, ...]:
    """The live DuckDuckGo models (``base_url`` default: ``https://duck.ai``).

    Raises ``TransportError`` / ``Timeout``, ``HTTPStatusError`` for a refusal, or
    ``RemoteProtocolError`` for a malformed or oversized list.
    """
    step = _step(base_url)
    limits = Timeouts.of(timeouts)
    deadline = limits.deadline(anyio.current_time())
    received: list[str] = []
    body = bytearray()
    with map_transport_errors(step.url, received, limits):
        response = await within(
            http.send(_request(step, limits), stream=True), deadline, received, limits, step.url
        )
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_MODELS_BYTES:
                    break
        finally:
            await response.aclose()
    return _parse(response.status_code, bytes(body))


def fetch_models(
    http: httpx.Client, base_url: str | None = None, *, timeouts: Timeouts | float | None = None
) -> tuple[ModelInfo, ...]:
    """Synchronous :func:`afetch_models` (the total timeout is checked between reads)."""
    step = _step(base_url)
    limits = Timeouts.of(timeouts)
    deadline = limits.deadline(time.monotonic())
    received: list[str] = []
    body = bytearray()
    with map_transport_errors(step.url, received, limits):
        response = http.send(_request(step, limits), stream=True)
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_MODELS_BYTES:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise total_timeout(limits, step.url, received)
        finally:
            response.close()
    return _parse(response.status_code, bytes(body))
