"""The session loop over httpx: :func:`aiter_turn` (anyio: asyncio or trio) and :func:`iter_turn`.

Thin on purpose: every protocol decision is the session's. The drivers send each
``HttpRequest`` exactly as described (no client default headers, no cookie jar), stream the
decoded body into the session, sleep when told to, enforce the timeouts, always close the
reply, and turn transport failures into ``TransportError`` / ``Timeout`` at one boundary.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Generator
from typing import Any, cast

import anyio
import httpx

from sansio_chat import Event, HttpRequest, Sleep, Timeout

from .common import Timeouts, check_sleep, track, within
from .session_protocol import TurnSession
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


def _left(limit: float | None, deadline: float | None, received: list[str]) -> float | None:
    if deadline is None:
        return limit
    left = deadline - time.monotonic()
    if left <= 0:
        raise Timeout("total timeout expired", partial_text="".join(received))
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
) -> AsyncGenerator[Event, None]:
    """Run one turn of ``session`` over ``http``, yielding its events as they arrive.

    Close the generator when you stop early (``contextlib.aclosing``): that closes the reply.
    """
    limits = Timeouts.of(timeouts)
    deadline = limits.deadline(anyio.current_time())
    received: list[str] = []
    session.start_turn(messages)
    while True:
        step = session.next_step()
        if isinstance(step, Sleep):
            await anyio.sleep(check_sleep(step.seconds, anyio.current_time(), deadline, received))
            continue
        if not isinstance(step, HttpRequest):
            return
        request = _request(step, limits.connect, limits.read)
        with map_transport_errors(step.url, received):
            response = await within(http.send(request, stream=True), deadline, received)
        # httpx hands out generators (typed as iterators); close them, not only the reply.
        chunks = cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
        try:
            session.receive_response_head(response.status_code, response.headers.raw)
            while True:
                for event in session.events():
                    yield track(event, received)
                try:  # the hot loop: the same mapping as map_transport_errors, inline
                    if deadline is None:
                        chunk = await chunks.__anext__()
                    else:
                        chunk = await within(chunks.__anext__(), deadline, received)
                except StopAsyncIteration:
                    break
                except Exception as exc:
                    error = transport_error(exc, step.url, received)
                    if error is None:
                        raise
                    raise error from exc
                session.receive_data(chunk)
            session.receive_eof()
            for event in session.events():
                yield track(event, received)
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
) -> Generator[Event, None, None]:
    """Run one turn of ``session`` over ``http``, yielding its events as they arrive.

    Close the generator when you stop early: that closes the reply. The total timeout is
    checked between reads, so it may be overrun by at most one read timeout.
    """
    limits = Timeouts.of(timeouts)
    deadline = limits.deadline(time.monotonic())
    received: list[str] = []
    session.start_turn(messages)
    while True:
        step = session.next_step()
        if isinstance(step, Sleep):
            time.sleep(check_sleep(step.seconds, time.monotonic(), deadline, received))
            continue
        if not isinstance(step, HttpRequest):
            return
        connect = _left(limits.connect, deadline, received)
        request = _request(step, connect, _left(limits.read, deadline, received))
        with map_transport_errors(step.url, received):
            response = http.send(request, stream=True)
        chunks = cast("Generator[bytes, None, None]", response.iter_bytes())
        try:
            session.receive_response_head(response.status_code, response.headers.raw)
            while True:
                for event in session.events():
                    yield track(event, received)
                with map_transport_errors(step.url, received):
                    chunk = next(chunks, None)
                if chunk is None:
                    break
                _left(None, deadline, received)
                session.receive_data(chunk)
            session.receive_eof()
            for event in session.events():
                yield track(event, received)
        finally:
            chunks.close()
            response.close()
