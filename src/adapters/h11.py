"""The session loop over h11 and any anyio ``ByteStream``: custom transports, TLS, proxies.

``aiter_turn(session, messages)`` opens connections with ``connect(host, port)`` (TCP by
default; any coroutine returning an anyio ``ByteStream`` will do, such as one end of an
in-memory pair), tunnels through an http ``proxy`` with ``CONNECT``, wraps the stream in TLS
when the URL is https, and keeps one connection alive across the exchanges of a turn while
the server allows it. Like the httpx driver it makes no protocol decision.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anyio

from sansio_chat import Event, HttpRequest, Sleep

from ._drivers.common import Timeouts, Verify, check_sleep, track, within
from ._drivers.h11_connection import Connector, Link, tcp
from ._drivers.session_protocol import TurnSession
from ._drivers.transport_errors import map_transport_errors

__all__ = ["Connector", "Timeouts", "aiter_turn"]


async def aiter_turn(
    session: TurnSession,
    messages: Any,
    *,
    connect: Connector | None = None,
    proxy: str | None = None,
    verify: Verify = True,
    timeouts: Timeouts | float | None = None,
) -> AsyncGenerator[Event, None]:
    """Run one turn of ``session``, yielding its events; close the generator to stop early."""
    bounds = Timeouts.of(timeouts)
    deadline = bounds.deadline(anyio.current_time())
    received: list[str] = []
    link = Link(connect or tcp, proxy, verify, bounds)
    session.start_turn(messages)
    try:
        while True:
            step = session.next_step()
            if isinstance(step, Sleep):
                now = anyio.current_time()
                await anyio.sleep(check_sleep(step.seconds, now, deadline, received, bounds))
                continue
            if not isinstance(step, HttpRequest):
                return
            with map_transport_errors(step.url, received, bounds):
                head = await within(link.request(step), deadline, received, bounds, step.url)
            session.receive_response_head(head.status_code, list(head.headers))
            while True:
                for event in session.events():
                    yield track(event, received)
                with map_transport_errors(step.url, received, bounds):
                    chunk = await within(link.read(), deadline, received, bounds, step.url)
                if chunk is None:
                    break
                session.receive_data(chunk)
            session.receive_eof()
            for event in session.events():
                yield track(event, received)
    except BaseException:
        # However the turn ends early, the session is told, so its next turn can start.
        session.abort_turn()
        raise
    finally:
        await link.aclose()
