"""The exchange that fetches the page naming the fe-version (every era with ``fe_version``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sansio_chat._errors import RemoteProtocolError
from sansio_chat._http import HttpRequest
from sansio_chat._session import Decision, Headers, HeadResult, ProviderExchange, ReadBody
from sansio_chat.providers.ddg.eras import DialectMismatchError, page_eras
from sansio_chat.providers.ddg.probe import EraProbe
from sansio_chat.providers.ddg.wire import fe_version_request, parse_fe_version

if TYPE_CHECKING:
    from sansio_chat.providers.ddg.turn import Turn

__all__ = ["PageExchange"]


class PageExchange(ProviderExchange):
    """The page that names the fe-version; ``parse`` reads it (each era writes it its way)."""

    def __init__(
        self,
        turn: Turn,
        request: HttpRequest | None = None,
        parse: Callable[[str], str] = parse_fe_version,
    ) -> None:
        self.turn = turn
        rules = turn.rules
        self.request = request or fe_version_request(rules.base_url, rules.browser)
        self.parse = parse
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        return ReadBody(purpose="page" if 200 <= status < 300 else "error")

    def on_body(self, body: bytes, received: int) -> Decision:
        if not 200 <= self.status < 300:
            return self.turn.refuse_body(self.status, self.headers, body, "page")
        if received > len(body):
            raise RemoteProtocolError(
                "the fe-version page exceeds Limits.max_page_bytes",
                limit=len(body),
                observed=received,
            )
        html = body.decode("utf-8", "replace")
        expected = self.turn.rules.dialect.name
        eras = page_eras(html)
        if eras and expected not in eras:
            if len(eras) == 1:
                raise DialectMismatchError(expected, eras[0])
            # Another era's page, but the seed eras share it: their status replies differ.
            mismatch = DialectMismatchError(expected, among=eras)
            self.turn.probe = EraProbe(self.turn, mismatch, eras)
            return Decision.next()
        self.turn.rules.fe_version = self.parse(html)
        return Decision.next()
