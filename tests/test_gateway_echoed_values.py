"""What an error message quotes from the request (a model name, a path) is cut to 100
characters and has its control characters escaped, over the real gateway (a review found the
404 of an unknown model echoing the whole name, up to the 1 MiB body limit, and the 404 of an
unknown path echoing control characters as they came)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from sansio_chat.adapters.gateway import create_gateway_app
from sansio_chat.adapters.serving import serve_in_thread

from fixtures_emulator import EmulatorHandle

USER = [{"role": "user", "content": "hi"}]
FORGED = "gpt\n2026-01-01 INFO gateway: forged line\x1b[31m\x07\x00\x7f\x9b\u202e\u2028end"


@pytest.fixture
def gateway(emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    app = create_gateway_app(base_url=emulator.base_url, min_interval=0, timeout=5)
    with serve_in_thread(app) as server, httpx.Client(base_url=server.base_url) as http:
        yield http


def post_model(gateway: httpx.Client, model: str) -> httpx.Response:
    """A completion request for ``model``, its JSON in ASCII (a lone surrogate as ``\\ud800``)."""
    body = json.dumps({"model": model, "messages": USER})
    return gateway.post(
        "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )


def error_message(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    message = error["message"]
    assert isinstance(message, str)
    return message


def assert_printable(message: str) -> None:
    shown = [c for c in message if not c.isprintable()]
    assert shown == [], message


def test_a_500_kb_model_name_is_cut_in_the_404(
    gateway: httpx.Client, emulator: EmulatorHandle
) -> None:
    model = "m" * 500_000
    response = post_model(gateway, model)
    message = error_message(response, 404, "model_not_found")
    assert "'" + "m" * 100 + "'… (499900 more characters not shown)" in message
    assert "m" * 101 not in message
    assert len(response.content) < 400
    assert emulator.control.exchanges == []


def test_a_100_character_model_name_is_quoted_whole(gateway: httpx.Client) -> None:
    model = "x" * 100
    response = post_model(gateway, model)
    message = error_message(response, 404, "model_not_found")
    assert f"'{model}' does not exist" in message
    assert "not shown" not in message


@pytest.mark.parametrize("model", [FORGED, "\ud800lone surrogate", "\x1b" * 300])
def test_control_characters_of_a_model_name_are_escaped(gateway: httpx.Client, model: str) -> None:
    response = post_model(gateway, model)
    message = error_message(response, 404, "model_not_found")
    assert_printable(message)
    assert len(message) < 600
    if model == FORGED:
        for escape in ("\\n", "\\x1b[31m", "\\x07", "\\x00", "\\x7f", "\\x9b", "\\u202e"):
            assert escape in message
    retrieved = gateway.get("/v1/models/" + quote(model, safe="", errors="surrogatepass"))
    assert_printable(error_message(retrieved, 404, "model_not_found"))


def test_control_characters_of_an_unknown_path_are_escaped(gateway: httpx.Client) -> None:
    response = gateway.get("/v1/nope%0a2026-01-01%20INFO%20forged%1b%5b31m")
    message = error_message(response, 404, "not_found")
    assert_printable(message)
    assert "\\n2026-01-01 INFO forged\\x1b[31m" in message


def test_control_characters_of_a_path_with_the_wrong_method_are_escaped(
    gateway: httpx.Client,
) -> None:
    response = gateway.delete("/v1/models/a%0aforged%1b%5b31m")
    message = error_message(response, 405, "method_not_allowed")
    assert_printable(message)
    assert "\\nforged\\x1b[31m" in message


def test_a_long_unknown_path_is_cut(gateway: httpx.Client) -> None:
    response = gateway.get("/" + "a" * 10_000)
    message = error_message(response, 404, "not_found")
    assert "a" * 101 not in message
    assert "more characters not shown" in message


@pytest.mark.parametrize(
    ("message", "quoted"),
    [
        ({"role": "x" * 500_000, "content": "hi"}, "Role 'xxxx"),
        ({"role": "user", "content": [{"type": "y" * 500_000}]}, "Content part type 'yyyy"),
        ({"role": "user", "content": [{"type": {"deep": [1] * 1000}}]}, "of JSON type object"),
    ],
)
def test_a_refused_role_or_part_type_is_quoted_cut(
    gateway: httpx.Client, message: dict[str, object], quoted: str
) -> None:
    body = {"model": "gpt-5.4-mini", "messages": [message]}
    reply = gateway.post("/v1/chat/completions", json=body)
    assert reply.status_code == 400
    assert len(reply.content) < 1000
    assert quoted in reply.json()["error"]["message"]
