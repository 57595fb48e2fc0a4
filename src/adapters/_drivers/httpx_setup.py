"""httpx clients set up for the drivers: no cookie jar, no redirects, shared TLS contexts.

With an explicit proxy, a failure to reach it (or a tunnel it refuses) is reported as a
``TransportError`` naming the proxy, without its credentials, instead of httpx's words,
which name the target.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, CookiePolicy
from typing import Any

import httpx

from sansio_chat import TransportError

from .common import Verify, ssl_context
from .h11_connection import shown_proxy

__all__ = ["async_http_client", "http_client"]


class _RefuseCookies(CookiePolicy):
    """Cookies are conversation state that the session keeps; httpx must store none."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def _proxy_failure(exc: Exception, proxy: str, url: httpx.URL) -> TransportError:
    # The operating system's words are further down the chain than httpx's own.
    seen: BaseException | None = exc
    detail = str(exc) or type(exc).__name__
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno is not None and str(seen):
            detail = str(seen)
            break
        seen = seen.__cause__ or seen.__context__
    target = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
    return TransportError(f"cannot connect to proxy {shown_proxy(proxy)} (for {target}): {detail}")


class _AsyncProxyNaming(httpx.AsyncBaseTransport):
    """An async proxy transport whose connection failures name the proxy."""

    def __init__(self, inner: httpx.AsyncBaseTransport, proxy: str) -> None:
        self._inner, self._proxy = inner, proxy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except (httpx.ConnectError, httpx.ProxyError) as exc:
            raise _proxy_failure(exc, self._proxy, request.url) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class _ProxyNaming(httpx.BaseTransport):
    """A sync proxy transport whose connection failures name the proxy."""

    def __init__(self, inner: httpx.BaseTransport, proxy: str) -> None:
        self._inner, self._proxy = inner, proxy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except (httpx.ConnectError, httpx.ProxyError) as exc:
            raise _proxy_failure(exc, self._proxy, request.url) from exc

    def close(self) -> None:
        self._inner.close()


def _client_options(verify: Verify, limits: httpx.Limits | None) -> dict[str, Any]:
    return {
        "verify": ssl_context(verify),
        "cookies": CookieJar(policy=_RefuseCookies()),
        "follow_redirects": False,
        "limits": limits or httpx.Limits(),
    }


def async_http_client(
    *, proxy: str | None = None, verify: Verify = True, limits: httpx.Limits | None = None
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` set up for the drivers (no cookie jar, no redirects).

    Share one between many clients (their ``http`` argument) to pool connections; raise
    ``limits`` (httpx's default is 100 connections) for more simultaneous conversations.
    """
    options = _client_options(verify, limits)
    if not proxy:
        return httpx.AsyncClient(**options)
    inner = httpx.AsyncHTTPTransport(
        proxy=proxy, verify=options["verify"], limits=options["limits"]
    )
    return httpx.AsyncClient(transport=_AsyncProxyNaming(inner, proxy), **options)


def http_client(
    *, proxy: str | None = None, verify: Verify = True, limits: httpx.Limits | None = None
) -> httpx.Client:
    """An ``httpx.Client`` set up for the drivers (no cookie jar, no redirects)."""
    options = _client_options(verify, limits)
    if not proxy:
        return httpx.Client(**options)
    inner = httpx.HTTPTransport(proxy=proxy, verify=options["verify"], limits=options["limits"])
    return httpx.Client(transport=_ProxyNaming(inner, proxy), **options)
