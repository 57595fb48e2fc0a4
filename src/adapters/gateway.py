"""An OpenAI-compatible gateway: a plain ASGI app in front of the chat providers.

``POST /v1/chat/completions`` (streaming and not), ``GET /v1/models`` and
``GET /v1/models/{id}``; each request is a fresh conversation built from its ``messages``.
Serve the app from :func:`create_gateway_app` with any ASGI server, or run
``sansio-chat serve`` (hypercorn; :func:`add_serve_arguments` / :func:`run_serve_from_args`).
See docs/gateway.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
import sys
from collections.abc import Mapping
from typing import Any

from sansio_chat import LocalProtocolError, providers
from sansio_chat.providers._base import normalize_base_url

from ._gateway_app import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_QUEUE_TIMEOUT,
    GatewayApp,
    GatewayConfig,
    Upstream,
    UpstreamEvent,
)
from ._gateway_openai import GatewayError
from ._gateway_request import ModelCatalog, ModelRoute
from ._gateway_upstream import SessionUpstream
from .serving import ServerHandle, run_forever

__all__ = [
    "API_KEY_ENV",
    "GatewayApp",
    "GatewayConfig",
    "GatewayError",
    "ModelRoute",
    "SessionUpstream",
    "Upstream",
    "UpstreamEvent",
    "add_serve_arguments",
    "config_from_args",
    "create_gateway_app",
    "run_serve_from_args",
]

API_KEY_ENV = "SANSIO_CHAT_API_KEY"
"""The environment variable ``sansio-chat serve`` reads the API key from."""

DEFAULT_PORT = 8000


def _checked(config: GatewayConfig) -> GatewayConfig:
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
    if config.api_key == "":
        raise ValueError("api_key must not be empty (use None for no authentication)")
    return dataclasses.replace(config, base_url=base_url)


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
    config = _checked(dataclasses.replace(config or GatewayConfig(), **settings))
    catalog = ModelCatalog(tuple(providers.get(name) for name in config.providers))
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
        )
    return GatewayApp(config, catalog, upstream)


# -- command line -------------------------------------------------------------------------


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``sansio-chat serve`` to ``parser``."""
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    add(
        "--base-url",
        action="append",
        default=[],
        metavar="[PROVIDER=]URL",
        help="upstream base URL for every provider, or PROVIDER=URL for one (repeatable); "
        "default: the real services",
    )
    add(
        "--api-key",
        default=None,
        help=f"require 'Authorization: Bearer KEY' (default: ${API_KEY_ENV}; unset: no auth)",
    )
    add(
        "--providers",
        default=",".join(providers.names()),
        help="providers to serve, in model-resolution order (default: %(default)s)",
    )
    add("--proxy", default=None, help="proxy URL for upstream requests")
    add("--timeout", type=float, default=None, help="upstream connect/read timeout, seconds")
    add("--no-verify", dest="verify", action="store_false", help="skip upstream TLS checks")
    add(
        "--min-interval",
        type=float,
        default=None,
        help="minimum seconds between requests to one upstream host (default 1.5)",
    )
    add(
        "--max-retries",
        type=int,
        default=None,
        help="retries of a refused upstream request before answering 429 (default 3)",
    )
    add(
        "--max-concurrency",
        type=int,
        default=DEFAULT_MAX_CONCURRENCY,
        help="upstream turns at once (default %(default)s)",
    )
    add(
        "--queue-timeout",
        type=float,
        default=DEFAULT_QUEUE_TIMEOUT,
        help="seconds a request waits for a free slot before a 429 (default %(default)s)",
    )
    add(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help="largest request body accepted (default %(default)s)",
    )
    add("--backend", choices=("asyncio", "trio"), default="asyncio", help="event loop")


def _base_urls(values: list[str], names: tuple[str, ...]) -> str | dict[str, str] | None:
    if not values:
        return None
    shared: str | None = None
    per_provider: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if sep and name in providers.names():
            per_provider[name] = url
        elif shared is None:
            shared = value
        else:
            raise ValueError("--base-url without PROVIDER= may be given once")
    if not per_provider:
        return shared
    urls = dict.fromkeys(names, shared) if shared is not None else {}
    urls.update(per_provider)
    return urls


def config_from_args(args: argparse.Namespace) -> GatewayConfig:
    """Build the settings from parsed options (``--api-key`` falls back to the env var)."""
    names = tuple(name.strip() for name in str(args.providers).split(",") if name.strip())
    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV)
    return GatewayConfig(
        providers=names,
        base_url=_base_urls(list(args.base_url), names),
        api_key=api_key or None,
        max_concurrency=args.max_concurrency,
        queue_timeout=args.queue_timeout,
        max_body_bytes=args.max_body_bytes,
        proxy=args.proxy,
        timeout=args.timeout,
        verify=args.verify,
        min_interval=args.min_interval,
        max_retries=args.max_retries,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_serve_from_args(args: argparse.Namespace) -> int:
    """Serve the gateway until Ctrl-C or SIGTERM; return the exit status (2: bad options)."""
    try:
        app = create_gateway_app(config_from_args(args))
    except (ValueError, LocalProtocolError) as error:
        print(f"sansio-chat serve: {error}", file=sys.stderr)
        return 2
    if app.config.api_key is None and not _is_loopback(args.host):
        print(
            f"sansio-chat serve: warning: listening on {args.host} without an API key; "
            f"anyone who can reach it can use it (set --api-key or ${API_KEY_ENV})",
            file=sys.stderr,
        )

    def ready(handle: ServerHandle) -> None:
        auth = "API key required" if app.config.api_key else "no API key"
        print(f"sansio-chat gateway on {handle.base_url}/v1 ({auth})", flush=True)

    try:
        run_forever(app, args.host, args.port, ready, backend=args.backend)
    except OSError as error:
        print(
            f"sansio-chat serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m sansio_chat.adapters.gateway`` (the CLI wires ``sansio-chat serve``)."""
    parser = argparse.ArgumentParser(prog="sansio-chat serve", description=__doc__)
    add_serve_arguments(parser)
    return run_serve_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
