"""duck.ai in dialect ``2026``, server side (docs/emulator.md).

One port, the emulator's own origin: the page (version attributes, the two globals, the
``#jsa`` iframe), status issuing a fresh script challenge for the browser identity in its
headers (no ``x-vqd-4``), chat verifying the proof against the challenge it issued (single
use) and answering with the next challenge, and ``/duckchat/v1/models``. A refused request
does not use its challenge up (clients retry a 429 with the same proof).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, final

from sansio_chat._challenge import ChallengePage
from sansio_chat._text import utf16_length

from ._ddg import INPUT_LIMIT, error_body, event_maker, stream_plan
from ._ddg2026_checks import (
    check_fe_signals,
    check_journey_id,
    check_origin,
    identity_page,
    parse_body_2026,
    request_origin,
)
from ._faults import Fault
from ._plan import EmulatorRequest, ResponsePlan, Write, whole_reply
from ._replies import reply_tokens
from .ddg2026 import (
    MAX_PROOF_LENGTH,
    Challenge2026,
    decode_proof,
    generate_challenge,
    page_html,
    verify_proof,
)

__all__ = ["MODELS_2026", "RETIRED_MODELS_2026", "Ddg2026Service", "Settings2026"]

# The server's own list (docs/protocol.md, "Models"; 2026-07-22), kept apart from the client's
# so that a test can check that the two agree: id → name, provider, image upload, tools, tier.
_MODEL_TABLE: Final[dict[str, tuple[str, str, bool, tuple[str, ...], str]]] = {
    "gpt-5.4-mini": ("GPT-5.4 mini", "openai", True, ("WebSearch",), "free"),
    "gpt-5.4-nano": ("GPT-5.4 nano", "openai", False, (), "free"),
    "claude-haiku-4-5": ("Claude Haiku 4.5", "anthropic", True, (), "free"),
    "mistral-small-2603": ("Mistral Small", "mistral", True, (), "free"),
    "tinfoil/gpt-oss-120b": ("gpt-oss 120B", "tinfoil", False, (), "free"),
    "tinfoil/gemma4-31b": ("Gemma 4 31B", "tinfoil", False, (), "free"),
}
MODELS_2026: Final[tuple[str, ...]] = tuple(_MODEL_TABLE)
"""The model ids dialect ``2026`` accepts by default (its live ``/models`` list)."""
RETIRED_MODELS_2026: Final[tuple[str, ...]] = (
    "gpt-4o-mini",
    "gpt-5-mini",
    "o3-mini",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct",
    "claude-3-5-haiku-latest",
    "mistral-small-2501",
)
"""Ids the service refused in 2026 with 400 ``ERR_BAD_REQUEST`` (any id off the list is)."""

# Challenges are kept for this many issues (without their scripts); older ones are forgotten
# and then refused as unknown. Conversations are counted for as many ids.
_MAX_CHALLENGES = 20_000
_MAX_CONVERSATIONS = 100_000
_EXHAUSTED = 1 << 62
_BASE_TIMESTAMP_MS = 1_781_000_000_000  # 2026-06-09: challenge timestamps count on from here
_JSON = ("content-type", "application/json")
_STATUS_BODY = b'{"status":"0","secondaryStatus":"0","statusV2":0}'
_CHALLENGE_BODY = error_body(418, "ERR_CHALLENGE")
_BAD_REQUEST = error_body(400, "ERR_BAD_REQUEST")
_PNG_1X1 = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@final
@dataclass(slots=True, kw_only=True)
class Settings2026:
    """The knobs of the ``2026`` side (copied from the emulator's config on each request)."""

    reply_tokens: int = 12
    delay: float = 0.0
    conversation_limit: int | None = None
    challenge_on_chat: bool = True
    input_limit: int = INPUT_LIMIT
    models: tuple[str, ...] | None = None
    seed: int = 0
    events_per_write: int = 1


@final
@dataclass(slots=True, kw_only=True)
class _Issued:
    challenge: Challenge2026
    user_agent: str
    digest: bytes
    used: bool = False


def _refuse(reason: str) -> ResponsePlan:
    return dataclasses.replace(whole_reply(400, _BAD_REQUEST), reason=reason)


def _version(rng: random.Random) -> tuple[str, str]:
    """A version tag and sha as duck.ai's page writes them."""
    tag = (
        f"serp_202606{rng.randrange(1, 29):02d}_{rng.randrange(24):02d}"
        f"{rng.randrange(60):02d}{rng.randrange(60):02d}_ET"
    )
    return tag, f"{rng.getrandbits(160):040x}"


def _challenge_refusal(reason: str) -> ResponsePlan:
    return dataclasses.replace(whole_reply(418, _CHALLENGE_BODY), reason=reason)


@final
@dataclass(slots=True, kw_only=True)
class Ddg2026Service:
    """The state of duck.ai's ``2026`` side: issued challenges, conversations, the version."""

    challenge_rng: random.Random
    misc_rng: random.Random
    version_tag: str
    version_sha: str
    issued: dict[str, _Issued] = field(default_factory=dict)
    conversations: dict[str, int] = field(default_factory=dict)
    issues: int = 0
    replies: int = 0

    @classmethod
    def create(cls, seed: int) -> Ddg2026Service:
        """A fresh service whose challenges and version depend only on ``seed``."""
        rng = random.Random(f"sansio-chat-ddg2026-version:{seed}")
        tag, sha = _version(rng)
        return cls(
            challenge_rng=random.Random(f"sansio-chat-ddg2026-challenges:{seed}"),
            misc_rng=random.Random(f"sansio-chat-ddg2026-misc:{seed}"),
            version_tag=tag,
            version_sha=sha,
        )

    def deploy_frontend(self) -> str:
        """Ship a new frontend: the page names a new version and chat refuses the old one (as
        duck.ai does after a deployment). Returns the new ``x-fe-version``."""
        while True:
            tag, sha = _version(self.misc_rng)
            if sha != self.version_sha:
                break
        self.version_tag, self.version_sha = tag, sha
        return self.fe_version

    @property
    def fe_version(self) -> str:
        """The ``x-fe-version`` a client builds from the page: ``TAG-SHA``."""
        return f"{self.version_tag}-{self.version_sha}"

    @property
    def fe_chat_hash(self) -> str:
        """The page's ``window.__DDG_FE_CHAT_HASH__``."""
        return self.version_sha[:20]

    def expected_answer(self, header: str) -> dict[str, object] | None:
        """What a clean browser resolves the challenge ``header`` to (the emulator's model),
        or ``None`` for a header this service did not issue or has forgotten. For tests and
        tools that stand in for a browser."""
        digest = _digest(header.strip())
        for issued in reversed(self.issued.values()):
            if issued.digest == digest:
                return issued.challenge.expected
        return None

    # -- endpoints ----------------------------------------------------------------------

    def page(self, request: EmulatorRequest) -> ResponsePlan:
        """``GET /``: the page with the version attributes, the globals and ``#jsa``."""
        origin = request_origin(request)
        if origin is None:
            return _refuse("no usable Host header")
        # The page does not depend on who asks; only the challenges do.
        page = ChallengePage(
            origin=origin,
            user_agent="",
            brands=(),
            be_version=self.version_tag,
            fe_chat_hash=self.fe_chat_hash,
        )
        html = page_html(page, version_tag=self.version_tag, version_sha=self.version_sha)
        return whole_reply(200, html.encode("utf-8"), "text/html; charset=UTF-8")

    def models(self, settings: Settings2026) -> ResponsePlan:
        """``GET /duckchat/v1/models``: the live list with each model's capabilities."""
        entries = []
        for model in settings.models or MODELS_2026:
            name, provider, images, tools, tier = _MODEL_TABLE.get(
                model, (model, model.split("/", 1)[0].split("-", 1)[0], False, (), "free")
            )
            entries.append(
                {
                    "id": model,
                    "name": name,
                    "provider": provider,
                    "entityHasAccess": True,
                    "supportsImageUpload": images,
                    "supportedTools": list(tools),
                    "accessTier": tier,
                }
            )
        body = json.dumps({"models": entries}, separators=(",", ":")).encode("utf-8")
        return whole_reply(200, body)

    def _issue(self, request: EmulatorRequest, origin: str) -> Challenge2026 | None:
        page = identity_page(
            request, origin, be_version=self.version_tag, fe_chat_hash=self.fe_chat_hash
        )
        if page is None:
            return None
        self.issues += 1
        challenge = generate_challenge(
            self.challenge_rng, page, timestamp_ms=_BASE_TIMESTAMP_MS + self.issues * 1_000
        )
        # Only what the check needs is kept: the script is the bulk of a challenge.
        kept = dataclasses.replace(challenge, script="", header="", snippets=())
        self.issued[challenge.challenge_id] = _Issued(
            challenge=kept, user_agent=page.user_agent, digest=_digest(challenge.header)
        )
        while len(self.issued) > _MAX_CHALLENGES:
            del self.issued[next(iter(self.issued))]
        return challenge

    def status(self, request: EmulatorRequest) -> ResponsePlan:
        """``GET /duckchat/v1/status``: for ``x-vqd-accept: 1``, a fresh challenge."""
        origin = request_origin(request)
        if origin is None:
            return _refuse("no usable Host header")
        reason = check_origin(request, origin, need_origin=False)
        if reason is not None:
            return _refuse(reason)
        headers: list[tuple[str, str]] = [_JSON, ("content-length", str(len(_STATUS_BODY)))]
        if (request.header("x-vqd-accept") or "").strip() == "1":
            challenge = self._issue(request, origin)
            if challenge is None:
                return _refuse("no user-agent, or a sec-ch-ua that is not a brand list")
            headers.append(("x-vqd-hash-1", challenge.header))
        headers.append(("cache-control", "no-store"))
        return ResponsePlan(status=200, headers=tuple(headers), body=(Write(data=_STATUS_BODY),))

    def _check_proof(self, request: EmulatorRequest, origin: str) -> _Issued | str:
        proof = (request.header("x-vqd-hash-1") or "").strip()
        if not proof or len(proof) > MAX_PROOF_LENGTH:
            return "no x-vqd-hash-1 proof"
        data = decode_proof(proof)
        if isinstance(data, str):
            return data
        meta = data.get("meta")
        cid = meta.get("challenge_id") if isinstance(meta, dict) else None
        issued = self.issued.get(cid) if isinstance(cid, str) else None
        if issued is None:
            return "the proof answers no challenge this emulator issued"
        if issued.used:
            return "the challenge was already used"
        if (request.header("user-agent") or "") != issued.user_agent:
            return "the user-agent is not the one the challenge was issued to"
        reason = verify_proof(issued.challenge, proof, origin)
        return issued if reason is None else reason

    def chat(
        self,
        request: EmulatorRequest,
        settings: Settings2026,
        take_faults: Callable[[], Sequence[Fault]],
    ) -> ResponsePlan:
        """``POST /duckchat/v1/chat``: check, use the challenge up, stream the reply.

        ``take_faults()`` returns the body fault switches for this reply and uses them up;
        it is called only when the reply streams.
        """
        origin = request_origin(request)
        if origin is None:
            return _refuse("no usable Host header")
        reason = check_origin(request, origin, need_origin=True)
        if reason is not None:
            return _refuse(reason)
        if (request.header("x-fe-version") or "").strip() != self.fe_version:
            return _challenge_refusal("x-fe-version is not the page's")
        issued = self._check_proof(request, origin)
        if isinstance(issued, str):
            return _challenge_refusal(issued)
        reason = check_journey_id(request) or check_fe_signals(request)
        if reason is not None:
            return _refuse(reason)
        body = parse_body_2026(request.body)
        if isinstance(body, str):
            return _refuse(body)
        if body.model not in (settings.models or MODELS_2026):
            return _refuse(f"the model {body.model[:80]!r} is not offered")
        if any(role == "system" for role, _ in body.messages):
            return _challenge_refusal("the system role is refused")
        if any(role not in ("user", "assistant") for role, _ in body.messages):
            return _refuse("a role is neither user nor assistant")
        if sum(utf16_length(text) for _, text in body.messages) > settings.input_limit:
            return whole_reply(429, error_body(429, "ERR_INPUT_LIMIT"))
        turns = self.conversations.get(body.conversation_id, 0)
        limit = settings.conversation_limit
        if turns == _EXHAUSTED or (limit is not None and turns >= limit):
            return whole_reply(429, error_body(429, "ERR_CONVERSATION_LIMIT"))

        used = take_faults()
        issued.used = True
        fresh = self._issue(request, origin) if settings.challenge_on_chat else None
        limits = [(f.arg(0) or "").upper() for f in used if f.kind == "limit"]
        if limit is not None and turns + 1 >= limit and "CONVERSATION" not in limits:
            limits.append("CONVERSATION")
        self.conversations.pop(body.conversation_id, None)
        self.conversations[body.conversation_id] = (
            _EXHAUSTED if "CONVERSATION" in limits else turns + 1
        )
        while len(self.conversations) > _MAX_CONVERSATIONS:
            del self.conversations[next(iter(self.conversations))]

        prompt = next((text for role, text in reversed(body.messages) if role == "user"), "")
        self.replies += 1
        make_event = event_maker(
            self.misc_rng, _BASE_TIMESTAMP_MS + self.replies * 1_000, body.model
        )
        events = _reply_events(
            make_event,
            reply_tokens(settings.seed, prompt, settings.reply_tokens),
            used,
            limits,
        )
        headers: list[tuple[str, str]] = [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ]
        if fresh is not None:
            headers.append(("x-vqd-hash-1", fresh.header))
        return stream_plan(
            events,
            headers,
            used=used,
            make_event=make_event,
            delay=settings.delay,
            rng=self.misc_rng,
            group=settings.events_per_write,
        )


def _digest(header: str) -> bytes:
    return hashlib.sha256(header.encode("utf-8", "replace")).digest()


def _marker(text: str) -> bytes:
    return f"data: [{text}]\n\n".encode("ascii")


def _reply_events(
    make_event: Callable[[str], bytes],
    pieces: Sequence[str],
    faults: Sequence[Fault],
    limits: Sequence[str],
) -> list[bytes]:
    """The reply's events with the markers the switches ask for (see ``_faults``)."""
    by_kind = {fault.kind: fault for fault in faults}
    ping = by_kind.get("ping")
    every = int(ping.arg(0) or 2) if ping is not None else 0
    events: list[bytes] = []
    for index, piece in enumerate(pieces):
        events.append(make_event(piece))
        if every and (index + 1) % every == 0:
            events.append(_marker("PING"))
    position = min(1, len(events))
    if "unknown-marker" in by_kind:
        events.insert(position, _marker("SOMETHING_NEW:1"))
    if "partial-image" in by_kind:
        image = {"role": "partial-image", "partialImageIndex": 0, "image": _PNG_1X1}
        events.insert(position, b"data: " + json.dumps(image).encode("ascii") + b"\n\n")
    events.append(make_event(""))
    title, usage, warn = by_kind.get("title"), by_kind.get("usage"), by_kind.get("warn-limit")
    if title is not None:
        events.append(_marker(f"CHAT_TITLE:{title.arg(0) or 'Emulated chat'}"))
    if usage is not None:
        events.append(_marker(f"FIXED_COST_WINDOW_USAGE:{usage.arg(0) or '1'}"))
    if warn is not None:
        events.append(_marker(f"WARN_CONVERSATION_LIMIT:{warn.arg(0)}"))
    stop = by_kind.get("stop-reason")
    if stop is not None:
        events.append(_marker(f"STOP_REASON:{stop.arg(0)}"))
    events.append(b"data: [DONE]" + b"".join(f"[LIMIT_{k}]".encode() for k in limits) + b"\n\n")
    return events
