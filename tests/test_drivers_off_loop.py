"""The async drivers never run the session's CPU-heavy work on the event loop (issue 13 item 1).

In dialect ``2025-03`` the session solves the challenge inside ``next_event()`` when an
exchange settles; a solver that takes 300 ms (it sleeps, standing in for a hostile header)
must leave the loop free for other tasks, on asyncio and trio, in the httpx and h11 drivers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
from sansio_chat.adapters.h11 import aiter_turn as h11_aiter_turn
from sansio_chat.adapters.httpx import aiter_turn

from fixtures_emulator import EmulatorHandle
from sansio_chat import Event, Pacer, TokenEvent, providers
from sansio_chat.providers.ddg_challenge import solve_challenge


class SlowSolver:
    """The pure 2025-03 solver after a 300 ms pause; remembers the threads it ran on."""

    def __init__(self) -> None:
        self.solving = threading.Event()
        self.threads: list[int] = []

    def __call__(self, js_text: str, headers: Mapping[str, str]) -> str:
        self.threads.append(threading.get_ident())
        self.solving.set()
        try:
            time.sleep(0.3)
            return solve_challenge(js_text, headers)
        finally:
            self.solving.clear()


Turn = Callable[[Any, str], AsyncGenerator[Event, None]]


async def run_beside_a_ticker(turn: Turn, emulator: EmulatorHandle) -> tuple[SlowSolver, int]:
    """Run two turns (the second solves a carried challenge) beside a 5 ms ticker; return
    the solver and how many ticks happened while it was solving."""
    solver = SlowSolver()
    session = providers.get("ddg").new_session(
        base_url=emulator.base_url, dialect="2025-03", pacer=Pacer(0), solver=solver
    )
    ticks_while_solving = 0
    done = anyio.Event()

    async def ticker() -> None:
        nonlocal ticks_while_solving
        while not done.is_set():
            await anyio.sleep(0.005)
            if solver.solving.is_set():
                ticks_while_solving += 1

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(ticker)
        for prompt in ("one", "two"):
            text = "".join([e.text async for e in turn(session, prompt) if type(e) is TokenEvent])
            assert text == emulator.expected_reply(prompt)
        done.set()
    return solver, ticks_while_solving


@pytest.mark.anyio
async def test_httpx_driver_solves_off_the_loop(emulator: EmulatorHandle) -> None:
    async with httpx.AsyncClient() as http:

        def turn(session: Any, prompt: str) -> AsyncGenerator[Event, None]:
            return aiter_turn(session, http, prompt, timeouts=10)

        solver, ticks = await run_beside_a_ticker(turn, emulator)
    assert len(solver.threads) == 2
    assert threading.get_ident() not in solver.threads
    # 2 × 300 ms of solving: a loop left free ticks dozens of times; a blocked one never.
    assert ticks >= 10


@pytest.mark.anyio
async def test_h11_driver_solves_off_the_loop(emulator: EmulatorHandle) -> None:
    def turn(session: Any, prompt: str) -> AsyncGenerator[Event, None]:
        return h11_aiter_turn(session, prompt, timeouts=10)

    solver, ticks = await run_beside_a_ticker(turn, emulator)
    assert len(solver.threads) == 2
    assert threading.get_ident() not in solver.threads
    assert ticks >= 10


@pytest.mark.anyio
@pytest.mark.parametrize("driver", ["httpx", "h11"])
async def test_quick_work_stays_on_the_loop(
    emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, driver: str
) -> None:
    """With the built-in solver and the service's small challenges, nothing goes to a
    worker thread: each solve is quicker than the hop would be."""
    hops: list[str] = []
    real_run_sync = anyio.to_thread.run_sync

    async def counting(function: Callable[..., Any], *args: Any, **options: Any) -> Any:
        hops.append(getattr(function, "__name__", repr(function)))
        return await real_run_sync(function, *args, **options)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    session = providers.get("ddg").new_session(
        base_url=emulator.base_url, dialect="2025-03", pacer=Pacer(0)
    )
    async with httpx.AsyncClient() as http:
        per_turn = []
        for prompt in ("one", "two", "three"):
            hops.clear()
            if driver == "httpx":
                events = aiter_turn(session, http, prompt, timeouts=10)
            else:
                events = h11_aiter_turn(session, prompt, timeouts=10)
            text = "".join([e.text async for e in events if type(e) is TokenEvent])
            assert text == emulator.expected_reply(prompt)
            per_turn.append([hop for hop in hops if hop == "_drain" or "turn" in hop])
    assert per_turn == [[], [], []]
