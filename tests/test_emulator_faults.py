"""Every fault switch, observed on the wire (raw sockets keep the server's write framing)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from fixtures_emulator import EmulatorHandle, RawResponse, raw_request
from sansio_chat.emulator import FaultSyntaxError

DARKAI = "/chat"
STATUS = "/duckchat/v1/status"
JSON = {"content-type": "application/json"}
# Resets, stalls and disconnects depend on the server loop: run everything on both.
pytestmark = pytest.mark.parametrize("emulator_backend", ["asyncio", "trio"], indirect=True)

QUERY = json.dumps({"query": "tell me", "model": "llama-3-70b"}).encode()


def darkai(emulator: EmulatorHandle) -> RawResponse:
    return raw_request(emulator.base_url, "POST", DARKAI, JSON, QUERY)


def data_lines(payload: bytes) -> list[bytes]:
    return [line[6:] for line in payload.split(b"\n") if line.startswith(b"data: ")]


def ddg_2024_chat(emulator: EmulatorHandle, prompt: str = "hi") -> RawResponse:
    """A DuckDuckGo chat in the 2024 dialect (a token, no challenge)."""
    emulator.control.configure(dialect="2024")
    token = raw_request(emulator.base_url, "GET", STATUS, {"x-vqd-accept": "1"}).header("x-vqd-4")
    assert token is not None
    payload = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    )
    return raw_request(
        emulator.base_url,
        "POST",
        "/duckchat/v1/chat",
        {**JSON, "x-vqd-4": token},
        payload.encode(),
    )


def test_by_default_each_ddg_event_is_one_write(emulator: EmulatorHandle) -> None:
    reply = ddg_2024_chat(emulator)
    assert reply.complete
    assert all(chunk.startswith(b"data: ") and chunk.endswith(b"\n\n") for chunk in reply.chunks)
    assert all(chunk.count(b"\n\n") == 1 for chunk in reply.chunks)
    assert reply.chunks[-1] == b"data: [DONE]\n\n"


def test_darkai_splits_json_across_writes_by_default(emulator: EmulatorHandle) -> None:
    reply = darkai(emulator)
    assert reply.complete
    assert reply.header("content-type") == "text/event-stream"
    # Every write but the last ends inside an event's JSON.
    assert all(not chunk.endswith(b"\n\n") for chunk in reply.chunks[:-1])
    events = [json.loads(line) for line in data_lines(reply.body)]
    assert events[-1] == {"event": "stream-end", "data": {}}
    text = "".join(e["data"]["text"] for e in events if e["event"] == "text-chunk")
    assert text == emulator.expected_reply("tell me")


def test_fragment_splits_inside_lines_and_characters(emulator: EmulatorHandle) -> None:
    emulator.fault("fragment:5")
    reply = ddg_2024_chat(emulator, "unicode please")
    assert reply.complete
    assert max(len(chunk) for chunk in reply.chunks) <= 5
    undecodable = 0
    for chunk in reply.chunks:
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            undecodable += 1
    assert undecodable > 0  # some write ends or starts inside a multi-byte character
    assert data_lines(reply.body)[-1] == b"[DONE]"
    # Used up after one reply.
    assert all(c.endswith(b"\n\n") for c in ddg_2024_chat(emulator).chunks)


def test_fragment_applies_to_darkai_too(emulator: EmulatorHandle) -> None:
    normal = darkai(emulator).body
    emulator.fault("fragment")
    fragmented = darkai(emulator)
    assert fragmented.body == normal
    assert max(len(chunk) for chunk in fragmented.chunks) <= 7


@pytest.mark.parametrize(
    ("spec", "status", "pattern"),
    [
        ("429", 429, rb'\{"action":"error","status":429,"type":"ERR_RATE_LIMIT"\}'),
        (
            "429:ERR_SERVICE_UNAVAILABLE",
            429,
            rb'\{"action":"error","status":429,"type":"ERR_SERVICE_UNAVAILABLE","r":"[-0-9a-f]{36}"\}',
        ),
        ("418", 418, rb'\{"action":"error","status":418,"type":"ERR_CHALLENGE",.*\}'),
        (
            "418:ERR_BN_LIMIT",
            418,
            rb'\{"action":"error","status":418,"type":"ERR_BN_LIMIT","overrideCode":"[0-9a-f]{4}"\}',
        ),
        ("400", 400, rb'\{"action":"error","status":400,"type":"ERR_INVALID_VQD"\}'),
        ("invalid-vqd", 400, rb'\{"action":"error","status":400,"type":"ERR_INVALID_VQD"\}'),
        ("http:503", 503, rb"503 error"),
    ],
)
def test_refusal_storms(emulator: EmulatorHandle, spec: str, status: int, pattern: bytes) -> None:
    emulator.fault(f"{spec}x3")
    for _ in range(3):
        reply = darkai(emulator)
        assert reply.status == status
        assert re.fullmatch(pattern, reply.body), reply.body
    assert darkai(emulator).status == 200


def test_a_storm_on_status(emulator: EmulatorHandle) -> None:
    emulator.fault("429@status")
    refused = raw_request(emulator.base_url, "GET", STATUS, {"x-vqd-accept": "1"})
    assert refused.status == 429
    assert b'"type":"ERR_SERVICE_UNAVAILABLE"' in refused.body
    assert darkai(emulator).status == 200
    assert raw_request(emulator.base_url, "GET", STATUS, {"x-vqd-accept": "1"}).status == 200


def test_targets_keep_services_apart(emulator: EmulatorHandle) -> None:
    emulator.fault("429x*@ddg")
    assert darkai(emulator).status == 200
    assert ddg_2024_chat(emulator).status == 429
    assert ddg_2024_chat(emulator).status == 429
    assert emulator.control.active_faults == ("429x*@ddg",)
    emulator.control.clear_faults()
    assert ddg_2024_chat(emulator).status == 200


def test_a_storm_needs_nothing_from_the_client_and_uses_no_token(
    emulator: EmulatorHandle,
) -> None:
    emulator.fault("418")
    assert ddg_2024_chat(emulator).status == 418
    assert ddg_2024_chat(emulator).status == 200


def test_cut_ends_the_body_properly_after_k_bytes(emulator: EmulatorHandle) -> None:
    full = darkai(emulator).body
    emulator.fault("cut:120")
    reply = darkai(emulator)
    assert reply.complete
    assert reply.body == full[:120]
    assert darkai(emulator).body == full


def test_cut_defaults_to_after_the_first_event(emulator: EmulatorHandle) -> None:
    emulator.fault("cut")
    reply = ddg_2024_chat(emulator)
    assert reply.complete
    assert len(reply.chunks) == 1
    assert b"[DONE]" not in reply.body


def test_reset_drops_the_connection_mid_body(emulator: EmulatorHandle) -> None:
    full = darkai(emulator).body
    emulator.fault("reset:200")
    reply = darkai(emulator)
    assert reply.status == 200
    assert not reply.complete
    assert reply.body == full[:200]
    emulator.fault("reset")
    with (
        httpx.Client(base_url=emulator.base_url) as client,
        pytest.raises(httpx.RemoteProtocolError, match="incomplete"),
    ):
        client.post(DARKAI, content=QUERY, headers=JSON)


def test_malformed_json(emulator: EmulatorHandle) -> None:
    emulator.fault("malformed")
    lines = data_lines(ddg_2024_chat(emulator).body)
    broken = []
    for line in lines:
        if line.startswith(b"{"):
            try:
                json.loads(line)
            except ValueError:
                broken.append(line)
    assert len(broken) == 1
    assert lines[-1] == b"[DONE]"


def test_malformed_missing_delimiter(emulator: EmulatorHandle) -> None:
    emulator.fault("malformed:nodelim")
    body = ddg_2024_chat(emulator).body
    first, _, _ = body.partition(b"\n\n")
    assert first.count(b"data: ") == 2  # two data lines in one event: invalid JSON together


def test_invalid_utf8(emulator: EmulatorHandle) -> None:
    assert darkai(emulator).body.decode("utf-8")
    emulator.fault("invalid-utf8")
    body = darkai(emulator).body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert data_lines(body)[-1] == b'{"event":"stream-end","data":{}}'


def test_oversized_event(emulator: EmulatorHandle) -> None:
    emulator.fault("oversized:200000")
    lines = data_lines(ddg_2024_chat(emulator).body)
    sizes = sorted(len(line) for line in lines)
    assert sizes[-1] > 200_000
    assert sizes[-2] < 1_000


def test_drip_rewrites_the_body_in_small_writes(emulator: EmulatorHandle) -> None:
    full = darkai(emulator).body
    emulator.fault("drip:0:3")
    reply = darkai(emulator)
    assert reply.body == full
    assert {len(chunk) for chunk in reply.chunks[:-1]} == {3}


def test_stall_holds_the_body(emulator: EmulatorHandle) -> None:
    emulator.fault("stall:30")
    timeout = httpx.Timeout(5, read=0.3)
    with (
        httpx.Client(base_url=emulator.base_url, timeout=timeout) as client,
        client.stream("POST", DARKAI, content=QUERY, headers=JSON) as reply,
    ):
        assert reply.status_code == 200
        stream = reply.iter_raw()
        assert next(stream)
        with pytest.raises(httpx.ReadTimeout):
            for _ in stream:
                pass
    # The stalled reply was abandoned when the client left; the server answers at once.
    assert darkai(emulator).complete


def test_stall_before_the_head(emulator: EmulatorHandle) -> None:
    emulator.fault("stall:30:head")
    with (
        httpx.Client(base_url=emulator.base_url, timeout=httpx.Timeout(5, read=0.3)) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post(DARKAI, content=QUERY, headers=JSON)


def test_counts_and_forever(emulator: EmulatorHandle) -> None:
    full = darkai(emulator).body
    emulator.fault("cut:10x2")
    assert [darkai(emulator).body for _ in range(3)] == [full[:10], full[:10], full]
    emulator.fault("cut:10x*")
    assert [darkai(emulator).body for _ in range(3)] == [full[:10]] * 3
    emulator.control.clear_faults()
    assert darkai(emulator).body == full


def test_body_faults_wait_for_a_reply_they_can_shape(emulator: EmulatorHandle) -> None:
    emulator.fault("429", "cut:10")
    assert darkai(emulator).status == 429
    assert len(darkai(emulator).body) == 10


def test_the_log_names_the_faults(emulator: EmulatorHandle) -> None:
    emulator.fault("cut:10")
    darkai(emulator)
    (exchange,) = emulator.control.requests_to("darkai")
    assert exchange.faults == ("cut:10",)
    assert exchange.status == 200


@pytest.mark.parametrize(
    "spec", ["", "nonsense", "cut:abc", "429x0", "stall:-1", "http:200", "418:lowercase", "x@y"]
)
def test_bad_switches_are_refused(emulator: EmulatorHandle, spec: str) -> None:
    with pytest.raises(FaultSyntaxError):
        emulator.fault(spec)
