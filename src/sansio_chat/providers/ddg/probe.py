"""The status call that names the service's era after a reply that shows another era but
cannot say which (:class:`EraProbe`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sansio_chat._errors import SansioChatError
from sansio_chat._session import Decision, Headers, HeadResult, ProviderExchange, ReadBody
from sansio_chat.providers.ddg.eras import DialectMismatchError, served_dialect
from sansio_chat.providers.ddg.wire2026 import status_request_2026

if TYPE_CHECKING:
    from sansio_chat.providers.ddg.turn import Turn

__all__ = ["EraProbe"]


class EraProbe(ProviderExchange):
    """A status call that names the service's era, after a reply that cannot.

    Sent when a reply proves (or, as a refused status call, suggests) that the service speaks
    another era but does not say which: the status call in the form every era answers (the
    one a discovering session sends) gets a reply whose headers name the era
    (:func:`served_dialect`). The probe always ends the turn: with a
    :class:`DialectMismatchError` naming the era its reply shows, if that is another era
    than the session's and one of ``among`` (any other era when ``among`` is empty), else
    with ``fallback`` (what was known before the probe). No era is guessed.
    """

    def __init__(self, turn: Turn, fallback: SansioChatError, among: tuple[str, ...] = ()) -> None:
        self.turn = turn
        self.fallback = fallback
        self.among = among
        rules = turn.rules
        self.request = status_request_2026(
            rules.base_url, rules.browser, tuple(rules.cookies.items())
        )

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        expected = self.turn.rules.dialect.name
        served = served_dialect(headers)
        if served and served != expected and (not self.among or served in self.among):
            raise DialectMismatchError(expected, served)
        raise self.fallback

    def on_body(self, body: bytes, received: int) -> Decision:
        raise self.fallback
