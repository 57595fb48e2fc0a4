"""A DuckDuckGo turn in dialect ``2026`` (duck.ai, docs/protocol.md).

The exchanges: the page (once; its ``<html>`` names the fe-version), the status call (only
when no challenge is at hand: each chat reply carries the next one), the script challenge
(a :class:`~sansio_chat.SolveChallenge` step the driver answers) and the chat call with the
proof. A refused proof or a rate limit is retried with a fresh challenge, within the back-off's
retries. A ``400 ERR_BAD_REQUEST`` on the chat call is checked against the live model list.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from random import Random
from typing import Literal

from sansio_chat._challenge import ChallengeResult, SolveChallenge
from sansio_chat._conversation import Conversation
from sansio_chat._errors import (
    ChallengeError,
    HTTPStatusError,
    LocalProtocolError,
    ModelNotSupportedError,
    SansioChatError,
)
from sansio_chat._events import (
    FinishReason,
)
from sansio_chat._session import (
    Decision,
    Headers,
    ProviderChallenge,
    ProviderExchange,
    ProviderTurn,
    TurnContext,
)
from sansio_chat.providers.ddg.dialects import Dialect
from sansio_chat.providers.ddg.exchanges2026 import (
    ChatExchange2026,
    ModelsExchange,
    PageExchange2026,
    StatusExchange2026,
)
from sansio_chat.providers.ddg.models import MODELS_2026
from sansio_chat.providers.ddg.proof import DEFAULT_STACK, build_proof
from sansio_chat.providers.ddg.state import DuckDuckGoState
from sansio_chat.providers.ddg.turn import Rules, Turn
from sansio_chat.providers.ddg.wire import (
    Browser,
)
from sansio_chat.providers.ddg.wire2026 import (
    DurableKey,
    KeySource,
    challenge_page,
    chat_body_2026,
    chat_request_2026,
    decode_script,
    fe_signals,
    journey_id,
    message_id,
    origin_of,
)

__all__ = ["Rules2026", "Turn2026"]

_LIMIT_REASONS: dict[str, FinishReason] = {
    "LIMIT_CONVERSATION": "conversation_limit",
    "LIMIT_ACCOUNT": "account_limit",
    "LIMIT_ENTITY": "entity_limit",
    "LIMIT_IMAGE_GENERATIONS": "image_limit",
}


class Rules2026(Rules):
    """Dialect ``2026`` rules for one session: the chained challenge, the durable-stream key,
    and the per-request values drawn from the injected rng and wall clock."""

    def __init__(
        self,
        *,
        state: DuckDuckGoState,
        base_url: str,
        dialect: Dialect,
        browser: Browser,
        rng: Random,
        wall_clock: Callable[[], float] = time.time,
        key_source: KeySource,
        keep_private_key: bool = False,
        reasoning_effort: str = "none",
        stack: str = DEFAULT_STACK,
    ) -> None:
        super().__init__(
            state=state, base_url=base_url, dialect=dialect, browser=browser, solver=None
        )
        self.origin = origin_of(base_url)
        self.rng = rng
        self.wall_clock = wall_clock
        self.key_source = key_source
        self.keep_private_key = keep_private_key
        self.reasoning_effort = reasoning_effort
        self.stack = stack
        self.conversation_id = state.conversation_id
        self.key: DurableKey | None = (
            DurableKey(n=state.key_n, e=state.key_e or "AQAB", private_pem=state.key_private)
            if state.key_n
            else None
        )
        self.proof: tuple[str, str] | None = None
        self.live_models: tuple[str, ...] | None = None

    def begin_turn(self, ctx: TurnContext) -> ProviderTurn:
        size = self.check_input(ctx)
        return Turn2026(self, ctx, size)

    def costly_ahead(self) -> bool:
        # Once a challenge is at hand, the conversation's first chat request is near, and it
        # makes the RSA key pair (tens of milliseconds). Nothing else here is heavy.
        return self.key is None and bool(self.challenge)

    def ensure_durable_stream(self) -> DurableKey:
        """The conversation's key pair and id, made on the first turn."""
        if self.key is None:
            try:
                key = self.key_source()
            except SansioChatError:
                raise
            except Exception as exc:
                raise LocalProtocolError(f"the key source failed: {exc!r}") from exc
            if not isinstance(key, DurableKey):
                raise LocalProtocolError("the key source must return a DurableKey")
            self.key = key
        if not self.conversation_id:
            self.conversation_id = message_id(self.rng)
        return self.key

    def page(self) -> SolveChallenge:
        """The step for the current challenge: its script and the page it must see."""
        tag, _, sha = self.fe_version.rpartition("-")
        page = challenge_page(self.browser, origin=self.origin, be_version=tag, fe_chat_hash=sha)
        return SolveChallenge(script=decode_script(self.challenge), page=page)

    def snapshot(self, conversation: Conversation, *, exhausted: bool) -> Conversation:
        key = self.key
        state = DuckDuckGoState(
            fe_version=self.fe_version,
            vqd_hash_1=self.challenge,
            cookies=tuple(self.cookies.items()),
            dialect=self.dialect.name,
            conversation_id=self.conversation_id,
            key_n=key.n if key else "",
            key_e=key.e if key else "",
            key_private=key.private_pem if key and self.keep_private_key else "",
        )
        return replace(state.store(conversation), exhausted=exhausted)


class Turn2026(Turn):
    """The plan of one turn in dialect ``2026``."""

    rules: Rules2026

    def __init__(self, rules: Rules2026, ctx: TurnContext, size: int) -> None:
        super().__init__(rules, ctx, size)
        self.need_status = not rules.challenge
        self.models_fetched = rules.live_models is not None
        self.model_refused = False

    def costly_ahead(self, head: Headers) -> bool:
        return self.rules.costly_ahead()

    def next_exchange(self) -> ProviderExchange | ProviderChallenge:
        if self.probe is not None:
            return self.probe
        rules = self.rules
        if not rules.fe_version:
            return PageExchange2026(self)
        if self.model_refused and not self.models_fetched:
            return ModelsExchange(self)
        if self.model_refused:
            raise self.model_error()
        if self.need_status:
            return StatusExchange2026(self)
        if rules.proof is None or rules.proof[0] != rules.challenge:
            try:
                step = rules.page()
            except ChallengeError:
                if self.status_fetched:
                    raise
                # A challenge carried over from an earlier reply may be odd: fetch a fresh one.
                self.need_status = True
                return StatusExchange2026(self)
            return _ScriptChallenge(self, step)
        proof = rules.proof[1]
        rules.proof = None  # a proof answers one request
        key = rules.ensure_durable_stream()
        body = chat_body_2026(
            self.ctx.conversation.model,
            self.ctx.messages,
            key=key,
            conversation_id=rules.conversation_id,
            message_id=message_id(rules.rng),
            reasoning_effort=rules.reasoning_effort,
        )
        request = chat_request_2026(
            rules.base_url,
            browser=rules.browser,
            body=body,
            fe_version=rules.fe_version,
            proof=proof,
            journey=journey_id(rules.rng),
            signals=fe_signals(rules.rng, round(rules.wall_clock() * 1000)),
            cookies=tuple(rules.cookies.items()),
        )
        return ChatExchange2026(self, request)

    def model_error(self) -> SansioChatError:
        model = self.ctx.conversation.model
        live = self.rules.live_models
        # The model is called unsupported only when a list says so: the live one, or (when
        # the live list could not be read) the built-in one.
        known = live if live else MODELS_2026
        if model in known:
            return HTTPStatusError(400, "", error_type="ERR_BAD_REQUEST")
        return ModelNotSupportedError(model, known, provider="ddg")

    def refuse(
        self,
        status: int,
        error_type: str,
        body: str,
        retry_after: float | None,
        exchange: Literal["page", "status", "chat"],
    ) -> Decision:
        if (
            exchange == "chat"
            and status == 400
            and error_type == "ERR_BAD_REQUEST"
            and not self.ctx.attempt_has_text
        ):
            self.model_refused = True
            return Decision.next()
        decision = super().refuse(status, error_type, body, retry_after, exchange)
        if exchange == "chat":
            # The proof was spent on the refused request: a retry answers a fresh challenge.
            self.need_status = True
        return decision


class _ScriptChallenge(ProviderChallenge):
    def __init__(self, turn: Turn2026, step: SolveChallenge) -> None:
        self.turn = turn
        self.step = step
        self.challenge = turn.rules.challenge

    def on_result(self, result: ChallengeResult) -> None:
        rules = self.turn.rules
        proof = build_proof(
            result.value, origin=rules.origin, duration_ms=result.duration_ms, stack=rules.stack
        )
        rules.proof = (self.challenge, proof)

    def on_failure(self, reason: str) -> None:
        if not self.turn.status_fetched:
            # The challenge came with an earlier reply; a fresh one may be answerable.
            self.turn.need_status = True
            return
        raise ChallengeError(f"the challenge script could not be evaluated: {reason[:500]}")
