"""The gateway's ASGI application: routing, auth, body limits, the capacity cap, responses.

Build it with :func:`create_gateway_app`.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import math
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import Any, Protocol

import anyio
from sansio_chat.adapters.serving import ASGIMessage, Receive, Scope, Send, run_lifespan

from sansio_chat import (
    Finished,
    RateLimited,
    SansioChatError,
    TokenEvent,
    find_header,
    providers,
)

from ._config import GatewayConfig, checked
from ._models import DuckDuckGoModels, model_object
from ._openai import (
    GatewayError,
    echoed,
    internal_error,
    map_upstream_error,
    model_body,
    models_body,
)
from ._request import ChatRequest, parse_chat_request
from ._responder import Responder, send_error, send_json
from ._routes import ModelCatalog, ModelRoute, ProviderInfo
from ._upstream import SessionUpstream

__all__ = [
    "LONGEST_UPSTREAM_WAIT",
    "GatewayApp",
    "Upstream",
    "UpstreamEvent",
    "create_gateway_app",
]

logger = logging.getLogger("sansio_chat.gateway")

UpstreamEvent = TokenEvent | Finished | RateLimited

LONGEST_UPSTREAM_WAIT = 2.0
"""Seconds of back-off after a refusal that a turn may wait out while holding its slot.

A longer one ends the request at once with 429 and the service's wait as ``Retry-After``
(rounded up): the caller waits instead, and the slot serves others meanwhile.
"""

# The reply ended normally but the service will take no further turn after it: the context
# is full, which is what OpenAI's "length" means.
_FINISH_REASONS = {"stop": "stop", "conversation_limit": "length"}


class Upstream(Protocol):
    """What the gateway calls to run one turn; the default drives the httpx chat clients."""

    def stream(
        self, route: ModelRoute, messages: Sequence[Mapping[str, str]]
    ) -> AsyncGenerator[UpstreamEvent, None]:
        """Run a fresh conversation with ``messages``; yield tokens, then ``Finished``.

        ``RateLimited`` is yielded before each back-off wait (the gateway ends the request
        when the wait is long). Errors of the client stack (``SansioChatError``) propagate;
        closing the generator early must close the upstream response.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""


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
            body_read = not _has_body(scope)

            async def tracking_send(message: ASGIMessage) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    if not body_read:
                        message = _closing(message)
                await send(message)

            async def tracking_receive() -> ASGIMessage:
                nonlocal body_read
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    body_read = True
                return message

            try:
                await self._http(scope, tracking_receive, tracking_send)
            except GatewayError as exc:
                await send_error(tracking_send, exc)
            except Exception:
                method, path = echoed(scope["method"]), echoed(scope["path"])
                logger.exception("gateway failure on %s %s", method, path)
                if not started:
                    await send_error(tracking_send, internal_error())
        # websocket scopes are not served: returning without accepting rejects them.

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request: framing, then the API key (on every path, known or not, so a
        client without the key learns nothing of which paths exist), then the path."""
        _check_framing(scope)
        self._check_auth(scope)
        path: str = scope["path"]
        method: str = scope["method"]
        if path.endswith("/") and path != "/":
            path = path[:-1]
        allowed = _allowed_method(method, path)
        if method != allowed:
            raise GatewayError(
                status=405,
                message=f"Method {echoed(method)} is not allowed on {echoed(path)}; use {allowed}.",
                code="method_not_allowed",
                headers=(("allow", allowed),),
            )
        if path == "/v1/chat/completions":
            await self._chat_completions(scope, receive, send)
        elif path == "/v1/models":
            await send_json(send, 200, await self._models_body())
        else:
            await self._one_model(path.removeprefix("/v1/models/"), send)

    def _check_auth(self, scope: Scope) -> None:
        """Raise the 401 of a request without the configured API key (none: no check)."""
        if self._expected_auth is None:
            return
        given = find_header(scope["headers"], b"authorization")
        if given is None:
            raise _auth_error(
                "Missing API key: send 'Authorization: Bearer <key>'.", "missing_api_key"
            )
        scheme, _, token = given.strip().partition(b" ")
        # The scheme is case-insensitive (RFC 9110); the key is compared in constant time.
        matches = hmac.compare_digest(token.strip(), self._expected_auth)
        if scheme.lower() != b"bearer" or not matches:
            raise _auth_error("Incorrect API key provided.", "invalid_api_key")

    async def _models_body(self) -> bytes:
        """The listed entries of the routing table; in dialect 2026 DuckDuckGo's live list
        (fetched, cached) first becomes its part of the table, with capability flags."""
        fetch = getattr(self.upstream, "live_models", None)
        live = await fetch() if fetch is not None else None
        if live:
            self.catalog.learn_live(live)
        entries = self.catalog.table().listed()
        return models_body(
            model_object(e.name, e.route.provider, e.route.model, self.catalog.live)
            for e in entries
        )

    async def _one_model(self, model_id: str, send: Send) -> None:
        """One model object: any name the chat endpoint accepts, owned by its provider."""
        route = self.catalog.resolve(model_id)
        await send_json(send, 200, model_body(model_id, route.provider))

    async def _chat_completions(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = (
            (find_header(scope["headers"], b"content-type") or b"").split(b";")[0].strip().lower()
        )
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
        declared = find_header(scope["headers"], b"content-length")
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
                        elif event.delay > LONGEST_UPSTREAM_WAIT:
                            raise _backoff_too_long(event.delay)
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


def _allowed_method(method: str, path: str) -> str:
    """The method ``path`` is served with, or the 404 of an unknown path."""
    if path == "/v1/chat/completions":
        return "POST"
    if path == "/v1/models" or path.startswith("/v1/models/"):
        return "GET"
    raise GatewayError(
        status=404, message=f"Unknown path: {echoed(f'{method} {path}')}.", code="not_found"
    )


def _closing(start: ASGIMessage) -> ASGIMessage:
    """``start`` (a response head sent before the request's body was read: the key, the
    path, the method, the content type or the size refused it, or a body no endpoint reads)
    saying ``Connection: close``. The connection cannot carry another request cleanly, and
    a client that kept it alive would see its next request dropped."""
    headers = list(start.get("headers", ()))
    if not any(name.lower() == b"connection" for name, _ in headers):
        headers.append((b"connection", b"close"))
    return {**start, "headers": headers}


def _has_body(scope: Scope) -> bool:
    """Whether the request announces a body (a non-zero ``Content-Length``, or chunks)."""
    length = find_header(scope["headers"], b"content-length")
    if length is not None:
        return length.strip() not in (b"", b"0")
    return find_header(scope["headers"], b"transfer-encoding") is not None


def _check_framing(scope: Scope) -> None:
    # Both lengths at once is how requests are smuggled past a proxy that reads the other
    # one: refuse it and close the connection, so nothing after it on the connection is
    # read as a request (RFC 9112 §6.3).
    headers = scope["headers"]
    if (
        find_header(headers, b"transfer-encoding") is not None
        and find_header(headers, b"content-length") is not None
    ):
        raise GatewayError(
            status=400,
            message="The request has both Content-Length and Transfer-Encoding.",
            code="invalid_request",
            headers=(("connection", "close"),),
        )


# Keeps an absurd wait (1e300, inf) a short header; about 31 years.
_LONGEST_RETRY_AFTER = 1e9


def _backoff_too_long(delay: float) -> GatewayError:
    seconds = math.ceil(min(delay, _LONGEST_RETRY_AFTER))
    return GatewayError(
        status=429,
        message=f"The service asked to wait {seconds} s before retrying.",
        type="rate_limit_error",
        code="rate_limit_exceeded",
        headers=(("retry-after", str(seconds)),),
    )


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


def _served(name: str, dialect: str | None) -> ProviderInfo:
    """The provider ``name`` as the routing table reads it: DuckDuckGo through the view of
    its dialect (its models are a closed list there), any other as it is."""
    if name == DuckDuckGoModels.name:
        return DuckDuckGoModels(dialect)
    provider: ProviderInfo = providers.get(name)
    return provider


def create_gateway_app(
    config: GatewayConfig | None = None, *, upstream: Upstream | None = None, **settings: Any
) -> GatewayApp:
    """Build the gateway's ASGI app.

    Args:
        config: the settings (default :class:`GatewayConfig`); keyword ``settings`` override
            its fields, e.g. ``create_gateway_app(base_url="http://127.0.0.1:8765",
            api_key="s3cret", min_interval=0)``.
        upstream: what runs the turns (default: :class:`SessionUpstream`, fresh sessions
            over httpx with the configured base URLs, proxy, timeout and pacing).

    Raises ``ValueError`` or ``LocalProtocolError`` for a bad setting.
    """
    config = checked(dataclasses.replace(config or GatewayConfig(), **settings))
    catalog = ModelCatalog(tuple(_served(name, config.dialect) for name in config.providers))
    if upstream is None:
        base_urls = {
            name: url for name in config.providers if (url := config.base_url_for(name)) is not None
        }
        upstream = SessionUpstream(
            base_urls=base_urls,
            proxy=config.proxy,
            verify=config.verify,
            timeout=config.timeout,
            min_interval=config.min_interval,
            max_retries=config.max_retries,
            retry_base_delay=config.retry_base_delay,
            solver=config.solver,
            dialect=config.dialect,
            max_reply_chars=config.max_reply_chars,
        )
    return GatewayApp(config, catalog, upstream)
