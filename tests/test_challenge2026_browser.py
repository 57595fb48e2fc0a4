"""Ground truth for the dialect-2026 generator: real chromium solves fresh challenges.

The emulator's page is served at a loopback origin; headless chromium loads it, and the
page's frontend hook runs each challenge inside the ``#jsa`` iframe. What chromium resolves
must equal the generator's model value for every challenge, the proof built from chromium's
value must be accepted, and an altered twin refused.

Fresh seeds every run; a failure prints the seed, and ``SANSIO_CHAT_2026_SEED=N`` replays it.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import random
import string
import time
from typing import Any

import pytest

from browser import require_chromium
from browser_page import BrowserIdentity, solve_in_chromium
from sansio_chat._challenge import ChallengePage
from sansio_chat.emulator.ddg2026 import (
    PROBE_FAMILIES,
    Challenge2026,
    generate_challenge,
    page_html,
    verify_proof,
)
from test_challenge2026_generator import STACK, build_proof

pytestmark = pytest.mark.browser

COUNT = 240  # at least 200 per run (issue 14)
# Scripts the hook must turn into an error, and a part of its text.
BROKEN = (
    ("(async function(){throw new Error('boom');})()", "boom"),
    ("(async function(){", "did not run: Uncaught SyntaxError"),
    ("eval('1')", "EvalError"),  # the #jsa frame's CSP forbids eval
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def _seed() -> int:
    fixed = os.environ.get("SANSIO_CHAT_2026_SEED")
    return int(fixed) if fixed else random.SystemRandom().randrange(2**32)


def _user_agent(rng: random.Random) -> str:
    """A plausible, random browser identity string (ASCII, as a header must be)."""
    system = rng.choice(
        (
            "X11; Linux x86_64",
            "Windows NT 10.0; Win64; x64",
            "Macintosh; Intel Mac OS X 10_15_7",
            "X11; CrOS x86_64 16181.61.0",
        )
    )
    major = rng.randint(120, 160)
    extra = rng.choice(("", f" Edg/{major}.0.0.0", f" OPR/{major - 14}.0.0.0"))
    return (
        f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36{extra}"
    )


def _odd_text(rng: random.Random) -> str:
    """Version globals are never read, only owned: give them awkward values anyway."""
    return "".join(rng.choice(string.printable + "\u00e9\u2028<>&") for _ in range(12))


def _altered(value: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    twin = {**value, "client_hashes": list(value["client_hashes"])}
    index = rng.randrange(len(twin["client_hashes"]))
    original = twin["client_hashes"][index]
    twin["client_hashes"][index] = (
        original + 1 if isinstance(original, int) else str(original) + "0"
    )
    return twin


def _run(
    seed: int, count: int, page_changes: dict[str, Any], families: list[str] | None = None
) -> None:
    chromium = require_chromium()
    master = random.Random(seed)
    user_agent = _user_agent(master)
    base = ChallengePage(
        origin="",
        user_agent=user_agent,
        brands=(),
        be_version=_odd_text(master),
        fe_chat_hash=_odd_text(master),
    )
    base = dataclasses.replace(base, **page_changes)
    timestamp = master.randrange(1_750_000_000_000, 1_800_000_000_000)
    sub_seeds = [master.randrange(2**63) for _ in range(count)]
    issued: list[Challenge2026] = []
    identities: list[BrowserIdentity] = []
    origin_seen: list[str] = []

    def make_batch(origin: str, identity: BrowserIdentity) -> list[str]:
        identities.append(identity)
        origin_seen.append(origin)
        page = dataclasses.replace(
            base,
            origin=origin,
            user_agent=identity.user_agent,
            brands=identity.brands or (),
            mobile=identity.mobile,
            platform=identity.platform,
        )
        for sub in sub_seeds:
            each = families
            if families is not None:
                each = [*families, random.Random(sub).choice(PROBE_FAMILIES)]
            issued.append(
                generate_challenge(random.Random(sub), page, timestamp_ms=timestamp, families=each)
            )
        return [c.header for c in issued] + [_b64(script) for script, _ in BROKEN]

    started = time.monotonic()
    outcomes = solve_in_chromium(chromium, page_html(base), make_batch, user_agent=user_agent)
    elapsed = time.monotonic() - started
    print(f"seed {seed}: {len(outcomes)} challenges solved by chromium in {elapsed:.1f} s")
    assert identities[0].user_agent == user_agent, f"seed {seed}"
    assert len(outcomes) == count + len(BROKEN), f"seed {seed}"
    for outcome, (script, error) in zip(outcomes[count:], BROKEN, strict=True):
        assert outcome.error is not None, script
        assert error in outcome.error, (script, outcome.error)
    outcomes = outcomes[:count]
    origin = origin_seen[0]
    failures: list[str] = []
    for index, (challenge, outcome) in enumerate(zip(issued, outcomes, strict=True)):
        where = f"seed {seed} #{index} (sub-seed {sub_seeds[index]}, probes {challenge.probes})"
        if outcome.error is not None:
            failures.append(f"{where}: chromium failed: {outcome.error[:300]}")
            continue
        if outcome.value != challenge.expected:
            failures.append(f"{where}: chromium {outcome.value!r} != model {challenge.expected!r}")
            continue
        proof = build_proof(outcome.value, origin, STACK, 12)
        reason = verify_proof(challenge, proof, origin)
        if reason is not None:
            failures.append(f"{where}: chromium's proof refused: {reason}")
        twin = build_proof(_altered(outcome.value, master), origin, STACK, 12)
        if verify_proof(challenge, twin, origin) is None:
            failures.append(f"{where}: an altered proof was accepted")
    assert not failures, f"{len(failures)} of {count} failed:\n" + "\n".join(failures[:10])
    # A clean page leaves debug's map empty (two characters); a misdescribed #jsa fills it.
    lengths = {len(c.debug) for c in issued}
    if page_changes:
        assert min(lengths) >= 7, f"seed {seed}: {lengths}"  # '{"k":1}' or more keys
    else:
        assert lengths == {2}, f"seed {seed}: {lengths}"


def test_chromium_computes_what_the_emulator_expects() -> None:
    _run(_seed(), COUNT, {})


def test_the_model_follows_chromium_on_a_misdescribed_jsa_frame() -> None:
    # A sandbox string with the same tokens in another order, and a CSP with other spacing
    # (both still let the frontend run inline scripts): the #jsa probe fails in chromium and
    # in the model, and debug says so.
    changes = {
        "jsa_sandbox": "allow-same-origin allow-scripts",
        "jsa_csp": "default-src 'none';  script-src 'unsafe-inline'",
    }
    _run(_seed(), 40, changes, families=["jsa"])
