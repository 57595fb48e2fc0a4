"""Dialect discovery: a session given no dialect learns the service's era from its answers.

Every era's first turn makes a status call, and the status reply alone tells the eras apart
(:func:`~sansio_chat.providers.ddg.eras.served_dialect`). So a discovering session makes the
status call first, picks the era's rules, and goes on with exactly the exchanges that era
needs: discovery costs no request. The era is then kept with the conversation
(``DuckDuckGoState.dialect``), so later turns do not discover again; a reply of another era
later on is a :class:`~sansio_chat.providers.ddg.eras.DialectMismatchError`, never a switch.
A preparation (``ChatSession.start_preparation()``) before the era is known makes the same
status call to learn which page to load.
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
from sansio_chat.providers.ddg.state import DuckDuckGoState
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
        fe_version_held: bool = False,
    ) -> None:
        self.base_url = base_url
        self.solver_given = solver_given
        self.fe_version_held = fe_version_held
        self.browser = browser
        self.rules_for = rules_for
        self.model_for = model_for
        self.era: Rules | None = None

    def costly_ahead(self) -> bool:
        # Between turns: a carried challenge may be solved in start_turn().
        return self.era is not None and self.era.costly_ahead()

    def _kept_era(self, ctx: TurnContext) -> Rules | None:
        """The era learnt, once a finished turn or preparation has kept it with the
        conversation. One learnt by a turn that then failed is forgotten, with the model it
        resolved for that era (both went with the failed turn): the next status call
        names the era again."""
        if self.era is not None and not DuckDuckGoState.of(ctx.conversation).dialect:
            self.era = None
        return self.era

    def begin_preparation(self, ctx: TurnContext) -> ProviderTurn | None:
        era = self._kept_era(ctx)
        if era is not None:
            return era.begin_preparation(ctx)
        if self.fe_version_held:
            return None  # no page to load: the first turn's status call names the era
        # The page depends on the era: a status call names it first.
        return _DiscoveringPreparation(self, ctx, self.rules_for("2026"))

    def begin_turn(self, ctx: TurnContext) -> ProviderTurn:
        era = self._kept_era(ctx)
        if era is not None:
            return era.begin_turn(ctx)
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

    def settle_era(self, era: str, headers: Headers) -> Decision:
        """Become ``era``'s turn, seeded with what the status reply handed out."""
        rules = self.rules
        ctx = self.ctx
        concrete = _era_rules(rules, ctx, era)
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
        return Decision.next()


def _era_rules(rules: DiscoveringRules, ctx: TurnContext, era: str) -> Rules:
    """``era``'s rules for this session, the conversation's model resolved in that era
    (``ModelNotSupportedError`` names the era's models)."""
    model = ctx.conversation.model
    resolved = rules.model_for(model, era)
    if resolved != model:
        ctx.conversation = replace(ctx.conversation, model=resolved)
    concrete = rules.rules_for(era)
    concrete.record_dialect = True
    return concrete


class _DiscoveringPreparation(ProviderTurn):
    """``prepare()`` before the era is known: the status call names the era, then that era's
    own preparation (its page) runs. The status reply's token and challenge are not kept
    (the first turn asks for fresh ones when its message is sent); an era without a page
    finishes at once, keeping the era with the conversation."""

    def __init__(self, rules: DiscoveringRules, ctx: TurnContext, probe: Rules) -> None:
        self.rules = rules
        self.ctx = ctx
        self.refusals = Turn(probe, ctx, 0)
        self.delegate: ProviderTurn | None = None

    def next_exchange(self) -> ProviderExchange | ProviderChallenge:
        if self.delegate is not None:
            return self.delegate.next_exchange()
        return _DiscoveryStatus(self)

    def settle_era(self, era: str, headers: Headers) -> Decision:
        """Take ``era``; go on to its page, or finish when it reads none."""
        concrete = _era_rules(self.rules, self.ctx, era)
        self.rules.era = concrete
        self.delegate = concrete.begin_preparation(self.ctx)
        if self.delegate is not None:
            return Decision.next()
        conversation = self.ctx.conversation
        return Decision.finish(concrete.snapshot(conversation, exhausted=conversation.exhausted))


class _DiscoveryStatus(ProviderExchange):
    """The status call of a discovering turn: its reply names the era."""

    def __init__(self, turn: _DiscoveringTurn | _DiscoveringPreparation) -> None:
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
        return self.turn.settle_era(era, headers)

    def on_body(self, body: bytes, received: int) -> Decision:
        return self.turn.refusals.refuse_body(self.status, self.headers, body, "status")
