"""Both drivers over real loopback sockets: the emulator, an http proxy, a TLS front.

The proxy and the TLS front are tiny anyio servers written here: the proxy tunnels
``CONNECT`` and forwards absolute-form requests (what httpx sends for http URLs through a
proxy); the TLS front terminates TLS with the test certificate and pipes to the emulator.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from anyio.abc import ByteStream, Listener, SocketAttribute
from anyio.streams.tls import TLSListener
from sansio_chat.adapters import h11 as h11_driver
from sansio_chat.adapters.httpx import AsyncChatClient, Timeouts

from adapters_support import MemoryByteStream
from fixtures_emulator import EmulatorHandle
from sansio_chat import (
    ChatSession,
    Event,
    Finished,
    Pacer,
    StreamInterrupted,
    TokenEvent,
    TransportError,
    VqdUpdate,
    providers,
)

TLS = Path(__file__).parent / "data" / "tls"

pytestmark = pytest.mark.anyio


def _session(base_url: str, provider: str = "ddg") -> ChatSession:
    return providers.get(provider).new_session(base_url=base_url, pacer=Pacer(0))


def _text(events: list[Event]) -> str:
    return "".join(event.text for event in events if isinstance(event, TokenEvent))


async def _pipe(source: ByteStream, target: ByteStream) -> None:
    try:
        async for data in source:
            await target.send(data)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass


async def _splice(a: ByteStream, b: ByteStream) -> None:
    """Copy both ways until one side is done, then close both."""
    async with a, b, anyio.create_task_group() as group:

        async def one_way(source: ByteStream, target: ByteStream) -> None:
            await _pipe(source, target)
            group.cancel_scope.cancel()

        group.start_soon(one_way, a, b)
        group.start_soon(one_way, b, a)


@dataclass
class Proxy:
    """What the test proxy saw."""

    url: str = ""
    tunnels: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)


async def _proxy_handler(stats: Proxy, client: ByteStream) -> None:
    head = b""
    while b"\r\n\r\n" not in head:
        try:
            head += await client.receive()
        except anyio.EndOfStream:
            await client.aclose()
            return
    head, _, rest = head.partition(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = request_line.split(" ")
    if method == "CONNECT":
        stats.tunnels.append(target)
        host, _, port = target.rpartition(":")
        upstream = await anyio.connect_tcp(host, int(port))
        await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
    else:
        stats.forwarded.append(f"{method} {target}")
        url = urlsplit(target)
        upstream = await anyio.connect_tcp(url.hostname or "", url.port or 80)
        path = url.path + (f"?{url.query}" if url.query else "")
        kept = [line for line in lines if not line.lower().startswith(("connection:", "proxy-"))]
        rewritten = "\r\n".join([f"{method} {path} {version}", *kept, "connection: close"])
        await upstream.send(rewritten.encode("latin-1") + b"\r\n\r\n")
    if rest:
        await upstream.send(rest)
    await _splice(client, upstream)


@asynccontextmanager
async def _serve(
    handler: Callable[[Any], Awaitable[None]], tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(SocketAttribute.local_port)
    served: Listener[Any] = (
        TLSListener(listener, tls, standard_compatible=False) if tls else listener
    )
    async with served, anyio.create_task_group() as group:
        group.start_soon(served.serve, handler)
        yield port
        group.cancel_scope.cancel()


@asynccontextmanager
async def http_proxy() -> AsyncIterator[Proxy]:
    stats = Proxy()

    async def handle(client: ByteStream) -> None:
        await _proxy_handler(stats, client)

    async with _serve(handle) as port:
        stats.url = f"http://127.0.0.1:{port}"
        yield stats


@asynccontextmanager
async def tls_front(emulator: EmulatorHandle) -> AsyncIterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    address = urlsplit(emulator.base_url)

    async def handle(client: ByteStream) -> None:
        upstream = await anyio.connect_tcp(address.hostname or "", address.port or 80)
        await _splice(client, upstream)

    async with _serve(handle, context) as port:
        yield f"https://127.0.0.1:{port}"


class CountingConnector:
    """Opens real TCP connections and counts them."""

    def __init__(self) -> None:
        self.opened = 0

    async def __call__(self, host: str, port: int) -> ByteStream:
        self.opened += 1
        return await anyio.connect_tcp(host, port)


async def _turn(session: ChatSession, prompt: str, **options: object) -> list[Event]:
    events = h11_driver.aiter_turn(session, prompt, **options)  # type: ignore[arg-type]
    return [event async for event in events]


async def test_h11_turns_over_tcp_reuse_one_connection(emulator: EmulatorHandle) -> None:
    connect = CountingConnector()
    session = _session(emulator.base_url)
    first = await _turn(session, "hello", connect=connect)
    assert _text(first) == emulator.expected_reply("hello")
    assert first[-1] == Finished(reason="stop")
    assert connect.opened == 1  # status, page and chat on one kept-alive connection
    # No dialect given: the status reply names the era (discovery), then its page and chat.
    assert [e.endpoint for e in emulator.control.exchanges] == ["status", "page", "ddg"]
    second = await _turn(session, "again", connect=connect)
    assert _text(second) == emulator.expected_reply("again")
    assert any(isinstance(event, VqdUpdate) for event in first)
    assert len(session.conversation.messages) == 4


async def test_h11_over_an_in_memory_stream(emulator: EmulatorHandle) -> None:
    address = urlsplit(emulator.base_url)
    async with anyio.create_task_group() as group:

        async def connect(host: str, port: int) -> ByteStream:
            assert (host, port) == (address.hostname, address.port)
            ours, theirs = MemoryByteStream.pair()
            upstream = await anyio.connect_tcp(host, port)
            group.start_soon(_splice, theirs, upstream)
            return ours

        events = await _turn(_session(emulator.base_url), "hello", connect=connect)
    assert _text(events) == emulator.expected_reply("hello")


async def test_h11_darkai_turn(emulator: EmulatorHandle) -> None:
    events = await _turn(_session(emulator.base_url, "darkai"), "hello")
    assert _text(events) == emulator.expected_reply("hello")


@pytest.mark.parametrize(
    ("fault", "error"), [("cut", StreamInterrupted), ("reset", TransportError)]
)
async def test_h11_faults_are_typed_errors(
    emulator: EmulatorHandle, fault: str, error: type[Exception]
) -> None:
    session = _session(emulator.base_url)
    await _turn(session, "warm up")
    before = session.conversation
    emulator.fault(fault)
    with anyio.fail_after(10), pytest.raises(error) as caught:
        await _turn(session, "hello")
    assert caught.value.partial_text  # type: ignore[attr-defined]
    assert session.conversation == before


async def test_h11_through_a_connect_proxy(emulator: EmulatorHandle) -> None:
    async with http_proxy() as proxy:
        events = await _turn(_session(emulator.base_url), "hello", proxy=proxy.url)
    assert _text(events) == emulator.expected_reply("hello")
    assert proxy.tunnels == [urlsplit(emulator.base_url).netloc]


async def test_h11_https_through_a_connect_proxy(emulator: EmulatorHandle) -> None:
    async with tls_front(emulator) as base_url, http_proxy() as proxy:
        session = _session(base_url)
        verify = str(TLS / "ca.pem")
        events = await _turn(session, "hello", proxy=proxy.url, verify=verify)
    assert _text(events) == emulator.expected_reply("hello")
    assert proxy.tunnels == [urlsplit(base_url).netloc]


async def test_h11_refuses_an_untrusted_certificate(emulator: EmulatorHandle) -> None:
    async with tls_front(emulator) as base_url:
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            await _turn(_session(base_url), "hello", timeouts=Timeouts(connect=5))


async def test_httpx_client_through_a_proxy(emulator: EmulatorHandle) -> None:
    async with http_proxy() as proxy:
        options = {"base_url": emulator.base_url, "min_interval": 0, "proxy": proxy.url}
        async with AsyncChatClient(**options) as client:  # type: ignore[arg-type]
            assert await client.ask("hello") == emulator.expected_reply("hello")
    assert [line.split(" ")[0] for line in proxy.forwarded] == ["GET", "GET", "POST"]
    assert proxy.forwarded[-1] == f"POST {emulator.base_url}/duckchat/v1/chat"


async def test_httpx_client_over_tls(emulator: EmulatorHandle) -> None:
    async with tls_front(emulator) as base_url:
        verify = str(TLS / "ca.pem")
        async with AsyncChatClient(base_url=base_url, min_interval=0, verify=verify) as client:
            assert await client.ask("hello") == emulator.expected_reply("hello")
        async with AsyncChatClient(base_url=base_url, min_interval=0) as strict:
            with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
                await strict.ask("hello")
