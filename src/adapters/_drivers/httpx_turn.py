"""The session loop over httpx: :func:`aiter_turn` (anyio: asyncio or trio) and :func:`iter_turn`.

Thin on purpose: every protocol decision is the session's. The drivers send each
``HttpRequest`` exactly as described (no client default headers, no cookie jar), stream the
decoded body into the session, sleep when told to, hand script challenges to the solver,
enforce the timeouts, always close the reply, and turn transport failures into
``TransportError`` / ``Timeout`` at one boundary. The async driver drains the session at
exchange boundaries (after a head, at the end of a body) in a worker thread: that is where
the session does CPU-heavy work (the ``2025-03`` challenge), which must not stall the loop.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Generator
from contextlib import aclosing
from typing import Any, cast

import anyio
import httpx

from sansio_chat import Event, HttpRequest, Sleep, SolveChallenge

from .common import Timeouts, check_sleep, total_timeout, track, within
from .session_protocol import TurnSession
from .solving import SolverLike, answer, answer_sync, drain_off_loop, solver_of, start_off_loop
from .transport_errors import map_transport_errors, transport_error

__all__ = ["aiter_turn", "iter_turn"]


def _request(step: HttpRequest, connect: float | None, read: float | None) -> httpx.Request:
    # Built directly, not with client.build_request(): that would merge the client's default
    # headers and cookies into what the session asked for.
    limits = {"connect": connect, "read": read, "write": read, "pool": connect}
    return httpx.Request(
        step.method,
        step.url,
        headers=list(step.headers),
        content=step.body or None,
        extensions={"timeout": limits},
    )


def _left(
    limit: float | None, deadline: float | None, received: list[str], limits: Timeouts, url: str
) -> float | None:
    if deadline is None:
        return limit
    left = deadline - time.monotonic()
    if left <= 0:
        raise total_timeout(limits, url, received)
    return left if limit is None else min(limit, left)


async def _unwind(chunks: AsyncGenerator[bytes, None]) -> None:
    # httpx and httpcore read a body through a chain of async generators, and aclose() on
    # the outermost leaves the inner ones suspended for the event loop to finalize (trio
    # warns). Resuming the chain in a cancelled scope instead delivers the cancellation at
    # the innermost read, which unwinds every generator of the chain and drops the
    # connection; bytes already buffered come back first, without waiting.
    with anyio.CancelScope() as scope:
        scope.cancel()
        try:
            while True:
                await chunks.__anext__()
        except Exception:  # StopAsyncIteration, or the read failed: the chain is finished
            pass
    await chunks.aclose()


async def aiter_turn(
    session: TurnSession,
    http: httpx.AsyncClient,
    messages: Any,
    *,
    timeouts: Timeouts | float | None = None,
    solver: SolverLike = None,
) -> AsyncGenerator[Event, None]:
    """Run one turn of ``session`` over ``http``, yielding its events as they arrive.

    ``solver`` answers script challenges (dialect ``2026``): anything with ``solve(step)``
    and ``async asolve(step)``, ``"v8"`` or ``"chromium"``; ``None``: a ``V8Solver`` made
    on first need and closed with the turn. The solve runs off the event loop and counts
    against the total timeout.

    Close the generator when you stop early (``contextlib.aclosing``): that closes the reply.
    """
    limits = Timeouts.of(timeouts)
    deadline = limits.deadline(anyio.current_time())
    received: list[str] = []
    solving, owned = solver_of(solver)
    try:
        await start_off_loop(session, messages)
        # However the turn ends early (a transport error, a timeout, a cancellation, the
        # caller closing this generator), the session is told, so its next turn can start.
        try:
            while True:
                step = session.next_step()
                if isinstance(step, Sleep):
                    now = anyio.current_time()
                    await anyio.sleep(check_sleep(step.seconds, now, deadline, received, limits))
                    continue
                if isinstance(step, SolveChallenge):
                    await answer(session, solving, step, deadline, received, limits)
                    events, error = await drain_off_loop(session)
                    for event in events:
                        yield track(event, received)
                    if error is not None:
                        raise error
                    continue
                if not isinstance(step, HttpRequest):
                    return
                exchange = _exchange(session, http, step, limits, deadline, received)
                async with aclosing(exchange):
                    async for event in exchange:
                        yield event
        except BaseException:
            session.abort_turn()
            raise
    finally:
        if owned:
            solving.close()


async def _exchange(
    session: TurnSession,
    http: httpx.AsyncClient,
    step: HttpRequest,
    limits: Timeouts,
    deadline: float | None,
    received: list[str],
) -> AsyncGenerator[Event, None]:
    request = _request(step, limits.connect, limits.read)
    with map_transport_errors(step.url, received, limits):
        response = await within(
            http.send(request, stream=True), deadline, received, limits, step.url
        )
    # httpx hands out generators (typed as iterators); close them, not only the reply.
    chunks = cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
    try:
        session.receive_response_head(response.status_code, response.headers.raw)
        events, error = await drain_off_loop(session)
        for event in events:
            yield track(event, received)
        if error is not None:
            raise error
        while True:
            try:  # the hot loop: the same mapping as map_transport_errors, inline
                if deadline is None:
                    chunk = await chunks.__anext__()
                else:
                    chunk = await within(chunks.__anext__(), deadline, received, limits, step.url)
            except StopAsyncIteration:
                break
            except Exception as exc:
                error = transport_error(exc, step.url, received, limits)
                if error is None:
                    raise
                raise error from exc
            session.receive_data(chunk)
            for event in session.events():
                yield track(event, received)
        session.receive_eof()
        events, error = await drain_off_loop(session)
        for event in events:
            yield track(event, received)
        if error is not None:
            raise error
    finally:
        with anyio.CancelScope(shield=True):
            await _unwind(chunks)
            await response.aclose()


def iter_turn(
    session: TurnSession,
    http: httpx.Client,
    messages: Any,
    *,
    timeouts: Timeouts | float | None = None,
    solver: SolverLike = None,
) -> Generator[Event, None, None]:
    """Run one turn of ``session`` over ``http``, yielding its events as they arrive.

    ``solver`` answers script challenges as in :func:`aiter_turn` (its ``solve`` is called).
    Close the generator when you stop early: that closes the reply. The total timeout is
    checked between reads and after a solve, so it may be overrun by at most one read
    timeout or one solver time limit.
    """
    limits = Timeouts.of(timeouts)
    deadline = limits.deadline(time.monotonic())
    received: list[str] = []
    solving, owned = solver_of(solver)
    try:
        session.start_turn(messages)
        try:
            while True:
                step = session.next_step()
                if isinstance(step, Sleep):
                    now = time.monotonic()
                    time.sleep(check_sleep(step.seconds, now, deadline, received, limits))
                    continue
                if isinstance(step, SolveChallenge):
                    answer_sync(session, solving, step, deadline, received, limits)
                    for event in session.events():
                        yield track(event, received)
                    continue
                if not isinstance(step, HttpRequest):
                    return
                yield from _sync_exchange(session, http, step, limits, deadline, received)
        except BaseException:
            session.abort_turn()
            raise
    finally:
        if owned:
            solving.close()


def _sync_exchange(
    session: TurnSession,
    http: httpx.Client,
    step: HttpRequest,
    limits: Timeouts,
    deadline: float | None,
    received: list[str],
) -> Generator[Event, None, None]:
    connect = _left(limits.connect, deadline, received, limits, step.url)
    read = _left(limits.read, deadline, received, limits, step.url)
    request = _request(step, connect, read)
    with map_transport_errors(step.url, received, limits):
        response = http.send(request, stream=True)
    chunks = cast("Generator[bytes, None, None]", response.iter_bytes())
    try:
        session.receive_response_head(response.status_code, response.headers.raw)
        while True:
            for event in session.events():
                yield track(event, received)
            with map_transport_errors(step.url, received, limits):
                chunk = next(chunks, None)
            if chunk is None:
                break
            _left(None, deadline, received, limits, step.url)
            session.receive_data(chunk)
        session.receive_eof()
        for event in session.events():
            yield track(event, received)
    finally:
        chunks.close()
        response.close()
