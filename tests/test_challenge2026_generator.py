"""The dialect-2026 challenge generator, its model values and the proof check (no browser).

tests/test_challenge2026_browser.py checks the model against a real chromium.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
from collections import Counter
from typing import Any

import pytest

from sansio_chat._challenge import DEFAULT_JSA_CSP, DEFAULT_JSA_SANDBOX, ChallengePage
from sansio_chat.emulator.ddg2026 import (
    MAX_PROOF_LENGTH,
    PROBE_FAMILIES,
    Challenge2026,
    client_hash,
    expected_client_hashes,
    generate_challenge,
    js_string,
    jsa_document,
    page_html,
    verify_proof,
)
from sansio_chat.emulator.ddg2026._jsvalues import js_parse_int, utf16_units
from sansio_chat.emulator.ddg2026._markup import element_count
from sansio_chat.providers.ddg_challenge import sha256_b64

ORIGIN = "https://duck.ai"
STACK = (
    "Error\nat l (https://duck.ai/dist/duckai-dist/entry.duckai.0a1b.js:2:1417204)\n"
    "at async https://duck.ai/dist/duckai-dist/entry.duckai.0a1b.js:2:1265533"
)
PAGE = ChallengePage(
    origin=ORIGIN,
    user_agent=(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0.0.0 Safari/537.36"
    ),
    brands=(("Chromium", "156"), ("Not-A.Brand", "24")),
    be_version="be-2026.06.15",
    fe_chat_hash="ec17a44c",
)
TIMESTAMP = 1752081247394


def make(seed: int, page: ChallengePage = PAGE, **kwargs: Any) -> Challenge2026:
    return generate_challenge(random.Random(seed), page, timestamp_ms=TIMESTAMP, **kwargs)


def build_proof(value: dict[str, Any], origin: str, stack: str, duration_ms: float) -> str:
    """A proof as the spec's proof section builds it (test helper; the session owns the real one).

    Meta keys in the order of real headers: the script's ``v, challenge_id, timestamp, debug``,
    then ``origin, stack, duration``; client values hashed as ``String(v)``; compact JSON with
    non-ASCII as is (as ``JSON.stringify``), base64 of its UTF-8.
    """
    meta = dict(value["meta"])
    meta.update(origin=origin, stack=stack, duration=str(round(duration_ms)))
    proof = {
        "server_hashes": value["server_hashes"],
        "client_hashes": [sha256_b64(js_string(v)) for v in value["client_hashes"]],
        "signals": value["signals"],
        "meta": meta,
    }
    text = json.dumps(proof, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def encode(obj: object) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


# --- the generator ----------------------------------------------------------------------------


def test_same_seed_same_challenge_and_different_seeds_differ() -> None:
    first, again = make(7), make(7)
    assert first == again
    assert first.script == again.script
    scripts = {make(seed).script for seed in range(20)}
    assert len(scripts) == 20


def test_scripts_are_ascii_async_and_carry_their_header() -> None:
    for seed in range(40):
        challenge = make(seed)
        assert challenge.script.isascii()
        assert challenge.script.startswith("(async function(){")
        assert challenge.script.endswith("})()")
        assert base64.b64decode(challenge.header, validate=True).decode() == challenge.script


def test_strings_are_hidden_in_the_table() -> None:
    for seed in range(30):
        challenge = make(seed, families=["jsa", "markup", "iframe"])
        hidden = [
            challenge.challenge_id,
            challenge.timestamp,
            *challenge.server_hashes,
            DEFAULT_JSA_CSP,
            DEFAULT_JSA_SANDBOX,
            "DuckDuckGo Fraud",
            "__DDG_BE_VERSION__",
            *challenge.snippets,
        ]
        for text in hidden:
            assert text not in challenge.script


def test_every_probe_family_appears_and_the_mix_varies() -> None:
    challenges = [make(seed) for seed in range(80)]
    seen = Counter(family for c in challenges for family in set(c.probes))
    assert set(seen) == set(PROBE_FAMILIES)
    for family in PROBE_FAMILIES:
        assert 10 <= seen[family] < 80, (family, seen[family])
    assert len({c.probes for c in challenges}) > 40
    assert all(len(c.probes) >= 3 for c in challenges)
    kinds = Counter(type(v).__name__ for c in challenges for v in c.client_values[1:])
    assert kinds["int"] > 10
    assert kinds["str"] > 10
    assert len({c.debug for c in challenges}) > 40
    assert any(c.probes.count("markup") == 2 for c in challenges)


def test_forced_families() -> None:
    challenge = make(3, families=["webdriver", "markup", "markup"])
    assert sorted(challenge.probes) == ["markup", "markup", "webdriver"]
    assert len(challenge.snippets) == 2
    with pytest.raises(ValueError, match="layout"):
        make(3, families=["layout"])


def test_parameters_are_used_and_checked() -> None:
    hashes = ("a", "b", "c")
    challenge = make(1, server_hashes=hashes, challenge_id="cid-1")
    assert challenge.server_hashes == hashes
    assert challenge.expected["meta"] == {
        "v": "4",
        "challenge_id": "cid-1",
        "timestamp": str(TIMESTAMP),
        "debug": challenge.debug,
    }
    with pytest.raises(ValueError, match="three"):
        make(1, server_hashes=("a", "b"))
    with pytest.raises(ValueError, match="negative"):
        generate_challenge(random.Random(1), PAGE, timestamp_ms=-1)


def test_expected_shape_for_a_clean_page() -> None:
    for seed in range(30):
        challenge = make(seed)
        expected = challenge.expected
        assert list(expected) == ["server_hashes", "client_hashes", "signals", "meta"]
        assert list(expected["meta"]) == ["v", "challenge_id", "timestamp", "debug"]
        assert expected["client_hashes"][0] == PAGE.user_agent
        assert len(expected["client_hashes"]) == 3
        assert expected["signals"] == {}
        # JSON.stringify({}) XOR a two-number key: two characters, never NUL.
        assert len(challenge.debug) == 2
        assert "\x00" not in challenge.debug
        expected["signals"]["x"] = 1  # a copy: the challenge is unchanged
        assert challenge.expected["signals"] == {}


def test_the_model_depends_on_the_page_where_the_probes_do() -> None:
    other_ua = dataclasses.replace(PAGE, user_agent=PAGE.user_agent + " X")
    for seed in range(10):
        only_webdriver = make(seed, families=["webdriver", "iframe", "aliases"])
        changed = make(seed, other_ua, families=["webdriver", "iframe", "aliases"])
        assert only_webdriver.client_values[1:] == changed.client_values[1:]
        assert changed.client_values[0] == other_ua.user_agent
    differs = [
        make(seed, families=["user_agent"]).client_values[1:]
        != make(seed, other_ua, families=["user_agent"]).client_values[1:]
        for seed in range(10)
    ]
    assert all(differs)
    no_brands = dataclasses.replace(PAGE, brands=())
    differs = [
        make(seed, families=["brands"]).client_values[1:]
        != make(seed, no_brands, families=["brands"]).client_values[1:]
        for seed in range(10)
    ]
    assert all(differs)


def test_a_wrong_jsa_frame_shows_in_debug() -> None:
    wrong = dataclasses.replace(PAGE, jsa_sandbox="allow-same-origin allow-scripts")
    for seed in range(10):
        clean = make(seed, families=["jsa"])
        dirty = make(seed, wrong, families=["jsa"])
        assert len(clean.debug) == 2
        # JSON.stringify({"k":1}) XOR the key: seven characters.
        assert len(dirty.debug) == 7
        assert dirty.client_values != clean.client_values


# --- the page ---------------------------------------------------------------------------------


def test_page_html_carries_the_version_attributes_globals_and_jsa_frame() -> None:
    page = dataclasses.replace(PAGE, be_version='be"</script>', fe_chat_hash="h\u00e9")
    text = page_html(page, version_tag="serp_1", version_sha="abc")
    assert 'data-version-tag="serp_1"' in text
    assert 'data-version-sha="abc"' in text
    assert '<iframe id="jsa" sandbox="allow-scripts allow-same-origin"' in text
    assert "window.__DDG_BE_VERSION__ = " in text
    assert "window.__DDG_FE_CHAT_HASH__ = " in text
    assert '</script>"' not in text
    assert 'be\\"\\u003c/script\\u003e' in text
    assert "__sansioSolve" in text
    assert jsa_document(page) == (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="'
        'default-src &#x27;none&#x27;; script-src &#x27;unsafe-inline&#x27;;"></head>'
        "<body></body></html>"
    )
    assert 'srcdoc="&lt;!DOCTYPE html&gt;' in text


# --- JavaScript semantics ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("s", "s"),
        (12, "12"),
        (-3, "-3"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (1e-6, "0.000001"),
        (123456789012345680000.0, "123456789012345680000"),
        (-0.0, "0"),
        (2**60, "1152921504606847000"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        ([1, None, "a", [2, 3]], "1,,a,2,3"),
        ({"a": 1}, "[object Object]"),
    ],
)
def test_js_string(value: object, text: str) -> None:
    assert js_string(value) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [(" 12ab", 12), ("\u00a0-0x1Fz", -31), ("x", None), ("0x", None), ("+7", 7), ("\u30001", 1)],
)
def test_js_parse_int(text: str, value: int | None) -> None:
    assert js_parse_int(text) == value


def test_utf16_units_and_element_count() -> None:
    assert utf16_units("a\U0001f600") == [0x61, 0xD83D, 0xDE00]
    assert element_count("<b>x</b><i>") == 2
    assert element_count("<template><td>t</td></template><p>") == 2
    assert element_count("<table><td>x") == 4  # table, tbody, tr, td
    with pytest.raises(ValueError, match="surrogate"):
        element_count("\ud800")


# --- the proof --------------------------------------------------------------------------------


def test_client_hash_is_sha256_of_the_js_string() -> None:
    assert client_hash(2596064430) == sha256_b64("2596064430")
    assert client_hash("ff") == sha256_b64("ff")
    challenge = make(5)
    assert expected_client_hashes(challenge) == tuple(
        sha256_b64(js_string(v)) for v in challenge.client_values
    )


def test_the_expected_proof_is_accepted() -> None:
    for seed in range(10):
        challenge = make(seed)
        assert (
            verify_proof(challenge, build_proof(challenge.expected, ORIGIN, STACK, 88), ORIGIN)
            is None
        )


def _alterations(value: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every single-field change of a correct proof object, with a name."""
    out: list[tuple[str, dict[str, Any]]] = []

    def variant(name: str, change: Any) -> None:
        copy = json.loads(json.dumps(value))
        change(copy)
        out.append((name, copy))

    for i in range(3):
        variant(f"server_hashes[{i}]", lambda p, i=i: p["server_hashes"].__setitem__(i, "x"))
        variant(f"client_hashes[{i}]", lambda p, i=i: p["client_hashes"].__setitem__(i, "x"))
    variant("server_hashes+", lambda p: p["server_hashes"].append("x"))
    variant("client_hashes-", lambda p: p["client_hashes"].pop())
    variant("client_hashes+", lambda p: p["client_hashes"].append(p["client_hashes"][0]))
    variant("client_hashes str", lambda p: p.__setitem__("client_hashes", "x"))
    variant("signals", lambda p: p["signals"].__setitem__("a", 1))
    for key in ("v", "challenge_id", "timestamp", "debug", "origin"):
        variant(f"meta.{key}", lambda p, key=key: p["meta"].__setitem__(key, p["meta"][key] + "0"))
        variant(f"meta.{key} missing", lambda p, key=key: p["meta"].pop(key))
    variant("meta.v number", lambda p: p["meta"].__setitem__("v", 4))
    variant("meta.stack empty", lambda p: p["meta"].__setitem__("stack", ""))
    variant("meta.stack number", lambda p: p["meta"].__setitem__("stack", 1))
    variant("meta.stack huge", lambda p: p["meta"].__setitem__("stack", "E" * 9000))
    variant("meta.duration", lambda p: p["meta"].__setitem__("duration", "8.5"))
    variant("meta.duration number", lambda p: p["meta"].__setitem__("duration", 88))
    variant("meta extra", lambda p: p["meta"].__setitem__("extra", ""))
    variant("meta list", lambda p: p.__setitem__("meta", []))
    variant("extra key", lambda p: p.__setitem__("extra", 1))
    variant("missing signals", lambda p: p.pop("signals"))
    return out


def test_every_single_field_alteration_is_refused() -> None:
    challenge = make(11)
    good = json.loads(base64.b64decode(build_proof(challenge.expected, ORIGIN, STACK, 88)))
    assert verify_proof(challenge, encode(good), ORIGIN) is None
    for name, altered in _alterations(good):
        reason = verify_proof(challenge, encode(altered), ORIGIN)
        assert reason is not None, name
    assert verify_proof(challenge, encode(good), "https://evil.example") is not None


def test_a_changed_client_value_is_refused() -> None:
    challenge = make(12)
    for index in range(3):
        value = challenge.expected
        original = value["client_hashes"][index]
        value["client_hashes"][index] = (
            original + 1 if isinstance(original, int) else str(original) + "0"
        )
        reason = verify_proof(challenge, build_proof(value, ORIGIN, STACK, 5), ORIGIN)
        assert reason == f"client hash {index} is not what a clean browser computes"
    # Another challenge's correct proof does not answer this one.
    other = make(13)
    assert verify_proof(challenge, build_proof(other.expected, ORIGIN, STACK, 5), ORIGIN)


@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        ("not base64!", "not base64"),
        ("\u00e9", "not base64"),
        (base64.b64encode(b"\xff\xfe").decode(), "not UTF-8"),
        (base64.b64encode(b"{").decode(), "not JSON"),
        (base64.b64encode(b"[1]").decode(), "not a JSON object"),
        (base64.b64encode(b'{"a":1,"a":2}').decode(), "repeats the key"),
        (base64.b64encode(b"[" * 100_000).decode()[:MAX_PROOF_LENGTH], "not"),
        ("A" * (MAX_PROOF_LENGTH + 4), "longer than"),
    ],
)
def test_unreadable_proofs_are_refused_with_a_reason(proof: str, reason: str) -> None:
    result = verify_proof(make(1), proof, ORIGIN)
    assert result is not None
    assert reason in result


def test_the_table_checksum_copes_with_long_digit_strings() -> None:
    # Seed 1757 puts a 25-digit string (parseInt rounds it in a double) where the rotation
    # checksum reads at some rotation; the generator must still find a safe checksum.
    challenge = generate_challenge(random.Random(1757), PAGE, timestamp_ms=1)
    assert "parseInt(" in challenge.script
