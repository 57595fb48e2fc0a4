"""Live browser truth: fresh generator challenges evaluated by headless Chromium.

Each run draws a new seed (printed on failure; set ``SANSIO_CHAT_LIVE_SEED`` to replay one).
Chromium evaluates the headers as a page does (``eval(atob(header))``), so the emulator's
challenges are checked as real JavaScript, and its answers are compared with
``issue_challenge`` and with the solver.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from pathlib import Path

import pytest

from browser import browser_eval_headers, browser_inner_html, require_chromium
from sansio_chat.emulator.challenge import expected_solution, issue_challenge
from sansio_chat.providers.ddg_challenge import (
    build_x_vqd_hash_1,
    dom_fingerprint,
    inner_html,
    sha256_b64,
)

pytestmark = pytest.mark.browser

SAMPLE = 150
SEC_CH_UA = '"Chromium";v="156", "Not-A.Brand";v="24"'


def _seed() -> int:
    explicit = os.environ.get("SANSIO_CHAT_LIVE_SEED")
    return int(explicit) if explicit else secrets.randbits(32)


def test_fresh_challenges_match_chromium() -> None:
    require_chromium()
    seed = _seed()
    rng = random.Random(seed)
    issued = [issue_challenge(rng) for _ in range(SAMPLE)]
    results = browser_eval_headers([challenge.b64 for challenge in issued], timeout=100)
    for challenge, result in zip(issued, results, strict=True):
        where = f"seed {seed}, snippet {challenge.snippet!r}"
        assert "error" not in result, f"{where}: {result.get('error')}"
        assert result["server_hashes"] == list(challenge.server_hashes), where
        assert result["signals"] == {}, where
        user_agent, fingerprint = result["client_hashes"]
        assert fingerprint == challenge.fingerprint, where
        assert dom_fingerprint(challenge.js_text) == fingerprint, where
        # The whole answer, from the browser's own values.
        headers = {"user-agent": user_agent, "Sec-CH-UA": SEC_CH_UA}
        answer = json.loads(base64_decode(build_x_vqd_hash_1(challenge.b64, headers)))
        assert answer == {
            "server_hashes": result["server_hashes"],
            "client_hashes": [sha256_b64(user_agent + SEC_CH_UA), sha256_b64(fingerprint)],
            "signals": {},
        }, where
        assert answer == expected_solution(challenge, user_agent, SEC_CH_UA), where


def test_hand_written_snippets_match_chromium() -> None:
    """The hand-written corpus snippets, against the installed Chromium rather than the file."""
    require_chromium()
    corpus = json.loads(
        (Path(__file__).parent / "data" / "browser_corpus.json").read_text(encoding="ascii")
    )
    from test_browser_corpus import KNOWN_DISAGREEMENTS

    snippets = [
        entry["snippet"]
        for entry in corpus["entries"]
        if not entry["source"].startswith("generator")
        and entry["snippet"] not in KNOWN_DISAGREEMENTS
    ]
    for snippet, html in zip(snippets, browser_inner_html(snippets, timeout=100), strict=True):
        assert inner_html(snippet) == html, repr(snippet)


def base64_decode(value: str) -> str:
    import base64

    return base64.b64decode(value, validate=True).decode("utf-8")
