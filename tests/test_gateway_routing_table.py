"""``GET /v1/models`` and ``POST /v1/chat/completions`` read one routing table: every id the
list shows is served by the provider it names (``owned_by``), in every DuckDuckGo dialect,
over the real gateway in front of the emulator (a review found DarkAI's bare ids listed but
sent to DuckDuckGo, whose ``2026`` check lets any well-formed id through)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sansio_chat.adapters.gateway import GatewayApp, create_gateway_app
from sansio_chat.adapters.serving import serve_in_thread

from fixtures_emulator import EmulatorHandle

USER = [{"role": "user", "content": "hi"}]
# The emulator's endpoints that take a provider's chat request, and DuckDuckGo's status call
# (every DuckDuckGo turn begins with it; a discovering turn learns the era from its reply).
CHAT_ENDPOINTS = ("ddg", "darkai")
WATCHED = (*CHAT_ENDPOINTS, "status")


@contextmanager
def gateway_over(
    emulator_factory: Callable[..., EmulatorHandle], era: str, **settings: Any
) -> Iterator[tuple[EmulatorHandle, GatewayApp, httpx.Client]]:
    """An emulator serving ``era`` and a gateway (``settings``) in front of it."""
    emulator = emulator_factory(dialect=era, reply_tokens=2)
    app = create_gateway_app(
        base_url=emulator.base_url, min_interval=0, max_retries=0, timeout=10, **settings
    )
    with serve_in_thread(app) as server, httpx.Client(base_url=server.base_url) as http:
        yield emulator, app, http


def counts(emulator: EmulatorHandle) -> dict[str, int]:
    return {endpoint: len(emulator.control.requests_to(endpoint)) for endpoint in WATCHED}


def complete(
    emulator: EmulatorHandle, http: httpx.Client, model: str
) -> tuple[httpx.Response, dict[str, int]]:
    """Ask for a completion with ``model``; the reply and how many requests each watched
    endpoint of the emulator received for it."""
    before = counts(emulator)
    reply = http.post("/v1/chat/completions", json={"model": model, "messages": USER}, timeout=20)
    after = counts(emulator)
    return reply, {endpoint: after[endpoint] - before[endpoint] for endpoint in WATCHED}


def listing(http: httpx.Client) -> dict[str, str]:
    """``GET /v1/models`` as id → ``owned_by``."""
    response = http.get("/v1/models")
    assert response.status_code == 200, response.text
    return {entry["id"]: entry["owned_by"] for entry in response.json()["data"]}


def assert_served_by(
    emulator: EmulatorHandle, http: httpx.Client, model: str, provider: str
) -> None:
    """A completion with ``model`` succeeds, and its chat request went to ``provider`` only."""
    reply, sent = complete(emulator, http, model)
    assert reply.status_code == 200, (model, reply.text)
    assert reply.json()["model"].startswith(f"{provider}/"), (model, reply.json()["model"])
    chats = {endpoint: sent[endpoint] for endpoint in CHAT_ENDPOINTS}
    assert chats == {e: int(e == provider) for e in CHAT_ENDPOINTS}, (model, chats)


@pytest.mark.parametrize(
    ("dialect", "era"),
    [("2024", "2024"), ("2025-03", "2025-03"), ("2026", "2026"), (None, "2026")],
    ids=["2024", "2025-03", "2026", "discovered-2026"],
)
def test_every_listed_model_is_served_by_its_owner(
    emulator_factory: Callable[..., EmulatorHandle], dialect: str | None, era: str
) -> None:
    with gateway_over(emulator_factory, era, dialect=dialect) as (emulator, _, http):
        listed = listing(http)  # in 2026 this fetches the live list first
        assert {"llama-3-70b", "gpt-3.5-turbo", "llama-3.1-70b"} <= set(listed)
        for model, owner in listed.items():
            assert_served_by(emulator, http, model, owner)
            retrieved = http.get(f"/v1/models/{model}").json()
            assert retrieved["owned_by"] == owner, model


@pytest.mark.parametrize("dialect", ["2024", "2025-03", "2026"])
def test_every_accepted_name_is_served_as_the_table_says(
    emulator_factory: Callable[..., EmulatorHandle], dialect: str
) -> None:
    # Names accepted without being listed (provider/alias, aliases beside a live list) too.
    with gateway_over(emulator_factory, dialect, dialect=dialect) as (emulator, app, http):
        listing(http)
        entries = app.catalog.table().entries
        assert any(not entry.listed for entry in entries.values())
        for name, entry in entries.items():
            assert_served_by(emulator, http, name, entry.route.provider)


@pytest.mark.parametrize("era", ["2024", "2025-03"])
def test_a_discovering_gateway_sends_listed_models_to_their_owner(
    emulator_factory: Callable[..., EmulatorHandle], era: str
) -> None:
    # Without a dialect the gateway lists today's DuckDuckGo models; a seed-era service
    # refuses most of them once its status reply names the era (404), but a listed id never
    # reaches DarkAI unless DarkAI owns it.
    with gateway_over(emulator_factory, era) as (emulator, _, http):
        for model, owner in listing(http).items():
            reply, sent = complete(emulator, http, model)
            if owner == "darkai":
                assert reply.status_code == 200, (model, reply.text)
                assert (sent["darkai"], sent["ddg"], sent["status"]) == (1, 0, 0), model
                continue
            assert sent["darkai"] == 0, model
            assert sent["status"] == 1, model
            if reply.status_code != 200:
                assert reply.status_code == 404, (model, reply.text)
                assert reply.json()["error"]["code"] == "model_not_found"
                assert sent["ddg"] == 0, model


@pytest.mark.parametrize(
    ("dialect", "providers", "owner"),
    [
        ("2025-03", ("ddg", "darkai"), "ddg"),  # a seed-era DuckDuckGo alias of gpt-4o-mini
        (None, ("ddg", "darkai"), None),  # the same alias, accepted but not listed
        ("2026", ("ddg", "darkai"), "darkai"),  # DuckDuckGo has no gpt-4o in 2026
        ("2025-03", ("darkai", "ddg"), "darkai"),  # the first provider wins
    ],
)
def test_a_name_two_providers_know_goes_to_the_first_that_lists_it(
    emulator_factory: Callable[..., EmulatorHandle],
    dialect: str | None,
    providers: tuple[str, ...],
    owner: str | None,
) -> None:
    era = dialect or "2025-03"
    with gateway_over(emulator_factory, era, dialect=dialect, providers=providers) as (
        emulator,
        _,
        http,
    ):
        listed = listing(http)
        assert listed.get("gpt-4o") == owner
        assert listed["darkai/gpt-4o"] == "darkai"
        assert_served_by(emulator, http, "gpt-4o", owner or "ddg")
        assert_served_by(emulator, http, "darkai/gpt-4o", "darkai")
        assert http.get("/v1/models/gpt-4o").json()["owned_by"] == (owner or "ddg")


@pytest.mark.parametrize("dialect", [None, "2026"])
@pytest.mark.parametrize("model", ["gpt-9", "claude-9", "darkai/gpt-4o-mini", "ddg/gpt 9"])
def test_a_name_no_provider_lists_reaches_no_service(
    emulator_factory: Callable[..., EmulatorHandle], dialect: str | None, model: str
) -> None:
    # Refused by the table: a bare name (or DarkAI's closed list) could mean either provider.
    with gateway_over(emulator_factory, "2026", dialect=dialect) as (emulator, _, http):
        reply, sent = complete(emulator, http, model)
        assert reply.status_code == 404, reply.text
        assert reply.json()["error"]["code"] == "model_not_found"
        assert sent == dict.fromkeys(WATCHED, 0)
        assert emulator.control.exchanges == []
        assert http.get(f"/v1/models/{model}").status_code == 404


@pytest.mark.parametrize("dialect", [None, "2026"])
def test_ddg_and_an_unlisted_id_is_asked_of_todays_service_until_its_list_is_known(
    emulator_factory: Callable[..., EmulatorHandle], dialect: str | None
) -> None:
    # Today's service adds models the built-in list does not know: named with the provider,
    # such an id goes to DuckDuckGo, whose refusal names its models (a 404 here).
    with gateway_over(emulator_factory, "2026", dialect=dialect) as (emulator, _, http):
        reply, sent = complete(emulator, http, "ddg/gpt-9")
        assert reply.status_code == 404, reply.text
        assert "gpt-9" in reply.json()["error"]["message"]
        assert sent["status"] >= 1
        assert sent["darkai"] == 0
        if dialect == "2026":
            listing(http)  # the live list, fetched: now the list is complete
            reply, sent = complete(emulator, http, "ddg/gpt-9")
            assert reply.status_code == 404
            assert sent == dict.fromkeys(WATCHED, 0)


@pytest.mark.parametrize("era", ["2024", "2025-03"])
def test_ddg_and_an_unlisted_id_is_refused_in_a_seed_era(
    emulator_factory: Callable[..., EmulatorHandle], era: str
) -> None:
    with gateway_over(emulator_factory, era, dialect=era) as (emulator, _, http):
        reply, sent = complete(emulator, http, "ddg/gpt-9")
        assert reply.status_code == 404
        assert sent == dict.fromkeys(WATCHED, 0)


@pytest.mark.parametrize("dialect", [None, "2026"])
def test_a_provider_with_no_model_name_is_not_a_model(
    emulator_factory: Callable[..., EmulatorHandle], dialect: str | None
) -> None:
    with gateway_over(emulator_factory, "2026", dialect=dialect) as (emulator, _, http):
        for name in ("ddg/", "darkai/"):
            reply, sent = complete(emulator, http, name)
            assert reply.status_code == 404, (name, reply.text)
            assert sent == dict.fromkeys(WATCHED, 0)


def test_a_live_id_the_client_would_refuse_is_not_listed(
    emulator_factory: Callable[..., EmulatorHandle],
) -> None:
    # gpt-5-mini is one of the ids the service retired, which sessions refuse: should the
    # live list still hold it, the gateway neither lists it nor routes it.
    emulator = emulator_factory(
        dialect="2026", reply_tokens=2, models=("gpt-5.4-mini", "gpt-5-mini")
    )
    app = create_gateway_app(
        base_url=emulator.base_url, dialect="2026", min_interval=0, max_retries=0, timeout=10
    )
    with serve_in_thread(app) as server, httpx.Client(base_url=server.base_url) as http:
        listed = listing(http)
        assert "gpt-5.4-mini" in listed
        assert "gpt-5-mini" not in listed
        assert "ddg/gpt-5-mini" not in listed
        for name in ("gpt-5-mini", "ddg/gpt-5-mini"):
            reply, _ = complete(emulator, http, name)
            assert reply.status_code == 404
            assert http.get(f"/v1/models/{name}").status_code == 404
        assert_served_by(emulator, http, "gpt-5.4-mini", "ddg")
