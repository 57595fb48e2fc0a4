"""The emulator: routes a request to a service, applies fault switches and rate limits."""

from __future__ import annotations

import dataclasses
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, final

from ._darkai import DarkAIService
from ._ddg import DIALECTS, INPUT_LIMIT, DdgService, DdgSettings, error_body
from ._ddg2026 import Ddg2026Service, Settings2026
from ._faults import Fault, parse_fault, shape_body
from ._plan import EmulatorRequest, ResponsePlan, whole_reply
from ._replies import expected_reply

__all__ = ["Emulator", "EmulatorConfig", "Exchange", "RateLimit", "parse_rate_limit"]

_DDG_PAGES = ("/", "/aichat", "/duckchat")
_STATUS_PATH = "/duckchat/v1/status"
_DDG_CHAT_PATH = "/duckchat/v1/chat"
_MODELS_PATH = "/duckchat/v1/models"
_DARKAI_PATH = "/chat"
_LOG_SIZE = 1_000


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """At most ``requests`` requests per client in any ``seconds``-long window, per endpoint.

    Attributes:
        requests: how many requests a client may make in the window.
        seconds: the window's length.
    """

    requests: int
    seconds: float


def parse_rate_limit(text: str) -> RateLimit:
    """Parse ``N/S`` (``N`` requests per ``S`` seconds), e.g. ``5/30``."""
    count, _, window = text.partition("/")
    try:
        limit = RateLimit(requests=int(count), seconds=float(window or "1"))
    except ValueError:
        raise ValueError(f"rate limit {text!r} is not N/SECONDS") from None
    if limit.requests < 1 or not limit.seconds > 0:
        raise ValueError(f"rate limit {text!r} needs N >= 1 and SECONDS > 0")
    return limit


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """How the emulator behaves. Every field may be changed while it runs.

    Attributes:
        dialect: ``"2024"`` (no challenge), ``"2025-03"`` (challenge required),
            ``"2025-03-lenient"`` (an empty ``x-vqd-hash-1`` is accepted too) or ``"2026"``
            (duck.ai: script challenges, proofs, no ``x-vqd-4``; docs/emulator.md).
        seed: fixes tokens, challenges, versions and reply text; ``None`` picks one.
        reply_tokens: how many text pieces (words) a reply has.
        delay: seconds before each body write of a reply.
        conversation_limit: the turn of a conversation that ends with
            ``[DONE][LIMIT_CONVERSATION]`` (later turns get 429); ``None`` for no limit.
        rate_limit: a per-client limit (429 on chat, ``ERR_SERVICE_UNAVAILABLE`` on status);
            ``None`` for none.
        challenge_on_chat: attach a fresh challenge to every DuckDuckGo chat reply (else the
            next token keeps the previous challenge).
        reusable_tokens: accept an ``x-vqd-4`` again after its turn, so that a client can step
            back and branch (as gpt4free PR #2210 and duck_chat's ``reask`` describe). Off:
            the spec's rule is an issued, unused token.
        input_limit: the most UTF-16 code units of message content a DuckDuckGo chat takes.
        models: DuckDuckGo model ids accepted; ``None`` for the dialect's list.
        darkai_final_response: also send DarkAI's ``final-response`` event before the end.
        events_per_write: join this many of a reply's writes into one (1, the default, is
            one event per write, as the service wrote; more makes long replies cheaper).
        faults: fault switches active from the start (see :func:`parse_fault`).
    """

    dialect: str = "2025-03"
    seed: int | None = None
    reply_tokens: int = 12
    delay: float = 0.0
    conversation_limit: int | None = None
    rate_limit: RateLimit | None = None
    challenge_on_chat: bool = True
    reusable_tokens: bool = False
    input_limit: int = INPUT_LIMIT
    models: tuple[str, ...] | None = None
    darkai_final_response: bool = False
    events_per_write: int = 1
    faults: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {self.dialect!r} (known: {', '.join(DIALECTS)})")
        if self.reply_tokens < 0 or self.delay < 0:
            raise ValueError("reply_tokens and delay must be >= 0")
        if self.events_per_write < 1:
            raise ValueError("events_per_write must be >= 1")
        if self.conversation_limit is not None and self.conversation_limit < 1:
            raise ValueError("conversation_limit must be >= 1 (or None)")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One request the emulator answered, for tests that look at what a client sent.

    Attributes:
        request: the request.
        status: the status of the reply.
        endpoint: ``page``, ``status``, ``ddg`` (DuckDuckGo chat), ``darkai`` or ``other``.
        faults: the fault switches that shaped the reply.
    """

    request: EmulatorRequest
    status: int
    endpoint: str
    faults: tuple[str, ...]


@final
@dataclass(slots=True)
class _ActiveFault:
    fault: Fault
    left: int | None


class Emulator:
    """Both services' server side, as a pure object: :meth:`handle` a request, get a plan.

    Not thread-safe: a server that runs it from several threads serialises the calls.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.seed = 0
        self._config = config or EmulatorConfig()
        self._faults: list[_ActiveFault] = []
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self.exchanges: deque[Exchange] = deque(maxlen=_LOG_SIZE)
        self._reseed()
        for spec in self._config.faults:
            self.add_fault(spec)

    def _reseed(self) -> None:
        seed = self._config.seed
        self.seed = random.Random().getrandbits(63) if seed is None else seed
        self.ddg = DdgService.create(self.seed)
        self.ddg2026 = Ddg2026Service.create(self.seed)
        self.darkai = DarkAIService.create(self.seed)

    @property
    def config(self) -> EmulatorConfig:
        """The current configuration."""
        return self._config

    @property
    def fe_version(self) -> str:
        """The ``x-fe-version`` a client builds from the DuckDuckGo page of the dialect."""
        if self._config.dialect == "2026":
            return self.ddg2026.fe_version
        return self.ddg.fe_version

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change configuration fields; a new ``seed`` also forgets all issued tokens."""
        faults = changes.pop("faults", None)
        new = dataclasses.replace(self._config, **changes)
        reseed = new.seed != self._config.seed
        self._config = new
        if reseed:
            self._reseed()
        if faults is not None:
            self.clear_faults()
            for spec in faults:
                self.add_fault(spec)
        return new

    # -- faults ---------------------------------------------------------------------------

    def add_fault(self, fault: str | Fault) -> Fault:
        """Activate a fault switch (a :class:`Fault` or its text, e.g. ``"429x3"``)."""
        parsed = parse_fault(fault) if isinstance(fault, str) else fault
        self._faults.append(_ActiveFault(fault=parsed, left=parsed.count))
        return parsed

    def clear_faults(self) -> None:
        """Deactivate every fault switch."""
        self._faults.clear()

    @property
    def active_faults(self) -> tuple[str, ...]:
        """The switches still in force, as written."""
        return tuple(active.fault.spec for active in self._faults)

    def _use(self, used: Iterable[_ActiveFault]) -> tuple[Fault, ...]:
        out = []
        for active in used:
            out.append(active.fault)
            if active.left is not None:
                active.left -= 1
        self._faults = [a for a in self._faults if a.left is None or a.left > 0]
        return tuple(out)

    def _matching(self, endpoint: str, *, refusals: bool) -> list[_ActiveFault]:
        return [
            active
            for active in self._faults
            if active.fault.matches(endpoint) and active.fault.is_refusal == refusals
        ]

    def _body_faults_taker(self, endpoint: str) -> Callable[[], tuple[Fault, ...]]:
        return lambda: self._use(self._matching(endpoint, refusals=False))

    # -- requests -------------------------------------------------------------------------

    def expected_reply(self, prompt: str) -> str:
        """The reply text either service streams for ``prompt`` (the last user message)."""
        return expected_reply(self.seed, prompt, self._config.reply_tokens)

    def handle(self, request: EmulatorRequest) -> ResponsePlan:
        """Answer one request."""
        endpoint, plan = self._route(request)
        self.exchanges.append(
            Exchange(request=request, status=plan.status, endpoint=endpoint, faults=plan.faults)
        )
        return plan

    def _route(self, request: EmulatorRequest) -> tuple[str, ResponsePlan]:
        path, method = request.path, request.method.upper()
        endpoint, allowed = "other", ""
        if path in _DDG_PAGES:
            endpoint, allowed = "page", "GET"
        elif path == _STATUS_PATH:
            endpoint, allowed = "status", "GET"
        elif path == _DDG_CHAT_PATH:
            endpoint, allowed = "ddg", "POST"
        elif path == _DARKAI_PATH:
            endpoint, allowed = "darkai", "POST"
        elif path == _MODELS_PATH and self._config.dialect == "2026":
            endpoint, allowed = "models", "GET"
        if endpoint == "other":
            return endpoint, whole_reply(404, b"Not Found", "text/plain; charset=utf-8")
        if method != allowed and not (method == "HEAD" and allowed == "GET"):
            plan = whole_reply(405, b"Method Not Allowed", "text/plain; charset=utf-8")
            return endpoint, dataclasses.replace(plan, headers=(*plan.headers, ("allow", allowed)))
        storm = self._matching(endpoint, refusals=True)
        if storm:
            return endpoint, self._storm(endpoint, self._use(storm)[0])
        limited = self._rate_limited(request.client, endpoint)
        if limited is not None:
            return endpoint, limited
        return endpoint, self._serve(endpoint, request)

    def _serve(self, endpoint: str, request: EmulatorRequest) -> ResponsePlan:
        config = self._config
        take = self._body_faults_taker(endpoint)
        if endpoint == "darkai":
            return self.darkai.chat(
                request.body,
                seed=self.seed,
                reply_tokens_count=config.reply_tokens,
                delay=config.delay,
                final_response=config.darkai_final_response,
                events_per_write=config.events_per_write,
                take_faults=take,
            )
        if config.dialect == "2026":
            return self._serve_2026(endpoint, request, take)
        settings = DdgSettings(
            dialect=config.dialect,
            reply_tokens=config.reply_tokens,
            delay=config.delay,
            conversation_limit=config.conversation_limit,
            challenge_on_chat=config.challenge_on_chat,
            reusable_tokens=config.reusable_tokens,
            input_limit=config.input_limit,
            models=config.models,
            seed=self.seed,
            events_per_write=config.events_per_write,
        )
        if endpoint == "ddg":
            return self.ddg.chat(request, settings, take)
        plan = self.ddg.page() if endpoint == "page" else self.ddg.status(request, settings)
        return self._shape_simple(plan, take)

    def _serve_2026(
        self, endpoint: str, request: EmulatorRequest, take: Callable[[], tuple[Fault, ...]]
    ) -> ResponsePlan:
        config = self._config
        settings = Settings2026(
            reply_tokens=config.reply_tokens,
            delay=config.delay,
            conversation_limit=config.conversation_limit,
            challenge_on_chat=config.challenge_on_chat,
            input_limit=config.input_limit,
            models=config.models,
            seed=self.seed,
            events_per_write=config.events_per_write,
        )
        service = self.ddg2026
        if endpoint == "ddg":
            return service.chat(request, settings, take)
        if endpoint == "page":
            plan = service.page(request)
        elif endpoint == "models":
            plan = service.models(settings)
        else:
            plan = service.status(request)
        return self._shape_simple(plan, take) if plan.status == 200 else plan

    def _shape_simple(
        self, plan: ResponsePlan, take: Callable[[], tuple[Fault, ...]]
    ) -> ResponsePlan:
        """Apply body switches aimed at the page or the status reply (rarely wanted)."""
        used = take()
        if not used:
            return plan
        body, head_delay = shape_body(
            [plan.body_bytes()],
            faults=used,
            make_event=lambda text: text.encode("utf-8"),
            split=list,
            delay=self._config.delay,
            rng=self.ddg.misc_rng,
        )
        headers = tuple((k, v) for k, v in plan.headers if k != "content-length")
        return dataclasses.replace(
            plan,
            headers=headers,
            body=body,
            head_delay=head_delay,
            faults=tuple(f.spec for f in used),
        )

    def _storm(self, endpoint: str, fault: Fault) -> ResponsePlan:
        kind = fault.kind
        if kind == "http":
            status = int(fault.arg(0) or 500)
            plan = whole_reply(status, f"{status} error".encode(), "text/plain; charset=utf-8")
        elif kind == "400":
            plan = whole_reply(400, error_body(400, "ERR_INVALID_VQD"))
        elif kind == "418":
            plan = self.ddg.typed_refusal(418, fault.arg(0) or "ERR_CHALLENGE")
        else:
            default = "ERR_SERVICE_UNAVAILABLE" if endpoint == "status" else "ERR_RATE_LIMIT"
            plan = self.ddg.typed_refusal(429, fault.arg(0) or default)
        return dataclasses.replace(plan, faults=(fault.spec,))

    def _rate_limited(self, client: str, endpoint: str) -> ResponsePlan | None:
        limit = self._config.rate_limit
        if limit is None or endpoint not in ("status", "ddg", "darkai"):
            return None
        now = self._clock()
        hits = self._hits.setdefault((client, endpoint), deque())
        while hits and now - hits[0] >= limit.seconds:
            hits.popleft()
        if len(hits) >= limit.requests:
            if endpoint == "status":
                return self.ddg.typed_refusal(429, "ERR_SERVICE_UNAVAILABLE")
            return self.ddg.typed_refusal(429, "ERR_RATE_LIMIT")
        hits.append(now)
        return None
