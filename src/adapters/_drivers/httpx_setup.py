"""httpx clients set up for the drivers: no cookie jar, no redirects, shared TLS contexts."""

from __future__ import annotations

from http.cookiejar import CookieJar, CookiePolicy
from typing import Any

import httpx

from .common import Verify, ssl_context

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


def _client_options(
    proxy: str | None, verify: Verify, limits: httpx.Limits | None
) -> dict[str, Any]:
    return {
        "proxy": proxy,
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
    return httpx.AsyncClient(**_client_options(proxy, verify, limits))


def http_client(
    *, proxy: str | None = None, verify: Verify = True, limits: httpx.Limits | None = None
) -> httpx.Client:
    """An ``httpx.Client`` set up for the drivers (no cookie jar, no redirects)."""
    return httpx.Client(**_client_options(proxy, verify, limits))
