"""A dialect pinned to one DuckDuckGo era against a service of another: every pair.

The command line is driven in-process against the emulator of each era; whatever the pair,
the user gets one line naming the served era (as a client names it: the lenient emulator is
``2025-03``) and the pinned one, exit status 5, and no chat request. The session tests below
cover what the emulator never does: replies that prove another era without saying which.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sansio_chat.adapters.cli import main

from ddg2026_support import OPTIONS, Challenges
from fixtures_emulator import EmulatorHandle
from sansio_chat import HTTPStatusError
from sansio_chat.providers.ddg import DialectMismatchError
from session_driver import (
    CHALLENGE,
    FE_PAGE,
    Reply,
    Script,
    drive,
    fake_solver,
    new_session,
    request_kind,
)

SERVED = ("2024", "2025-03", "2025-03-lenient", "2026")
PINNED = ("2024", "2025-03", "2026")
ERAS = PINNED
PAIRS = [
    (served, pinned)
    for served in SERVED
    for pinned in PINNED
    if served.removesuffix("-lenient") != pinned
]
Factory = Callable[..., EmulatorHandle]


def test_the_pairs_are_every_pair_of_different_eras() -> None:
    assert len(PAIRS) == 8
    assert {(s.removesuffix("-lenient"), p) for s, p in PAIRS} == {
        (s, p) for s in ERAS for p in ERAS if s != p
    }


@pytest.mark.parametrize(("served", "pinned"), PAIRS)
def test_a_pinned_dialect_of_another_era_names_both_eras_before_any_chat_request(
    emulator_factory: Factory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    served: str,
    pinned: str,
) -> None:
    emulator = emulator_factory(dialect=served)
    path = tmp_path / "talk.json"
    solver = ["--solver", "v8"] if pinned == "2026" else []
    status = main(
        [
            "ask",
            "hi",
            "--base-url",
            emulator.base_url,
            "--min-interval",
            "0",
            "--dialect",
            pinned,
            *solver,
            "--conversation",
            str(path),
        ]
    )
    out, err = capsys.readouterr()
    assert (status, out) == (5, ""), err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    era = served.removesuffix("-lenient")
    assert repr(era) in line
    assert repr(pinned) in line
    # Never a wrong era: the third one is not named at all.
    for other in ERAS:
        if other not in (era, pinned):
            assert repr(other) not in line
            assert f"--dialect {other}" not in line
    assert f"--dialect {era}" in line  # what to pass instead
    assert not path.exists()
    assert emulator.control.requests_to("ddg") == []
    # The era is learnt from the page and at most two status calls, nothing else.
    assert len(emulator.control.requests_to("page")) <= 1
    assert len(emulator.control.requests_to("status")) <= 2


# -- replies the emulator never sends ---------------------------------------------------------

JSON = (("content-type", "application/json"),)
SEED_PAGE = Reply(200, (("content-type", "text/html"),), FE_PAGE, label="seed page")
BAD_REQUEST = Reply(400, JSON, b'{"action":"error","status":400,"type":"ERR_BAD_REQUEST"}')
UNAVAILABLE = Reply(503, (("content-type", "text/plain"),), b"Service Unavailable")
STATUS_2024 = Reply(200, (("x-vqd-4", "4-111"),), b'{"status":"0"}')
STATUS_2025 = Reply(200, (("x-vqd-4", "4-111"), ("x-vqd-hash-1", CHALLENGE)), b'{"status":"0"}')
STATUS_NONE = Reply(200, JSON, b'{"status":"0"}')


def session_for(pinned: str, **state: Any) -> Any:
    options: dict[str, Any] = {k: v for k, v in OPTIONS.items() if k != "dialect"}
    options["dialect"] = pinned
    if pinned != "2026":
        options["solver"] = fake_solver
    return new_session(min_interval=0, **options, **state)


def run(pinned: str, script: Script, **state: Any) -> Any:
    session, clock = session_for(pinned, **state)
    before = session.conversation
    session.start_turn("hello")
    out = drive(session, clock, script, solve=Challenges(seed=1).solve)
    assert session.conversation == before
    assert "chat" not in [request_kind(r) for r in out.requests]
    return out


@pytest.mark.parametrize(("status", "era"), [(STATUS_2024, "2024"), (STATUS_2025, "2025-03")])
def test_a_seed_page_is_named_by_the_status_reply(status: Reply, era: str) -> None:
    out = run("2026", Script({"page": [SEED_PAGE], "status": [status]}))
    assert isinstance(out.error, DialectMismatchError), out.error
    assert (out.error.expected, out.error.served, out.error.among) == ("2026", era, (era,))
    assert [request_kind(r) for r in out.requests] == ["page", "status"]


@pytest.mark.parametrize("status", [UNAVAILABLE, STATUS_NONE, BAD_REQUEST])
def test_a_seed_page_whose_era_no_reply_names_says_what_is_known(status: Reply) -> None:
    out = run("2026", Script({"page": [SEED_PAGE], "status": [status]}))
    error = out.error
    assert isinstance(error, DialectMismatchError), error
    assert (error.expected, error.served, error.among) == ("2026", "", ("2024", "2025-03"))
    message = str(error)
    assert "'2024' or '2025-03'" in message
    assert "--dialect 2024" not in message
    assert "--dialect 2025-03" not in message
    assert "'2026'" in message


def test_a_refused_seed_status_call_is_named_by_the_status_call_every_era_answers() -> None:
    challenges = Challenges(seed=2)
    out = run("2024", Script({"status": [BAD_REQUEST, challenges.status_reply()]}))
    assert isinstance(out.error, DialectMismatchError), out.error
    assert (out.error.expected, out.error.served) == ("2024", "2026")
    first, probe = out.requests
    # The probe is the status call of the form a discovering session sends.
    assert first.header("origin") == "https://duckduckgo.com"
    assert probe.header("origin") == OPTIONS["base_url"]


def test_a_refused_seed_status_call_with_a_cached_fe_version_is_named_too() -> None:
    challenges = Challenges(seed=3)
    script = Script({"status": [BAD_REQUEST, challenges.status_reply()]})
    out = run("2025-03", script, fe_version="serp_20250401_100419_ET-19d438eb199b2bf7c300")
    assert isinstance(out.error, DialectMismatchError), out.error
    assert (out.error.expected, out.error.served) == ("2025-03", "2026")
    assert [request_kind(r) for r in out.requests] == ["status", "status"]


@pytest.mark.parametrize("probe", [STATUS_2024, STATUS_NONE, UNAVAILABLE])
def test_a_refused_seed_status_call_stays_a_refusal_unless_another_era_answers(
    probe: Reply,
) -> None:
    out = run("2024", Script({"status": [BAD_REQUEST, probe]}))
    assert type(out.error) is HTTPStatusError, out.error
    assert (out.error.status, out.error.error_type) == (400, "ERR_BAD_REQUEST")
    assert len(out.requests) == 2


INVALID_VQD = Reply(400, JSON, b'{"action":"error","status":400,"type":"ERR_INVALID_VQD"}')


@pytest.mark.parametrize("refusal", [UNAVAILABLE, INVALID_VQD], ids=["503", "400-invalid-vqd"])
def test_other_refusals_of_the_status_call_are_not_probed(refusal: Reply) -> None:
    # A 400 that names a seed era's error is that era speaking, not another era.
    out = run("2024", Script({"status": [refusal]}))
    assert type(out.error) is HTTPStatusError, out.error
    assert out.error.status == refusal.status
    assert len(out.requests) == 1
