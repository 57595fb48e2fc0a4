"""``ask --json``: every event the library emits prints as a documented object with its
fields (the 2026 dialect's markers included), and never a secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sansio_chat.adapters.cli import main
from sansio_chat.adapters.cli._json_events import event_json

import sansio_chat
from fixtures_emulator import EmulatorHandle
from sansio_chat import (
    Event,
    Finished,
    ImageEvent,
    RateLimited,
    TitleEvent,
    TokenEvent,
    UsageEvent,
    VqdUpdate,
    WarningEvent,
)

Factory = Callable[..., EmulatorHandle]

# The emulator's partial-image event (see docs/emulator.md), written out here on purpose.
PARTIAL_IMAGE = {
    "role": "partial-image",
    "partialImageIndex": 0,
    "image": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
    "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
}


def _ask_json(emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]) -> list[Any]:
    argv = ["ask", "hi", "--json", "--no-save", "--min-interval", "0"]
    assert main([*argv, "--base-url", emulator.base_url]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_marker_events_print_their_fields(
    emulator_factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = emulator_factory(dialect="2026", reply_tokens=3)
    emulator.fault("warn-limit:3", "usage:5", "partial-image", "title:Hello there")
    lines = _ask_json(emulator, capsys)
    tokens = [line for line in lines if line["type"] == "token"]
    assert "".join(line["text"] for line in tokens) == emulator.expected_reply("hi")
    others = [line for line in lines if line["type"] != "token"]
    image = others[2]
    assert json.loads(image["data"]) == PARTIAL_IMAGE
    assert others == [
        {"type": "start", "provider": "ddg", "model": None},
        {"type": "vqd_update"},
        {"type": "image", "data": image["data"]},
        {"type": "title", "title": "Hello there"},
        {"type": "usage", "value": "5"},
        {"type": "warning", "kind": "conversation_limit", "remaining": 3},
        {"type": "finished", "reason": "stop", "provider": "ddg", "model": "gpt-5.4-mini"},
    ]


def test_finished_names_the_model_s_stop_reason(
    emulator_factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = emulator_factory(dialect="2026", reply_tokens=2)
    emulator.fault("stop-reason:length")
    lines = _ask_json(emulator, capsys)
    assert lines[-1] == {
        "type": "finished",
        "reason": "stop",
        "stop_reason": "length",
        "provider": "ddg",
        "model": "gpt-5.4-mini",
    }


# One instance of every event class the library defines, with the object it prints.
SHAPES: dict[type[Event], tuple[Event, dict[str, Any]]] = {
    TokenEvent: (TokenEvent(text="hi"), {"type": "token", "text": "hi"}),
    RateLimited: (
        RateLimited(delay=1.5, attempt=2, status=429, reason="ERR_RATE_LIMIT"),
        {
            "type": "rate_limited",
            "delay": 1.5,
            "attempt": 2,
            "status": 429,
            "reason": "ERR_RATE_LIMIT",
        },
    ),
    VqdUpdate: (VqdUpdate(vqd="secret-vqd", vqd_hash_1="secret-hash"), {"type": "vqd_update"}),
    TitleEvent: (TitleEvent(title="T"), {"type": "title", "title": "T"}),
    UsageEvent: (UsageEvent(value="0.5"), {"type": "usage", "value": "0.5"}),
    WarningEvent: (
        WarningEvent(kind="conversation_limit"),
        {"type": "warning", "kind": "conversation_limit", "remaining": None},
    ),
    ImageEvent: (
        ImageEvent(data='{"role":"partial-image"}'),
        {"type": "image", "data": '{"role":"partial-image"}'},
    ),
    Finished: (Finished(reason="entity_limit"), {"type": "finished", "reason": "entity_limit"}),
}


def test_every_library_event_has_a_documented_shape() -> None:
    public = (getattr(sansio_chat, name) for name in sansio_chat.__all__)
    library_events = {c for c in public if isinstance(c, type) and issubclass(c, Event)} - {Event}
    assert set(SHAPES) == library_events  # a new event class needs a shape here
    docs = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    for event, expected in SHAPES.values():
        assert event_json(event) == expected
        assert f"| `{expected['type']}` |" in docs  # the shape is in the --json table


@dataclass(frozen=True, slots=True, kw_only=True)
class QuotaNoticeEvent(Event):
    """An event class the command does not know (one the library might add)."""

    remaining: int
    message: str
    vqd: str
    vqd_hash_1: str
    session_token: str
    parts: tuple[str, ...] = ()


def test_an_unknown_event_prints_its_plain_fields_but_no_secret() -> None:
    event = QuotaNoticeEvent(
        remaining=2, message="almost", vqd="S1", vqd_hash_1="S2", session_token="S3", parts=("x",)
    )
    line = event_json(event)
    assert line == {"type": "quota_notice", "remaining": 2, "message": "almost"}
    assert not {"S1", "S2", "S3"} & set(map(str, line.values()))


@pytest.mark.parametrize(
    ("kind", "reason", "words"),
    [
        ("ACCOUNT", "account_limit", "this account's usage limit is reached ([LIMIT_ACCOUNT])"),
        ("ENTITY", "entity_limit", "a usage limit is reached ([LIMIT_ENTITY])"),
    ],
)
def test_a_reply_ended_at_a_quota_says_so(
    emulator_factory: Factory,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    reason: str,
    words: str,
) -> None:
    emulator = emulator_factory(dialect="2026", reply_tokens=3)
    emulator.fault(f"limit:{kind}")
    argv = ["ask", "hi", "--no-save", "--min-interval", "0", "--plain"]
    assert main([*argv, "--base-url", emulator.base_url]) == 0
    out, err = capsys.readouterr()
    assert out == emulator.expected_reply("hi") + "\n"
    assert err == f"sansio-chat: the service says {words}\n"
    emulator.fault(f"limit:{kind}")
    assert _ask_json(emulator, capsys)[-1]["reason"] == reason
