"""Dialect 2026 wire format: page version, per-request values, proof, body, models, markers."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sansio_chat import ChallengeError, Message, RemoteProtocolError
from sansio_chat.providers.ddg.markers import StreamMarker, parse_marker
from sansio_chat.providers.ddg.models import ModelInfo, parse_models
from sansio_chat.providers.ddg.proof import build_proof, js_string
from sansio_chat.providers.ddg.wire2026 import (
    DurableKey,
    chat_body_2026,
    fe_signals,
    generate_durable_key,
    journey_id,
    message_id,
    parse_page_version,
)

# String(v) in node 20 for each value, captured when this table was written.
JS_STRING_VECTORS = [
    (0.1, "0.1"),
    (-0.0, "0"),
    (2.0**60, "1152921504606847000"),
    (1.5e300, "1.5e+300"),
    (123456789012345680000.0, "123456789012345680000"),
    (-3.25, "-3.25"),
    (1e-6, "0.000001"),
    (1e-7, "1e-7"),
    (5e-324, "5e-324"),
    (1e21, "1e+21"),
    (1e20, "100000000000000000000"),
    (12345.678, "12345.678"),
    ([1.5, None, "x", True], "1.5,,x,true"),
    ([[1, 2], [3]], "1,2,3"),
    ({"a": 1}, "[object Object]"),
    (None, "null"),
    (False, "false"),
    (42, "42"),
    (2**60, "1152921504606847000"),
    (-(2**70), "-1.1805916207174113e+21"),
    ("Mozilla/5.0", "Mozilla/5.0"),
]


@pytest.mark.parametrize(("value", "expected"), JS_STRING_VECTORS)
def test_js_string_matches_javascript(value: object, expected: str) -> None:
    assert js_string(value) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_js_string_of_a_float_reads_back_as_the_same_number(value: float) -> None:
    text = js_string(value)
    assert float(text) == value
    assert not text.endswith(".0")


def test_page_version_joins_tag_and_sha() -> None:
    html = '<html data-version-tag="serp_20260615_183429_ET" data-version-sha="ec17a44c">'
    assert parse_page_version(html) == "serp_20260615_183429_ET-ec17a44c"


@pytest.mark.parametrize(
    ("html", "missing"),
    [
        ('<html data-version-sha="x">', "data-version-tag"),
        ('<html data-version-tag="x">', "data-version-sha"),
        ('<html data-version-tag="" data-version-sha="y">', "data-version-tag"),
    ],
)
def test_page_version_names_the_missing_attribute(html: str, missing: str) -> None:
    with pytest.raises(RemoteProtocolError, match=missing) as info:
        parse_page_version(html)
    assert info.value.marker == missing  # type: ignore[attr-defined]


def test_page_version_refuses_values_no_header_may_carry() -> None:
    with pytest.raises(RemoteProtocolError, match="printable ASCII"):
        parse_page_version('<html data-version-tag="a\u00e9" data-version-sha="b">')


def test_journey_id_and_message_id_come_from_the_rng() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", journey_id(random.Random(1)))
    assert journey_id(random.Random(1)) == journey_id(random.Random(1))
    assert journey_id(random.Random(1)) != journey_id(random.Random(2))
    uid = message_id(random.Random(3))
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid)


def test_fe_signals_is_a_plausible_timing_log() -> None:
    value = fe_signals(random.Random(7), now_ms=1_750_000_000_000)
    log = json.loads(base64.b64decode(value))
    assert [e["name"] for e in log["events"]] == [
        "onboarding_impression",
        "action",
        "onboarding_finish",
        "startNewChat_free",
    ]
    assert [e.get("trusted", False) for e in log["events"]] == [False, True, False, False]
    assert all(300 <= e["delta"] <= 2500 for e in log["events"])
    assert log["end"] > sum(e["delta"] for e in log["events"])
    assert log["start"] + log["end"] == 1_750_000_000_000
    assert "," + " " not in base64.b64decode(value).decode()  # compact JSON
    assert fe_signals(random.Random(7), 1) != fe_signals(random.Random(8), 1)


RESULT = {
    "server_hashes": ["s1", "s2", "s3"],
    "client_hashes": ["Mozilla/5.0 (X11)", 4321, [1, 2]],
    "signals": {},
    "meta": {"v": "4", "challenge_id": "cid", "timestamp": "1750000000000", "debug": "N\x1f"},
}


def _b64sha(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_proof_hashes_client_values_and_appends_origin_stack_duration() -> None:
    proof = json.loads(
        base64.b64decode(build_proof(RESULT, origin="https://duck.ai", duration_ms=12.4, stack="S"))
    )
    assert proof["server_hashes"] == ["s1", "s2", "s3"]
    assert proof["client_hashes"] == [
        _b64sha("Mozilla/5.0 (X11)"),
        _b64sha("4321"),
        _b64sha("1,2"),
    ]
    assert proof["signals"] == {}
    assert list(proof["meta"]) == [
        "v",
        "challenge_id",
        "timestamp",
        "debug",
        "origin",
        "stack",
        "duration",
    ]
    assert proof["meta"]["origin"] == "https://duck.ai"
    assert proof["meta"]["stack"] == "S"
    assert proof["meta"]["duration"] == "12"


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "text",
        {"server_hashes": [], "client_hashes": [1], "meta": {}},
        {"server_hashes": [1], "client_hashes": [1], "meta": {}},
        {"server_hashes": ["a"], "client_hashes": [], "meta": {}},
        {"server_hashes": ["a"], "client_hashes": [1], "meta": "x"},
        {"server_hashes": ["a"], "client_hashes": [1], "meta": {}, "signals": []},
        {"server_hashes": ["a" * 20000], "client_hashes": [1], "meta": {}},
    ],
)
def test_a_result_of_the_wrong_shape_is_a_challenge_error(value: object) -> None:
    with pytest.raises(ChallengeError):
        build_proof(value, origin="https://duck.ai", duration_ms=1)


@pytest.mark.parametrize("duration", [float("nan"), -1.0, float("inf")])
def test_a_bad_duration_is_a_challenge_error(duration: float) -> None:
    with pytest.raises(ChallengeError):
        build_proof(RESULT, origin="https://duck.ai", duration_ms=duration)


def test_chat_body_has_the_2026_shape() -> None:
    key = DurableKey(n="bW9kdWx1cw")
    body = json.loads(
        chat_body_2026(
            "gpt-5.4-mini",
            (Message(role="system", content="be brief"), Message(role="user", content="hi")),
            key=key,
            conversation_id="c",
            message_id="m",
            reasoning_effort="low",
        )
    )
    assert body["model"] == "gpt-5.4-mini"
    assert body["messages"] == [
        {"role": "user", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert body["metadata"]["toolChoice"] == {
        "NewsSearch": False,
        "VideosSearch": False,
        "LocalSearch": False,
        "WeatherForecast": False,
    }
    assert body["canUseTools"] is True
    assert body["reasoningEffort"] == "low"
    assert body["durableStream"]["conversationId"] == "c"
    assert body["durableStream"]["messageId"] == "m"
    assert body["durableStream"]["publicKey"] == {
        "alg": "RSA-OAEP-256",
        "e": "AQAB",
        "ext": True,
        "key_ops": ["encrypt"],
        "kty": "RSA",
        "n": "bW9kdWx1cw",
        "use": "enc",
    }


def test_generated_key_is_a_real_2048_bit_rsa_key_and_its_private_half_stays_out_of_repr() -> None:
    from cryptography.hazmat.primitives import serialization

    key = generate_durable_key()
    modulus = int.from_bytes(base64.urlsafe_b64decode(key.n + "=" * (-len(key.n) % 4)), "big")
    assert modulus.bit_length() == 2048
    assert key.e == "AQAB"
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    assert private.public_key().public_numbers().n == modulus  # type: ignore[union-attr]
    assert "PRIVATE" not in repr(key)


def test_models_reply_is_parsed_with_capabilities() -> None:
    body = json.dumps(
        {
            "models": [
                {
                    "id": "gpt-5.4-mini",
                    "name": "GPT-5.4 mini",
                    "provider": "openai",
                    "entityHasAccess": True,
                    "supportsImageUpload": True,
                    "supportedTools": ["WebSearch"],
                    "accessTier": "free",
                },
                {"id": "claude-haiku-4-5", "entityHasAccess": False},
                {"id": 3},
                "junk",
                {"id": "bad id\n"},
            ]
        }
    ).encode()
    assert parse_models(body) == (
        ModelInfo(
            id="gpt-5.4-mini",
            name="GPT-5.4 mini",
            provider="openai",
            has_access=True,
            supports_image_upload=True,
            supported_tools=("WebSearch",),
            access_tier="free",
        ),
        ModelInfo(id="claude-haiku-4-5", has_access=False),
    )


@pytest.mark.parametrize("body", [b"", b"[]", b'{"models": 3}', b"\xff", b"[" * 100000])
def test_a_malformed_models_reply_is_a_remote_protocol_error(body: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_models(body)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("[DONE]", (StreamMarker(kind="done", name="DONE"),)),
        (
            "[DONE][LIMIT_CONVERSATION]",
            (
                StreamMarker(kind="done", name="DONE"),
                StreamMarker(kind="limit", name="LIMIT_CONVERSATION"),
            ),
        ),
        ("[PING]", (StreamMarker(kind="ping", name="PING"),)),
        ("[CHAT_TITLE:a [b] c]", (StreamMarker(kind="title", name="CHAT_TITLE", value="a [b] c"),)),
        (
            "[FIXED_COST_WINDOW_USAGE:0.25]",
            (StreamMarker(kind="usage", name="FIXED_COST_WINDOW_USAGE", value="0.25"),),
        ),
        (
            "[STOP_REASON:length]",
            (StreamMarker(kind="stop_reason", name="STOP_REASON", value="length"),),
        ),
        ("[LIMIT_ACCOUNT]", (StreamMarker(kind="limit", name="LIMIT_ACCOUNT"),)),
        (
            "[WARN_CONVERSATION_LIMIT:3]",
            (StreamMarker(kind="warn_limit", name="WARN_CONVERSATION_LIMIT", value="3"),),
        ),
        ("[SOMETHING_NEW:1]", (StreamMarker(kind="unknown", name="SOMETHING_NEW", value="1"),)),
        ('{"message":"[DONE]"}', None),
        ("[lowercase]", None),
    ],
)
def test_markers(data: str, expected: tuple[StreamMarker, ...] | None) -> None:
    assert parse_marker(data) == expected


@given(st.text())
def test_marker_parsing_is_total(data: str) -> None:
    result = parse_marker(data)
    assert result is None or all(isinstance(m, StreamMarker) for m in result)


def test_a_lone_surrogate_is_hashed_as_textencoder_encodes_it() -> None:
    value = dict(RESULT, client_hashes=["a\ud800b"])
    proof = json.loads(base64.b64decode(build_proof(value, origin="o", duration_ms=1)))
    assert proof["client_hashes"] == [_b64sha("a\ufffdb")]


def test_a_challenge_header_beyond_the_cap_or_not_base64_is_a_challenge_error() -> None:
    from sansio_chat.providers.ddg.wire2026 import MAX_CHALLENGE_BYTES, decode_script

    with pytest.raises(ChallengeError, match="limit"):
        decode_script("A" * (MAX_CHALLENGE_BYTES + 4))
    for bad in ("@@not-base64@@", base64.b64encode(b"\xff\xfe").decode()):
        with pytest.raises(ChallengeError):
            decode_script(bad)
    assert decode_script(base64.b64encode(b"(async()=>1)()").decode()) == "(async()=>1)()"


@pytest.mark.parametrize(
    "line",
    [
        "[CHAT_TITLE:" + "x" * 1_000_000 + "]",  # as long as an SSE event may be
        "[A" * 200_000,  # an opening bracket that never closes, again and again
        "[A]" * 200_000,  # many markers on one line
    ],
)
def test_hostile_marker_lines_are_parsed_whole_and_typed(line: str) -> None:
    markers = parse_marker(line)
    assert markers is not None
    assert all(isinstance(m, StreamMarker) for m in markers)
