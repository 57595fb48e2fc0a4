"""The emulator's pure side: request in, plan out (no server, no sockets, no sleeping)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import sansio_chat.emulator
from sansio_chat.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorRequest,
    Fault,
    FaultSyntaxError,
    RateLimit,
    Reset,
    ResponsePlan,
    Stall,
    Write,
    expected_reply,
    parse_fault,
    parse_rate_limit,
    reply_tokens,
    utf16_length,
)

CHAT = "/duckchat/v1/chat"


def status(emulator: Emulator, client: str = "127.0.0.1") -> ResponsePlan:
    request = EmulatorRequest(
        method="GET",
        path="/duckchat/v1/status",
        headers=(("x-vqd-accept", "1"),),
        client=client,
    )
    return emulator.handle(request)


def chat_2024(emulator: Emulator, vqd: str, prompt: str = "hi") -> ResponsePlan:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    request = EmulatorRequest(
        method="POST", path=CHAT, headers=(("x-vqd-4", vqd),), body=json.dumps(payload).encode()
    )
    return emulator.handle(request)


def darkai(emulator: Emulator, query: str = "q", model: str = "llama-3-70b") -> ResponsePlan:
    body = json.dumps({"query": query, "model": model}).encode()
    return emulator.handle(EmulatorRequest(method="POST", path="/chat", body=body))


def token(plan: ResponsePlan) -> str:
    value = plan.header("x-vqd-4")
    assert value is not None
    return value


@pytest.fixture
def emu() -> Emulator:
    return Emulator(EmulatorConfig(seed=99, dialect="2024"))


def test_the_package_does_no_io() -> None:
    banned = {"httpx", "anyio", "asyncio", "trio", "socket", "os", "hypercorn", "threading"}
    folder = Path(sansio_chat.emulator.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            assert not {name.split(".")[0] for name in names} & banned, (path.name, names)


def test_one_event_per_write(emu: Emulator) -> None:
    plan = chat_2024(emu, token(status(emu)))
    writes = [action for action in plan.body if isinstance(action, Write)]
    assert len(writes) == len(plan.body) == emu.config.reply_tokens + 2
    assert all(w.data.startswith(b"data: ") and w.data.endswith(b"\n\n") for w in writes)
    assert writes[-1].data == b"data: [DONE]\n\n"


def test_events_per_write_joins_writes() -> None:
    emulator = Emulator(EmulatorConfig(seed=1, dialect="2024", events_per_write=5))
    plan = chat_2024(emulator, token(status(emulator)))
    assert len(plan.body) == -(-(emulator.config.reply_tokens + 2) // 5)
    single = Emulator(EmulatorConfig(seed=1, dialect="2024"))
    assert plan.body_bytes() == chat_2024(single, token(status(single))).body_bytes()


def test_delay_is_put_before_each_write() -> None:
    emulator = Emulator(EmulatorConfig(seed=1, dialect="2024", delay=0.25))
    plan = chat_2024(emulator, token(status(emulator)))
    assert {action.delay for action in plan.body if isinstance(action, Write)} == {0.25}


def test_a_long_reply() -> None:
    emulator = Emulator(EmulatorConfig(seed=3, dialect="2024", reply_tokens=20_000))
    plan = chat_2024(emulator, token(status(emulator)), "long")
    assert len(plan.body) == 20_002
    text = "".join(
        json.loads(line[6:])["message"]
        for line in plan.body_bytes().decode().split("\n")
        if line.startswith("data: {")
    )
    assert text == expected_reply(3, "long", 20_000)


def test_replies_depend_on_seed_and_prompt_only() -> None:
    assert reply_tokens(1, "a", 50) == reply_tokens(1, "a", 50)
    assert reply_tokens(1, "a", 50) != reply_tokens(2, "a", 50)
    assert reply_tokens(1, "a", 50) != reply_tokens(1, "b", 50)
    pieces = reply_tokens(1, "a", 50)
    assert not pieces[0].startswith(" ")
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert expected_reply(1, "a", 50) == "".join(pieces)


def test_the_same_seed_gives_the_same_plans() -> None:
    def run(seed: int) -> list[bytes]:
        emulator = Emulator(EmulatorConfig(seed=seed))
        first = status(emulator)
        challenge = (first.header("x-vqd-hash-1") or "").encode()
        return [token(first).encode(), challenge, darkai(emulator).body_bytes()]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_a_random_seed_is_reported() -> None:
    emulator = Emulator(EmulatorConfig())
    assert emulator.expected_reply("x") == expected_reply(emulator.seed, "x", 12)


def test_configure_with_a_new_seed_forgets_tokens(emu: Emulator) -> None:
    vqd = token(status(emu))
    emu.configure(seed=100)
    assert chat_2024(emu, vqd).status == 400
    assert emu.seed == 100


def test_unknown_paths_and_methods() -> None:
    emulator = Emulator(EmulatorConfig(seed=1))
    assert emulator.handle(EmulatorRequest(method="GET", path="/nope")).status == 404
    wrong = emulator.handle(EmulatorRequest(method="GET", path=CHAT))
    assert wrong.status == 405
    assert wrong.header("allow") == "POST"
    assert emulator.handle(EmulatorRequest(method="POST", path="/")).status == 405


def test_the_page_is_served_at_the_ui_paths_too() -> None:
    emulator = Emulator(EmulatorConfig(seed=1))
    for path in ("/", "/aichat"):
        page = emulator.handle(EmulatorRequest(method="GET", path=path))
        assert page.status == 200
        assert b"__DDG_BE_VERSION__=" in page.body_bytes()


def test_rate_limit_window_uses_the_injected_clock() -> None:
    now = [0.0]
    emulator = Emulator(
        EmulatorConfig(seed=1, rate_limit=RateLimit(requests=1, seconds=10)),
        clock=lambda: now[0],
    )
    assert status(emulator).status == 200
    assert status(emulator).status == 429
    assert status(emulator, client="10.0.0.2").status == 200  # per client
    now[0] = 10.0
    assert status(emulator).status == 200


def test_darkai_plans() -> None:
    emulator = Emulator(EmulatorConfig(seed=1, darkai_final_response=True, reply_tokens=4))
    plan = darkai(emulator, "hello")
    lines = [
        json.loads(line[6:]) for line in plan.body_bytes().split(b"\n") if line[:6] == b"data: "
    ]
    assert [line["event"] for line in lines] == ["text-chunk"] * 4 + [
        "final-response",
        "stream-end",
    ]
    assert lines[-2]["data"]["message"] == expected_reply(1, "hello", 4)
    assert darkai(emulator, model="gpt-4").status == 400
    bad = emulator.handle(EmulatorRequest(method="POST", path="/chat", body=b"{"))
    assert bad.status == 400
    assert bad.header("content-type") == "application/json"


def test_utf16_length() -> None:
    assert utf16_length("") == 0
    assert utf16_length("aé日") == 3
    assert utf16_length("\U0001f642") == 2


# -- fault switches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("429x3", Fault(kind="429", count=3, spec="429x3")),
        ("cut:120", Fault(kind="cut", args=("120",), spec="cut:120")),
        ("stall:2", Fault(kind="stall", args=("2",), spec="stall:2")),
        (
            "stall:0.5:head@ddg",
            Fault(kind="stall", args=("0.5", "head"), target="ddg", spec="stall:0.5:head@ddg"),
        ),
        ("fragmentx*", Fault(kind="fragment", count=None, spec="fragmentx*")),
        (
            "418:ERR_BN_LIMITx2@any",
            Fault(
                kind="418",
                args=("ERR_BN_LIMIT",),
                count=2,
                target="any",
                spec="418:ERR_BN_LIMITx2@any",
            ),
        ),
        ("invalid-vqd", Fault(kind="400", spec="invalid-vqd")),
        (" drip:0.01:4 ", Fault(kind="drip", args=("0.01", "4"), spec="drip:0.01:4")),
    ],
)
def test_parse_fault(spec: str, fault: Fault) -> None:
    assert parse_fault(spec) == fault


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "boom",
        "cut:1:2",
        "429x0",
        "fragment:0",
        "drip:1:0",
        "stall:x",
        "http",
        "cut@moon",
        "malformed:weird",
        "oversized:-5",
        "http:99",
    ],
)
def test_parse_fault_refuses(spec: str) -> None:
    with pytest.raises(FaultSyntaxError):
        parse_fault(spec)


def test_rate_limit_syntax() -> None:
    assert parse_rate_limit("5/30") == RateLimit(requests=5, seconds=30.0)
    for bad in ("x", "0/1", "1/0", "1/-2"):
        with pytest.raises(ValueError, match="rate limit"):
            parse_rate_limit(bad)


def test_faults_in_the_config_are_active_at_start() -> None:
    emulator = Emulator(EmulatorConfig(seed=1, faults=("429x2@darkai",)))
    assert [darkai(emulator).status for _ in range(3)] == [429, 429, 200]


def test_reset_and_stall_actions(emu: Emulator) -> None:
    emu.add_fault("reset:10")
    plan = darkai(emu)
    assert plan.resets
    assert isinstance(plan.body[-1], Reset)
    assert len(plan.body_bytes()) == 10
    emu.add_fault("stall:3:2")
    stalled = darkai(emu)
    assert stalled.body[2] == Stall(seconds=3.0)
    assert stalled.faults == ("stall:3:2",)
    emu.add_fault("stall:4:head")
    assert darkai(emu).head_delay == 4.0


def test_body_faults_on_the_status_reply(emu: Emulator) -> None:
    emu.add_fault("cut:5@status")
    plan = status(emu)
    assert plan.body_bytes() == b'{"sta'
    assert plan.header("content-length") is None
    assert plan.header("x-vqd-4") is not None


def test_configure_replaces_faults(emu: Emulator) -> None:
    emu.add_fault("429x*")
    emu.configure(faults=["cut:3"])
    assert emu.active_faults == ("cut:3",)
    assert darkai(emu).body_bytes() == b"dat"
    assert emu.active_faults == ()


def test_config_validation() -> None:
    for bad in (
        {"dialect": "2023"},
        {"reply_tokens": -1},
        {"delay": -1.0},
        {"conversation_limit": 0},
        {"events_per_write": 0},
    ):
        with pytest.raises(ValueError):
            EmulatorConfig(**bad)  # type: ignore[arg-type]


def test_the_log_is_kept(emu: Emulator) -> None:
    status(emu)
    darkai(emu)
    assert [exchange.endpoint for exchange in emu.exchanges] == ["status", "darkai"]
    assert emu.exchanges[0].status == 200


def test_the_servers_model_lists_cover_the_clients() -> None:
    from sansio_chat.emulator._darkai import DARKAI_MODELS
    from sansio_chat.emulator._ddg import MODELS_2024, MODELS_2025
    from sansio_chat.providers import darkai as darkai_provider
    from sansio_chat.providers import ddg as ddg_provider

    assert set(ddg_provider.MODELS) == set(MODELS_2025)
    assert set(MODELS_2025) < set(MODELS_2024)
    assert set(darkai_provider.MODELS) == set(DARKAI_MODELS)
