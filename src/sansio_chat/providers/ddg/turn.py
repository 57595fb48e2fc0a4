"""A DuckDuckGo turn: the session rules, the turn plan and its exchanges (docs/protocol.md).

A turn is up to three exchanges: the fe-version page (dialects with ``fe_version``, once per
session), the status call (a new conversation, or after a refused token or challenge) and
the chat call. The chat reply rotates the token for the next turn. What the dialect asks
for is read from its flags (:mod:`.dialects`); the bytes are built and parsed by :mod:`.wire`.

Why this file is long: the rules, the turn's plan with its error table and the two exchanges
of the token eras change together (a refusal rule decides what the plan asks for next, and
the exchanges report to it); the ``2026`` turn and the discovering one build on all three.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from sansio_chat._conversation import Conversation
from sansio_chat._errors import (
    ChallengeError,
    ConversationLimitError,
    HTTPStatusError,
    InputLimitError,
    RateLimitError,
    RemoteProtocolError,
    SansioChatError,
    StreamInterrupted,
)
from sansio_chat._events import TitleEvent, VqdUpdate
from sansio_chat._http import HttpRequest, find_header
from sansio_chat._session import (
    Decision,
    Headers,
    HeadResult,
    ProviderChallenge,
    ProviderExchange,
    ProviderRules,
    ProviderTurn,
    ReadBody,
    ReadSSE,
    TurnContext,
    header_values,
)
from sansio_chat._sse import ServerSentEvent
from sansio_chat._text import utf16_length
from sansio_chat.providers.ddg.dialects import Dialect
from sansio_chat.providers.ddg.eras import check_era
from sansio_chat.providers.ddg.page import PageExchange
from sansio_chat.providers.ddg.probe import EraProbe
from sansio_chat.providers.ddg.state import DuckDuckGoState
from sansio_chat.providers.ddg.wire import (
    INPUT_CHAR_LIMIT,
    Browser,
    MissingHeaderError,
    StreamItem,
    chat_request,
    parse_error_body,
    parse_retry_after,
    parse_set_cookie,
    parse_stream_data,
    sendable,
    status_request,
)
from sansio_chat.providers.ddg_challenge import (
    INLINE_SOLVE_LIMIT,
    ChallengeSolver,
    decode_challenge,
    solve_challenge,
)

__all__ = ["INLINE_SOLVE_LIMIT", "ChatExchange", "Rules", "Turn"]


class Rules(ProviderRules):
    """DuckDuckGo rules for one session, with the tokens it holds between turns.

    Tokens, challenge and fe-version fetched in a failed turn stay here (the next turn
    uses them) but reach the conversation only with a finished turn.
    """

    name = "ddg"

    def __init__(
        self,
        *,
        state: DuckDuckGoState,
        base_url: str,
        dialect: Dialect,
        browser: Browser,
        solver: ChallengeSolver | None,
    ) -> None:
        self.base_url = base_url
        self.dialect = dialect
        self.browser = browser
        self.solver = solver
        self.fe_version = state.fe_version
        self.vqd = state.vqd
        self.challenge = state.vqd_hash_1
        self.cookies: dict[str, str] = dict(state.cookies)
        self._solved: tuple[str, str] | None = None
        self.record_dialect = bool(state.dialect)  # a discovered era stays with the conversation

    def begin_turn(self, ctx: TurnContext) -> ProviderTurn:
        return Turn(self, ctx, self.check_input(ctx))

    def begin_preparation(self, ctx: TurnContext) -> ProviderTurn | None:
        if not self.dialect.fe_version or self.fe_version:
            return None
        from sansio_chat.providers.ddg.preparation import PagePreparation

        turn = self.begin_turn(ctx)
        assert isinstance(turn, Turn)
        return PagePreparation(turn)

    def check_input(self, ctx: TurnContext) -> int:
        """The size of the turn's messages (UTF-16 code units), refused above the limit."""
        size = sum(utf16_length(m.content) for m in ctx.messages)
        if size > INPUT_CHAR_LIMIT:
            raise InputLimitError(
                f"the messages hold {size} UTF-16 code units; the service accepts "
                f"{INPUT_CHAR_LIMIT} (nothing was sent)",
                limit=INPUT_CHAR_LIMIT,
                observed=size,
                error_type="ERR_INPUT_LIMIT",
            )
        return size

    def costly_ahead(self) -> bool:
        if not self.challenge or (self._solved is not None and self._solved[0] == self.challenge):
            return False
        return self.solver is not None or len(self.challenge) > INLINE_SOLVE_LIMIT

    def solve(self) -> str:
        """The solution of the current challenge (solved once per challenge)."""
        if self._solved is not None and self._solved[0] == self.challenge:
            return self._solved[1]
        solver = self.solver if self.solver is not None else solve_challenge
        js_text = decode_challenge(self.challenge)
        headers = {"User-Agent": self.browser.user_agent, "sec-ch-ua": self.browser.sec_ch_ua}
        try:
            solution = solver(js_text, headers)
        except SansioChatError:
            raise
        except Exception as exc:
            raise ChallengeError(f"the challenge solver failed: {exc!r}") from exc
        if not isinstance(solution, str) or not solution:
            raise ChallengeError("the challenge solver returned no header value")
        self._solved = (self.challenge, solution)
        return solution

    def take_cookies(self, headers: Headers) -> None:
        """Keep the cookies a reply sets (checked to be sendable back)."""
        for value in header_values(headers, "set-cookie"):
            pair = parse_set_cookie(value)
            if pair is not None:
                self.cookies[sendable(pair[0], "a set-cookie name")] = sendable(
                    pair[1], f"the set-cookie value of {pair[0]!r}"
                )

    def snapshot(self, conversation: Conversation, *, exhausted: bool) -> Conversation:
        """``conversation`` with the tokens this session holds now."""
        state = DuckDuckGoState(
            fe_version=self.fe_version,
            vqd=self.vqd,
            vqd_hash_1=self.challenge,
            cookies=tuple(self.cookies.items()),
            dialect=self.dialect.name if self.record_dialect else "",
        )
        return replace(state.store(conversation), exhausted=exhausted)


class Turn(ProviderTurn):
    """The plan of one turn in the dialects with a token (``2024``, ``2025-03``)."""

    def __init__(self, rules: Rules, ctx: TurnContext, size: int) -> None:
        self.rules = rules
        self.ctx = ctx
        self.size = size
        self.need_status = not rules.vqd or (rules.dialect.challenge and not rules.challenge)
        self.status_fetched = False
        self.vqd_refreshed = False
        # A given fe-version may be stale: a refused challenge re-reads the page once.
        self.fe_version_given = rules.dialect.fe_version and bool(rules.fe_version)
        # Set by a reply that shows another era without naming it: the turn's last exchange.
        self.probe: EraProbe | None = None

    def costly_ahead(self, head: Headers) -> bool:
        rules = self.rules
        if not rules.dialect.challenge:
            return False
        # A reply's challenge is solved as soon as the reply is taken (a status reply's at once).
        coming = find_header(head, "x-vqd-hash-1")
        if coming and coming != rules.challenge:
            return rules.solver is not None or len(coming) > INLINE_SOLVE_LIMIT
        return rules.costly_ahead()

    def next_exchange(self) -> ProviderExchange | ProviderChallenge:
        if self.probe is not None:
            return self.probe
        rules = self.rules
        if rules.dialect.fe_version and not rules.fe_version:
            return PageExchange(self)
        if self.need_status:
            return _StatusExchange(self)
        solution = ""
        if rules.dialect.challenge:
            try:
                solution = rules.solve()
            except ChallengeError:
                # A challenge carried over from an earlier reply may be stale or odd: fetch a
                # fresh one first; only a fresh challenge that fails is an error.
                if self.status_fetched:
                    raise
                self.need_status = True
                return _StatusExchange(self)
        request = chat_request(
            rules.base_url,
            model=self.ctx.conversation.model,
            messages=self.ctx.messages,
            vqd=rules.vqd,
            dialect=rules.dialect,
            vqd_hash_1=solution,
            fe_version=rules.fe_version,
            browser=rules.browser,
            cookies=tuple(rules.cookies.items()),
        )
        return ChatExchange(self, request)

    def refuse(
        self,
        status: int,
        error_type: str,
        body: str,
        retry_after: float | None,
        exchange: Literal["page", "status", "chat"],
    ) -> Decision:
        """Apply the error table of docs/protocol.md to a refusal: retry or raise."""
        ctx = self.ctx
        if status == 429 and error_type == "ERR_CONVERSATION_LIMIT":
            ctx.mark_exhausted()
            raise ConversationLimitError(
                "the service refuses further turns in this conversation; start a new one",
                status=status,
                error_type=error_type,
                body=body,
            )
        if status == 429 and error_type == "ERR_INPUT_LIMIT":
            raise InputLimitError(
                "the service says the messages are too long",
                limit=INPUT_CHAR_LIMIT,
                observed=self.size,
                status=status,
                error_type=error_type,
                body=body,
            )
        if status == 400 and error_type == "ERR_INVALID_VQD" and exchange == "chat":
            if not self.vqd_refreshed and not ctx.attempt_has_text:
                self.vqd_refreshed = True
                self.need_status = True
                return Decision.next()
        elif status == 418 and error_type == "ERR_CHALLENGE":
            if exchange == "chat" and self.fe_version_given and not ctx.attempt_has_text:
                self.fe_version_given = False
                self.rules.fe_version = ""
                self.need_status = True
                return Decision.next()
            decision = ctx.retry(status, error_type, retry_after)
            if decision is None:
                raise ChallengeError(
                    f"the service refused the challenge solution ({ctx.retries} retries made)"
                )
            if exchange == "chat":
                self.need_status = True
            return decision
        elif status == 429 or (status == 418 and error_type == "ERR_BN_LIMIT"):
            decision = ctx.retry(status, error_type, retry_after)
            if decision is None:
                raise RateLimitError(
                    f"rate limited (HTTP {status} {error_type or 'without type'}); "
                    f"{ctx.retries} retries made",
                    status=status,
                    error_type=error_type,
                    body=body,
                    retry_after=retry_after,
                )
            return decision
        raise HTTPStatusError(status, body, error_type=error_type)

    def status_taken(self, headers: Headers) -> None:
        """A status reply was taken: keep its cookies; no status call is due any more."""
        self.rules.take_cookies(headers)
        self.need_status = False
        self.status_fetched = True

    def refuse_body(
        self,
        status: int,
        headers: Headers,
        body: bytes,
        exchange: Literal["page", "status", "chat"],
    ) -> Decision:
        error_type, _ = parse_error_body(body)
        retry_after = parse_retry_after(find_header(headers, "retry-after"))
        text = body.decode("utf-8", "replace")
        return self.refuse(status, error_type, text, retry_after, exchange)


# The error types of a 400 that duck.ai gives a seed-era status call (a cross-origin request
# is ERR_BAD_REQUEST; "" is a body that names none).
_OTHER_ERA_400 = ("ERR_BAD_REQUEST", "")


class _StatusExchange(ProviderExchange):
    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        rules = turn.rules
        self.request = status_request(rules.base_url, rules.browser, tuple(rules.cookies.items()))
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        rules = self.turn.rules
        check_era(rules.dialect, headers)
        vqd = find_header(headers, "x-vqd-4")
        if not vqd:
            raise MissingHeaderError(
                "x-vqd-4", " (the status call hands out no token; a later protocol era?)"
            )
        sendable(vqd, "the x-vqd-4 token")
        challenge = sendable(find_header(headers, "x-vqd-hash-1") or "", "x-vqd-hash-1")
        if rules.dialect.challenge and not challenge:
            raise ChallengeError(
                f"the status reply carries no x-vqd-hash-1 challenge (dialect "
                f"{rules.dialect.name} needs one)"
            )
        rules.vqd = vqd
        if rules.dialect.challenge:
            rules.challenge = challenge
        self.turn.status_taken(headers)
        return Decision.next()

    def on_body(self, body: bytes, received: int) -> Decision:
        try:
            return self.turn.refuse_body(self.status, self.headers, body, "status")
        except HTTPStatusError as error:
            if error.status != 400 or error.error_type not in _OTHER_ERA_400:
                raise
            # A 400 is no refusal of the seed eras' status call, but another era's service
            # may answer this form so (duck.ai checks the origin, which this form sends as
            # duckduckgo.com's): ask in the form every era answers, whose reply names the era.
            # A 400 that names a seed era's error (ERR_INVALID_VQD) is that era's answer.
            self.turn.probe = EraProbe(self.turn, error)
            return Decision.next()


class ChatExchange(ProviderExchange):
    """The chat call: a stream of tokens and markers, or a refusal."""

    paced = True

    def __init__(self, turn: Turn, request: HttpRequest) -> None:
        self.turn = turn
        self.token = turn.ctx.token
        self.request = request
        self.status = 0
        self.headers: Headers = ()

    def on_head(self, status: int, headers: Headers) -> HeadResult:
        self.status, self.headers = status, headers
        if not 200 <= status < 300:
            return ReadBody(purpose="error")
        content_type = (find_header(headers, "content-type") or "").lower()
        if content_type.startswith("application/json"):
            # Some refusals come as a plain JSON body with a 200 status.
            return ReadBody(purpose="error")
        rules = self.turn.rules
        vqd = find_header(headers, "x-vqd-4")
        challenge = find_header(headers, "x-vqd-hash-1") if rules.dialect.challenge else None
        if vqd:
            sendable(vqd, "the x-vqd-4 token")
        if challenge:
            sendable(challenge, "x-vqd-hash-1")
        if vqd or challenge:
            rules.vqd = vqd or rules.vqd
            rules.challenge = challenge or rules.challenge
            self.turn.ctx.emit(VqdUpdate(vqd=rules.vqd, vqd_hash_1=challenge or ""))
        rules.take_cookies(headers)
        return ReadSSE()

    def on_events(self, events: list[ServerSentEvent]) -> Decision | None:
        # The session hands over every event a chunk completed: the per-event path of a reply.
        token = self.token
        for event in events:
            item = parse_stream_data(event.data)
            if type(item) is str:
                token(item)
                continue
            assert isinstance(item, StreamItem)
            decision = self._on_item(item, event)
            if decision is not None:
                return decision
        return None

    def _on_item(self, item: StreamItem, event: ServerSentEvent) -> Decision | None:
        ctx = self.turn.ctx
        if item.kind == "done":
            conversation = self.turn.rules.snapshot(ctx.conversation, exhausted=item.limit)
            reason: Literal["stop", "conversation_limit"] = (
                "conversation_limit" if item.limit else "stop"
            )
            return Decision.finish(ctx.committed(conversation), reason)
        elif item.kind == "title":
            ctx.emit(TitleEvent(title=item.text))
        elif item.kind == "error":
            status = item.status if item.status is not None else self.status
            return self.turn.refuse(status, item.error_type, event.data, None, "chat")
        return None

    def on_eof(self) -> Decision:
        raise StreamInterrupted(
            "the reply ended before [DONE]", partial_text=self.turn.ctx.partial_text
        )

    def on_body(self, body: bytes, received: int) -> Decision:
        if 200 <= self.status < 300:
            error_type, status = parse_error_body(body)
            if not error_type:
                raise RemoteProtocolError(
                    f"the chat reply is JSON but not an error: {body[:200]!r}"
                )
            text = body.decode("utf-8", "replace")
            retry_after = parse_retry_after(find_header(self.headers, "retry-after"))
            return self.turn.refuse(status or self.status, error_type, text, retry_after, "chat")
        return self.turn.refuse_body(self.status, self.headers, body, "chat")
