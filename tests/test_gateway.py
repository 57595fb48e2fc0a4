"""The gateway's ASGI app, driven directly with a fake upstream: routing, validation, errors."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, MutableMapping, Sequence
from typing import Any, TypeAlias

import anyio
import httpx
import pytest
from sansio_chat.adapters.gateway import GatewayApp, GatewayConfig
from sansio_chat.adapters.gateway._request import ModelCatalog, ModelRoute
from sansio_chat.adapters.gateway._upstream import split_history

from sansio_chat import (
    ConversationLimitError,
    Finished,
    HTTPStatusError,
    InputLimitError,
    LocalProtocolError,
    ModelNotSupportedError,
    RateLimitError,
    RemoteProtocolError,
    SansioChatError,
    StreamInterrupted,
    Timeout,
    TokenEvent,
    TransportError,
)

pytestmark = pytest.mark.anyio

Item: TypeAlias = str | Finished | BaseException


class FakeProvider:
    """A provider with a fixed model list, like the real ones."""

    def __init__(self, name: str, models: Sequence[str], aliases: Mapping[str, str]) -> None:
        self.name = name
        self.models = tuple(models)
        self.model_aliases = dict(aliases)

    def validate_model(self, model: str) -> str:
        if model == "":
            return self.models[0]
        if model in self.models:
            return model
        if model in self.model_aliases:
            return self.model_aliases[model]
        raise ModelNotSupportedError(model, self.models, provider=self.name)


PROVIDERS = (
    FakeProvider("ddg", ["m1", "org/m2"], {"alias1": "m1", "shared": "org/m2"}),
    FakeProvider("dark", ["d1", "shared"], {"dalias": "d1"}),
)


class FakeUpstream:
    """Plays a scripted reply and records what it was asked and whether it was closed."""

    def __init__(self, script: Sequence[Item] = ("Hel", "lo", Finished(reason="stop"))) -> None:
        self.script = list(script)
        self.calls: list[tuple[ModelRoute, list[dict[str, str]]]] = []
        self.closed_streams = 0
        self.aclosed = False
        self.gate: anyio.Event | None = None
        self.started = anyio.Event()

    async def stream(
        self, route: ModelRoute, messages: Sequence[Mapping[str, str]]
    ) -> AsyncGenerator[TokenEvent | Finished, None]:
        self.calls.append((route, [dict(m) for m in messages]))
        self.started.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
            for item in self.script:
                await anyio.lowlevel.checkpoint()
                if isinstance(item, BaseException):
                    raise item
                yield TokenEvent(text=item) if isinstance(item, str) else item
        finally:
            self.closed_streams += 1

    async def aclose(self) -> None:
        self.aclosed = True


def make_app(
    upstream: FakeUpstream | None = None, **config: Any
) -> tuple[GatewayApp, FakeUpstream]:
    fake = upstream or FakeUpstream()
    return GatewayApp(GatewayConfig(**config), ModelCatalog(PROVIDERS), fake), fake


def client_for(app: GatewayApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


def chat_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "ddg/m1", "messages": [{"role": "user", "content": "hi"}]}
    body.update(overrides)
    return body


async def post(app: GatewayApp, body: Any, **kwargs: Any) -> httpx.Response:
    async with client_for(app) as client:
        return await client.post("/v1/chat/completions", json=body, **kwargs)


def assert_error(
    response: httpx.Response, status: int, code: str | None, param: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert set(payload) == {"error"}
    error = payload["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in error["message"]
    assert error["code"] == code
    assert error["param"] == param
    return dict(error)


def sse_data(text: str) -> list[str]:
    """The data fields of an SSE body written one event per ``data:`` line."""
    events = [block for block in text.split("\n\n") if block]
    assert all(block.startswith("data: ") and "\n" not in block for block in events)
    return [block[len("data: ") :] for block in events]


# --- successful completions ---------------------------------------------------------------


async def test_non_streaming_completion() -> None:
    app, fake = make_app()
    response = await post(app, chat_body())
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "ddg/m1"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert "usage" not in body
    assert fake.calls == [
        (ModelRoute(provider="ddg", model="m1"), [{"role": "user", "content": "hi"}])
    ]
    assert fake.closed_streams == 1


async def test_streaming_completion() -> None:
    app, fake = make_app()
    response = await post(app, chat_body(stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    data = sse_data(response.text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "ddg/m1" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    reasons = [c["choices"][0]["finish_reason"] for c in chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "Hel"},
        {"content": "lo"},
        {},
    ]
    assert reasons == [None, None, None, "stop"]
    assert fake.closed_streams == 1


async def test_conversation_limit_finish_is_length() -> None:
    app, _ = make_app(FakeUpstream(["ok", Finished(reason="conversation_limit")]))
    response = await post(app, chat_body())
    assert response.json()["choices"][0]["finish_reason"] == "length"
    response = await post(app, chat_body(stream=True))
    last = json.loads(sse_data(response.text)[-2])
    assert last["choices"][0]["finish_reason"] == "length"


async def test_empty_reply_streams_role_and_finish() -> None:
    app, _ = make_app(FakeUpstream([Finished(reason="stop")]))
    response = await post(app, chat_body(stream=True))
    data = sse_data(response.text)
    assert [json.loads(d)["choices"][0]["delta"] for d in data[:-1]] == [
        {"role": "assistant", "content": ""},
        {},
    ]
    assert data[-1] == "[DONE]"


async def test_unicode_text_passes_unchanged() -> None:
    text = 'Привет, мир 👋 "q" \\ \n next'
    app, _ = make_app(FakeUpstream([text, Finished(reason="stop")]))
    assert (await post(app, chat_body())).json()["choices"][0]["message"]["content"] == text
    response = await post(app, chat_body(stream=True))
    assert json.loads(sse_data(response.text)[1])["choices"][0]["delta"]["content"] == text


@pytest.mark.parametrize(
    ("requested", "route"),
    [
        ("ddg/m1", ("ddg", "m1")),
        ("m1", ("ddg", "m1")),
        ("alias1", ("ddg", "m1")),
        ("ddg/alias1", ("ddg", "m1")),
        ("org/m2", ("ddg", "org/m2")),
        ("ddg/org/m2", ("ddg", "org/m2")),
        ("shared", ("ddg", "org/m2")),
        ("dark/shared", ("dark", "shared")),
        ("d1", ("dark", "d1")),
        ("dalias", ("dark", "d1")),
    ],
)
async def test_model_resolution(requested: str, route: tuple[str, str]) -> None:
    app, fake = make_app()
    response = await post(app, chat_body(model=requested))
    assert response.status_code == 200
    assert response.json()["model"] == "/".join(route)
    assert fake.calls[0][0] == ModelRoute(provider=route[0], model=route[1])


@pytest.mark.parametrize("requested", ["nope", "ddg/d1", "dark/m1", "other/m1", "ddg/nope"])
async def test_unknown_model_is_404(requested: str) -> None:
    app, fake = make_app()
    response = await post(app, chat_body(model=requested))
    assert_error(response, 404, "model_not_found", "model")
    assert requested in response.json()["error"]["message"]
    assert fake.calls == []


async def test_messages_are_normalised() -> None:
    app, fake = make_app()
    messages = [
        {"role": "developer", "content": "be brief"},
        {
            "role": "system",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
        },
        {"role": "user", "content": "q1", "name": "bob"},
        {"role": "assistant", "content": None},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
        {"role": "user", "content": [{"type": "text", "text": "q2"}]},
    ]
    response = await post(app, chat_body(messages=messages, temperature=0.2, max_tokens=5, n=1))
    assert response.status_code == 200
    assert fake.calls[0][1] == [
        {"role": "system", "content": "be brief"},
        {"role": "system", "content": "a\nb"},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": ""},
        {"role": "assistant", "content": "no"},
        {"role": "user", "content": "q2"},
    ]


async def test_each_request_is_a_fresh_conversation() -> None:
    app, fake = make_app()
    first = [{"role": "user", "content": "one"}]
    second = [{"role": "user", "content": "two"}]
    await post(app, chat_body(messages=first))
    await post(app, chat_body(messages=second))
    assert [call[1] for call in fake.calls] == [first, second]


# --- request errors -----------------------------------------------------------------------

BAD_BODIES: list[tuple[Any, str, str | None]] = [
    ({"messages": [{"role": "user", "content": "x"}]}, "missing_required_parameter", "model"),
    (chat_body(model=5), "invalid_type", "model"),
    (chat_body(model=""), "invalid_type", "model"),
    ({"model": "m1"}, "missing_required_parameter", "messages"),
    (chat_body(messages="hi"), "invalid_type", "messages"),
    (chat_body(messages=[]), "empty_array", "messages"),
    (chat_body(messages=["hi"]), "invalid_type", "messages[0]"),
    (chat_body(messages=[{"content": "x"}]), "invalid_type", "messages[0].role"),
    (chat_body(messages=[{"role": "tool", "content": "x"}]), "invalid_value", "messages[0].role"),
    (chat_body(messages=[{"role": "user"}]), "invalid_type", "messages[0].content"),
    (chat_body(messages=[{"role": "user", "content": 3}]), "invalid_type", "messages[0].content"),
    (
        chat_body(messages=[{"role": "user", "content": ["x"]}]),
        "invalid_type",
        "messages[0].content[0]",
    ),
    (
        chat_body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]),
        "unsupported_content",
        "messages[0].content[0].type",
    ),
    (
        chat_body(messages=[{"role": "user", "content": [{"type": "text", "text": 1}]}]),
        "invalid_type",
        "messages[0].content[0].text",
    ),
    (
        chat_body(
            messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
        ),
        "invalid_value",
        "messages[1].role",
    ),
    (chat_body(stream="yes"), "invalid_type", "stream"),
    (chat_body(n=2), "unsupported_value", "n"),
    (chat_body(n=True), "unsupported_value", "n"),
    (chat_body(tools=[{"type": "function"}]), "unsupported_parameter", "tools"),
    ([1, 2], "invalid_json", None),
    ("text", "invalid_json", None),
]


@pytest.mark.parametrize(("body", "code", "param"), BAD_BODIES)
async def test_invalid_request_is_400(body: Any, code: str, param: str | None) -> None:
    app, fake = make_app()
    error = assert_error(await post(app, body), 400, code, param)
    assert error["type"] == "invalid_request_error"
    assert fake.calls == []


@pytest.mark.parametrize(
    "raw", [b"{", b"", b"\xff\xfe", b'{"model": NaN', b"[" * 100_000 + b"]" * 100_000]
)
async def test_malformed_json_is_400(raw: bytes) -> None:
    app, _ = make_app()
    headers = {"content-type": "application/json"}
    response = await post(app, None, content=raw, headers=headers)
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_non_json_content_type_is_415(content_type: str | None) -> None:
    app, fake = make_app()
    headers = {} if content_type is None else {"content-type": content_type}
    async with client_for(app) as client:
        response = await client.post(
            "/v1/chat/completions", content=json.dumps(chat_body()), headers=headers
        )
    assert_error(response, 415, "unsupported_media_type")
    assert fake.calls == []


async def test_json_content_type_with_charset_is_accepted() -> None:
    app, _ = make_app()
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    response = await post(app, None, content=json.dumps(chat_body()), headers=headers)
    assert response.status_code == 200


async def test_body_over_limit_is_413() -> None:
    app, fake = make_app(max_body_bytes=100)
    big = chat_body(messages=[{"role": "user", "content": "x" * 200}])
    assert_error(await post(app, big), 413, "request_too_large")
    assert fake.calls == []


async def test_streamed_body_over_limit_without_length_is_413() -> None:
    app, _ = make_app(max_body_bytes=100)
    sent: list[MutableMapping[str, Any]] = []
    chunks = [b"{" + b" " * 60, b" " * 60 + b"}"]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"content-type", b"application/json")],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_too_large"


async def test_wrong_method_is_405() -> None:
    app, _ = make_app()
    async with client_for(app) as client:
        get = await client.get("/v1/chat/completions")
        delete = await client.delete("/v1/models")
        post_models = await client.post("/v1/models", json={})
    assert_error(get, 405, "method_not_allowed")
    assert get.headers["allow"] == "POST"
    assert_error(delete, 405, "method_not_allowed")
    assert_error(post_models, 405, "method_not_allowed")
    assert post_models.headers["allow"] == "GET"


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/completions", "/v2/chat/completions", "/chat"])
async def test_unknown_path_is_404(path: str) -> None:
    app, _ = make_app()
    async with client_for(app) as client:
        response = await client.get(path)
    assert_error(response, 404, "not_found")


# --- upstream errors ----------------------------------------------------------------------

UPSTREAM_ERRORS: list[tuple[BaseException, int, str, str, dict[str, str]]] = [
    (
        InputLimitError("too long", limit=16000, observed=17000),
        400,
        "invalid_request_error",
        "context_length_exceeded",
        {},
    ),
    (
        RateLimitError("slow down", status=429, retry_after=2.5),
        429,
        "rate_limit_error",
        "rate_limit_exceeded",
        {"retry-after": "3"},
    ),
    (
        RateLimitError("slow down", status=429),
        429,
        "rate_limit_error",
        "rate_limit_exceeded",
        {"retry-after": "5"},
    ),
    (
        ConversationLimitError("enough", status=429),
        429,
        "rate_limit_error",
        "conversation_limit_exceeded",
        {"x-should-retry": "false"},
    ),
    (HTTPStatusError(503, "<html>down</html>"), 502, "upstream_error", "upstream_http_error", {}),
    (RemoteProtocolError("bad json"), 502, "upstream_error", "upstream_protocol_error", {}),
    (
        StreamInterrupted("cut", partial_text=""),
        502,
        "upstream_error",
        "upstream_protocol_error",
        {},
    ),
    (Timeout("read timeout"), 504, "upstream_error", "upstream_timeout", {}),
    (
        TransportError("cannot connect (http://user:secret@proxy)"),
        502,
        "upstream_error",
        "upstream_connection_error",
        {},
    ),
    (LocalProtocolError("bad message"), 400, "invalid_request_error", "invalid_value", {}),
    (SansioChatError("odd"), 502, "upstream_error", "upstream_error", {}),
]


@pytest.mark.parametrize(("exc", "status", "type_", "code", "headers"), UPSTREAM_ERRORS)
@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_error_before_text(
    exc: BaseException, status: int, type_: str, code: str, headers: dict[str, str], stream: bool
) -> None:
    app, fake = make_app(FakeUpstream([exc]))
    response = await post(app, chat_body(stream=stream))
    error = assert_error(response, status, code, response.json()["error"]["param"])
    assert error["type"] == type_
    for name, value in headers.items():
        assert response.headers[name] == value
    assert "secret" not in response.text
    assert fake.closed_streams == 1


async def test_model_not_supported_from_upstream_is_404() -> None:
    app, _ = make_app(FakeUpstream([ModelNotSupportedError("m1", ["m2"])]))
    assert_error(await post(app, chat_body()), 404, "model_not_found", "model")


@pytest.mark.parametrize("stream", [False, True])
async def test_unexpected_failure_is_generic_500(
    stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app, _ = make_app(FakeUpstream(["partial", ZeroDivisionError("secret detail")]))
    with caplog.at_level(logging.ERROR, logger="sansio_chat.gateway"):
        response = await post(app, chat_body(stream=stream))
    assert "secret detail" not in response.text
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)
    if not stream:
        error = assert_error(response, 500, "internal_error")
        assert error["type"] == "server_error"
    else:
        data = sse_data(response.text)
        assert json.loads(data[-1])["error"]["code"] == "internal_error"


async def test_error_after_text_ends_stream_with_error_event() -> None:
    script: list[Item] = ["Hel", "lo", StreamInterrupted("cut", partial_text="Hello")]
    app, fake = make_app(FakeUpstream(script))
    response = await post(app, chat_body(stream=True))
    assert response.status_code == 200
    data = sse_data(response.text)
    assert "[DONE]" not in data
    deltas = [json.loads(d)["choices"][0]["delta"] for d in data[:-1]]
    assert deltas == [{"role": "assistant", "content": ""}, {"content": "Hel"}, {"content": "lo"}]
    error = json.loads(data[-1])
    assert set(error) == {"error"}
    assert error["error"]["code"] == "upstream_protocol_error"
    assert error["error"]["type"] == "upstream_error"
    assert fake.closed_streams == 1


async def test_error_after_text_without_streaming_is_an_error_response() -> None:
    app, _ = make_app(FakeUpstream(["Hel", Timeout("read timeout", partial_text="Hel")]))
    assert_error(await post(app, chat_body()), 504, "upstream_timeout")


# --- models -------------------------------------------------------------------------------


async def test_models_listing() -> None:
    app, _ = make_app()
    async with client_for(app) as client:
        response = await client.get("/v1/models")
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert all(
        m["object"] == "model" and set(m) == {"id", "object", "created", "owned_by"}
        for m in body["data"]
    )
    pairs = [(m["id"], m["owned_by"]) for m in body["data"]]
    assert pairs == [
        ("ddg/m1", "ddg"),
        ("ddg/org/m2", "ddg"),
        ("dark/d1", "dark"),
        ("dark/shared", "dark"),
        ("m1", "ddg"),
        ("org/m2", "ddg"),
        ("alias1", "ddg"),
        ("shared", "ddg"),
        ("d1", "dark"),
        ("dalias", "dark"),
    ]


async def test_provider_and_alias_is_accepted_and_retrieved_but_not_listed() -> None:
    app, fake = make_app()
    async with client_for(app) as client:
        listed = [m["id"] for m in (await client.get("/v1/models")).json()["data"]]
        chat = await client.post("/v1/chat/completions", json=chat_body(model="ddg/shared"))
        retrieved = await client.get("/v1/models/dark/dalias")
    assert "ddg/shared" not in listed
    assert "dark/dalias" not in listed
    assert chat.json()["model"] == "ddg/org/m2"
    assert fake.calls[0][0] == ModelRoute(provider="ddg", model="org/m2")
    assert retrieved.json()["owned_by"] == "dark"


@pytest.mark.parametrize(("model_id", "owner"), [("ddg/org/m2", "ddg"), ("dalias", "dark")])
async def test_model_retrieve(model_id: str, owner: str) -> None:
    app, _ = make_app()
    async with client_for(app) as client:
        response = await client.get(f"/v1/models/{model_id}")
    assert response.json() == {"id": model_id, "object": "model", "created": 0, "owned_by": owner}


async def test_model_retrieve_unknown_is_404() -> None:
    app, _ = make_app()
    async with client_for(app) as client:
        response = await client.get("/v1/models/nope")
    assert_error(response, 404, "model_not_found", "model")


# --- auth ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"authorization": "Bearer wrong"}, "invalid_api_key"),
        ({"authorization": "Bearer s3cre"}, "invalid_api_key"),
        ({"authorization": "Bearer s3cret2"}, "invalid_api_key"),
        ({"authorization": "Bearer"}, "invalid_api_key"),
        ({"authorization": "Basic czNjcmV0"}, "invalid_api_key"),
        ({"authorization": "s3cret"}, "invalid_api_key"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/models"])
async def test_auth_refused(headers: dict[str, str], code: str, path: str) -> None:
    app, fake = make_app(api_key="s3cret")
    async with client_for(app) as client:
        if path == "/v1/models":
            response = await client.get(path, headers=headers)
        else:
            response = await client.post(path, json=chat_body(), headers=headers)
    assert_error(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"
    assert fake.calls == []


@pytest.mark.parametrize("path", ["/", "/v1/nope", "/v1/chat/completions/x"])
async def test_auth_comes_before_the_path(path: str) -> None:
    app, _ = make_app(api_key="s3cret")
    async with client_for(app) as client:
        unknown = await client.get(path)
        known = await client.get("/v1/models")
        with_key = await client.get(path, headers={"authorization": "Bearer s3cret"})
    assert_error(unknown, 401, "missing_api_key")
    assert unknown.content == known.content
    assert_error(with_key, 404, "not_found")


async def test_framing_is_checked_before_the_key() -> None:
    # Kept ahead of the key: the connection must close whoever sent a request that could
    # smuggle another one, and the answer says nothing about paths or keys.
    app, fake = make_app(api_key="s3cret")
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", b"0"), (b"transfer-encoding", b"chunked")]
    scope = {"type": "http", "method": "GET", "path": "/nope", "headers": headers}
    await app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"]["code"] == "invalid_request"
    assert fake.calls == []


@pytest.mark.parametrize("value", ["Bearer s3cret", "bearer s3cret", "BEARER  s3cret"])
async def test_auth_accepted(value: str) -> None:
    app, fake = make_app(api_key="s3cret")
    headers = {"authorization": value}
    async with client_for(app) as client:
        chat = await client.post("/v1/chat/completions", json=chat_body(), headers=headers)
        models = await client.get("/v1/models", headers=headers)
    assert chat.status_code == 200
    assert models.status_code == 200
    assert len(fake.calls) == 1


# --- concurrency, disconnects, lifespan ---------------------------------------------------


async def test_full_gateway_refuses_with_429_when_queue_timeout_is_zero() -> None:
    fake = FakeUpstream()
    gate = fake.gate = anyio.Event()
    app, _ = make_app(fake, max_concurrency=1, queue_timeout=0)
    results: list[httpx.Response] = []

    async def first(client: httpx.AsyncClient) -> None:
        results.append(await client.post("/v1/chat/completions", json=chat_body()))

    with anyio.fail_after(10):
        async with client_for(app) as client, anyio.create_task_group() as tg:
            tg.start_soon(first, client)
            await fake.started.wait()
            busy = await client.post("/v1/chat/completions", json=chat_body())
            gate.set()
    assert_error(busy, 429, "gateway_busy")
    assert busy.headers["retry-after"] == "1"
    assert results[0].status_code == 200
    assert len(fake.calls) == 1


async def test_full_gateway_queues_requests() -> None:
    fake = FakeUpstream()
    gate = fake.gate = anyio.Event()
    app, _ = make_app(fake, max_concurrency=1, queue_timeout=None)
    statuses: list[int] = []

    async def one(client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/chat/completions", json=chat_body())
        statuses.append(response.status_code)

    with anyio.fail_after(10):
        async with client_for(app) as client, anyio.create_task_group() as tg:
            tg.start_soon(one, client)
            await fake.started.wait()
            tg.start_soon(one, client)
            await anyio.sleep(0.05)
            assert len(fake.calls) == 1  # the second request waits for the slot
            gate.set()
    assert statuses == [200, 200]
    assert len(fake.calls) == 2


async def infinite_tokens(closed: list[bool]) -> AsyncIterator[TokenEvent]:
    try:
        while True:
            await anyio.sleep(0)
            yield TokenEvent(text="x")
    finally:
        closed.append(True)


@pytest.mark.parametrize("stream", [False, True])
async def test_client_disconnect_closes_upstream(stream: bool) -> None:
    closed: list[bool] = []
    sent: list[MutableMapping[str, Any]] = []
    disconnect = anyio.Event()

    class Endless(FakeUpstream):
        async def stream(
            self, route: ModelRoute, messages: Sequence[Mapping[str, str]]
        ) -> AsyncGenerator[TokenEvent | Finished, None]:
            async for event in infinite_tokens(closed):
                yield event

    app, _ = make_app(Endless())
    body = json.dumps(chat_body(stream=stream)).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if len(sent) >= 5:
            disconnect.set()

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"content-type", b"application/json")],
    }
    with anyio.fail_after(5):

        async def disconnect_soon() -> None:
            for _ in range(50):
                await anyio.lowlevel.checkpoint()
            disconnect.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(disconnect_soon)
            await app(scope, receive, send)
    assert closed == [True]
    if stream:
        assert sent[0]["status"] == 200
        assert not any(m.get("body", b"").startswith(b"data: [DONE]") for m in sent)
    else:
        assert sent == []


async def test_lifespan_closes_upstream() -> None:
    app, fake = make_app()
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert fake.aclosed


async def test_failure_outside_a_completion_is_generic_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(FakeProvider):
        def validate_model(self, model: str) -> str:
            raise RuntimeError("secret detail")

    app = GatewayApp(GatewayConfig(), ModelCatalog((Broken("ddg", ["m1"], {}),)), FakeUpstream())
    with caplog.at_level(logging.ERROR, logger="sansio_chat.gateway"):
        async with client_for(app) as client:
            listing = await client.get("/v1/models")
            chat = await client.post("/v1/chat/completions", json=chat_body())
    for response in (listing, chat):
        assert assert_error(response, 500, "internal_error")["type"] == "server_error"
        assert "secret detail" not in response.text
    assert len([r for r in caplog.records if r.exc_info]) == 2


async def test_the_log_of_a_failure_escapes_and_cuts_the_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(FakeProvider):
        def validate_model(self, model: str) -> str:
            raise RuntimeError("bug")

    app = GatewayApp(GatewayConfig(), ModelCatalog((Broken("ddg", ["m1"], {}),)), FakeUpstream())
    with caplog.at_level(logging.ERROR, logger="sansio_chat.gateway"):
        async with client_for(app) as client:
            response = await client.get("/v1/models/a%0aforged%1b%5b31m" + "b" * 500)
    assert_error(response, 500, "internal_error")
    (record,) = [r for r in caplog.records if r.exc_info]
    line = record.getMessage()
    assert line.isprintable()
    assert "/v1/models/a\\nforged\\x1b[31m" in line
    assert "b" * 101 not in line


@pytest.mark.parametrize(
    ("roles", "history", "turn"),
    [
        (["user"], 0, 1),
        (["system", "user"], 0, 2),
        (["system", "user", "assistant", "user"], 3, 1),
        (["user", "assistant", "user", "user"], 2, 2),
    ],
)
def test_split_history(roles: list[str], history: int, turn: int) -> None:
    messages = [{"role": role, "content": str(i)} for i, role in enumerate(roles)]
    before, now = split_history(messages)
    assert [m.content for m in before + now] == [str(i) for i in range(len(roles))]
    assert (len(before), len(now)) == (history, turn)
