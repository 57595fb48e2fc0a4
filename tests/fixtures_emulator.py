"""Pytest fixtures that run the emulator on 127.0.0.1 (registered in ``conftest.py``).

``emulator``: a running emulator (both services) with ``EmulatorConfig(seed=1234)``::

    def test_something(emulator):
        emulator.base_url                      # "http://127.0.0.1:PORT"
        emulator.control.fault("429x2")        # the next two chat requests get 429
        emulator.control.configure(dialect="2024", reply_tokens=3)
        emulator.expected_reply("hello")       # the text the reply to "hello" streams
        emulator.control.requests_to("status") # what clients sent, endpoint by endpoint

Change its configuration for a module by overriding ``emulator_config``, or per test with
``@pytest.mark.parametrize("emulator_config", [EmulatorConfig(...)], indirect=True)`` (a
dict of config fields works too); serve it from hypercorn's trio worker with
``@pytest.mark.parametrize("emulator_backend", ["trio"], indirect=True)``.
``emulator_factory(**config_fields)`` starts further emulators (stopped after the test).
The server runs in its own thread, so sync tests and ``@pytest.mark.anyio`` tests (asyncio
and trio) can all use it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from sansio_chat.adapters.emulator import EmulatorControl, EmulatorServer
from selectolax.lexbor import LexborHTMLParser

from sansio_chat.emulator import EmulatorConfig

__all__ = [
    "SEC_CH_UA",
    "USER_AGENT",
    "EmulatorHandle",
    "RawResponse",
    "emulator",
    "emulator_backend",
    "emulator_config",
    "emulator_factory",
    "independent_fingerprint",
    "raw_request",
    "solution_header",
]

DEFAULT_SEED = 1234
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/133.0.0.0 Safari/537.36"
)
SEC_CH_UA = '"Chromium";v="133", "Not_A Brand";v="8"'


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorHandle:
    """A running emulator, as the fixtures hand it out.

    Attributes:
        base_url: ``http://127.0.0.1:PORT`` (DuckDuckGo at ``/duckchat/v1/…``, DarkAI at
            ``/chat``).
        control: faults, configuration, the request log.
        server: the server thread (stopped by the fixture).
    """

    base_url: str
    control: EmulatorControl
    server: EmulatorServer

    @property
    def state(self) -> EmulatorControl:
        """Alias of :attr:`control`."""
        return self.control

    @property
    def ddg_base_url(self) -> str:
        """The base URL for the DuckDuckGo provider (same server)."""
        return self.base_url

    @property
    def darkai_base_url(self) -> str:
        """The base URL for the DarkAI provider (same server)."""
        return self.base_url

    def fault(self, *specs: str) -> None:
        """Activate fault switches (see docs/emulator.md), e.g. ``fault("cut:120")``."""
        self.control.fault(*specs)

    def expected_reply(self, prompt: str) -> str:
        """The reply text for ``prompt`` under the current seed and ``reply_tokens``."""
        return self.control.expected_reply(prompt)


def _start(config: EmulatorConfig, backend: str = "asyncio") -> EmulatorHandle:
    server = EmulatorServer(config, backend=backend).start()
    return EmulatorHandle(base_url=server.base_url, control=server.control, server=server)


@pytest.fixture
def emulator_config(request: pytest.FixtureRequest) -> EmulatorConfig:
    """The configuration of the ``emulator`` fixture (``indirect=True`` parametrizes it)."""
    param = getattr(request, "param", None)
    if isinstance(param, EmulatorConfig):
        return param
    if isinstance(param, dict):
        return EmulatorConfig(**{"seed": DEFAULT_SEED, **param})
    return EmulatorConfig(seed=DEFAULT_SEED)


@pytest.fixture
def emulator_backend(request: pytest.FixtureRequest) -> str:
    """The event loop the ``emulator`` fixture's hypercorn runs on (``indirect=True``)."""
    return str(getattr(request, "param", "asyncio"))


@pytest.fixture
def emulator(emulator_config: EmulatorConfig, emulator_backend: str) -> Iterator[EmulatorHandle]:
    """A running emulator of both services on 127.0.0.1."""
    handle = _start(emulator_config, emulator_backend)
    try:
        yield handle
    finally:
        handle.server.stop()


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., EmulatorHandle]]:
    """``emulator_factory(backend="asyncio", **config_fields)`` starts one more emulator."""
    started: list[EmulatorHandle] = []

    def start(backend: str = "asyncio", **fields: Any) -> EmulatorHandle:
        handle = _start(EmulatorConfig(**{"seed": DEFAULT_SEED, **fields}), backend)
        started.append(handle)
        return handle

    try:
        yield start
    finally:
        for handle in started:
            handle.server.stop()


# -- wire helpers, written apart from the emulator's and the client's code -------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RawResponse:
    """A response read off a raw socket, with its chunked framing kept.

    Attributes:
        status: the status code.
        headers: ``(name, value)`` pairs, names lower-case.
        chunks: the body as the server framed it: one item per chunk (= one server write).
        complete: whether the body ended properly (terminating chunk or full length).
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    chunks: tuple[bytes, ...]
    complete: bool

    @property
    def body(self) -> bytes:
        """The body bytes, concatenated."""
        return b"".join(self.chunks)

    def header(self, name: str) -> str | None:
        """The first value of header ``name``, or ``None``."""
        return next((v for k, v in self.headers if k == name.lower()), None)


def _parse_chunked(data: bytes) -> tuple[list[bytes], bool]:
    chunks: list[bytes] = []
    position = 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return chunks, False
        size = int(data[position:line_end].split(b";")[0], 16)
        if size == 0:
            return chunks, True
        start = line_end + 2
        if len(data) < start + size + 2:
            if start < len(data):
                chunks.append(data[start : start + size])
            return chunks, False
        chunks.append(data[start : start + size])
        position = start + size + 2


def serve_command(base_url: str, *extra: str) -> list[str]:
    """``sansio-chat serve`` on a free port against ``base_url``, unpaced, as a child's argv."""
    cli = (sys.executable, "-m", "sansio_chat.adapters.cli")
    return [*cli, "serve", "--port", "0", "--base-url", base_url, "--min-interval", "0", *extra]


def raw_request(
    base_url: str,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    timeout: float = 10.0,
) -> RawResponse:
    """Send one HTTP/1.1 request over a fresh socket and read the reply until the server closes."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}:{port}", "connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"content-length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
    received = bytearray()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    head, _, rest = bytes(received).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    response_headers = tuple(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in header_lines)
    )
    status = int(status_line.split()[1])
    if dict(response_headers).get("transfer-encoding") == "chunked":
        chunks, complete = _parse_chunked(rest)
    else:
        length = int(dict(response_headers).get("content-length", len(rest)))
        chunks, complete = ([rest] if rest else []), len(rest) == length
    return RawResponse(
        status=status, headers=response_headers, chunks=tuple(chunks), complete=complete
    )


_LITERAL = re.compile(r"e\.innerHTML = '((?:[^'\\]|\\[\s\S])*)';")
_OFFSET = re.compile(r"return String\((0x[0-9a-fA-F]+|\d+) \+ e\.innerHTML\.length\)")
_HASHES = re.compile(r"server_hashes: (\[[^\]]*\])")
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unescape(match: re.Match[str]) -> str:
    escape = match.group(1)
    if escape.startswith("u{"):
        return chr(int(escape[2:-1], 16))
    if escape[0] in "ux" and len(escape) > 1:
        return chr(int(escape[1:], 16))
    if escape in ("\n", "\r", "\r\n", "\u2028", "\u2029"):
        return ""  # a line continuation
    return _SIMPLE_ESCAPES.get(escape, escape)


def independent_fingerprint(js_text: str) -> int:
    """``OFFSET + e.innerHTML.length`` for a challenge program, computed without the project.

    Lexbor (selectolax) used directly; it agrees with Chromium on most but not all generated
    snippets, so tests use it only on challenges from fixed seeds where it was checked.
    """
    literal, offset = _LITERAL.search(js_text), _OFFSET.search(js_text)
    assert literal is not None, js_text
    assert offset is not None, js_text
    snippet = _ESCAPE.sub(_unescape, literal.group(1))
    snippet = snippet.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    document = LexborHTMLParser("<!DOCTYPE html><html><head></head><body><div></div></body></html>")
    div = document.css_first("div")
    assert div is not None
    div.inner_html = snippet
    serialized = div.inner_html or ""
    text = offset.group(1)
    number = int(text, 16) if text.startswith("0x") else int(text)
    return number + len(serialized.encode("utf-16-le", "surrogatepass")) // 2


def _sha256_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def solution_header(
    challenge_b64: str,
    fingerprint: int | str,
    *,
    user_agent: str = USER_AGENT,
    sec_ch_ua: str = SEC_CH_UA,
    extra: dict[str, Any] | None = None,
) -> str:
    """The ``x-vqd-hash-1`` answer to a challenge, given its fingerprint."""
    js_text = base64.b64decode(challenge_b64).decode("utf-8")
    hashes = _HASHES.search(js_text)
    assert hashes is not None, js_text
    answer: dict[str, Any] = {
        "server_hashes": json.loads(hashes.group(1)),
        "client_hashes": [_sha256_b64(user_agent + sec_ch_ua), _sha256_b64(str(fingerprint))],
        "signals": {},
        **(extra or {}),
    }
    return base64.b64encode(json.dumps(answer).encode("utf-8")).decode("ascii")
