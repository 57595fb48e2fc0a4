"""The gateway served by hypercorn over loopback, in front of the emulator.

Clients are the official ``openai`` SDK (sync and async, streaming and not) and plain httpx
for the error paths. Expected texts come from the emulator's deterministic reply function.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from sansio_chat.adapters.gateway import GatewayApp, SessionUpstream, create_gateway_app
from sansio_chat.adapters.serving import ServerThread, serve_async, serve_in_thread

from fixtures_emulator import EmulatorHandle

PROMPT = "Tell me about sans-IO"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
# Fast settings for tests: no pacing, one quick retry, short timeouts.
FAST: dict[str, Any] = {"min_interval": 0, "max_retries": 1, "retry_base_delay": 0.01, "timeout": 5}


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway:
    url: str
    app: GatewayApp
    emulator: EmulatorHandle

    @property
    def upstream(self) -> SessionUpstream:
        upstream = self.app.upstream
        assert isinstance(upstream, SessionUpstream)
        return upstream


@contextmanager
def running_gateway(emulator: EmulatorHandle, **settings: Any) -> Iterator[Gateway]:
    app = create_gateway_app(base_url=emulator.base_url, **{**FAST, **settings})
    server: ServerThread
    with serve_in_thread(app) as server:
        yield Gateway(url=server.base_url, app=app, emulator=emulator)


@pytest.fixture
def gateway(emulator: EmulatorHandle) -> Iterator[Gateway]:
    with running_gateway(emulator) as running:
        yield running


def sdk(gateway: Gateway, api_key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=api_key, max_retries=0, timeout=10)


def post(gateway: Gateway, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{gateway.url}/v1/chat/completions", json=body, timeout=10, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == code
    return dict(body["error"])


def sse_data(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n\n") if line]


# --- the openai SDK -----------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-4o-mini", "ddg/gpt-4o-mini", "gpt-4", "claude-3-haiku"])
def test_sdk_sync_completion(gateway: Gateway, model: str) -> None:
    with sdk(gateway) as client:
        completion = client.chat.completions.create(model=model, messages=USER)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == gateway.emulator.expected_reply(PROMPT)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model.startswith("ddg/")
    assert completion.usage is None


def test_sdk_sync_stream(emulator_factory: Callable[..., EmulatorHandle]) -> None:
    # Reply pieces 20 ms apart arrive in separate reads; the gateway passes each on as it
    # comes (pieces that arrive in one read go out as one chunk).
    with running_gateway(emulator_factory(delay=0.02)) as gateway, sdk(gateway) as client:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == gateway.emulator.expected_reply(PROMPT)
    assert len(chunks) > 3  # streamed in pieces, not in one delta


def test_sdk_darkai_through_provider_prefix(gateway: Gateway) -> None:
    with sdk(gateway) as client:
        completion = client.chat.completions.create(model="darkai/llama-3-70b", messages=USER)
    assert completion.model == "darkai/llama-3-70b"
    assert completion.choices[0].message.content == gateway.emulator.expected_reply(PROMPT)
    assert len(gateway.emulator.control.requests_to("darkai")) == 1


def test_history_and_system_message_reach_the_service(gateway: Gateway) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": [{"type": "text", "text": "second question"}]},
    ]
    with sdk(gateway) as client:
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert completion.choices[0].message.content == gateway.emulator.expected_reply(
        "second question"
    )
    sent = json.loads(gateway.emulator.control.requests_to("ddg")[-1].request.body)
    assert sent["messages"] == [
        {"role": "user", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second question"},
    ]


def test_sdk_models(gateway: Gateway) -> None:
    with sdk(gateway) as client:
        models = {model.id: model.owned_by for model in client.models.list()}
        one = client.models.retrieve("ddg/gpt-5.4-mini")
    ids = list(models)
    # Today's DuckDuckGo models lead the list (the built-in fallback of dialect 2026).
    assert ids[0] == "ddg/gpt-5.4-mini"
    assert {"darkai/llama-3-70b", "gpt-5.4-mini", "claude", "llama-3-70b"} <= set(ids)
    assert models["llama-3-70b"] == "darkai"
    # The seed eras' DuckDuckGo names (gpt-4o means its gpt-4o-mini) are accepted, not listed.
    assert "gpt-4o" not in models
    assert one.id == "ddg/gpt-5.4-mini"
    assert one.owned_by == "ddg"


def test_sdk_unknown_model_raises_not_found(gateway: Gateway) -> None:
    with sdk(gateway) as client, pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9", messages=USER)
    assert caught.value.code == "model_not_found"


def test_sdk_stream_error_after_text_raises(gateway: Gateway) -> None:
    gateway.emulator.fault("malformed:json")
    received: list[str] = []
    with sdk(gateway) as client:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        with pytest.raises(openai.APIError) as caught:
            received.extend(chunk.choices[0].delta.content or "" for chunk in stream)
    assert "protocol" in caught.value.message
    assert "".join(received)  # the first token got through before the failure
    assert gateway.emulator.expected_reply(PROMPT).startswith("".join(received))


# On trio, the SDK's stream stops reading at [DONE] and leaves its own async generators
# (openai, httpx2, httpcore2) to the garbage collector, which trio reports. Not ours to fix.
@pytest.mark.filterwarnings("ignore:Async generator '(openai|httpx2|httpcore2)[._]:ResourceWarning")
@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
async def test_sdk_async_on_both_backends(emulator: EmulatorHandle, stream: bool) -> None:
    # The gateway runs under hypercorn in this test's own event loop (asyncio or trio).
    app = create_gateway_app(base_url=emulator.base_url, **FAST)
    with anyio.fail_after(20):
        async with serve_async(app) as handle:
            client = openai.AsyncOpenAI(
                base_url=f"{handle.base_url}/v1", api_key="unused", max_retries=0, timeout=10
            )
            async with client:
                if stream:
                    chunks = await client.chat.completions.create(
                        model="gpt-4o-mini",
                        messages=USER,
                        stream=True,
                    )
                    async with chunks:
                        text = "".join([c.choices[0].delta.content or "" async for c in chunks])
                else:
                    completion = await client.chat.completions.create(
                        model="gpt-4o-mini",
                        messages=USER,
                    )
                    text = completion.choices[0].message.content or ""
    assert text == emulator.expected_reply(PROMPT)


# --- auth ---------------------------------------------------------------------------------


def test_api_key_with_sdk(emulator: EmulatorHandle) -> None:
    with running_gateway(emulator, api_key="s3cret") as gateway:
        with sdk(gateway, "wrong") as client, pytest.raises(openai.AuthenticationError):
            client.models.list()
        with sdk(gateway, "s3cret") as client:
            completion = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        missing = httpx.get(f"{gateway.url}/v1/models")
        wrong = post(
            gateway,
            {"model": "gpt-4o-mini", "messages": USER},
            headers={"authorization": "Bearer nope"},
        )
    assert completion.choices[0].message.content == emulator.expected_reply(PROMPT)
    assert_error(missing, 401, "missing_api_key")
    assert_error(wrong, 401, "invalid_api_key")
    assert len(emulator.control.requests_to("ddg")) == 1


# --- upstream failures, over the wire -----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("429x2", 429, "rate_limit_exceeded"),
        ("429:ERR_CONVERSATION_LIMIT", 429, "conversation_limit_exceeded"),
        ("429:ERR_INPUT_LIMIT", 400, "context_length_exceeded"),
        ("http:503", 502, "upstream_http_error"),
        ("malformed:json", 502, "upstream_protocol_error"),
        ("cut", 502, "upstream_protocol_error"),
        ("reset:40", 502, "upstream_connection_error"),
    ],
)
def test_upstream_failure_statuses(gateway: Gateway, fault: str, status: int, code: str) -> None:
    gateway.emulator.fault(fault)
    response = post(gateway, {"model": "gpt-4o-mini", "messages": USER})
    assert_error(response, status, code)
    if status == 429 and code == "rate_limit_exceeded":
        assert int(response.headers["retry-after"]) >= 1
    if code == "conversation_limit_exceeded":
        assert response.headers["x-should-retry"] == "false"


def test_input_limit_is_400_before_any_request(gateway: Gateway) -> None:
    big = [{"role": "user", "content": "x" * 16_001}]
    assert_error(
        post(gateway, {"model": "gpt-4o-mini", "messages": big}), 400, "context_length_exceeded"
    )
    assert gateway.emulator.control.requests_to("ddg") == []


def test_upstream_timeout_is_504(emulator: EmulatorHandle) -> None:
    emulator.fault("stall:5:head")
    with running_gateway(emulator, timeout=0.3) as gateway:
        response = post(gateway, {"model": "gpt-4o-mini", "messages": USER})
    assert_error(response, 504, "upstream_timeout")


def test_upstream_unreachable_is_502(emulator: EmulatorHandle) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app = create_gateway_app(base_url=f"http://127.0.0.1:{closed_port}", **FAST)
    with serve_in_thread(app) as server:
        response = httpx.post(
            f"{server.base_url}/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": USER},
            timeout=10,
        )
    assert_error(response, 502, "upstream_connection_error")


def test_cut_stream_ends_with_error_event(gateway: Gateway) -> None:
    gateway.emulator.fault("cut")
    response = post(gateway, {"model": "gpt-4o-mini", "messages": USER, "stream": True})
    assert response.status_code == 200
    data = sse_data(response.text)
    assert "[DONE]" not in data
    assert json.loads(data[-1])["error"]["code"] == "upstream_protocol_error"
    assert json.loads(data[0])["choices"][0]["delta"] == {"role": "assistant", "content": ""}


def test_conversation_limit_finish_reason_is_length(emulator: EmulatorHandle) -> None:
    emulator.control.configure(conversation_limit=1)
    with running_gateway(emulator) as gateway, sdk(gateway) as client:
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == emulator.expected_reply(PROMPT)


def test_malformed_request_and_routing_errors_over_the_wire(gateway: Gateway) -> None:
    url = f"{gateway.url}/v1/chat/completions"
    headers = {"content-type": "application/json"}
    assert_error(httpx.post(url, content=b"{nope", headers=headers), 400, "invalid_json")
    assert_error(post(gateway, {"model": "gpt-4o-mini"}), 400, "missing_required_parameter")
    assert_error(httpx.get(url), 405, "method_not_allowed")
    assert_error(httpx.get(f"{gateway.url}/v1/nothing"), 404, "not_found")
    too_big = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * (2 << 20)}]}
    assert_error(post(gateway, too_big), 413, "request_too_large")


# --- disconnects and the capacity cap -----------------------------------------------------


def wait_for(condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + 10  # a bound for a hung test, not a timing goal
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.parametrize("stream", [True, False])
def test_client_disconnect_cancels_upstream_turn(emulator: EmulatorHandle, stream: bool) -> None:
    emulator.control.configure(delay=0.05, reply_tokens=400)  # a 20-second reply
    body = {"model": "gpt-4o-mini", "messages": USER, "stream": stream}
    with running_gateway(emulator, max_concurrency=1, queue_timeout=0) as gateway:
        url = f"{gateway.url}/v1/chat/completions"
        if stream:
            with httpx.Client(timeout=10) as client, client.stream("POST", url, json=body) as r:
                assert r.status_code == 200
                # Keep the line iterator referenced: a discarded httpx iterator closes the
                # response, which is the disconnect this test makes on purpose below.
                lines = r.iter_lines()
                tokens = 0
                while tokens < 2:
                    line = next(lines)
                    tokens += '"content":"' in line and '"content":""' not in line
                assert gateway.upstream.open_streams == 1
            # Leaving the block closed the connection in the middle of the body.
        else:
            # Nothing comes back before the whole reply, so talk HTTP over a plain socket
            # and hang up once the service is streaming.
            payload = json.dumps(body).encode()
            head = (
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload)
            )
            where = httpx.URL(gateway.url)
            with socket.create_connection((where.host, where.port or 80), timeout=10) as conn:
                conn.sendall(head + payload)
                wait_for(lambda: emulator.control.requests_to("ddg"))
                assert len(emulator.control.requests_to("ddg")) == 1
                assert gateway.upstream.open_streams == 1
        wait_for(lambda: gateway.upstream.open_streams == 0)
        assert gateway.upstream.open_streams == 0
        # The slot was given back: with one slot and no queue, the next request is served.
        emulator.control.configure(delay=0.0, reply_tokens=12)
        response = post(gateway, {"model": "gpt-4o-mini", "messages": USER})
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"] == emulator.expected_reply(
            PROMPT
        )


def test_full_gateway_answers_429_when_asked_not_to_queue(emulator: EmulatorHandle) -> None:
    emulator.control.configure(delay=0.05, reply_tokens=400)
    body = {"model": "gpt-4o-mini", "messages": USER, "stream": True}
    with running_gateway(emulator, max_concurrency=1, queue_timeout=0) as gateway:
        url = f"{gateway.url}/v1/chat/completions"
        with httpx.Client(timeout=10) as client, client.stream("POST", url, json=body) as first:
            assert first.status_code == 200
            lines = first.iter_lines()  # kept referenced: see the test above
            next(lines)
            busy = client.post(url, json=body)
            assert gateway.upstream.open_streams == 1
        wait_for(lambda: gateway.upstream.open_streams == 0)
    assert_error(busy, 429, "gateway_busy")
    assert busy.headers["retry-after"] == "1"
