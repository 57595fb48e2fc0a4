"""The servers' access line: hostile request input cannot forge a line, send terminal escapes
or make the logger fail, and a stream that failed after its head is logged as a failure."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from sansio_chat.adapters.cli._access_log import AccessLog, configure


def _request(path: str, body: bytes, reply: list[dict[str, Any]]) -> list[logging.LogRecord]:
    """Run one request through ``AccessLog`` around an app that sends ``reply``."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("sansio_chat.access")
    kept = logger.handlers[:], logger.level, logger.propagate
    configure("debug")
    logger.handlers[:] = [Keep()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        for message in reply:
            await send(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": path, "headers": []}
    try:
        anyio.run(AccessLog(app, "gateway"), scope, receive, send)
    finally:
        logger.handlers[:], logger.level, logger.propagate = kept
    return records


JSON_REPLY: list[dict[str, Any]] = [
    {"type": "http.response.start", "status": 404, "headers": []},
    {"type": "http.response.body", "body": b"{}"},
]


def test_a_path_cannot_forge_a_line_or_send_escapes() -> None:
    (record,) = _request("/v1/models/a\ngateway: FAKE\x1b[31m", b"", JSON_REPLY)
    line = record.getMessage()
    assert "\n" not in line
    assert "\x1b" not in line
    assert "/v1/models/a\\ngateway: FAKE\\x1b[31m 404" in line


def test_a_long_path_is_cut_short() -> None:
    (record,) = _request("/" + "a" * 10_000, b"", JSON_REPLY)
    assert "/" + "a" * 199 + "… 404" in record.getMessage()


def test_a_deeply_nested_body_is_logged_without_a_model() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    (record,) = _request("/v1/chat/completions", body, JSON_REPLY)
    assert "model=- " in record.getMessage()


@pytest.mark.parametrize("failed", [False, True])
def test_a_stream_that_failed_after_its_head_is_a_warning(failed: bool) -> None:
    end = (
        b'data: {"error": {"code": "upstream_protocol_error"}}\n\n'
        if failed
        else (b"data: [DONE]\n\n")
    )
    reply: list[dict[str, Any]] = [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        },
        {"type": "http.response.body", "body": b'data: {"x": 1}\n\n', "more_body": True},
        {"type": "http.response.body", "body": end},
    ]
    (record,) = _request("/v1/chat/completions", b'{"model": "m"}', reply)
    line = record.getMessage()
    assert record.levelno == (logging.WARNING if failed else logging.INFO)
    assert line.endswith("model=m tokens=1" + (" error=stream" if failed else ""))
