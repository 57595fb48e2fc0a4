"""The emulator's duck.ai in dialect ``2026``: its page, its challenges, and their checking.

- :func:`page_html` is the page (version attributes, the two version globals, the ``#jsa``
  iframe) with a frontend hook, ``window.__sansioSolve(header)``, that runs a challenge inside
  ``#jsa`` as the real frontend does;
- :func:`generate_challenge` writes a fresh obfuscated ``async`` challenge script with random
  probes (docs/protocol.md) and predicts, with its own model, what a clean Chromium resolves it
  to on that page;
- :func:`verify_proof` checks a client's ``x-vqd-hash-1`` proof against the challenge.

Everything here is pure: randomness comes from the ``random.Random`` passed in, time from the
caller. docs/challenge-2026.md explains the probes and what is uncertain.
"""

from __future__ import annotations

from sansio_chat.emulator.ddg2026._generator import (
    PROBE_FAMILIES,
    PROOF_VERSION,
    Challenge2026,
    generate_challenge,
)
from sansio_chat.emulator.ddg2026._page import (
    DEFAULT_VERSION_SHA,
    DEFAULT_VERSION_TAG,
    SOLVE_HOOK,
    jsa_document,
    page_html,
)
from sansio_chat.emulator.ddg2026._proof import (
    MAX_PROOF_LENGTH,
    client_hash,
    decode_proof,
    expected_client_hashes,
    js_string,
    verify_proof,
)

__all__ = [
    "DEFAULT_VERSION_SHA",
    "DEFAULT_VERSION_TAG",
    "MAX_PROOF_LENGTH",
    "PROBE_FAMILIES",
    "PROOF_VERSION",
    "SOLVE_HOOK",
    "Challenge2026",
    "client_hash",
    "decode_proof",
    "expected_client_hashes",
    "generate_challenge",
    "js_string",
    "jsa_document",
    "page_html",
    "verify_proof",
]
