"""The emulator in dialect ``2026`` over the real ASGI app and a socket (httpx), and its CLI."""

from __future__ import annotations

import argparse
import json

import httpx
import pytest
from sansio_chat.adapters.cli.emulator import add_emulator_arguments, config_from_args
from sansio_chat.adapters.emulator import serve_emulator

from sansio_chat.emulator import EmulatorConfig
from test_challenge2026_generator import STACK, build_proof
from test_emulator_2026 import IDENTITY, body, signals

BROWSER = {k: v for k, v in IDENTITY if k != "host"}


def test_a_chained_conversation_over_http() -> None:
    with (
        serve_emulator(EmulatorConfig(dialect="2026", seed=3, reply_tokens=4)) as server,
        httpx.Client(base_url=server.base_url, headers=BROWSER, timeout=10) as client,
    ):
        origin = server.base_url
        page = client.get("/", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert f'data-version-sha="{server.control.fe_version.rsplit("-", 1)[1]}"' in page.text
        challenge = client.get("/duckchat/v1/status", headers={"x-vqd-accept": "1"}).headers[
            "x-vqd-hash-1"
        ]
        for prompt in ("one", "two", "three"):
            value = server.control.challenge_answer(challenge)
            assert value is not None
            headers = {
                "origin": origin,
                "referer": origin + "/",
                "x-fe-version": server.control.fe_version,
                "x-vqd-hash-1": build_proof(value, origin, STACK, 20),
                "x-ddg-journey-id": "ab" * 16,
                "x-fe-signals": signals(),
            }
            reply = client.post("/duckchat/v1/chat", json=body(prompt), headers=headers)
            assert reply.status_code == 200
            assert reply_text_of(reply.text) == server.control.expected_reply(prompt)
            again = client.post("/duckchat/v1/chat", json=body(prompt), headers=headers)
            assert again.status_code == 418
            assert again.json() == {"action": "error", "status": 418, "type": "ERR_CHALLENGE"}
            challenge = reply.headers["x-vqd-hash-1"]
        assert len(server.control.requests_to("status")) == 1
        models = client.get("/duckchat/v1/models").json()["models"]
        assert [m["id"] for m in models][:2] == ["gpt-5.4-mini", "gpt-5.4-nano"]
        cross = client.post("/duckchat/v1/chat", json=body(), headers={"origin": "https://duck.ai"})
        assert (cross.status_code, cross.json()["type"]) == (400, "ERR_BAD_REQUEST")


def reply_text_of(stream: str) -> str:
    events = [e.removeprefix("data: ") for e in stream.split("\n\n") if e]
    return "".join(
        json.loads(e)["message"]
        for e in events
        if e.startswith("{") and json.loads(e)["role"] == "assistant"
    )


@pytest.mark.parametrize("dialect", ["2024", "2025-03", "2025-03-lenient", "2026"])
def test_the_cli_takes_every_dialect(dialect: str) -> None:
    parser = argparse.ArgumentParser()
    add_emulator_arguments(parser)
    args = parser.parse_args(["--dialect", dialect, "--fault", "limit:ACCOUNT", "--fault", "ping"])
    config = config_from_args(args)
    assert config.dialect == dialect
    assert config.faults == ("limit:ACCOUNT", "ping")
    assert parser.parse_args([]).dialect == "2025-03"
