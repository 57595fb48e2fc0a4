"""Option value types: a bad value is a usage error (exit 2) naming the option, no traceback."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from urllib.parse import SplitResult

__all__ = [
    "non_negative_int",
    "non_negative_seconds",
    "port",
    "positive_int",
    "positive_seconds",
    "proxy_url",
    "service_url",
]


def positive_seconds(text: str) -> float:
    """A finite number of seconds above zero (``--timeout``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def non_negative_seconds(text: str) -> float:
    """A finite number of seconds, zero or more (``--min-interval``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number, zero or more (``--max-retries``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_int(text: str) -> int:
    """A whole number, 1 or more (``--max-reply-chars``)."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def service_url(text: str) -> str:
    """An ``http`` or ``https`` URL with a host (``--base-url``)."""
    parts = _url_parts(text, "a URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"not an http(s) URL with a host: {text!r} (e.g. http://127.0.0.1:8765)"
        )
    return text


def _url_parts(text: str, what: str) -> SplitResult:
    """``text`` split as a URL, its port (if any) in range; else an error: it is not ``what``."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises for a port out of range)
    except ValueError as error:  # also a malformed IPv6 host
        raise argparse.ArgumentTypeError(f"not {what}: {text!r} ({error})") from None
    return parts


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free one)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {value}")
    return value


_SOCKS = ("socks5", "socks5h")


def proxy_url(text: str) -> str:
    """An ``http``, ``https`` or (with the ``socksio`` package) ``socks5`` proxy URL."""
    import importlib.util

    parts = _url_parts(text, "a proxy URL")
    if parts.scheme not in ("http", "https", *_SOCKS) or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"not a proxy URL: {text!r} (expected e.g. http://HOST:PORT or socks5://HOST:PORT)"
        )
    if parts.scheme in _SOCKS and importlib.util.find_spec("socksio") is None:
        raise argparse.ArgumentTypeError(
            "a socks5 proxy needs the socksio package (pip install 'httpx[socks]')"
        )
    return text
