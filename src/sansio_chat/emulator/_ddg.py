"""DuckDuckGo AI Chat, server side (docs/emulator.md).

It checks what the service demonstrably checked and no more: status needs only
``x-vqd-accept: 1``; chat needs an issued, unused ``x-vqd-4`` and, in the 2025-03 dialects, a
well-formed ``x-fe-version`` and the exact solution of the challenge issued with that token.
A refused request does not use its token up (clients retry a 429 with the same token).
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, final

from sansio_chat._text import utf16_length

from ._faults import Fault, shape_body
from ._plan import EmulatorRequest, ResponsePlan, Write, whole_reply
from ._replies import reply_tokens
from .challenge import IssuedChallenge, expected_solution, issue_challenge

__all__ = [
    "DIALECTS",
    "INPUT_LIMIT",
    "MODELS_2024",
    "MODELS_2025",
    "DdgService",
    "error_body",
    "event_maker",
]

DIALECTS: tuple[str, ...] = ("2024", "2025-03", "2025-03-lenient", "2026")
# The server's own lists (docs/protocol.md, "Models"), kept apart from the client's
# so that a test can check that the two agree.
MODELS_2025: tuple[str, ...] = (
    "gpt-4o-mini",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "claude-3-haiku-20240307",
    "o3-mini",
    "mistralai/Mistral-Small-24B-Instruct-2501",
)
# The 2024 dialect also takes the ids 2024-era clients sent.
MODELS_2024: tuple[str, ...] = (
    *MODELS_2025,
    "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "gpt-3.5-turbo-0125",
)
# inputCharLimit: 16e3, counted as JavaScript counts (UTF-16 code units).
INPUT_LIMIT = 16_000
_FE_VERSION = re.compile(r"^serp_\d{8}_\d{6}_ET-[0-9a-f]+$")
# Tokens are kept for this many issues; older ones are forgotten (and then refused as unknown).
_MAX_TOKENS = 100_000
_JSON = ("content-type", "application/json")
_STATUS_BODY = b'{"status":"0","secondaryStatus":"0","statusV2":0}'


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def error_body(status: int, kind: str, **extra: object) -> bytes:
    """The service's refusal body: compact JSON ``{"action":"error","status":…,"type":…,…}``."""
    return _compact({"action": "error", "status": status, "type": kind, **extra})


@final
@dataclass(slots=True, kw_only=True)
class _Token:
    """An issued ``x-vqd-4``: how many turns of its conversation came before it, its challenge."""

    depth: int
    challenge: IssuedChallenge | None
    used: bool = False


@final
@dataclass(slots=True, kw_only=True)
class DdgSettings:
    """The knobs of the DuckDuckGo side (copied from the emulator's config on each request)."""

    dialect: str = "2025-03"
    reply_tokens: int = 12
    delay: float = 0.0
    conversation_limit: int | None = None
    challenge_on_chat: bool = True
    reusable_tokens: bool = False
    input_limit: int = INPUT_LIMIT
    models: tuple[str, ...] | None = None
    seed: int = 0
    events_per_write: int = 1


@final
@dataclass(slots=True, kw_only=True)
class DdgService:
    """The state of the DuckDuckGo side: issued tokens, their challenges, conversations."""

    token_rng: random.Random
    challenge_rng: random.Random
    misc_rng: random.Random
    be_version: str
    fe_hash: str
    tokens: dict[str, _Token] = field(default_factory=dict)
    replies: int = 0

    @classmethod
    def create(cls, seed: int) -> DdgService:
        """A fresh service whose tokens, challenges and version depend only on ``seed``."""
        version_rng = random.Random(f"sansio-chat-ddg-version:{seed}")
        day = version_rng.randrange(1, 29)
        stamp = (
            f"serp_202504{day:02d}_{version_rng.randrange(24):02d}"
            f"{version_rng.randrange(60):02d}{version_rng.randrange(60):02d}_ET"
        )
        return cls(
            token_rng=random.Random(f"sansio-chat-ddg-tokens:{seed}"),
            challenge_rng=random.Random(f"sansio-chat-ddg-challenges:{seed}"),
            misc_rng=random.Random(f"sansio-chat-ddg-misc:{seed}"),
            be_version=stamp,
            fe_hash=f"{version_rng.getrandbits(80):020x}",
        )

    @property
    def fe_version(self) -> str:
        """The ``x-fe-version`` value a client builds from the page."""
        return f"{self.be_version}-{self.fe_hash}"

    # -- refusals -------------------------------------------------------------------------

    def challenge_refusal(self) -> ResponsePlan:
        """418 ``ERR_CHALLENGE`` with the ``overrideCode`` and ``cd`` fields the service sent."""
        rng = self.misc_rng
        ids = "-".join(f"{rng.getrandbits(24):06x}" for _ in range(9))
        cd = {
            "cc": "duckchat",
            "e": 0,
            "er": None,
            "gk": 0,
            "i": str(rng.randrange(1, 10)),
            "iadb": 1,
            "o": f"{rng.getrandbits(32):08x}",
            "p": ids,
            "q": "",
            "r": "euw",
            "s": "aichat",
            "sc": 1,
        }
        code = f"{rng.getrandbits(16):04x}"
        return whole_reply(418, error_body(418, "ERR_CHALLENGE", overrideCode=code, cd=cd))

    def typed_refusal(self, status: int, kind: str) -> ResponsePlan:
        """A refusal of ``kind``, with the extra fields that type carried on the wire."""
        if kind == "ERR_CHALLENGE":
            return self.challenge_refusal()
        if kind == "ERR_BN_LIMIT":
            code = f"{self.misc_rng.getrandbits(16):04x}"
            return whole_reply(status, error_body(status, kind, overrideCode=code))
        if kind == "ERR_SERVICE_UNAVAILABLE":
            return whole_reply(status, error_body(status, kind, r=self._uuid()))
        return whole_reply(status, error_body(status, kind))

    def _uuid(self) -> str:
        value = f"{self.misc_rng.getrandbits(128):032x}"
        return f"{value[:8]}-{value[8:12]}-4{value[13:16]}-a{value[17:20]}-{value[20:]}"

    # -- endpoints --------------------------------------------------------------------------

    def page(self) -> ResponsePlan:
        """The HTML page that carries the two version markers."""
        html = (
            '<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">'
            "<title>DuckDuckGo AI Chat at DuckDuckGo</title>"
            f'<script>window.__DDG_BE_VERSION__="{self.be_version}";'
            f'window.__DDG_FE_CHAT_HASH__="{self.fe_hash}";</script></head>'
            '<body><div id="react-layout"></div></body></html>'
        ).encode()
        return whole_reply(200, html, "text/html; charset=UTF-8")

    def _issue_token(self, depth: int, challenge: IssuedChallenge | None) -> str:
        token = f"4-{self.token_rng.randrange(10**37, 10**38)}"
        self.tokens[token] = _Token(depth=depth, challenge=challenge)
        while len(self.tokens) > _MAX_TOKENS:
            del self.tokens[next(iter(self.tokens))]
        return token

    def status(self, request: EmulatorRequest, settings: DdgSettings) -> ResponsePlan:
        """``GET /duckchat/v1/status``: a fresh token (and challenge) for ``x-vqd-accept: 1``."""
        headers: list[tuple[str, str]] = [_JSON, ("content-length", str(len(_STATUS_BODY)))]
        if (request.header("x-vqd-accept") or "").strip() == "1":
            challenge = None
            if settings.dialect != "2024":
                challenge = issue_challenge(self.challenge_rng)
            headers.append(("x-vqd-4", self._issue_token(0, challenge)))
            if challenge is not None:
                headers.append(("x-vqd-hash-1", challenge.b64))
        headers.append(("cache-control", "no-store"))
        return ResponsePlan(status=200, headers=tuple(headers), body=(Write(data=_STATUS_BODY),))

    def _solution_ok(self, request: EmulatorRequest, token: _Token, settings: DdgSettings) -> bool:
        answer = request.header("x-vqd-hash-1")
        if answer is None:
            return False
        if answer.strip() == "" and settings.dialect == "2025-03-lenient":
            return True
        if token.challenge is None:
            return False
        try:
            decoded = json.loads(base64.b64decode(answer.strip(), validate=True))
        except (binascii.Error, ValueError):
            return False
        if not isinstance(decoded, dict):
            return False
        expected = expected_solution(
            token.challenge,
            request.header("user-agent") or "",
            request.header("sec-ch-ua") or "",
        )
        return all(key in decoded and decoded[key] == value for key, value in expected.items())

    def chat(
        self,
        request: EmulatorRequest,
        settings: DdgSettings,
        take_faults: Callable[[], Sequence[Fault]],
    ) -> ResponsePlan:
        """``POST /duckchat/v1/chat``: check, rotate the token, stream the reply.

        ``take_faults()`` returns the body fault switches for this reply and uses them up;
        it is called only when the reply streams.
        """
        vqd = (request.header("x-vqd-4") or "").strip()
        token = self.tokens.get(vqd)
        if token is None or (token.used and not settings.reusable_tokens):
            return whole_reply(400, error_body(400, "ERR_INVALID_VQD"))
        limit = settings.conversation_limit
        if limit is not None and token.depth >= limit:
            return whole_reply(429, error_body(429, "ERR_CONVERSATION_LIMIT"))
        if settings.dialect != "2024":
            fe_version = (request.header("x-fe-version") or "").strip()
            if not _FE_VERSION.match(fe_version) or not self._solution_ok(request, token, settings):
                return self.challenge_refusal()
        parsed = _parse_body(request.body)
        if parsed is None:
            return whole_reply(400, error_body(400, "ERR_BAD_REQUEST"))
        model, messages = parsed
        models = settings.models or (MODELS_2024 if settings.dialect == "2024" else MODELS_2025)
        if model not in models:
            return whole_reply(400, error_body(400, "ERR_BAD_REQUEST"))
        if any(role == "system" for role, _ in messages):
            # The 418's body was not recorded; the one 418 shape on record is ERR_CHALLENGE.
            return self.challenge_refusal()
        if any(role not in ("user", "assistant") for role, _ in messages):
            return whole_reply(400, error_body(400, "ERR_BAD_REQUEST"))
        if sum(utf16_length(content) for _, content in messages) > settings.input_limit:
            return whole_reply(429, error_body(429, "ERR_INPUT_LIMIT"))

        used = take_faults()
        token.used = True
        # The turn served now is number depth + 1 of its conversation.
        last_turn = limit is not None and token.depth + 1 >= limit
        fresh = None
        if settings.dialect != "2024" and settings.challenge_on_chat:
            fresh = issue_challenge(self.challenge_rng)
        new_token = self._issue_token(token.depth + 1, fresh or token.challenge)

        prompt = next((c for role, c in reversed(messages) if role == "user"), "")
        self.replies += 1
        make_event = self._event_maker(model)
        events = [
            make_event(piece)
            for piece in reply_tokens(settings.seed, prompt, settings.reply_tokens)
        ]
        events.append(make_event(""))
        events.append(b"data: [DONE][LIMIT_CONVERSATION]\n\n" if last_turn else b"data: [DONE]\n\n")
        headers: list[tuple[str, str]] = [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("x-vqd-4", new_token),
        ]
        if fresh is not None:
            headers.append(("x-vqd-hash-1", fresh.b64))
        return stream_plan(
            events,
            headers,
            used=used,
            make_event=make_event,
            delay=settings.delay,
            rng=self.misc_rng,
            group=settings.events_per_write,
        )

    def _event_maker(self, model: str) -> Callable[[str], bytes]:
        created = 1_743_500_000_000 + self.replies * 1_000
        return event_maker(self.misc_rng, created, model)


def stream_plan(
    events: Sequence[bytes],
    headers: Sequence[tuple[str, str]],
    *,
    used: Sequence[Fault],
    make_event: Callable[[str], bytes],
    delay: float,
    rng: random.Random,
    group: int,
) -> ResponsePlan:
    """A 200 event-stream reply of ``events``, shaped by the body faults in ``used``."""
    body, head_delay = shape_body(
        events,
        faults=used,
        make_event=make_event,
        split=list,
        delay=delay,
        rng=rng,
        group=group,
    )
    return ResponsePlan(
        status=200,
        headers=tuple(headers),
        body=body,
        head_delay=head_delay,
        faults=tuple(fault.spec for fault in used),
    )


def event_maker(rng: random.Random, created: int, model: str) -> Callable[[str], bytes]:
    """A builder of the reply's ``{"role":"assistant","message":…}`` events for ``model``."""
    completion = "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in range(24)
    )
    prefix = b'data: {"role":"assistant","message":'
    suffix = (
        f',"created":{created},"id":"compl_{completion}","action":"success",'
        f'"model":{json.dumps(model)}}}\n\n'
    ).encode()

    def make_event(text: str) -> bytes:
        return prefix + json.dumps(text, ensure_ascii=False).encode("utf-8") + suffix

    return make_event


def _parse_body(body: bytes) -> tuple[str, list[tuple[str, str]]] | None:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    model, messages = data.get("model"), data.get("messages")
    if not isinstance(model, str) or not isinstance(messages, list) or not messages:
        return None
    out: list[tuple[str, str]] = []
    for message in messages:
        if not isinstance(message, dict):
            return None
        role, content = message.get("role"), message.get("content")
        if not isinstance(role, str) or not isinstance(content, str):
            return None
        out.append((role, content))
    return model, out
