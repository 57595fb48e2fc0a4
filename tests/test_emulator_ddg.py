"""The DuckDuckGo emulator on the wire: plain httpx (never our client) over 127.0.0.1.

Solutions are computed here, from the challenge text, with Lexbor used directly and hashlib;
the emulator's own expected-answer function is never called.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from fixtures_emulator import (
    SEC_CH_UA,
    USER_AGENT,
    EmulatorHandle,
    independent_fingerprint,
    solution_header,
)
from sansio_chat.emulator import EmulatorConfig, RateLimit

STATUS = "/duckchat/v1/status"
CHAT = "/duckchat/v1/chat"
MODEL = "gpt-4o-mini"
BROWSER = {"user-agent": USER_AGENT, "sec-ch-ua": SEC_CH_UA}

INVALID_VQD = b'{"action":"error","status":400,"type":"ERR_INVALID_VQD"}'
INPUT_LIMIT = b'{"action":"error","status":429,"type":"ERR_INPUT_LIMIT"}'
CONVERSATION_LIMIT = b'{"action":"error","status":429,"type":"ERR_CONVERSATION_LIMIT"}'
RATE_LIMIT = b'{"action":"error","status":429,"type":"ERR_RATE_LIMIT"}'
BAD_REQUEST = b'{"action":"error","status":400,"type":"ERR_BAD_REQUEST"}'
CHALLENGE = re.compile(
    rb'\{"action":"error","status":418,"type":"ERR_CHALLENGE","overrideCode":"[0-9a-f]{4}",'
    rb'"cd":\{"cc":"duckchat","e":0,"er":null,"gk":0,"i":"[1-9]","iadb":1,"o":"[0-9a-f]{8}",'
    rb'"p":"(?:[0-9a-f]{6}-){8}[0-9a-f]{6}","q":"","r":"euw","s":"aichat","sc":1\}\}'
)
SERVICE_UNAVAILABLE = re.compile(
    rb'\{"action":"error","status":429,"type":"ERR_SERVICE_UNAVAILABLE",'
    rb'"r":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}"\}'
)


def fe_version(client: httpx.Client) -> str:
    page = client.get("/", params={"q": "DuckDuckGo AI Chat", "ia": "chat", "duckai": "1"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    be = re.search(r'__DDG_BE_VERSION__="([^"]*)"', page.text)
    fe = re.search(r'__DDG_FE_CHAT_HASH__="([^"]*)"', page.text)
    assert be is not None
    assert fe is not None
    return f"{be.group(1)}-{fe.group(1)}"


def status(client: httpx.Client) -> httpx.Response:
    return client.get(STATUS, headers={"x-vqd-accept": "1", "cache-control": "no-store"})


def body(*messages: tuple[str, str], model: str = MODEL) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": r, "content": c} for r, c in messages]}


def chat(
    client: httpx.Client,
    vqd: str,
    payload: dict[str, Any],
    *,
    answer: str | None = None,
    version: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {**BROWSER, "x-vqd-4": vqd, "accept": "text/event-stream"}
    if answer is not None:
        sent["x-vqd-hash-1"] = answer
    if version is not None:
        sent["x-fe-version"] = version
    sent.update(headers or {})
    return client.post(CHAT, json=payload, headers=sent)


def solve(challenge_b64: str, delta: int = 0, **kwargs: Any) -> str:
    js_text = base64.b64decode(challenge_b64).decode("utf-8")
    return solution_header(challenge_b64, independent_fingerprint(js_text) + delta, **kwargs)


def events(reply: httpx.Response) -> list[str]:
    return [line[6:] for line in reply.text.split("\n") if line.startswith("data: ")]


def text_of(reply: httpx.Response) -> str:
    return "".join(json.loads(e)["message"] for e in events(reply) if e.startswith("{"))


@pytest.fixture
def client(emulator: EmulatorHandle) -> Any:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as session:
        yield session


def open_conversation(client: httpx.Client) -> tuple[str, str, str]:
    """fe-version, token, challenge, as a client gets them."""
    version = fe_version(client)
    reply = status(client)
    return version, reply.headers["x-vqd-4"], reply.headers["x-vqd-hash-1"]


# -- the endpoints ----------------------------------------------------------------------------


def test_page_carries_a_well_formed_fe_version(client: httpx.Client) -> None:
    assert re.fullmatch(r"serp_\d{8}_\d{6}_ET-[0-9a-f]{20}", fe_version(client))


def test_status_needs_only_the_accept_switch(client: httpx.Client) -> None:
    bare = client.get(STATUS)
    assert bare.status_code == 200
    assert "x-vqd-4" not in bare.headers
    first = client.get(STATUS, headers={"X-VQD-Accept": "1"})
    second = client.get(STATUS, headers={"x-vqd-accept": "1"})
    for reply in (first, second):
        assert reply.status_code == 200
        assert re.fullmatch(r"4-\d{38}", reply.headers["x-vqd-4"])
        js_text = base64.b64decode(reply.headers["x-vqd-hash-1"]).decode("utf-8")
        assert "e.innerHTML = '" in js_text
        assert "server_hashes: [" in js_text
        assert re.search(r"return String\((0x[0-9a-f]+|\d+) \+ e\.innerHTML\.length\)", js_text)
    assert first.headers["x-vqd-4"] != second.headers["x-vqd-4"]
    assert first.headers["x-vqd-hash-1"] != second.headers["x-vqd-hash-1"]


def test_a_solved_challenge_is_accepted_and_the_token_rotates(
    client: httpx.Client, emulator: EmulatorHandle
) -> None:
    version, vqd, challenge = open_conversation(client)
    reply = chat(client, vqd, body(("user", "hello")), answer=solve(challenge), version=version)
    assert reply.status_code == 200, reply.content
    assert reply.headers["content-type"] == "text/event-stream"
    assert text_of(reply) == emulator.expected_reply("hello")
    data = events(reply)
    assert data[-1] == "[DONE]"
    assert json.loads(data[-2])["message"] == ""
    first = json.loads(data[0])
    assert first["role"] == "assistant"
    assert first["action"] == "success"
    assert first["model"] == MODEL
    assert first["id"].startswith("compl_")
    new_vqd, new_challenge = reply.headers["x-vqd-4"], reply.headers["x-vqd-hash-1"]
    assert re.fullmatch(r"4-\d{38}", new_vqd)
    assert new_vqd != vqd
    assert new_challenge != challenge
    # The next turn: the new token and the new challenge, no status call.
    history = body(("user", "hello"), ("assistant", text_of(reply)), ("user", "more"))
    again = chat(client, new_vqd, history, answer=solve(new_challenge), version=version)
    assert again.status_code == 200, again.content
    assert text_of(again) == emulator.expected_reply("more")
    assert len(emulator.control.requests_to("status")) == 1


def test_the_answer_is_json_compared_extra_keys_allowed(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    answer = solve(challenge, extra={"meta": {"v": "1", "origin": "https://duckduckgo.com"}})
    reply = chat(client, vqd, body(("user", "hi")), answer=answer, version=version)
    assert reply.status_code == 200, reply.content


@pytest.mark.parametrize(
    "spoil",
    ["off-by-one", "other-user-agent", "raw-challenge", "empty", "garbage", "missing"],
)
def test_a_wrong_answer_is_refused_with_err_challenge(client: httpx.Client, spoil: str) -> None:
    version, vqd, challenge = open_conversation(client)
    answers: dict[str, str | None] = {
        "off-by-one": solve(challenge, 1),
        "other-user-agent": solve(challenge, user_agent="Mozilla/5.0"),
        "raw-challenge": challenge,
        "empty": "",
        "garbage": "abcdefg",
        "missing": None,
    }
    reply = chat(client, vqd, body(("user", "hi")), answer=answers[spoil], version=version)
    assert reply.status_code == 418
    assert reply.headers["content-type"] == "application/json"
    assert CHALLENGE.fullmatch(reply.content), reply.content
    # A refusal does not use the token up: the right answer still works.
    fixed = chat(client, vqd, body(("user", "hi")), answer=solve(challenge), version=version)
    assert fixed.status_code == 200, fixed.content


def test_a_stale_answer_is_refused(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    first = chat(client, vqd, body(("user", "hi")), answer=solve(challenge), version=version)
    assert first.status_code == 200
    # The old challenge's answer with the new token: the token came with a fresh challenge.
    stale = chat(
        client,
        first.headers["x-vqd-4"],
        body(("user", "hi")),
        answer=solve(challenge),
        version=version,
    )
    assert stale.status_code == 418
    assert CHALLENGE.fullmatch(stale.content)


def test_an_answer_for_another_token_is_refused(client: httpx.Client) -> None:
    version, vqd, _ = open_conversation(client)
    other = status(client)
    reply = chat(
        client,
        vqd,
        body(("user", "hi")),
        answer=solve(other.headers["x-vqd-hash-1"]),
        version=version,
    )
    assert reply.status_code == 418


@pytest.mark.parametrize("version", ["", "serp_20250401_100419_ET", "v1-abc", "serp_2025_1_ET-ab"])
def test_a_malformed_fe_version_is_refused(client: httpx.Client, version: str) -> None:
    _, vqd, challenge = open_conversation(client)
    reply = chat(client, vqd, body(("user", "hi")), answer=solve(challenge), version=version)
    assert reply.status_code == 418
    assert CHALLENGE.fullmatch(reply.content)


def test_any_well_formed_fe_version_is_accepted(client: httpx.Client) -> None:
    _, vqd, challenge = open_conversation(client)
    version = "serp_20250710_090702_ET-70eaca6aea2948b0bb60"
    reply = chat(client, vqd, body(("user", "hi")), answer=solve(challenge), version=version)
    assert reply.status_code == 200


@pytest.mark.parametrize("vqd", ["", "4-12345678901234567890123456789012345678", "garbage"])
def test_a_token_never_issued_is_refused(client: httpx.Client, vqd: str) -> None:
    version, _, challenge = open_conversation(client)
    reply = chat(client, vqd, body(("user", "hi")), answer=solve(challenge), version=version)
    assert reply.status_code == 400
    assert reply.headers["content-type"] == "application/json"
    assert reply.content == INVALID_VQD


def test_a_used_token_is_refused(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    answer = solve(challenge)
    assert (
        chat(client, vqd, body(("user", "hi")), answer=answer, version=version).status_code == 200
    )
    again = chat(client, vqd, body(("user", "hi")), answer=answer, version=version)
    assert again.status_code == 400
    assert again.content == INVALID_VQD


def test_the_system_role_is_refused_with_418(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    payload = body(("system", "be brief"), ("user", "hi"))
    reply = chat(client, vqd, payload, answer=solve(challenge), version=version)
    assert reply.status_code == 418
    assert CHALLENGE.fullmatch(reply.content)


@pytest.mark.parametrize(
    "payload",
    [
        body(("user", "hi"), model="gpt-4"),  # an alias: the service takes ids only
        body(("user", "hi"), model="no-such-model"),
        body(("tool", "hi")),
        {"model": MODEL, "messages": []},
        {"model": MODEL},
    ],
)
def test_bad_bodies_are_refused(client: httpx.Client, payload: dict[str, Any]) -> None:
    version, vqd, challenge = open_conversation(client)
    reply = chat(client, vqd, payload, answer=solve(challenge), version=version)
    assert reply.status_code == 400
    assert reply.content == BAD_REQUEST


@pytest.mark.parametrize(
    ("content", "accepted"),
    [
        ("a" * 16_000, True),
        ("a" * 16_001, False),
        ("\U0001f642" * 8_000, True),  # 16,000 UTF-16 code units
        ("\U0001f642" * 8_000 + "a", False),
    ],
)
def test_the_input_limit_counts_utf16_code_units(
    client: httpx.Client, content: str, accepted: bool
) -> None:
    version, vqd, challenge = open_conversation(client)
    half = len(content) // 2
    payload = body(("user", content[:half]), ("assistant", ""), ("user", content[half:]))
    reply = chat(client, vqd, payload, answer=solve(challenge), version=version)
    if accepted:
        assert reply.status_code == 200
    else:
        assert reply.status_code == 429
        assert reply.headers["content-type"] == "application/json"
        assert reply.content == INPUT_LIMIT


@pytest.mark.parametrize("emulator_config", [{"conversation_limit": 2}], indirect=True)
def test_the_conversation_limit(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    first = chat(client, vqd, body(("user", "one")), answer=solve(challenge), version=version)
    assert events(first)[-1] == "[DONE]"
    vqd, challenge = first.headers["x-vqd-4"], first.headers["x-vqd-hash-1"]
    second = chat(client, vqd, body(("user", "two")), answer=solve(challenge), version=version)
    assert second.status_code == 200
    assert second.text.endswith("data: [DONE][LIMIT_CONVERSATION]\n\n")
    vqd, challenge = second.headers["x-vqd-4"], second.headers["x-vqd-hash-1"]
    third = chat(client, vqd, body(("user", "three")), answer=solve(challenge), version=version)
    assert third.status_code == 429
    assert third.content == CONVERSATION_LIMIT
    # A new conversation is fine.
    _, vqd, challenge = open_conversation(client)
    fresh = chat(client, vqd, body(("user", "new")), answer=solve(challenge), version=version)
    assert fresh.status_code == 200


@pytest.mark.parametrize(
    "emulator_config",
    [EmulatorConfig(seed=1234, rate_limit=RateLimit(requests=2, seconds=600))],
    indirect=True,
)
def test_the_per_client_rate_limit(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    spare = status(client)
    assert spare.status_code == 200
    limited = status(client)
    assert limited.status_code == 429
    assert SERVICE_UNAVAILABLE.fullmatch(limited.content), limited.content
    answer = solve(challenge)
    for _ in range(2):
        reply = chat(client, vqd, body(("user", "hi")), answer=answer, version=version)
        assert reply.status_code == 200
        vqd, answer = reply.headers["x-vqd-4"], solve(reply.headers["x-vqd-hash-1"])
    refused = chat(client, vqd, body(("user", "hi")), answer=answer, version=version)
    assert refused.status_code == 429
    assert refused.content == RATE_LIMIT


# -- dialects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("emulator_config", [{"dialect": "2024"}], indirect=True)
def test_dialect_2024_has_no_challenge(client: httpx.Client, emulator: EmulatorHandle) -> None:
    reply = status(client)
    assert "x-vqd-hash-1" not in reply.headers
    vqd = reply.headers["x-vqd-4"]
    first = chat(client, vqd, body(("user", "hi")))
    assert first.status_code == 200, first.content
    assert "x-vqd-hash-1" not in first.headers
    assert text_of(first) == emulator.expected_reply("hi")
    # 2024-era model ids are still taken.
    llama = body(("user", "hi"), model="meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo")
    assert chat(client, first.headers["x-vqd-4"], llama).status_code == 200


@pytest.mark.parametrize("emulator_config", [{"dialect": "2025-03-lenient"}], indirect=True)
def test_dialect_lenient_takes_an_empty_answer(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    reply = chat(client, vqd, body(("user", "hi")), answer="", version=version)
    assert reply.status_code == 200
    wrong = chat(
        client,
        reply.headers["x-vqd-4"],
        body(("user", "hi")),
        answer=solve(challenge, 1),
        version=version,
    )
    assert wrong.status_code == 418
    right = chat(
        client,
        reply.headers["x-vqd-4"],
        body(("user", "hi")),
        answer=solve(reply.headers["x-vqd-hash-1"]),
        version=version,
    )
    assert right.status_code == 200


def test_without_challenge_on_chat_the_next_token_keeps_the_challenge(
    client: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.control.configure(challenge_on_chat=False)
    version, vqd, challenge = open_conversation(client)
    answer = solve(challenge)
    first = chat(client, vqd, body(("user", "hi")), answer=answer, version=version)
    assert first.status_code == 200
    assert "x-vqd-hash-1" not in first.headers
    second = chat(
        client, first.headers["x-vqd-4"], body(("user", "hi")), answer=answer, version=version
    )
    assert second.status_code == 200


def test_header_names_are_case_insensitive(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    headers = {
        "User-Agent": USER_AGENT,
        "SEC-CH-UA": SEC_CH_UA,
        "X-Vqd-4": vqd,
        "X-VQD-HASH-1": solve(challenge),
        "X-Fe-Version": version,
    }
    reply = client.post(CHAT, json=body(("user", "hi")), headers=headers)
    assert reply.status_code == 200


# -- determinism ------------------------------------------------------------------------------


def _transcript(base_url: str) -> list[bytes]:
    out: list[bytes] = []
    with httpx.Client(base_url=base_url) as session:
        version, vqd, challenge = open_conversation(session)
        out += [version.encode(), vqd.encode(), challenge.encode()]
        reply = chat(session, vqd, body(("user", "hi")), answer=solve(challenge), version=version)
        out += [reply.content, reply.headers["x-vqd-4"].encode()]
    return out


def test_the_seed_fixes_tokens_challenges_and_text(emulator_factory: Any) -> None:
    one = _transcript(emulator_factory(seed=7).base_url)
    two = _transcript(emulator_factory(seed=7, backend="trio").base_url)
    other = _transcript(emulator_factory(seed=8).base_url)
    assert one == two
    assert all(a != b for a, b in zip(one, other, strict=True))


@pytest.mark.parametrize(
    "emulator_config", [{"reusable_tokens": True, "conversation_limit": 2}], indirect=True
)
def test_reusable_tokens_allow_stepping_back(client: httpx.Client) -> None:
    version, vqd, challenge = open_conversation(client)
    answer = solve(challenge)
    first = chat(client, vqd, body(("user", "one")), answer=answer, version=version)
    assert first.status_code == 200
    # Step back: the first token again, a different question (a branch).
    branch = chat(client, vqd, body(("user", "other")), answer=answer, version=version)
    assert branch.status_code == 200
    assert events(branch)[-1] == "[DONE]"
    # The limit counts turns along a branch: the second turn is the last one.
    second = chat(
        client,
        branch.headers["x-vqd-4"],
        body(("user", "two")),
        answer=solve(branch.headers["x-vqd-hash-1"]),
        version=version,
    )
    assert events(second)[-1] == "[DONE][LIMIT_CONVERSATION]"
