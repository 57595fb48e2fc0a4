"""Browser truth for tests: run Debian's headless chromium on a generated page.

One chromium process serves a whole batch. The page's script does the work and writes its
results, as pure-ASCII JSON, into a ``<pre>`` element; ``--dump-dom`` prints the document and
the JSON is cut out of it. Every subprocess is bounded by a timeout and its whole process
group is killed when the timeout expires.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CLEAN_BROWSER_FLAGS",
    "BrowserError",
    "browser_eval_challenges",
    "browser_eval_headers",
    "browser_inner_html",
    "chromium_available",
    "chromium_path",
    "chromium_version",
    "require_chromium",
]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CLEAN_BROWSER_FLAGS = (*_FLAGS, "--disable-blink-features=AutomationControlled")
"""Headless Chromium flags for a page that must look like a clean browser's."""
_OUT_ID = "sansio-chat-browser-results"
_START = f'<pre id="{_OUT_ID}">'
_DEFAULT_TIMEOUT = 90.0

# The page's helper: JSON with every character outside printable ASCII, and the three
# characters the serializer would escape in text, written as \uXXXX. The dumped DOM then
# contains the JSON byte for byte. Lone surrogates survive: JSON.stringify escapes them.
_PAGE_PRELUDE = r"""
function sansioChatAscii(value) {
  return JSON.stringify(value).replace(/[^\x20-\x7e]|[<>&]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}
"""


class BrowserError(RuntimeError):
    """Chromium could not be run, timed out, or produced no results."""


def chromium_path() -> str | None:
    """The chromium executable: ``$SANSIO_CHAT_CHROMIUM`` or the first one on ``PATH``."""
    explicit = os.environ.get("SANSIO_CHAT_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_available() -> bool:
    """Whether a chromium executable is installed."""
    return chromium_path() is not None


def require_chromium() -> str:
    """Return the chromium path; skip the test without one (fail under CI's strict mode)."""
    path = chromium_path()
    if path is None:
        message = "chromium is not installed"
        if os.environ.get("SANSIO_CHAT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} and SANSIO_CHAT_REQUIRE_BROWSER=1")
        pytest.skip(message)
    return path


def _run(argv: Sequence[str], timeout: float) -> str:
    """Run a command in its own process group; kill the whole group on timeout."""
    with subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise BrowserError(f"{argv[0]} did not finish within {timeout} s") from None
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace")[-2000:]
        raise BrowserError(f"{argv[0]} exited with status {proc.returncode}: {tail}")
    return out.decode("utf-8", "replace")


def chromium_version(timeout: float = 30.0) -> str:
    """The output of ``chromium --version``, e.g. ``Chromium 156.0.8078.79 built on Debian …``."""
    path = chromium_path()
    if path is None:
        raise BrowserError("chromium is not installed")
    return _run([path, "--version"], timeout).strip()


def _embed(value: object) -> str:
    """A JavaScript expression for ``value`` that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _run_page(data: object, body: str, timeout: float) -> Any:
    """Run ``body`` (JS that reads ``DATA`` and assigns ``RESULT``) in a page; return RESULT."""
    path = chromium_path()
    if path is None:
        raise BrowserError("chromium is not installed")
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>sansio-chat</title></head>'
        f'<body>{_START}</pre><script>\n"use strict";\n{_PAGE_PRELUDE}\n'
        f"const DATA = {_embed(data)};\nlet RESULT = null;\n{body}\n"
        f'document.getElementById("{_OUT_ID}").textContent = sansioChatAscii(RESULT);\n'
        "</script></body></html>\n"
    )
    with tempfile.TemporaryDirectory(prefix="sansio-chat-chromium-") as tmp:
        html = Path(tmp) / "page.html"
        html.write_text(page, encoding="utf-8")
        profile = Path(tmp) / "profile"
        profile.mkdir()
        argv = [path, *_FLAGS, f"--user-data-dir={profile}", "--dump-dom", html.as_uri()]
        dumped = _run(argv, timeout)
    start = dumped.find(_START)
    if start < 0:
        raise BrowserError("chromium's DOM has no result element")
    start += len(_START)
    end = dumped.find("</pre>", start)
    payload = dumped[start:end]
    if not payload:
        raise BrowserError("the page script wrote no result (did it throw?)")
    return json.loads(payload)


def _each_snippet(snippets: list[str], read_back: str, timeout: float) -> list[Any]:
    """``read_back`` (a JavaScript expression of ``e``) after ``e.innerHTML = snippet`` on a
    fresh ``div``, for each snippet, in Chromium."""
    if not snippets:
        return []
    body = f"""
RESULT = DATA.map((snippet) => {{
  const e = document.createElement("div");
  e.innerHTML = snippet;
  return {read_back};
}});
"""
    result = _run_page(list(snippets), body, timeout)
    if not isinstance(result, list) or len(result) != len(snippets):
        raise BrowserError("chromium returned a malformed result list")
    return result


def browser_inner_html(snippets: list[str], *, timeout: float = _DEFAULT_TIMEOUT) -> list[str]:
    """Chromium's ``innerHTML`` after assigning each snippet to a fresh ``div``."""
    return [str(item) for item in _each_snippet(snippets, "e.innerHTML", timeout)]


def browser_elements(snippets: list[str], *, timeout: float = _DEFAULT_TIMEOUT) -> list[list[str]]:
    """The local names of ``div.querySelectorAll('*')`` in Chromium after assigning each
    snippet to a fresh ``div``, in tree order."""
    read_back = 'Array.from(e.querySelectorAll("*"), (element) => element.localName)'
    names = _each_snippet(snippets, read_back, timeout)
    return [[str(name) for name in each] for each in names]


def browser_eval_challenges(
    js_texts: list[str], *, timeout: float = _DEFAULT_TIMEOUT
) -> list[dict[str, Any]]:
    """Evaluate each challenge program in chromium (indirect ``eval``); return its object.

    A program that throws yields ``{"error": message}`` instead.
    """
    if not js_texts:
        return []
    body = """
RESULT = DATA.map((js) => {
  try {
    return (0, eval)(js);
  } catch (err) {
    return {error: String(err)};
  }
});
"""
    result = _run_page(list(js_texts), body, timeout)
    if not isinstance(result, list) or len(result) != len(js_texts):
        raise BrowserError("chromium returned a malformed result list")
    out: list[dict[str, Any]] = []
    for item in result:
        if not isinstance(item, dict):
            raise BrowserError(f"a challenge evaluated to {item!r}, not an object")
        out.append(item)
    return out


def browser_eval_headers(
    headers: list[str], *, timeout: float = _DEFAULT_TIMEOUT
) -> list[dict[str, Any]]:
    """Evaluate each ``x-vqd-hash-1`` header as a page does: ``eval(atob(header))``.

    ``atob`` yields one character per byte (Latin-1), so a program whose base64 carries
    UTF-8 beyond ASCII is evaluated as different text. A program that throws yields
    ``{"error": message}`` instead.
    """
    if not headers:
        return []
    body = """
RESULT = DATA.map((header) => {
  try {
    return (0, eval)(atob(header));
  } catch (err) {
    return {error: String(err)};
  }
});
"""
    result = _run_page(list(headers), body, timeout)
    if not isinstance(result, list) or len(result) != len(headers):
        raise BrowserError("chromium returned a malformed result list")
    out: list[dict[str, Any]] = []
    for item in result:
        if not isinstance(item, dict):
            raise BrowserError(f"a challenge evaluated to {item!r}, not an object")
        out.append(item)
    return out
