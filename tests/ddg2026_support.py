"""Scripted dialect-2026 replies for the pure session tests, with real emulator challenges.

The challenges come from the emulator's generator (``sansio_chat.emulator.ddg2026``), whose
model predicts what a clean browser resolves each one to; :class:`Challenges` plays the
driver's solver with those predictions and checks the proofs the session builds with the
emulator's own verifier.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sansio_chat import ChallengeResult, HttpRequest, SolveChallenge
from sansio_chat.emulator.ddg2026 import (
    Challenge2026,
    generate_challenge,
    page_html,
    verify_proof,
)
from sansio_chat.providers.ddg.wire2026 import BROWSER_2026, DurableKey, challenge_page
from session_driver import SSE, Reply, ddg_token, sse_reply

BASE_URL = "http://127.0.0.1:8765"
ORIGIN = BASE_URL
TAG = "serp_20260615_183429_ET"
SHA = "ec17a44c4ba5177d076644699c451976233a9143"
FE_VERSION_2026 = f"{TAG}-{SHA}"
PAGE = challenge_page(BROWSER_2026, origin=ORIGIN, be_version=TAG, fe_chat_hash=SHA)
# A fixed public key: tests need no randomness from the key source.
FIXED_KEY = DurableKey(n="xjlCRBqkV7uY1RNqLpMIX2uwC0L8", e="AQAB", private_pem="PRIVATE-PEM")
OPTIONS: dict[str, Any] = {
    "dialect": "2026",
    "base_url": BASE_URL,
    "key_source": lambda: FIXED_KEY,
    "wall_clock": lambda: 1_750_000_000.0,
}


def page_reply() -> Reply:
    """The duck.ai page with its version attributes."""
    html = page_html(PAGE, version_tag=TAG, version_sha=SHA)
    return Reply(200, (("content-type", "text/html"),), html.encode(), label="page")


@dataclass
class Challenges:
    """Makes challenges, answers them as a clean browser would, and checks proofs."""

    seed: int = 0
    issued: dict[str, Challenge2026] = field(default_factory=dict)
    solved: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def new(self) -> Challenge2026:
        challenge = generate_challenge(self.rng, PAGE, timestamp_ms=1_750_000_000_000)
        self.issued[challenge.script] = challenge
        return challenge

    def status_reply(self) -> Reply:
        """A 2026 status reply: a fresh challenge and no token."""
        challenge = self.new()
        headers = (("content-type", "application/json"), ("x-vqd-hash-1", challenge.header))
        return Reply(200, headers, b'{"status":"0"}', label="status")

    def chat_reply(
        self, *texts: str, end: str | None = "[DONE]", extra: tuple[str, ...] = ()
    ) -> Reply:
        """A chat reply that carries the next challenge."""
        challenge = self.new()
        payloads = [ddg_token(t) for t in texts] + list(extra)
        return sse_reply(*payloads, headers=(("x-vqd-hash-1", challenge.header),), end=end)

    def solve(self, step: SolveChallenge) -> ChallengeResult:
        """What a clean browser resolves the step's script to (the generator's model)."""
        assert step.page == PAGE, "the session described another page"
        challenge = self.issued[step.script]
        self.solved.append(step.script)
        return ChallengeResult(value=challenge.expected, duration_ms=9.6)

    def check_proof(self, request: HttpRequest, script: str) -> str | None:
        """The emulator's verdict on the proof ``request`` carries for ``script``."""
        proof = request.header("x-vqd-hash-1")
        assert proof is not None
        return verify_proof(self.issued[script], proof, ORIGIN)


__all__ = [
    "BASE_URL",
    "FE_VERSION_2026",
    "FIXED_KEY",
    "OPTIONS",
    "ORIGIN",
    "PAGE",
    "SSE",
    "Challenges",
    "page_reply",
]
