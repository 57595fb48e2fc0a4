"""The gateway's ASGI application: routing, auth, body limits, the capacity cap, responses.

Built by :func:`sansio_chat.adapters.gateway.create_gateway_app`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import anyio

from sansio_chat import Finished, SansioChatError, TokenEvent

from ._gateway_openai import (
    GatewayError,
    internal_error,
    map_upstream_error,
    model_body,
    model_not_found,
    models_body,
)
from ._gateway_request import ChatRequest, ModelCatalog, ModelRoute, parse_chat_request
from ._gateway_responder import Responder, send_error, send_json
from .serving import Message, Receive, Scope, Send, run_lifespan

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_QUEUE_TIMEOUT",
    "GatewayApp",
    "GatewayConfig",
    "Upstream",
    "UpstreamEvent",
]

logger = logging.getLogger("sansio_chat.gateway")

UpstreamEvent = TokenEvent | Finished

# The reply ended normally but the service will take no further turn after it: the context
# is full, which is what OpenAI's "length" means.
_FINISH_REASONS = {"stop": "stop", "conversation_limit": "length"}

# A few upstream turns at once: the services pace requests per client anyway, so more in
# flight mostly means more waiting upstream and more 429s.
DEFAULT_MAX_CONCURRENCY = 4
# Long enough to ride out a burst behind the pacer, short of typical client timeouts.
DEFAULT_QUEUE_TIMEOUT = 30.0
# Far above what a service takes (DuckDuckGo: 16,000 characters of content), far below
# what could hurt the process.
DEFAULT_MAX_BODY_BYTES = 1 << 20


class Upstream(Protocol):
    """What the gateway calls to run one turn; the default drives the httpx chat clients."""

    def stream(
        self, route: ModelRoute, messages: Sequence[Mapping[str, str]]
    ) -> AsyncGenerator[UpstreamEvent, None]:
        """Run a fresh conversation with ``messages``; yield tokens, then ``Finished``.

        Errors of the client stack (``SansioChatError``) propagate; closing the generator
        early must close the upstream response.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""


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
    """

    providers: tuple[str, ...] = ("ddg", "darkai")
    base_url: str | Mapping[str, str] | None = None
    api_key: str | None = None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    queue_timeout: float | None = DEFAULT_QUEUE_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    proxy: str | None = None
    timeout: float | None = None
    verify: bool = True
    min_interval: float | None = None
    max_retries: int | None = None
    retry_base_delay: float | None = None

    def base_url_for(self, provider: str) -> str | None:
        """Return the upstream base URL configured for ``provider``."""
        if isinstance(self.base_url, Mapping):
            return self.base_url.get(provider)
        return self.base_url


class GatewayApp:
    """The ASGI application; build it with :func:`create_gateway_app`."""

    def __init__(self, config: GatewayConfig, catalog: ModelCatalog, upstream: Upstream) -> None:
        self.config = config
        self.catalog = catalog
        self.upstream = upstream
        self._limiter: anyio.CapacityLimiter | None = None
        self._expected_auth = config.api_key.encode("utf-8") if config.api_key else None

    async def aclose(self) -> None:
        """Close the upstream clients (also done at ASGI lifespan shutdown)."""
        await self.upstream.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await run_lifespan(receive, send, self.aclose)
        elif scope["type"] == "http":
            started = False

            async def tracking_send(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self._http(scope, receive, tracking_send)
            except GatewayError as exc:
                await send_error(send, exc)
            except Exception:
                logger.exception("gateway failure on %s %s", scope["method"], scope["path"])
                if not started:
                    await send_error(send, internal_error())
        # websocket scopes are not served: returning without accepting rejects them.

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path.endswith("/") and path != "/":
            path = path[:-1]
        if path == "/v1/chat/completions":
            allowed = "POST"
        elif path == "/v1/models" or path.startswith("/v1/models/"):
            allowed = "GET"
        else:
            raise GatewayError(
                status=404, message=f"Unknown path {method} {path}.", code="not_found"
            )
        self._check_auth(scope)
        if method != allowed:
            raise GatewayError(
                status=405,
                message=f"Method {method} is not allowed on {path}; use {allowed}.",
                code="method_not_allowed",
                headers=(("allow", allowed),),
            )
        if path == "/v1/chat/completions":
            await self._chat_completions(scope, receive, send)
        elif path == "/v1/models":
            await send_json(send, 200, models_body(self.catalog.listing()))
        else:
            await self._one_model(path.removeprefix("/v1/models/"), send)

    def _check_auth(self, scope: Scope) -> None:
        if self._expected_auth is None:
            return
        given = _header(scope, b"authorization")
        if given is None:
            raise _auth_error(
                "Missing API key: send 'Authorization: Bearer <key>'.", "missing_api_key"
            )
        scheme, _, token = given.strip().partition(b" ")
        # The scheme is case-insensitive (RFC 9110); the key is compared in constant time.
        matches = hmac.compare_digest(token.strip(), self._expected_auth)
        if scheme.lower() != b"bearer" or not matches:
            raise _auth_error("Incorrect API key provided.", "invalid_api_key")

    async def _one_model(self, model_id: str, send: Send) -> None:
        for entry, owner in self.catalog.listing():
            if entry == model_id:
                await send_json(send, 200, model_body(entry, owner))
                return
        raise model_not_found(model_id)

    async def _chat_completions(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        # Requiring JSON makes a browser preflight any cross-site request, which we never
        # answer: a web page cannot spend the gateway's upstream quota.
        if content_type != b"application/json":
            raise GatewayError(
                status=415,
                message="The request body must be sent as 'Content-Type: application/json'.",
                code="unsupported_media_type",
            )
        body = await self._read_body(scope, receive)
        if body is None:
            return  # the client went away while sending
        request = parse_chat_request(body, self.catalog)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_cancel_on_disconnect, receive, tg.cancel_scope)
            await self._respond(request, send)
            tg.cancel_scope.cancel()

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        limit = self.config.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > limit:
                raise _too_large(limit)
            if not message.get("more_body", False):
                return bytes(body)

    async def _respond(self, request: ChatRequest, send: Send) -> None:
        responder = Responder(send, request)
        try:
            async with self._capacity():
                events = self.upstream.stream(request.route, request.messages)
                async with aclosing(events):
                    async for event in events:
                        if isinstance(event, TokenEvent):
                            await responder.token(event.text)
                        elif isinstance(event, Finished):
                            responder.finish_reason = _FINISH_REASONS.get(event.reason, "stop")
            await responder.finish()
        except GatewayError as exc:
            await responder.fail(exc)
        except SansioChatError as exc:
            logger.info("upstream error for %s: %r", request.route.public_id, exc)
            await responder.fail(map_upstream_error(exc))
        except Exception:
            logger.exception("gateway failure for %s", request.route.public_id)
            await responder.fail(internal_error())

    @asynccontextmanager
    async def _capacity(self) -> AsyncGenerator[None, None]:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.config.max_concurrency)
        limiter, borrower, acquired = self._limiter, object(), True
        try:
            limiter.acquire_on_behalf_of_nowait(borrower)
        except anyio.WouldBlock:
            acquired = False
            with anyio.move_on_after(self.config.queue_timeout):
                await limiter.acquire_on_behalf_of(borrower)
                acquired = True
        if not acquired:
            raise GatewayError(
                status=429,
                message="The gateway is busy with other requests; try again shortly.",
                type="rate_limit_error",
                code="gateway_busy",
                headers=(("retry-after", "1"),),
            )
        try:
            yield
        finally:
            limiter.release_on_behalf_of(borrower)


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


def _auth_error(message: str, code: str) -> GatewayError:
    return GatewayError(
        status=401, message=message, code=code, headers=(("www-authenticate", "Bearer"),)
    )


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        status=413,
        message=f"The request body exceeds the gateway's limit of {limit} bytes.",
        code="request_too_large",
    )
