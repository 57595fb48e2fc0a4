"""With an API key configured, the key is checked before the path, over the real gateway: a
request without the key gets the same 401 on any path, so it cannot tell which paths exist (a
review found an unknown path answered 404 before the key was checked); with the key, an
unknown path is still a 404."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sansio_chat.adapters.gateway import create_gateway_app
from sansio_chat.adapters.serving import serve_in_thread

from fixtures_emulator import EmulatorHandle

KEY = "s3cret-key"
KNOWN = [("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("GET", "/v1/models/gpt-4o")]
UNKNOWN = [
    ("GET", "/"),
    ("GET", "/v1"),
    ("GET", "/admin"),
    ("POST", "/v1/completions"),
    ("GET", "/v1/chat/completions/extra"),
    ("DELETE", "/v2/models"),
    ("OPTIONS", "/health"),
]
NOT_AUTHENTICATED = [{}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {KEY}"}]


@pytest.fixture
def gateway(emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    app = create_gateway_app(base_url=emulator.base_url, api_key=KEY, min_interval=0, timeout=5)
    with serve_in_thread(app) as server, httpx.Client(base_url=server.base_url) as http:
        yield http


def send(http: httpx.Client, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    """One request with a chat body, on a connection of its own: an answer given before the
    body is read may close the connection, which a next request on it would then meet."""
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'
    headers = {**headers, "content-type": "application/json", "connection": "close"}
    return http.request(method, path, content=body, headers=headers)


def answer(response: httpx.Response) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """What a client sees of a response, less the headers that vary by the moment."""
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "server"))
    return response.status_code, tuple(headers), response.content


@pytest.mark.parametrize("headers", NOT_AUTHENTICATED)
@pytest.mark.parametrize(("method", "path"), UNKNOWN)
def test_an_unknown_path_without_the_key_gets_the_known_paths_401(
    gateway: httpx.Client,
    emulator: EmulatorHandle,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    known = {answer(send(gateway, m, p, headers)) for m, p in KNOWN}
    assert len(known) == 1  # every known path answers the same 401
    (expected,) = known
    assert expected[0] == 401
    assert ("www-authenticate", "Bearer") in expected[1]
    assert answer(send(gateway, method, path, headers)) == expected
    assert KEY not in expected[2].decode()
    assert emulator.control.exchanges == []


@pytest.mark.parametrize(("method", "path"), UNKNOWN)
def test_an_unknown_path_with_the_key_is_404(gateway: httpx.Client, method: str, path: str) -> None:
    response = send(gateway, method, path, {"authorization": f"Bearer {KEY}"})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


def test_a_known_path_with_the_key_and_the_wrong_method_is_405(gateway: httpx.Client) -> None:
    response = send(gateway, "DELETE", "/v1/models", {"authorization": f"Bearer {KEY}"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_a_known_path_with_the_key_is_served(gateway: httpx.Client) -> None:
    response = gateway.get("/v1/models", headers={"authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
