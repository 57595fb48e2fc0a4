"""The OpenAI-compatible gateway: a plain ASGI app in front of the chat providers.

``POST /v1/chat/completions`` (streaming and not), ``GET /v1/models`` and
``GET /v1/models/{id}``; each request is a fresh conversation built from its ``messages``.
Build the app with :func:`create_gateway_app` and serve it with any ASGI server
(:mod:`sansio_chat.adapters.serving` runs it with hypercorn), or run ``sansio-chat serve``
(its options live in :mod:`sansio_chat.adapters.cli.serve`). See docs/gateway.md.

Inside: ``_app`` (paths, auth, limits, the capacity cap), ``_config`` (settings and their
checks), ``_routes`` (the routing table: every model name accepted, its provider and upstream
model; ``GET /v1/models`` is generated from it), ``_models`` (DuckDuckGo's names by dialect),
``_request`` (request validation), ``_openai`` (the OpenAI wire format), ``_responder`` (JSON
or server-sent events out), ``_upstream`` (turns over the h11 or httpx driver). The gateway
uses the drivers, never the CLI or the emulator server.
"""

from __future__ import annotations

from ._app import GatewayApp, Upstream, UpstreamEvent, create_gateway_app
from ._config import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_QUEUE_TIMEOUT,
    GatewayConfig,
)
from ._openai import GatewayError
from ._request import ModelRoute
from ._upstream import SessionUpstream

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_QUEUE_TIMEOUT",
    "GatewayApp",
    "GatewayConfig",
    "GatewayError",
    "ModelRoute",
    "SessionUpstream",
    "Upstream",
    "UpstreamEvent",
    "create_gateway_app",
]
