"""Dialect discovery: a session given no dialect learns the service's era from its answers.

Every era's first turn makes a status call, and the status reply alone tells the eras apart
(:func:`~sansio_chat.providers.ddg.eras.served_dialect`). So a discovering session makes the
status call first, picks the era's rules, and goes on with exactly the exchanges that era
needs: discovery costs no request. The era is then kept with the conversation
(``DuckDuckGoState.dialect``), so later turns do not discover again; a reply of another era
later on is a :class:`~sansio_chat.providers.ddg.eras.DialectMismatchError`, never a switch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sansio_chat._http import find_header
from sansio_chat._session import (
    Decision,
    Headers,
    HeadResult,
    ProviderChallenge,
    ProviderExchange,
    ProviderRules,
    ProviderTurn,
    ReadBody,
    TurnContext,
)
from sansio_chat.providers.ddg.eras import served_dialect
from sansio_chat.providers.ddg.turn import INLINE_SOLVE_LIMIT, Rules, Turn
from sansio_chat.providers.ddg.wire import Browser, MissingHeaderError, sendable
from sansio_chat.providers.ddg.wire2026 import status_request_2026

__all__ = ["DiscoveringRules"]

RulesFor = Callable[[str], Rules]
"""Builds the rules of one era (by dialect name), with the session's options."""
ModelFor = Callable[[str, str], str]
"""Resolves the conversation's model for one era: ``(model, dialect name) -> model id``."""


class DiscoveringRules(ProviderRules):
    """Rules that learn the era on the first status reply, then are that era's rules."""

    name = "ddg"

    def __init__(
        self,
        *,
        base_url: str,
        browser: Browser,
        rules_for: RulesFor,
        model_for: ModelFor,
        solver_given: bool = False,
    ) -> None:
        self.base_url = base_url
        self.solver_given = solver_given
        self.browser = browser
        self.rules_for = rules_for
        self.model_for = model_for
        self.era: Rules | None = None

    def costly_ahead(self) -> bool:
        # Between turns: a carried challenge may be solved in start_turn().
        return self.era is not None and self.era.costly_ahead()

    def begin_preparation(self, ctx: TurnContext) -> ProviderTurn | None:
        # Before the era is known, so is its page (the first status reply tells the era).
        return self.era.begin_preparation(ctx) if self.era is not None else None

    def begin_turn(self, ctx: TurnContext) -> ProviderTurn:
        if self.era is not None:
            return self.era.begin_turn(ctx)
        # The input limit is the same in every era: check it before anything is sent.
        probe = self.rules_for("2026")
        probe.check_input(ctx)
        return _DiscoveringTurn(self, ctx, probe)


class _DiscoveringTurn(ProviderTurn):
    def __init__(self, rules: DiscoveringRules, ctx: TurnContext, probe: Rules) -> None:
        self.rules = rules
        self.ctx = ctx
        # Refusals of the status call follow the error table of any era's turn.
        self.refusals = Turn(probe, ctx, 0)
        self.delegate: ProviderTurn | None = None

    def costly_ahead(self, head: Headers) -> bool:
        if self.delegate is not None:
            return self.delegate.costly_ahead(head)
        # The status reply's head names the era; a 2025-03 challenge is solved at once.
        coming = find_header(head, "x-vqd-hash-1")
        if not coming or served_dialect(head) != "2025-03":
            return False
        return self.rules.solver_given or len(coming) > INLINE_SOLVE_LIMIT

    def next_exchange(self) -> ProviderExchange | ProviderChallenge:
        if self.delegate is not None:
            return self.delegate.next_exchange()
        return _DiscoveryStatus(self)

    def settle_era(self, era: str, headers: Headers) -> None:
        """Become ``era``'s turn, seeded with what the status reply handed out."""
        rules = self.rules
        ctx = self.ctx
        model = ctx.conversation.model
        resolved = rules.model_for(model, era)  # ModelNotSupportedError names the era's models
        if resolved != model:
            ctx.conversation = replace(ctx.conversation, model=resolved)
        concrete = rules.rules_for(era)
        concrete.record_dialect = True
        token = find_header(headers, "x-vqd-4")
        challenge = find_header(headers, "x-vqd-hash-1")
        if token:
            concrete.vqd = sendable(token, "the x-vqd-4 token")
        if challenge and concrete.dialect.challenge:
            concrete.challenge = sendable(challenge, "x-vqd-hash-1")
        turn = concrete.begin_turn(ctx)
        assert isinstance(turn, Turn)
        turn.status_taken(headers)
        rules.era = concrete
        self.delegate = turn


class _DiscoveryStatus(ProviderExchange):
    """The status call of a discovering turn: its reply names the era."""

    def __init__(self, turn: _DiscoveringTurn) -> None:
        self.turn = turn
        rules = turn.rules
        self.request = status_request_2026(rules.base_url, rules.browser)
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        era = served_dialect(headers)
        if not era:
            raise MissingHeaderError(
                "x-vqd-hash-1",
                " nor x-vqd-4 (the status reply fits no known DuckDuckGo era: 2024, 2025-03, 2026)",
            )
        self.turn.settle_era(era, headers)
        return Decision.next()

    def on_body(self, body: bytes, received: int) -> Decision:
        return self.turn.refusals.refuse_body(self.status, self.headers, body, "status")
