"""The session loop over h11 and any anyio ``ByteStream``: custom transports, TLS, proxies.

``aiter_turn(session, messages)`` opens connections with ``connect(host, port)`` (TCP by
default; any coroutine returning an anyio ``ByteStream`` will do, such as one end of an
in-memory pair), tunnels through an http ``proxy`` with ``CONNECT``, wraps the stream in TLS
when the URL is https, and keeps one connection alive across the exchanges of a turn while
the server allows it. Like the httpx driver it makes no protocol decision, answers script
challenges with ``solver`` and drains the session at exchange boundaries (in a worker thread
when the session says costly work is ahead).

``aiter_batches`` runs the same loop but yields the events in the groups they arrived in: all
that one network read (or one exchange boundary) produced. A relay that writes one message per
group, as the gateway does, makes one write where it would make one per token.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from typing import Any

import anyio

from sansio_chat import Event, HttpRequest, Sleep, SolveChallenge

from ._drivers.common import Timeouts, Verify, check_sleep, track, within
from ._drivers.h11_connection import Connector, Link, tcp
from ._drivers.session_protocol import TurnSession
from ._drivers.solving import (
    SolverLike,
    answer,
    drain,
    drain_off_loop,
    solver_of,
    start_off_loop,
)
from ._drivers.transport_errors import map_transport_errors

__all__ = ["Connector", "Timeouts", "aiter_batches", "aiter_turn"]


async def aiter_turn(
    session: TurnSession,
    messages: Any,
    *,
    connect: Connector | None = None,
    proxy: str | None = None,
    verify: Verify = True,
    timeouts: Timeouts | float | None = None,
    solver: SolverLike = None,
) -> AsyncGenerator[Event, None]:
    """Run one turn of ``session``, yielding its events; close the generator to stop early.

    ``solver`` answers script challenges as in ``sansio_chat.adapters.httpx.aiter_turn``.
    """
    batches = aiter_batches(
        session,
        messages,
        connect=connect,
        proxy=proxy,
        verify=verify,
        timeouts=timeouts,
        solver=solver,
    )
    async with aclosing(batches):
        async for batch in batches:
            for event in batch:
                yield event


async def aiter_batches(
    session: TurnSession,
    messages: Any,
    *,
    connect: Connector | None = None,
    proxy: str | None = None,
    verify: Verify = True,
    timeouts: Timeouts | float | None = None,
    solver: SolverLike = None,
) -> AsyncGenerator[tuple[Event, ...], None]:
    """Run one turn of ``session`` as :func:`aiter_turn` does, yielding its events in groups.

    Each group (never empty) holds the events that became known together: those of one
    network read, or of one exchange boundary. Close the generator to stop early.
    """
    bounds = Timeouts.of(timeouts)
    deadline = bounds.deadline(anyio.current_time())
    received: list[str] = []
    link = Link(connect or tcp, proxy, verify, bounds)
    solving, owned = solver_of(solver)
    try:
        await start_off_loop(session, messages)
        try:
            while True:
                step = session.next_step()
                if isinstance(step, Sleep):
                    now = anyio.current_time()
                    await anyio.sleep(check_sleep(step.seconds, now, deadline, received, bounds))
                    continue
                if isinstance(step, SolveChallenge):
                    await answer(session, solving, step, deadline, received, bounds)
                    events, error = await drain_off_loop(session)
                    if events:
                        yield _tracked(events, received)
                    if error is not None:
                        raise error
                    continue
                if not isinstance(step, HttpRequest):
                    return
                with map_transport_errors(step.url, received, bounds):
                    head = await within(link.request(step), deadline, received, bounds, step.url)
                session.receive_response_head(head.status_code, list(head.headers))
                events, error = await drain_off_loop(session)
                if events:
                    yield _tracked(events, received)
                if error is not None:
                    raise error
                while True:
                    with map_transport_errors(step.url, received, bounds):
                        chunk = await within(link.read(), deadline, received, bounds, step.url)
                    if chunk is None:
                        break
                    session.receive_data(chunk)
                    events, error = drain(session)
                    if events:
                        yield _tracked(events, received)
                    if error is not None:
                        raise error
                session.receive_eof()
                events, error = await drain_off_loop(session)
                if events:
                    yield _tracked(events, received)
                if error is not None:
                    raise error
        except BaseException:
            # However the turn ends early, the session is told, so its next turn can start.
            session.abort_turn()
            raise
    finally:
        if owned:
            solving.close()
        await link.aclose()


def _tracked(events: Iterable[Event], received: list[str]) -> tuple[Event, ...]:
    return tuple(track(event, received) for event in events)
