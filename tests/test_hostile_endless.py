"""Issue 13 item 2: a server that streams a reply forever. The clients stop at
``max_reply_chars`` with a typed error, memory stays bounded, nothing is committed."""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Callable

import pytest
from sansio_chat.adapters.httpx import AsyncChatClient, ChatClient

from hostile_server import SSE_HEAD, Conn, HostileServer, sse_forever
from sansio_chat import Limits, RemoteProtocolError

LIMIT = 300_000  # characters; the server sends about 64 KiB per block, forever


def endless(conn: Conn) -> None:
    conn.send(SSE_HEAD)
    conn.stream(sse_forever())


def test_the_default_reply_limit_is_a_few_mebibytes() -> None:
    assert Limits().max_reply_chars == 4 * 1024 * 1024


def test_the_sync_client_stops_an_endless_reply_at_the_limit(
    hostile_server: Callable[[Callable[[Conn], None]], HostileServer],
) -> None:
    server = hostile_server(endless)
    with ChatClient("darkai", base_url=server.url, min_interval=0, max_reply_chars=LIMIT) as chat:
        before = chat.conversation
        tracemalloc.start()
        with pytest.raises(RemoteProtocolError) as info:
            chat.ask("go on forever")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert info.value.limit == LIMIT
        assert info.value.observed is not None
        assert info.value.observed > LIMIT
        assert len(info.value.partial_text) <= LIMIT
        assert info.value.partial_text.startswith("x" * 1000)
        assert chat.conversation == before
    # The reply text (1 byte a char here) at most a few times over, not the endless stream.
    assert peak < 12 * LIMIT


@pytest.mark.anyio
async def test_the_async_client_stops_an_endless_reply_at_the_limit(
    hostile_server: Callable[[Callable[[Conn], None]], HostileServer],
) -> None:
    server = hostile_server(endless)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with AsyncChatClient(
        "darkai", base_url=server.url, min_interval=0, max_reply_chars=LIMIT
    ) as chat:
        before = chat.conversation
        seen: list[int] = []

        async def consume() -> None:
            async with chat.stream("go on forever") as tokens:
                async for token in tokens:
                    seen.append(len(token))

        with pytest.raises(RemoteProtocolError) as info:
            await consume()
        assert info.value.limit == LIMIT
        assert sum(seen) <= LIMIT
        assert chat.conversation == before
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert rss_growth_kib < 64 * 1024  # under 64 MiB, against gigabytes before the limit


@pytest.mark.parametrize("bad", [0, -1, True, "many"])
def test_max_reply_chars_is_checked(bad: object) -> None:
    from sansio_chat import LocalProtocolError

    with pytest.raises(LocalProtocolError):
        ChatClient("darkai", base_url="http://127.0.0.1:9", max_reply_chars=bad)  # type: ignore[arg-type]
