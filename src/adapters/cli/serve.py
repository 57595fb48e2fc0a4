"""``sansio-chat serve``: the gateway's options, its settings from them, and the server run.

The gateway package (:mod:`sansio_chat.adapters.gateway`) is imported inside these functions,
when the command is used: ``sansio-chat ask`` never loads it, and an install without it fails
this command alone, with one line (see ``_main``).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from typing import TYPE_CHECKING

from sansio_chat.adapters.serving import ServerHandle, run_forever

from sansio_chat import LocalProtocolError, providers

from ._access_log import LEVELS, AccessLog, configure
from ._options import DIALECTS, SOLVERS
from ._types import port, positive_int, positive_seconds, proxy_url

if TYPE_CHECKING:
    from sansio_chat.adapters.gateway import GatewayConfig

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_PORT",
    "add_serve_arguments",
    "config_from_args",
    "run_serve_from_args",
]

API_KEY_ENV = "SANSIO_CHAT_API_KEY"
"""The environment variable ``sansio-chat serve`` reads the API key from."""

DEFAULT_PORT = 8000
"""The port ``sansio-chat serve`` listens on by default."""


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``sansio-chat serve`` to ``parser``."""
    from sansio_chat.adapters.gateway import (
        DEFAULT_MAX_BODY_BYTES,
        DEFAULT_MAX_CONCURRENCY,
        DEFAULT_QUEUE_TIMEOUT,
    )

    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
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
    add("--proxy", type=proxy_url, default=None, help="proxy URL for upstream requests")
    add(
        "--timeout",
        type=positive_seconds,
        default=None,
        help="upstream connect/read timeout, seconds",
    )
    add(
        "--insecure",
        dest="verify",
        action="store_false",
        help="do not verify upstream TLS certificates (only for a test server you trust)",
    )
    # The old spelling, kept working but not advertised: one name per thing.
    add("--no-verify", dest="verify", action="store_false", help=argparse.SUPPRESS)
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
    add(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes sharing the port (POSIX; default 1)",
    )
    add(
        "--log-level",
        choices=LEVELS,
        default="info",
        help="info (default): one access line per request on stderr; warning: only failures",
    )
    add(
        "--max-reply-chars",
        type=positive_int,
        default=None,
        metavar="N",
        help="refuse an upstream reply longer than N characters with a 502 "
        "(default: the library's limit)",
    )
    add(
        "--dialect",
        choices=DIALECTS,
        default=None,
        help="the DuckDuckGo protocol era upstream (default: discover it per conversation)",
    )
    add(
        "--solver",
        choices=SOLVERS,
        default="v8",
        help="what answers the 2026 script challenges: v8 (in-process, default) or chromium "
        "(a headless browser, launched on the first challenge)",
    )


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
    from sansio_chat.adapters.gateway import GatewayConfig

    names = tuple(name.strip() for name in str(args.providers).split(",") if name.strip())
    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV)
    if api_key is not None and not api_key.strip():
        # Fail closed: an empty key is an unset shell variable far more often than a wish
        # to serve without authentication.
        source = "--api-key" if args.api_key is not None else f"${API_KEY_ENV}"
        raise ValueError(
            f"{source} is empty; give a key, or leave {source} unset to serve without one"
        )
    return GatewayConfig(
        providers=names,
        base_url=_base_urls(list(args.base_url), names),
        api_key=api_key,
        max_concurrency=args.max_concurrency,
        queue_timeout=args.queue_timeout,
        max_body_bytes=args.max_body_bytes,
        proxy=args.proxy,
        timeout=args.timeout,
        verify=args.verify,
        min_interval=args.min_interval,
        max_retries=args.max_retries,
        max_reply_chars=args.max_reply_chars,
        dialect=args.dialect,
        solver=args.solver,
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
    from sansio_chat.adapters.gateway import create_gateway_app

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

    if args.workers < 1:
        print("sansio-chat serve: --workers must be 1 or more", file=sys.stderr)
        return 2
    configure(args.log_level)
    logged = AccessLog(app, "gateway", worker_pid=args.workers > 1)
    try:
        if args.workers > 1:
            from ._workers import run_workers

            run_workers(logged, args.host, args.port, args.workers, ready, backend=args.backend)
        else:
            run_forever(logged, args.host, args.port, ready, backend=args.backend)
    except OSError as error:
        print(
            f"sansio-chat serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        return 1
    return 0
