"""The page, loaded ahead of the first turn (:class:`PagePreparation`).

A browser loads duck.ai when the user opens it and sends the status call and the chat request
when the first message is sent; the page is not part of that message's wait. A session does
the same when its driver asks (``ChatSession.start_preparation()``): the era's page exchange
alone, its limits, era check and refusals unchanged, and a ``FINISH`` that commits the
fe-version with the conversation's provider state and no message.
"""

from __future__ import annotations

from sansio_chat._session import (
    Decision,
    DecisionKind,
    Headers,
    HeadResult,
    ProviderChallenge,
    ProviderExchange,
    ProviderTurn,
)
from sansio_chat.providers.ddg.page import PageExchange
from sansio_chat.providers.ddg.turn import Turn

__all__ = ["PagePreparation"]


class PagePreparation(ProviderTurn):
    """The exchanges of ``turn`` up to and including its page: the page, again after a
    refusal worth a retry, and the era probe when the page shows another era."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn

    def next_exchange(self) -> ProviderExchange | ProviderChallenge:
        planned = self.turn.next_exchange()  # the page while there is no fe-version
        if isinstance(planned, PageExchange):
            return _PageThenFinish(planned, self.turn)
        return planned  # the era probe: it ends the preparation with its error


class _PageThenFinish(ProviderExchange):
    """``page``, whose success ends the preparation instead of leading to the status call."""

    def __init__(self, page: PageExchange, turn: Turn) -> None:
        self.page = page
        self.turn = turn
        self.request = page.request

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        return self.page.on_head(status, headers)

    def on_body(self, body: bytes, received: int) -> Decision:
        decision = self.page.on_body(body, received)
        if decision.kind is not DecisionKind.NEXT or self.turn.probe is not None:
            return decision
        conversation = self.turn.ctx.conversation
        return Decision.finish(
            self.turn.rules.snapshot(conversation, exhausted=conversation.exhausted)
        )
