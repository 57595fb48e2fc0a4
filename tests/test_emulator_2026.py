"""The emulator in dialect ``2026``, driven as a pure object (no sockets).

A proof is built the way the spec's proof section says, from the emulator's own model value
(``Ddg2026Service.expected_answer``), with the generator tests' private helper.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from sansio_chat.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorRequest,
    FaultSyntaxError,
    Reset,
    ResponsePlan,
    Stall,
    Write,
    parse_fault,
)
from sansio_chat.emulator import _ddg2026 as service_module
from sansio_chat.emulator._ddg2026 import MODELS_2026, RETIRED_MODELS_2026
from sansio_chat.emulator.ddg2026 import decode_proof
from test_challenge2026_generator import STACK, build_proof

HOST = "127.0.0.1:8765"
ORIGIN = f"http://{HOST}"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
SEC_CH_UA = '"Chromium";v="156", "Not)A;Brand";v="24", "Google Chrome";v="156"'
IDENTITY = (
    ("host", HOST),
    ("user-agent", USER_AGENT),
    ("sec-ch-ua", SEC_CH_UA),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Linux"'),
)
CHALLENGE_418 = b'{"action":"error","status":418,"type":"ERR_CHALLENGE"}'
BAD_REQUEST = b'{"action":"error","status":400,"type":"ERR_BAD_REQUEST"}'
CONVERSATION = "0b8c4f0e-5d0a-4c8e-9f3b-2a6d1e7c9b10"
MODULUS = base64.urlsafe_b64encode(bytes([0xC5]) + bytes(range(255))).rstrip(b"=").decode()


def make(**config: Any) -> Emulator:
    return Emulator(EmulatorConfig(dialect="2026", seed=config.pop("seed", 7), **config))


def request(
    method: str, path: str, headers: tuple[tuple[str, str], ...] = IDENTITY, body: bytes = b""
) -> EmulatorRequest:
    return EmulatorRequest(method=method, path=path, headers=headers, body=body)


def status(em: Emulator, headers: tuple[tuple[str, str], ...] = IDENTITY) -> ResponsePlan:
    return em.handle(request("GET", "/duckchat/v1/status", (*headers, ("x-vqd-accept", "1"))))


def challenge_of(plan: ResponsePlan) -> str:
    header = plan.header("x-vqd-hash-1")
    assert header is not None
    return header


def answer(em: Emulator, header: str) -> dict[str, Any]:
    value = em.ddg2026.expected_answer(header)
    assert value is not None
    return value  # type: ignore[return-value]


def proof_for(em: Emulator, header: str, origin: str = ORIGIN, **change: Any) -> str:
    value = answer(em, header)
    for key, new in change.items():
        if key in value:
            value[key] = new
        else:
            value["meta"][key] = new  # type: ignore[index]
    return build_proof(value, origin, STACK, 12.4)


def rewrite(proof: str, **meta: object) -> str:
    """``proof`` with some ``meta`` values replaced after it was built."""
    data: Any = json.loads(base64.b64decode(proof))
    data["meta"].update(meta)
    return base64.b64encode(json.dumps(data).encode()).decode()


def signals(start: int = 1_781_000_000_000) -> str:
    log = {
        "start": start,
        "events": [
            {"name": "startNewChat_free", "delta": 397},
            {"name": "action", "delta": 2147, "trusted": True},
        ],
        "end": 2600,
    }
    return base64.b64encode(json.dumps(log, separators=(",", ":")).encode()).decode()


def body(
    prompt: str = "hi",
    *,
    model: str = "gpt-5.4-mini",
    conversation: str = CONVERSATION,
    messages: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "model": model,
        "metadata": {
            "toolChoice": {
                "NewsSearch": False,
                "VideosSearch": False,
                "LocalSearch": False,
                "WeatherForecast": False,
            }
        },
        "messages": messages or [{"role": "user", "content": prompt}],
        "canUseTools": True,
        "reasoningEffort": "none",
        "canUseApproxLocation": None,
        "canDelegateImageGeneration": None,
        "durableStream": {
            "messageId": "6f1b3c2a-8d4e-4f6a-9b1c-3e5d7f9a1b2c",
            "conversationId": conversation,
            "publicKey": {
                "alg": "RSA-OAEP-256",
                "e": "AQAB",
                "ext": True,
                "key_ops": ["encrypt"],
                "kty": "RSA",
                "n": MODULUS,
                "use": "enc",
            },
        },
    }


def chat_headers(em: Emulator, proof: str, **change: str | None) -> tuple[tuple[str, str], ...]:
    headers = {
        **dict(IDENTITY),
        "accept": "text/event-stream",
        "content-type": "application/json",
        "origin": ORIGIN,
        "referer": ORIGIN + "/",
        "x-fe-version": em.fe_version,
        "x-vqd-hash-1": proof,
        "x-ddg-journey-id": "0123456789abcdef0123456789abcdef",
        "x-fe-signals": signals(),
    }
    for name, value in change.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return tuple(headers.items())


def chat(
    em: Emulator,
    proof: str,
    payload: dict[str, Any] | bytes | None = None,
    /,
    **change: str | None,
) -> ResponsePlan:
    data = payload if isinstance(payload, bytes) else json.dumps(payload or body()).encode()
    return em.handle(request("POST", "/duckchat/v1/chat", chat_headers(em, proof, **change), data))


def turn(em: Emulator, prompt: str = "hi", **kwargs: Any) -> ResponsePlan:
    header = challenge_of(status(em))
    return chat(em, proof_for(em, header), body(prompt, **kwargs))


def texts(plan: ResponsePlan) -> list[str]:
    """The data of each event, in order."""
    return [
        event.removeprefix("data: ")
        for event in plan.body_bytes().decode("utf-8").split("\n\n")
        if event
    ]


def reply_text(plan: ResponsePlan) -> str:
    out = []
    for data in texts(plan):
        if data.startswith("{"):
            event = json.loads(data)
            if event.get("role") == "assistant":
                out.append(event["message"])
    return "".join(out)


# --- the page ----------------------------------------------------------------------------------


def test_the_page_carries_the_version_the_globals_and_the_jsa_frame() -> None:
    em = make()
    plan = em.handle(request("GET", "/", (("host", HOST),)))
    assert plan.status == 200
    assert plan.header("content-type") == "text/html; charset=UTF-8"
    html = plan.body_bytes().decode()
    tag = re.search(r'data-version-tag="([^"]+)"', html)
    sha = re.search(r'data-version-sha="([0-9a-f]{40})"', html)
    assert tag is not None
    assert sha is not None
    assert f"{tag[1]}-{sha[1]}" == em.fe_version
    assert re.fullmatch(r"serp_2026\d{4}_\d{6}_ET-[0-9a-f]{40}", em.fe_version)
    frame = LexborHTMLParser(html).css_first("iframe#jsa")
    assert frame is not None
    assert frame.attributes["sandbox"] == "allow-scripts allow-same-origin"
    inner = LexborHTMLParser(frame.attributes["srcdoc"] or "")
    meta = inner.css_first('meta[http-equiv="Content-Security-Policy"]')
    assert meta is not None
    assert meta.attributes["content"] == "default-src 'none'; script-src 'unsafe-inline';"
    assert "window.__DDG_BE_VERSION__ = " in html
    assert "window.__DDG_FE_CHAT_HASH__ = " in html
    assert "__sansioSolve" in html


def test_the_version_depends_on_the_seed_only() -> None:
    assert make(seed=3).fe_version == make(seed=3).fe_version != make(seed=4).fe_version


def test_the_page_needs_a_host() -> None:
    plan = make().handle(request("GET", "/", ()))
    assert (plan.status, plan.body_bytes()) == (400, BAD_REQUEST)


# --- status --------------------------------------------------------------------------------------


def test_status_issues_a_fresh_script_challenge_without_a_token() -> None:
    em = make()
    first, second = status(em), status(em)
    assert first.status == second.status == 200
    assert first.header("x-vqd-4") is None
    assert first.body_bytes() == b'{"status":"0","secondaryStatus":"0","statusV2":0}'
    script = base64.b64decode(challenge_of(first)).decode("ascii")
    assert script.startswith("(async function(){")
    assert script.endswith("})()")
    assert challenge_of(first) != challenge_of(second)
    assert answer(em, challenge_of(first))["client_hashes"][0] == USER_AGENT  # type: ignore[index]


def test_status_challenges_are_deterministic_per_seed() -> None:
    one, two, other = make(seed=11), make(seed=11), make(seed=12)
    headers = [challenge_of(status(one)) for _ in range(3)]
    assert headers == [challenge_of(status(two)) for _ in range(3)]
    assert headers[0] != challenge_of(status(other))


def test_status_without_accept_issues_nothing() -> None:
    plan = make().handle(request("GET", "/duckchat/v1/status"))
    assert plan.status == 200
    assert plan.header("x-vqd-hash-1") is None


def test_the_challenge_follows_the_browser_identity() -> None:
    em = make()
    firefox = (("host", HOST), ("user-agent", "Mozilla/5.0 (X11; rv:140.0) Firefox/140.0"))
    value = answer(em, challenge_of(status(em, firefox)))
    assert value["client_hashes"][0] == "Mozilla/5.0 (X11; rv:140.0) Firefox/140.0"  # type: ignore[index]


@pytest.mark.parametrize(
    "headers",
    [
        (("host", HOST),),  # no user agent
        (("host", HOST), ("user-agent", USER_AGENT), ("sec-ch-ua", "Chromium 156")),
        (("user-agent", USER_AGENT),),  # no host
        (*IDENTITY, ("origin", "https://duck.ai")),
        (*IDENTITY, ("referer", "http://127.0.0.1:9999/")),
    ],
)
def test_status_refuses_what_it_cannot_issue_for(headers: tuple[tuple[str, str], ...]) -> None:
    plan = status(make(), headers)
    assert (plan.status, plan.body_bytes()) == (400, BAD_REQUEST)
    assert plan.reason


# --- a whole turn ----------------------------------------------------------------------------


def test_a_correct_proof_is_accepted_and_the_reply_chains_the_next_challenge() -> None:
    em = make(reply_tokens=5)
    first = challenge_of(status(em))
    reply = chat(em, proof_for(em, first), body("hello"))
    assert reply.status == 200, reply.reason
    assert reply.header("content-type") == "text/event-stream"
    assert reply.header("x-vqd-4") is None
    assert reply_text(reply) == em.expected_reply("hello")
    assert texts(reply)[-1] == "[DONE]"
    chained = challenge_of(reply)
    assert chained != first
    # Turn 2 answers the chained challenge; no status request in between.
    second = chat(em, proof_for(em, chained), body("again"))
    assert second.status == 200, second.reason
    assert reply_text(second) == em.expected_reply("again")
    assert [x.endpoint for x in em.exchanges] == ["status", "ddg", "ddg"]


def test_a_used_challenge_is_refused() -> None:
    em = make()
    proof = proof_for(em, challenge_of(status(em)))
    assert chat(em, proof).status == 200
    again = chat(em, proof)
    assert (again.status, again.body_bytes()) == (418, CHALLENGE_418)
    assert "already used" in again.reason


def _wrong_server_hash(em: Emulator, header: str) -> str:
    value = answer(em, header)
    value["server_hashes"][1] = base64.b64encode(b"x" * 32).decode()  # type: ignore[index]
    return build_proof(value, ORIGIN, STACK, 3)


def _wrong_client_value(em: Emulator, header: str) -> str:
    value = answer(em, header)
    hashes: list[Any] = value["client_hashes"]  # type: ignore[assignment]
    hashes[1] = hashes[1] + 1 if isinstance(hashes[1], int) else hashes[1] + "0"
    return build_proof(value, ORIGIN, STACK, 3)


def _garbage(em: Emulator, header: str) -> str:
    return base64.b64encode(b"<script>::boom::Error::http://x").decode()


@pytest.mark.parametrize(
    "forge",
    [
        _wrong_server_hash,
        _wrong_client_value,
        lambda em, h: proof_for(em, h, challenge_id="f" * 64 + "abcde"),
        lambda em, h: proof_for(em, h, timestamp="1"),
        lambda em, h: proof_for(em, h, debug="zz"),
        lambda em, h: proof_for(em, h, origin="https://duck.ai"),
        lambda em, h: rewrite(proof_for(em, h), duration="fast"),
        lambda em, h: rewrite(proof_for(em, h), stack=""),
        lambda em, h: proof_for(em, h, signals={"x": 1}),
        _garbage,
        lambda em, h: "",
        lambda em, h: "A" * 70_000,
    ],
    ids=[
        "server-hash",
        "client-value",
        "challenge-id",
        "timestamp",
        "debug",
        "origin",
        "duration",
        "stack",
        "signals",
        "failure-text",
        "empty",
        "huge",
    ],
)
def test_a_wrong_proof_is_refused_and_leaves_the_challenge_usable(
    forge: Callable[[Emulator, str], str],
) -> None:
    em = make()
    header = challenge_of(status(em))
    refused = chat(em, forge(em, header))
    assert (refused.status, refused.body_bytes()) == (418, CHALLENGE_418), refused.reason
    assert chat(em, proof_for(em, header)).status == 200


def test_the_proof_must_come_from_the_identity_it_was_issued_to() -> None:
    em = make()
    proof = proof_for(em, challenge_of(status(em)))
    plan = chat(em, proof, user_agent=USER_AGENT.replace("156", "155"))
    assert plan.status == 418
    assert "user-agent" in plan.reason


def test_a_forgotten_challenge_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "_MAX_CHALLENGES", 2)
    em = make()
    old = challenge_of(status(em))
    proof = proof_for(em, old)
    status(em), status(em)
    assert em.ddg2026.expected_answer(old) is None
    assert len(em.ddg2026.issued) == 2
    assert chat(em, proof).status == 418


@pytest.mark.parametrize("version", ["", "serp_20250401_100419_ET-abab", None])
def test_a_wrong_fe_version_is_refused(version: str | None) -> None:
    em = make()
    plan = chat(em, proof_for(em, challenge_of(status(em))), x_fe_version=version)
    assert (plan.status, plan.body_bytes()) == (418, CHALLENGE_418)
    assert "x-fe-version" in plan.reason


@pytest.mark.parametrize(
    "change",
    [
        {"origin": "https://duck.ai"},
        {"origin": None},
        {"origin": "http://127.0.0.1:8766"},
        {"referer": "https://evil.example/"},
        {"referer": "http://127.0.0.1:87650/"},
        {"host": "localhost:8765"},
        {"host": None},
    ],
)
def test_a_cross_origin_chat_is_refused(change: dict[str, str | None]) -> None:
    em = make()
    plan = chat(em, proof_for(em, challenge_of(status(em))), **change)
    assert (plan.status, plan.body_bytes()) == (400, BAD_REQUEST)


def test_the_default_port_is_not_part_of_the_origin() -> None:
    em = make()
    host = (("host", "emulator.test:80"),)
    header = challenge_of(status(em, (*IDENTITY[1:], *host)))
    proof = proof_for(em, header, origin="http://emulator.test")
    headers = {**dict(chat_headers(em, proof)), "host": "emulator.test:80"}
    headers.update(origin="http://emulator.test", referer="http://emulator.test/")
    data = json.dumps(body()).encode()
    plan = em.handle(request("POST", "/duckchat/v1/chat", tuple(headers.items()), data))
    assert plan.status == 200, plan.reason


# --- models ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", RETIRED_MODELS_2026)
def test_a_retired_model_is_a_bad_request(model: str) -> None:
    plan = turn(make(), model=model)
    assert (plan.status, plan.body_bytes()) == (400, BAD_REQUEST)


@pytest.mark.parametrize("model", MODELS_2026)
def test_every_live_model_answers(model: str) -> None:
    plan = turn(make(), model=model)
    assert plan.status == 200, plan.reason
    assert json.loads(texts(plan)[0])["model"] == model


def test_the_models_endpoint_lists_the_live_models() -> None:
    plan = make().handle(request("GET", "/duckchat/v1/models"))
    assert plan.status == 200
    assert plan.header("content-type") == "application/json"
    models = json.loads(plan.body_bytes())["models"]
    assert [m["id"] for m in models] == list(MODELS_2026)
    keys = {"id", "name", "provider", "entityHasAccess", "supportsImageUpload"}
    keys |= {"supportedTools", "accessTier"}
    for entry in models:
        assert set(entry) == keys
        assert entry["entityHasAccess"] is True
        assert isinstance(entry["supportedTools"], list)


def test_the_models_endpoint_follows_the_configured_list() -> None:
    em = make(models=("gpt-5.6-luna",))
    models = json.loads(em.handle(request("GET", "/duckchat/v1/models")).body_bytes())["models"]
    assert [m["id"] for m in models] == ["gpt-5.6-luna"]
    assert turn(em, model="gpt-5.6-luna").status == 200
    assert turn(em, model="gpt-5.4-mini").status == 400


def test_the_models_endpoint_is_only_in_2026() -> None:
    em = Emulator(EmulatorConfig(dialect="2025-03", seed=1))
    assert em.handle(request("GET", "/duckchat/v1/models")).status == 404


def test_the_emulator_and_the_client_agree_on_the_models() -> None:
    from sansio_chat.providers.ddg import models as core

    assert MODELS_2026 == core.MODELS_2026
    assert set(RETIRED_MODELS_2026) == set(core.RETIRED_MODELS)


# --- the body and the headers --------------------------------------------------------------------


def _drop(*path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return change


def _set(value: Any, *path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


SHORT_MODULUS = base64.urlsafe_b64encode(b"\xc5" * 128).rstrip(b"=").decode()
BODY_BREAKS = {
    "no-metadata": _drop("metadata"),
    "tool-choice-not-bool": _set({"NewsSearch": "no"}, "metadata", "toolChoice"),
    "no-can-use-tools": _drop("canUseTools"),
    "reasoning-high": _set("high", "reasoningEffort"),
    "no-reasoning": _drop("reasoningEffort"),
    "location-not-bool": _set("yes", "canUseApproxLocation"),
    "no-durable-stream": _drop("durableStream"),
    "message-id-not-uuid": _set("42", "durableStream", "messageId"),
    "conversation-upper": _set(CONVERSATION.upper(), "durableStream", "conversationId"),
    "conversation-uuid1": _set(
        "0b8c4f0e-5d0a-1c8e-9f3b-2a6d1e7c9b10", "durableStream", "conversationId"
    ),
    "extra-durable-key": _set(1, "durableStream", "extra"),
    "no-public-key": _drop("durableStream", "publicKey"),
    "kty-ec": _set("EC", "durableStream", "publicKey", "kty"),
    "alg-oaep-1": _set("RSA-OAEP", "durableStream", "publicKey", "alg"),
    "no-exponent": _drop("durableStream", "publicKey", "e"),
    "short-modulus": _set(SHORT_MODULUS, "durableStream", "publicKey", "n"),
    "modulus-not-b64url": _set(MODULUS[:-4] + "+/==", "durableStream", "publicKey", "n"),
    "private-member": _set("AQAB", "durableStream", "publicKey", "d"),
    "use-sig": _set("sig", "durableStream", "publicKey", "use"),
    "no-model": _drop("model"),
    "no-messages": _set([], "messages"),
    "content-number": _set([{"role": "user", "content": 3}], "messages"),
    "message-extra-key": _set([{"role": "user", "content": "x", "name": "a"}], "messages"),
    "part-unknown": _set([{"role": "user", "content": [{"type": "audio"}]}], "messages"),
    "image-not-data-url": _set(
        [
            {
                "role": "user",
                "content": [{"type": "image", "mimeType": "image/png", "image": "http://x/y"}],
            }
        ],
        "messages",
    ),
    "role-tool": _set([{"role": "tool", "content": "x"}], "messages"),
}


@pytest.mark.parametrize("name", BODY_BREAKS)
def test_a_malformed_body_is_a_bad_request(name: str) -> None:
    em = make()
    payload = body()
    BODY_BREAKS[name](payload)
    plan = chat(em, proof_for(em, challenge_of(status(em))), payload)
    assert (plan.status, plan.body_bytes()) == (400, BAD_REQUEST), plan.reason


@pytest.mark.parametrize("raw", [b"", b"{", b"[1]", b'"x"', b"[" * 100_000])
def test_a_body_that_is_not_an_object_is_a_bad_request(raw: bytes) -> None:
    em = make()
    plan = chat(em, proof_for(em, challenge_of(status(em))), raw)
    assert (plan.status, plan.body_bytes()) == (400, BAD_REQUEST)


def _signals(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "change",
    [
        {"x_ddg_journey_id": None},
        {"x_ddg_journey-id": "0123456789ABCDEF0123456789ABCDEF"},
        {"x_ddg_journey_id": "0123456789abcdef"},
        {"x_fe_signals": None},
        {"x_fe_signals": "not base64!"},
        {"x_fe_signals": _signals([1])},
        {"x_fe_signals": _signals({"start": 1, "events": []})},
        {"x_fe_signals": _signals({"start": 1, "events": [{"name": "a"}], "end": 2})},
        {"x_fe_signals": _signals({"start": 1, "events": [{"name": "a", "delta": -1}], "end": 2})},
        {"x_fe_signals": _signals({"start": 1.5, "events": [], "end": 2})},
        {
            "x_fe_signals": _signals(
                {"start": 1, "events": [{"name": "a", "delta": 1, "x": 1}], "end": 2}
            )
        },
        {"x_fe_signals": _signals({"start": 1, "events": [], "end": True})},
    ],
)
def test_malformed_frontend_headers_are_a_bad_request(change: dict[str, str | None]) -> None:
    em = make()
    plan = chat(em, proof_for(em, challenge_of(status(em))), **change)
    assert (plan.status, plan.body_bytes()) == (400, BAD_REQUEST), plan.reason


def test_content_parts_are_accepted_and_the_text_parts_are_the_prompt() -> None:
    em = make()
    parts = [
        {"type": "text", "text": "look "},
        {"type": "image", "mimeType": "image/png", "image": "data:image/png;base64,AAAA"},
        {"type": "file", "mimeType": "text/plain", "filename": "a.txt"},
        {"type": "text", "text": "here"},
    ]
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": parts},
    ]
    plan = turn(em, messages=messages)
    assert plan.status == 200, plan.reason
    assert reply_text(plan) == em.expected_reply("look here")


def test_the_system_role_is_refused_as_before() -> None:
    plan = turn(make(), messages=[{"role": "system", "content": "be brief"}])
    assert (plan.status, plan.body_bytes()) == (418, CHALLENGE_418)


def test_the_input_limit_counts_utf16_units() -> None:
    em = make()
    assert turn(em, "\U0001f600" * 8_000).status == 200
    plan = turn(em, "\U0001f600" * 8_000 + "x")
    assert plan.status == 429
    assert plan.body_bytes() == b'{"action":"error","status":429,"type":"ERR_INPUT_LIMIT"}'


def test_the_conversation_limit_counts_turns_per_conversation_id() -> None:
    em = make(conversation_limit=2)
    assert texts(turn(em))[-1] == "[DONE]"
    assert texts(turn(em))[-1] == "[DONE][LIMIT_CONVERSATION]"
    over = turn(em)
    assert over.status == 429
    assert over.body_bytes() == b'{"action":"error","status":429,"type":"ERR_CONVERSATION_LIMIT"}'
    other = turn(em, conversation="1b8c4f0e-5d0a-4c8e-9f3b-2a6d1e7c9b10")
    assert other.status == 200


def test_the_core_builders_are_accepted() -> None:
    """The client's own proof, body and header builders (providers.ddg) pass the checks."""
    from sansio_chat._conversation import Message
    from sansio_chat.providers.ddg import proof, wire2026

    class core:  # the builders, under the names this test reads them by
        build_proof = staticmethod(proof.build_proof)
        chat_body_2026 = staticmethod(wire2026.chat_body_2026)
        DurableKey = wire2026.DurableKey
        message_id = staticmethod(wire2026.message_id)
        journey_id = staticmethod(wire2026.journey_id)
        fe_signals = staticmethod(wire2026.fe_signals)

    em = make()
    rng = random.Random(5)
    header = challenge_of(status(em))
    proof_header = core.build_proof(answer(em, header), origin=ORIGIN, duration_ms=31.7)
    payload = core.chat_body_2026(
        "claude-haiku-4-5",
        [Message(role="system", content="terse"), Message(role="user", content="hi")],
        key=core.DurableKey(n=MODULUS),
        conversation_id=core.message_id(rng),
        message_id=core.message_id(rng),
    )
    plan = chat(
        em,
        proof_header,
        payload,
        x_ddg_journey_id=core.journey_id(rng),
        x_fe_signals=core.fe_signals(rng, 1_781_000_000_000),
    )
    assert plan.status == 200, plan.reason


# --- markers and fault switches ---------------------------------------------------------------


def faulted(spec: str, **config: Any) -> ResponsePlan:
    em = make(reply_tokens=6, **config)
    em.add_fault(spec)
    plan = turn(em)
    assert plan.status == 200, plan.reason
    assert plan.faults == (spec,)
    assert em.active_faults == ()
    return plan


def test_ping_lines_are_interleaved() -> None:
    events = texts(faulted("ping"))
    assert events.count("[PING]") == 3
    assert events[2] == "[PING]"
    assert events[1] != "[PING]"
    assert texts(faulted("ping:1")).count("[PING]") == 6


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ("title", "[CHAT_TITLE:Emulated chat]"),
        ("title:Trip to Rabat", "[CHAT_TITLE:Trip to Rabat]"),
        ("usage", "[FIXED_COST_WINDOW_USAGE:1]"),
        ("usage:0.42", "[FIXED_COST_WINDOW_USAGE:0.42]"),
        ("warn-limit:3", "[WARN_CONVERSATION_LIMIT:3]"),
    ],
)
def test_markers_after_the_reply_text(spec: str, line: str) -> None:
    events = texts(faulted(spec))
    assert events[-2] == line
    assert json.loads(events[-3])["message"] == ""
    assert events[-1] == "[DONE]"


def test_the_stop_reason_comes_just_before_done() -> None:
    events = texts(faulted("stop-reason:max_tokens"))
    assert events[-2:] == ["[STOP_REASON:max_tokens]", "[DONE]"]


@pytest.mark.parametrize("kind", ["ACCOUNT", "ENTITY", "IMAGE_GENERATIONS", "CONVERSATION"])
def test_limit_markers_end_the_reply(kind: str) -> None:
    em = make(reply_tokens=3)
    em.add_fault(f"limit:{kind.lower()}")
    plan = turn(em)
    assert texts(plan)[-1] == f"[DONE][LIMIT_{kind}]"
    assert reply_text(plan) == em.expected_reply("hi")
    after = turn(em)
    assert after.status == (429 if kind == "CONVERSATION" else 200)


def test_a_partial_image_event_is_streamed() -> None:
    events = texts(faulted("partial-image"))
    image = json.loads(events[1])
    assert image["role"] == "partial-image"
    assert image["image"].startswith("data:image/png;base64,")


def test_an_unknown_marker_is_streamed() -> None:
    assert texts(faulted("unknown-marker"))[1] == "[SOMETHING_NEW:1]"


@pytest.mark.parametrize(
    "spec",
    ["stop-reason", "warn-limit", "warn-limit:x", "limit", "limit:DAY", "ping:0", "title:a]b"],
)
def test_marker_switch_syntax_errors(spec: str) -> None:
    with pytest.raises(FaultSyntaxError):
        parse_fault(spec)


def test_markers_shape_nothing_in_older_dialects() -> None:
    em = Emulator(EmulatorConfig(dialect="2024", seed=1, reply_tokens=3))
    em.add_fault("ping")
    token = em.handle(request("GET", "/duckchat/v1/status", (("x-vqd-accept", "1"),)))
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    vqd = token.header("x-vqd-4") or ""
    plan = em.handle(
        request("POST", "/duckchat/v1/chat", (("x-vqd-4", vqd),), json.dumps(payload).encode())
    )
    assert plan.status == 200
    assert "[PING]" not in texts(plan)


@pytest.mark.parametrize("spec", ["429x2", "418x2", "http:503x2", "400x2"])
def test_refusal_storms_leave_the_challenge_usable(spec: str) -> None:
    em = make()
    proof = proof_for(em, challenge_of(status(em)))
    em.add_fault(spec)
    first, second = chat(em, proof), chat(em, proof)
    assert first.status == second.status != 200
    assert first.status == int(re.sub(r"\D.*", "", spec.removeprefix("http:")))
    assert chat(em, proof).status == 200


def test_body_switches_shape_a_2026_reply() -> None:
    whole = texts(faulted("title"))
    assert all(len(a.data) <= 7 for a in faulted("fragment").body if isinstance(a, Write))
    assert texts(faulted("fragment")) == texts(faulted("fragment:3")) != []
    cut = faulted("cut")
    assert texts(cut) == whole[:1]
    assert not cut.resets
    reset = faulted("reset:40")
    assert len(reset.body_bytes()) == 40
    assert isinstance(reset.body[-1], Reset)
    assert any(isinstance(a, Stall) and a.seconds == 2 for a in faulted("stall:2").body)
    assert faulted("stall:1:head").head_delay == 1
    drip = faulted("drip:0.5:10")
    writes = [a for a in drip.body if isinstance(a, Write)]
    assert all(len(a.data) <= 10 and a.delay == 0.5 for a in writes)
    assert len(json.loads(texts(faulted("oversized:5000"))[1])["message"]) == 5000
    assert texts(faulted("malformed"))[1].endswith(("\n", "}")) is False
    assert b"\xff" in faulted("invalid-utf8").body_bytes()


def test_status_faults_target_status() -> None:
    em = make()
    em.add_fault("429@status")
    refused = status(em)
    assert refused.status == 429
    assert json.loads(refused.body_bytes())["type"] == "ERR_SERVICE_UNAVAILABLE"
    assert status(em).status == 200


def test_a_proof_decodes_as_the_spec_says() -> None:
    em = make()
    header = challenge_of(status(em))
    data = decode_proof(proof_for(em, header))
    assert isinstance(data, dict)
    assert list(data["meta"]) == [  # type: ignore[call-overload]
        "v",
        "challenge_id",
        "timestamp",
        "debug",
        "origin",
        "stack",
        "duration",
    ]
