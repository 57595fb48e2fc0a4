"""The one boundary where transport exceptions become sansio-chat errors.

Each driver wraps its network calls in :func:`map_transport_errors`; a small ordered table
decides the sansio-chat class (httpcore's ``map_exceptions`` idea). Errors raised by the
session itself pass through untouched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

import anyio
import h11
import httpx

from sansio_chat import Timeout, TransportError

from .common import PhaseTimeout, Timeouts, timeout_message

__all__ = ["map_transport_errors", "transport_error"]

# Order matters: the first matching row wins (TimeoutError is an OSError).
_TABLE: tuple[tuple[type[BaseException], type[TransportError], str], ...] = (
    (httpx.ConnectTimeout, Timeout, "connect timeout"),
    (httpx.PoolTimeout, Timeout, "connection pool timeout"),
    (httpx.TimeoutException, Timeout, "read timeout"),
    (TimeoutError, Timeout, "timeout"),
    (httpx.ConnectError, TransportError, "cannot connect"),
    (httpx.ProxyError, TransportError, "proxy error"),
    (httpx.RemoteProtocolError, TransportError, "connection broken"),
    (httpx.TransportError, TransportError, "transport error"),
    (h11.RemoteProtocolError, TransportError, "connection broken"),
    (anyio.EndOfStream, TransportError, "connection closed by peer"),
    (anyio.BrokenResourceError, TransportError, "connection broken"),
    (OSError, TransportError, "network error"),
)


def _describe(exc: BaseException) -> str:
    # Layers re-raise with their own words ("All connection attempts failed") or none at all
    # (httpcore on trio wraps an SSL failure in a bare ConnectError); the operating system's
    # or the TLS library's own words are further down the chain, so prefer those.
    first = ""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        text = str(seen)
        if isinstance(seen, OSError) and seen.errno is not None and text:
            return text
        first = first or text
        group: tuple[BaseException, ...] = getattr(seen, "exceptions", ())
        seen = group[0] if group else (seen.__cause__ or seen.__context__)
    return first or type(exc).__name__


def _timeout_message(exc: BaseException, what: str, url: str, limits: Timeouts | None) -> str:
    # The layers' own words for a timeout are anyio internals ("Cancelled via cancel scope
    # 7f… by <Task …>"); say instead which timeout, how long, and where.
    if isinstance(exc, PhaseTimeout):
        return timeout_message(exc.what, exc.seconds, url)
    seconds = None
    if limits is not None:
        connecting = what in ("connect timeout", "connection pool timeout")
        seconds = limits.connect if connecting else limits.read
    return timeout_message(what, seconds, url)


def transport_error(
    exc: BaseException, url: str, received: Sequence[str] = (), limits: Timeouts | None = None
) -> TransportError | None:
    """The sansio-chat error for ``exc`` raised while talking to ``url`` (``None``: not ours).

    ``received`` holds the reply text delivered so far; it becomes ``partial_text``;
    ``limits`` are the timeouts in force, named in a ``Timeout``'s message.
    """
    if isinstance(exc, TransportError):
        return exc  # already ours (the h11 driver's proxy errors)
    for source, target, what in _TABLE:
        if isinstance(exc, source):
            if target is Timeout:
                message = _timeout_message(exc, what, url, limits)
            else:
                parts = urlsplit(url)
                message = f"{what} ({parts.scheme}://{parts.netloc}): {_describe(exc)}"
            return target(message, partial_text="".join(received))
    return None


@contextmanager
def map_transport_errors(
    url: str, received: Sequence[str] = (), limits: Timeouts | None = None
) -> Iterator[None]:
    """Re-raise a transport failure during an exchange with ``url`` as ``TransportError``."""
    try:
        yield
    except Exception as exc:
        error = transport_error(exc, url, received, limits)
        if error is None or error is exc:
            raise
        raise error from exc
