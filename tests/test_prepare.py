"""Issue 16, target 3: ``prepare()`` loads the page ahead of the first turn, as a browser
loads duck.ai before the first message is typed, so the first turn is the status call and the
chat request. Both clients, both async backends, the eras with an fe-version, over loopback
sockets against the emulator; and what it does when there is nothing to load or it fails."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
import httpx
import pytest
from sansio_chat.adapters.httpx import AsyncChatClient, ChatClient

from fixtures_emulator import EmulatorHandle
from sansio_chat import (
    Backoff,
    Finished,
    HttpRequest,
    HTTPStatusError,
    Limits,
    LocalProtocolError,
    ModelNotSupportedError,
    RemoteProtocolError,
    TurnComplete,
    providers,
)
from sansio_chat.emulator import EmulatorConfig
from sansio_chat.providers.ddg import DuckDuckGoState, MissingMarkerError
from sansio_chat.providers.ddg.eras import DialectMismatchError

ERAS = ("2025-03", "2026")


def config(dialect: str) -> EmulatorConfig:
    return EmulatorConfig(dialect=dialect, seed=5, reply_tokens=3)


def asked(emulator: EmulatorHandle, start: int) -> list[tuple[str, int]]:
    """The (endpoint, status) of each request answered after the first ``start``."""
    return [(e.endpoint, e.status) for e in emulator.control.exchanges[start:]]


def seen(emulator: EmulatorHandle) -> int:
    return len(emulator.control.exchanges)


@pytest.mark.anyio
@pytest.mark.parametrize("emulator_config", [config(d) for d in ERAS], ids=ERAS, indirect=True)
async def test_async_prepare_loads_the_page_and_the_first_turn_skips_it(
    emulator: EmulatorHandle,
) -> None:
    era = emulator.control.config.dialect
    client = AsyncChatClient("ddg", base_url=emulator.base_url, min_interval=0, dialect=era)
    async with client:
        start = seen(emulator)
        assert await client.prepare() is True
        assert asked(emulator, start) == [("page", 200)]
        assert client.conversation.messages == ()
        assert DuckDuckGoState.of(client.conversation).fe_version == emulator.control.fe_version
        start = seen(emulator)
        assert await client.prepare() is False  # held now: nothing to load, nothing asked
        assert await client.ask("one") == emulator.expected_reply("one")
        assert asked(emulator, start) == [("status", 200), ("ddg", 200)]
        # The client's later conversations share it, as after a turn that read the page.
        client.new_conversation()
        assert await client.prepare() is False
        assert await client.ask("two") == emulator.expected_reply("two")


@pytest.mark.parametrize("emulator_config", [config(d) for d in ERAS], ids=ERAS, indirect=True)
def test_sync_prepare_loads_the_page_and_the_first_turn_skips_it(
    emulator: EmulatorHandle,
) -> None:
    era = emulator.control.config.dialect
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0, dialect=era) as client:
        start = seen(emulator)
        assert client.prepare() is True
        assert asked(emulator, start) == [("page", 200)]
        start = seen(emulator)
        assert client.ask("one") == emulator.expected_reply("one")
        assert asked(emulator, start) == [("status", 200), ("ddg", 200)]


@pytest.mark.parametrize(
    ("provider", "dialect"),
    [("darkai", None), ("ddg", "2024")],
    ids=["darkai", "2024"],
)
def test_prepare_loads_nothing_where_nothing_is_needed(
    emulator: EmulatorHandle, provider: str, dialect: str | None
) -> None:
    era = dialect if provider == "ddg" else None
    with ChatClient(provider, base_url=emulator.base_url, min_interval=0, dialect=era) as client:
        start = seen(emulator)
        assert client.prepare() is False
        assert asked(emulator, start) == []


ALL_ERAS = ("2024", "2025-03", "2026")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "emulator_config", [config(d) for d in ALL_ERAS], ids=ALL_ERAS, indirect=True
)
async def test_a_discovering_client_learns_the_era_then_loads_its_page(
    emulator: EmulatorHandle,
) -> None:
    era = emulator.control.config.dialect
    async with AsyncChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        start = seen(emulator)
        assert await client.prepare() is True
        pages = [] if era == "2024" else [("page", 200)]
        assert asked(emulator, start) == [("status", 200), *pages]
        state = DuckDuckGoState.of(client.conversation)
        assert (state.dialect, client.conversation.messages) == (era, ())
        assert state.fe_version == ("" if era == "2024" else emulator.control.fe_version)
        # The status reply's token is not kept: the first turn asks for its own.
        start = seen(emulator)
        assert await client.ask("one") == emulator.expected_reply("one")
        assert asked(emulator, start) == [("status", 200), ("ddg", 200)]
        # A later conversation of the client holds the fe-version: nothing to load, and its
        # first turn discovers the era with its own status call, as before.
        client.new_conversation()
        start = seen(emulator)
        assert await client.prepare() is (era == "2024")
        assert await client.ask("two") == emulator.expected_reply("two")
        status_calls = 2 if era == "2024" else 1
        assert asked(emulator, start) == [("status", 200)] * status_calls + [("ddg", 200)]


@pytest.mark.parametrize("emulator_config", [config("2026")], indirect=True)
def test_a_refused_status_call_while_discovering_changes_nothing(
    emulator: EmulatorHandle,
) -> None:
    emulator.fault("http:418@status")
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        before = client.conversation
        with pytest.raises(HTTPStatusError) as raised:
            client.prepare()
        assert raised.value.status == 418
        assert client.conversation == before
        emulator.control.clear_faults()
        start = seen(emulator)
        assert client.ask("one") == emulator.expected_reply("one")
        assert [endpoint for endpoint, _ in asked(emulator, start)] == ["status", "page", "ddg"]


@pytest.mark.parametrize("emulator_config", [config("2025-03")], indirect=True)
def test_a_discovering_preparation_names_no_model_the_era_refuses(
    emulator: EmulatorHandle,
) -> None:
    client = ChatClient("ddg", base_url=emulator.base_url, min_interval=0, model="no-such-model")
    with client, pytest.raises(ModelNotSupportedError):
        client.prepare()
    assert client.conversation.messages == ()
    assert DuckDuckGoState.of(client.conversation).dialect == ""


@pytest.mark.anyio
async def test_a_refused_page_is_a_turn_s_error_and_changes_nothing(
    emulator: EmulatorHandle,
) -> None:
    emulator.fault("http:503@page")
    client = AsyncChatClient("ddg", base_url=emulator.base_url, min_interval=0, dialect="2025-03")
    async with client:
        before = client.conversation
        with pytest.raises(HTTPStatusError) as raised:
            await client.prepare()
        assert raised.value.status == 503
        assert client.conversation == before
        start = seen(emulator)
        assert await client.ask("one") == emulator.expected_reply("one")  # reads the page itself
        assert asked(emulator, start) == [("page", 200), ("status", 200), ("ddg", 200)]


def test_a_busy_page_is_retried_as_in_a_turn(emulator: EmulatorHandle) -> None:
    emulator.fault("429x2@page")
    with ChatClient(
        "ddg",
        base_url=emulator.base_url,
        min_interval=0,
        dialect="2025-03",
        backoff=Backoff(base_delay=0.01, max_wait=1),  # the default waits seconds
    ) as client:
        start = seen(emulator)
        assert client.prepare() is True
        assert asked(emulator, start) == [("page", 429), ("page", 429), ("page", 200)]


@pytest.mark.parametrize(
    "emulator_config", [EmulatorConfig(dialect="2025-03", seed=5)], indirect=True
)
def test_prepare_names_the_era_of_a_page_of_another_era(emulator: EmulatorHandle) -> None:
    with ChatClient("ddg", base_url=emulator.base_url, min_interval=0, dialect="2026") as client:
        with pytest.raises(DialectMismatchError) as raised:
            client.prepare()
        assert (raised.value.expected, raised.value.served) == ("2026", "2025-03")
        assert client.conversation.messages == ()
        assert emulator.control.requests_to("ddg") == []


def test_a_session_prepares_between_turns_only_and_commits_no_message(
    emulator: EmulatorHandle,
) -> None:
    session = providers.get("ddg").new_session(base_url=emulator.base_url, dialect="2025-03")
    session.start_turn("one")
    with pytest.raises(LocalProtocolError):
        session.start_preparation()  # mid-turn: refused, nothing changes
    session.abort_turn()
    assert session.start_preparation() is True
    step = session.next_step()
    assert isinstance(step, HttpRequest)
    reply = httpx.request(step.method, step.url, headers=list(step.headers), content=step.body)
    session.receive_response_head(reply.status_code, list(reply.headers.raw))
    session.receive_data(reply.content)
    session.receive_eof()
    assert [type(event) for event in session.events()] == [Finished]
    assert isinstance(session.next_step(), TurnComplete)
    assert session.conversation.messages == ()
    assert DuckDuckGoState.of(session.conversation).fe_version == emulator.control.fe_version
    assert session.start_preparation() is False  # held now


# A 2025-03 status reply's head: a token and a challenge (what names that era).
SEED_STATUS = [(b"x-vqd-4", b"4-1"), (b"x-vqd-hash-1", b"ZmFrZQ==")]


def _prepare_by_hand(
    status: int, body: bytes, chunk: int = 65_536, dialect: str | None = "2025-03"
) -> Any:
    """A session's preparation fed its page by hand (a discovering one, ``dialect=None``,
    first gets a 2025-03 status reply); the session."""
    session = providers.get("ddg").new_session(
        base_url="http://127.0.0.1:9", dialect=dialect, limits=Limits(max_page_bytes=1024)
    )
    assert session.start_preparation() is True
    if dialect is None:
        assert isinstance(session.next_step(), HttpRequest)
        session.receive_response_head(200, SEED_STATUS)
        session.receive_eof()
        list(session.events())
    assert isinstance(session.next_step(), HttpRequest)
    session.receive_response_head(status, [(b"content-type", b"text/html")])
    for start in range(0, len(body), chunk):
        session.receive_data(body[start : start + chunk])
    session.receive_eof()
    return session


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        # Endless (a page past the limit is not read further), or with no markers at all.
        (b"<html>" + b"x" * 10_000_000, RemoteProtocolError, "exceeds Limits.max_page_bytes"),
        (b"\xff\xfe\x00" * 300, MissingMarkerError, "__DDG_BE_VERSION__"),
        ("<html>é🙂 window.__DDG_BE_VERSION__=</html>".encode(), MissingMarkerError, "__DDG_BE"),
    ],
    ids=["huge", "binary", "non-ascii-without-markers"],
)
@pytest.mark.parametrize("dialect", ["2025-03", None], ids=["pinned", "discovering"])
def test_a_hostile_page_is_a_typed_error_and_commits_nothing(
    body: bytes, error: type[Exception], words: str, dialect: str | None
) -> None:
    session = _prepare_by_hand(200, body, dialect=dialect)
    before = session.conversation
    with pytest.raises(error, match=re.escape(words)):
        list(session.events())
    assert session.conversation == before
    state = DuckDuckGoState.of(session.conversation)
    assert (state.fe_version, state.dialect) == ("", "")


def test_a_status_reply_naming_no_era_while_discovering_is_a_typed_error() -> None:
    session = providers.get("ddg").new_session(base_url="http://127.0.0.1:9")
    before = session.conversation
    assert session.start_preparation() is True
    assert isinstance(session.next_step(), HttpRequest)
    session.receive_response_head(200, [(b"x-other", b"x")])
    session.receive_eof()
    with pytest.raises(RemoteProtocolError, match="fits no known DuckDuckGo era"):
        list(session.events())
    assert session.conversation == before


@pytest.mark.parametrize(
    "token",
    [b"4-" + b"9" * 100_000, "4-\u00e9\u0000".encode()],
    ids=["huge", "non-ascii"],
)
@pytest.mark.parametrize("challenge", [b"", b"QQ==" * 30_000], ids=["2024", "2025-03"])
def test_a_discovering_preparation_keeps_nothing_of_the_status_reply_but_its_era(
    token: bytes, challenge: bytes
) -> None:
    # The token and challenge are the first turn's to ask for again: a hostile one is never
    # stored, solved or sent.
    session = providers.get("ddg").new_session(base_url="http://127.0.0.1:9")
    assert session.start_preparation() is True
    assert isinstance(session.next_step(), HttpRequest)
    headers = [(b"x-vqd-4", token)] + ([(b"x-vqd-hash-1", challenge)] if challenge else [])
    session.receive_response_head(200, headers)
    session.receive_eof()
    list(session.events())
    if challenge:  # 2025-03: its page next, then nothing more
        page = session.next_step()
        assert isinstance(page, HttpRequest)
        assert token.decode("latin-1") not in str(page.headers)
        session.receive_response_head(200, [(b"content-type", b"text/html")])
        session.receive_data(
            b'<script>__DDG_BE_VERSION__="serp_1";__DDG_FE_CHAT_HASH__="ab";</script>'
        )
        session.receive_eof()
        list(session.events())
    assert isinstance(session.next_step(), TurnComplete)
    saved = session.conversation.to_json()
    assert DuckDuckGoState.of(session.conversation).dialect == ("2025-03" if challenge else "2024")
    assert "9999" not in saved
    assert "QQ==" not in saved


@pytest.mark.anyio
@pytest.mark.parametrize("emulator_config", [config("2026")], indirect=True)
async def test_a_second_prepare_abandons_the_first_and_says_so(
    emulator: EmulatorHandle,
) -> None:
    emulator.fault("stall:1:head@page")
    async with AsyncChatClient("ddg", base_url=emulator.base_url, min_interval=0) as client:
        outcomes: list[object] = []

        async def prepare() -> None:
            try:
                outcomes.append(await client.prepare())
            except LocalProtocolError as error:
                outcomes.append(str(error))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(prepare)
            while not [e for e in emulator.control.exchanges if e.endpoint == "page"]:
                await anyio.sleep(0.01)
            tasks.start_soon(prepare)
        assert sorted(map(str, outcomes)) == [
            "True",
            "abandoned: a newer turn or prepare() started on this client before this one ended",
        ]
        assert await client.ask("one") == emulator.expected_reply("one")
        assert [e.endpoint for e in emulator.control.exchanges][-2:] == ["status", "ddg"]


def _drive_by_hand(session: Any, http: httpx.Client) -> None:
    """Run the session's current turn or preparation to its end over ``http``, raising its
    error (a driver in a few lines; pacing waits are skipped)."""
    while True:
        step = session.next_step()
        if isinstance(step, TurnComplete):
            return
        if not isinstance(step, HttpRequest):
            continue  # a Sleep
        with http.stream(step.method, step.url, headers=list(step.headers), content=step.body) as r:
            session.receive_response_head(r.status_code, list(r.headers.raw))
            list(session.events())
            for chunk in r.iter_raw():
                session.receive_data(chunk)
                list(session.events())
        session.receive_eof()
        list(session.events())


@pytest.mark.parametrize("emulator_config", [config("2025-03")], indirect=True)
@pytest.mark.parametrize("first", ["preparation", "turn"])
def test_an_era_learnt_by_a_failed_exchange_is_learnt_again(
    emulator: EmulatorHandle, first: str
) -> None:
    # The era came with a model resolved for it, which the failed preparation (or turn)
    # took away: the session's next turn must not speak the era with today's default model.
    session = providers.get("ddg").new_session(
        base_url=emulator.base_url, backoff=Backoff(max_retries=0)
    )
    emulator.fault("http:403@page")
    with httpx.Client() as http:
        if first == "turn":
            session.start_turn("lost")
        else:
            assert session.start_preparation() is True
        with pytest.raises(HTTPStatusError):
            _drive_by_hand(session, http)
        assert DuckDuckGoState.of(session.conversation).dialect == ""
        start = seen(emulator)
        session.start_turn("hello")
        _drive_by_hand(session, http)
    assert [endpoint for endpoint, _ in asked(emulator, start)] == ["status", "page", "ddg"]
    chat = emulator.control.requests_to("ddg")[-1]
    assert json.loads(chat.request.body)["model"] == "gpt-4o-mini"  # the era's default
    assert session.conversation.messages[-1].content == emulator.expected_reply("hello")
