"""End to end in dialect ``2026``: every driver and the clients against the real emulator over
loopback, with the V8 solver (and once with Chromium); refusals, retired models,
cancellation mid-solve; the older dialects unchanged; the gateway over ``2026``."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from sansio_chat.adapters.gateway import create_gateway_app
from sansio_chat.adapters.h11 import aiter_turn as h11_aiter_turn
from sansio_chat.adapters.httpx import AsyncChatClient, ChatClient, aiter_turn, iter_turn
from sansio_chat.adapters.serving import serve_in_thread
from sansio_chat.adapters.solvers import ChromiumSolver, LazySolver, V8Solver

from browser import require_chromium
from fixtures_emulator import EmulatorHandle
from sansio_chat import (
    ChallengeError,
    ChallengeResult,
    ModelNotSupportedError,
    Pacer,
    SolveChallenge,
    State,
    TokenEvent,
    providers,
)
from sansio_chat.emulator import EmulatorConfig
from sansio_chat.providers.ddg.provider import MODELS as SEED_ERA_MODELS

E2026: dict[str, Any] = {"dialect": "2026", "reply_tokens": 5}
PROMPTS = ("first question", "second question", "third question")


@pytest.fixture
def emulator_config(request: pytest.FixtureRequest) -> EmulatorConfig:
    """Dialect 2026 unless a test's parameter says otherwise."""
    return EmulatorConfig(**{"seed": 1234, **E2026, **getattr(request, "param", {})})


def client_options(emulator: EmulatorHandle, **extra: Any) -> dict[str, Any]:
    return {"base_url": emulator.base_url, "min_interval": 0, "dialect": "2026", **extra}


def session_2026(emulator: EmulatorHandle) -> Any:
    return providers.get("ddg").new_session(
        base_url=emulator.base_url, dialect="2026", pacer=Pacer(0)
    )


class CountingSolver:
    """Delegates to a V8 solver; counts solves; ``pause`` makes ``asolve`` wait first."""

    def __init__(self) -> None:
        self.inner = V8Solver()
        self.solves = 0
        self.pause: float = 0.0
        self.entered: anyio.Event | None = None

    def solve(self, step: SolveChallenge) -> ChallengeResult:
        self.solves += 1
        return self.inner.solve(step)

    async def asolve(self, step: SolveChallenge) -> ChallengeResult:
        if self.entered is not None:
            self.entered.set()
        await anyio.sleep(self.pause)
        self.solves += 1
        return await self.inner.asolve(step)

    def close(self) -> None:
        self.inner.close()


def assert_conversation(messages: Any, emulator: EmulatorHandle, prompts: tuple[str, ...]) -> None:
    expected = []
    for prompt in prompts:
        expected += [("user", prompt), ("assistant", emulator.expected_reply(prompt))]
    assert [(m.role, m.content) for m in messages] == expected


@pytest.mark.anyio
async def test_three_turns_async_client(emulator: EmulatorHandle) -> None:
    solver = CountingSolver()
    async with AsyncChatClient(**client_options(emulator, solver=solver)) as client:
        for prompt in PROMPTS:
            assert await client.ask(prompt) == emulator.expected_reply(prompt)
        assert_conversation(client.conversation.messages, emulator, PROMPTS)
    assert solver.solves == 3  # one challenge per turn, each from the previous reply
    assert len(emulator.control.requests_to("status")) == 1
    solver.close()


def test_three_turns_sync_client_with_its_default_solver(emulator: EmulatorHandle) -> None:
    with ChatClient(**client_options(emulator)) as client:
        for prompt in PROMPTS:
            with client.stream(prompt) as tokens:
                assert "".join(tokens) == emulator.expected_reply(prompt)
        assert_conversation(client.conversation.messages, emulator, PROMPTS)
        own = client._solver
        assert isinstance(own, LazySolver)
        assert "created=True" in repr(own)
    assert "created=False" in repr(own)  # closed with the client


@pytest.mark.anyio
async def test_three_turns_h11_driver(emulator: EmulatorHandle) -> None:
    session = session_2026(emulator)
    with V8Solver() as solver:
        for prompt in PROMPTS:
            events = h11_aiter_turn(session, prompt, solver=solver, timeouts=10)
            text = "".join([e.text async for e in events if isinstance(e, TokenEvent)])
            assert text == emulator.expected_reply(prompt)
    assert_conversation(session.conversation.messages, emulator, PROMPTS)


def test_three_turns_sync_driver(emulator: EmulatorHandle) -> None:
    session = session_2026(emulator)
    with V8Solver() as solver, httpx.Client() as http:
        for prompt in PROMPTS:
            events = iter_turn(session, http, prompt, solver=solver, timeouts=10)
            text = "".join(e.text for e in events if isinstance(e, TokenEvent))
            assert text == emulator.expected_reply(prompt)
    assert_conversation(session.conversation.messages, emulator, PROMPTS)


@pytest.mark.browser
def test_two_turns_with_chromium(emulator: EmulatorHandle) -> None:
    path = require_chromium()
    with ChromiumSolver(path) as solver, ChatClient(**client_options(emulator, solver=solver)) as c:
        for prompt in PROMPTS[:2]:
            assert c.ask(prompt) == emulator.expected_reply(prompt)
        assert_conversation(c.conversation.messages, emulator, PROMPTS[:2])


@pytest.mark.anyio
async def test_a_refused_proof_is_recovered(emulator: EmulatorHandle) -> None:
    solver = CountingSolver()
    async with AsyncChatClient(**client_options(emulator, solver=solver)) as client:
        assert await client.ask(PROMPTS[0]) == emulator.expected_reply(PROMPTS[0])
        emulator.fault("418x1")
        assert await client.ask(PROMPTS[1]) == emulator.expected_reply(PROMPTS[1])
        assert_conversation(client.conversation.messages, emulator, PROMPTS[:2])
    # The refused proof cost a fresh challenge from the status endpoint and one more solve.
    assert len(emulator.control.requests_to("status")) == 2
    assert solver.solves == 3
    solver.close()


@pytest.mark.anyio
async def test_a_solver_failure_ends_the_turn_typed(emulator: EmulatorHandle) -> None:
    class Failing(CountingSolver):
        async def asolve(self, step: SolveChallenge) -> ChallengeResult:
            self.solves += 1
            raise ChallengeError("no engine here")

    solver = Failing()
    async with AsyncChatClient(**client_options(emulator, solver=solver)) as client:
        with pytest.raises(ChallengeError):
            await client.ask(PROMPTS[0])
        assert client.conversation.messages == ()
    assert solver.solves >= 1
    solver.close()


@pytest.mark.parametrize("emulator_config", [{"models": ("alpha-1", "beta-2")}], indirect=True)
def test_a_retired_model_is_reported_with_the_live_ids(emulator: EmulatorHandle) -> None:
    with ChatClient(**client_options(emulator, model="gpt-5.4-mini")) as client:
        with pytest.raises(ModelNotSupportedError) as caught:
            client.ask(PROMPTS[0])
        assert caught.value.available == ("alpha-1", "beta-2")
        assert client.conversation.messages == ()
        assert [m.id for m in client.models()] == ["alpha-1", "beta-2"]
        assert client.models(live=False)[0].id == "gpt-5.4-mini"


@pytest.mark.anyio
async def test_async_client_lists_live_models(emulator: EmulatorHandle) -> None:
    async with AsyncChatClient(**client_options(emulator)) as client:
        models = await client.models()
    assert models[0].id == "gpt-5.4-mini"
    assert models[0].name
    assert models[0].provider


@pytest.mark.anyio
async def test_cancellation_mid_solve_leaves_the_conversation_intact(
    emulator: EmulatorHandle,
) -> None:
    solver = CountingSolver()
    session = session_2026(emulator)
    async with httpx.AsyncClient() as http:
        events = aiter_turn(session, http, PROMPTS[0], solver=solver, timeouts=10)
        assert "".join([e.text async for e in events if isinstance(e, TokenEvent)])
        before = session.conversation
        solver.pause, solver.entered = 30.0, anyio.Event()
        chats = len(emulator.control.requests_to("ddg"))
        with anyio.CancelScope() as scope:

            async def cancel_when_solving() -> None:
                assert solver.entered is not None
                await solver.entered.wait()
                scope.cancel()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(cancel_when_solving)
                async for _event in aiter_turn(session, http, PROMPTS[1], solver=solver):
                    pass
        assert scope.cancelled_caught
        assert session.conversation == before
        assert session.state is State.ERROR  # aborted: ready for start_turn()
        assert len(emulator.control.requests_to("ddg")) == chats
        solver.pause, solver.entered = 0.0, None
        events = aiter_turn(session, http, PROMPTS[2], solver=solver, timeouts=10)
        text = "".join([e.text async for e in events if isinstance(e, TokenEvent)])
    assert text == emulator.expected_reply(PROMPTS[2])
    assert_conversation(session.conversation.messages, emulator, (PROMPTS[0], PROMPTS[2]))
    solver.close()


@pytest.mark.anyio
async def test_client_cancelled_mid_solve_carries_on(emulator: EmulatorHandle) -> None:
    solver = CountingSolver()
    async with AsyncChatClient(**client_options(emulator, solver=solver)) as client:
        await client.ask(PROMPTS[0])
        solver.pause = 30.0
        with anyio.move_on_after(0.3):
            await client.ask(PROMPTS[1])
        assert_conversation(client.conversation.messages, emulator, PROMPTS[:1])
        solver.pause = 0.0
        assert await client.ask(PROMPTS[2]) == emulator.expected_reply(PROMPTS[2])
    solver.close()


def test_the_solve_counts_against_the_total_timeout(emulator: EmulatorHandle) -> None:
    class Slow(CountingSolver):
        def solve(self, step: SolveChallenge) -> ChallengeResult:
            anyio.run(anyio.sleep, 0.6)
            return super().solve(step)

    from sansio_chat.adapters.httpx import Timeouts

    from sansio_chat import Timeout

    solver = Slow()
    timeouts = Timeouts(total=0.5)
    with ChatClient(**client_options(emulator, solver=solver, timeout=timeouts)) as client:
        with pytest.raises(Timeout, match="total timeout"):
            client.ask(PROMPTS[0])
        assert client.conversation.messages == ()
    solver.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("emulator_config", "dialect"),
    [({"dialect": "2025-03"}, "2025-03"), ({"dialect": "2024"}, "2024")],
    indirect=["emulator_config"],
)
async def test_older_dialects_unchanged(emulator: EmulatorHandle, dialect: str) -> None:
    solver = CountingSolver()
    async with AsyncChatClient(**client_options(emulator, dialect=dialect, solver=solver)) as c:
        for prompt in PROMPTS[:2]:
            assert await c.ask(prompt) == emulator.expected_reply(prompt)
        # The era's own ids, which its sessions accept (today's list would be refused).
        assert [m.id for m in await c.models()] == list(SEED_ERA_MODELS)
    assert solver.solves == 0  # no script challenge in these dialects
    solver.close()


@pytest.mark.parametrize(
    "emulator_config", [{"models": ("gpt-5.4-mini", "alpha-1")}], indirect=True
)
def test_the_gateway_over_2026(emulator: EmulatorHandle) -> None:
    app = create_gateway_app(
        base_url=emulator.base_url, dialect="2026", solver="v8", min_interval=0, timeout=10
    )
    with serve_in_thread(app) as server, httpx.Client(base_url=server.base_url) as http:
        body = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": PROMPTS[0]}]}
        reply = http.post("/v1/chat/completions", json=body, timeout=20)
        assert reply.status_code == 200, reply.text
        content = reply.json()["choices"][0]["message"]["content"]
        assert content == emulator.expected_reply(PROMPTS[0])
        streamed = http.post(
            "/v1/chat/completions", json={**body, "stream": True, "model": "ddg/alpha-1"}
        )
        # Not in the built-in list, and the live list not fetched yet: asked as ddg/ID, it is
        # sent, and today's service knows it.
        assert streamed.status_code == 200, streamed.text
        assert '"model":"ddg/alpha-1"' in streamed.text
        assert streamed.text.endswith("data: [DONE]\n\n")
        listing = http.get("/v1/models").json()["data"]
        live = [m for m in listing if m["owned_by"] == "ddg"]
        assert [m["id"] for m in live] == [
            "ddg/gpt-5.4-mini",
            "ddg/alpha-1",
            "gpt-5.4-mini",
            "alpha-1",
        ]
        assert {"has_access", "supports_image_upload", "supported_tools"} <= set(live[0])
        assert any(m["owned_by"] == "darkai" for m in listing)
        with http.stream(
            "POST", "/v1/chat/completions", json={**body, "stream": True, "model": "ddg/alpha-1"}
        ) as stream:
            assert stream.status_code == 200
            lines = [line for line in stream.iter_lines() if line.startswith("data: {")]
        text = "".join(
            json.loads(line[6:])["choices"][0]["delta"].get("content", "") for line in lines
        )
        assert text == emulator.expected_reply(PROMPTS[0])
        assert len(emulator.control.requests_to("models")) == 1  # cached
        http.get("/v1/models")
        assert len(emulator.control.requests_to("models")) == 1
