"""The gateway over a ``2025-03`` service lists that era's DuckDuckGo models and aliases, and
every one it lists for DuckDuckGo is accepted by the chat endpoint (a review found today's ids
listed, which a seed-era session refuses, and the era's own ids accepted but not listed)."""

from __future__ import annotations

import httpx
import pytest
from sansio_chat.adapters.gateway import create_gateway_app
from sansio_chat.adapters.serving import serve_in_thread

from fixtures_emulator import EmulatorHandle
from sansio_chat.providers.ddg.provider import MODEL_ALIASES, MODELS


@pytest.mark.parametrize(
    "emulator_config", [{"dialect": "2025-03", "reply_tokens": 2}], indirect=True
)
def test_every_listed_seed_era_model_is_served(emulator: EmulatorHandle) -> None:
    app = create_gateway_app(
        base_url=emulator.base_url, dialect="2025-03", min_interval=0, timeout=10
    )
    with serve_in_thread(app) as server, httpx.Client(base_url=server.base_url) as http:
        listing = http.get("/v1/models").json()["data"]
        listed = [m["id"] for m in listing if m["owned_by"] == "ddg"]
        assert set(listed) >= {*MODELS, *MODEL_ALIASES, *(f"ddg/{m}" for m in MODELS)}
        assert "gpt-5.4-mini" not in listed
        for model in listed:
            body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
            reply = http.post("/v1/chat/completions", json=body, timeout=20)
            assert reply.status_code == 200, (model, reply.text)
        assert http.get("/v1/models/gpt-4o-mini").json()["owned_by"] == "ddg"
