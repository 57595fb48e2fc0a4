"""Browser truth for the ``2026`` page: serve a page over loopback HTTP and solve in chromium.

``tests/browser.py`` evaluates code on a ``file://`` page; a ``2026`` challenge must run on
the emulator's own page instead, at an ``http://127.0.0.1:PORT`` origin, inside its ``#jsa``
iframe. One chromium process solves a whole batch:

1. chromium loads ``GET /``: the page under test, with a small runner script appended;
2. the runner posts the browser's identity (``navigator.userAgent``, ``userAgentData``) to
   ``POST /identity``; the test builds its challenges for that identity and answers with their
   headers;
3. the runner solves each through the page's hook (``window.__sansioSolve``) and posts the
   results to ``POST /results``; the test then kills chromium.

Every wait is bounded, and chromium's whole process group is killed at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from browser import CLEAN_BROWSER_FLAGS, BrowserError

__all__ = ["BrowserIdentity", "SolveOutcome", "solve_in_chromium"]

_FLAGS = CLEAN_BROWSER_FLAGS
_MAX_BODY = 64 * 1024 * 1024

_RUNNER = """
<script>
(function () {
  function post(path, value) {
    return fetch(path, {method: "POST", body: JSON.stringify(value)});
  }
  window.addEventListener("load", function () {
    var data = navigator.userAgentData;
    var identity = {
      user_agent: navigator.userAgent,
      brands: data ? data.brands.map(function (b) { return [b.brand, b.version]; }) : null,
      mobile: data ? data.mobile : false,
      platform: data ? data.platform : ""
    };
    post("/identity", identity).then(function (r) {
      return r.json();
    }).then(async function (headers) {
      var out = [];
      for (var i = 0; i < headers.length; i++) {
        try {
          out.push({ok: await window.HOOK(headers[i])});
        } catch (err) {
          out.push({error: String(err && err.stack || err)});
        }
      }
      await post("/results", out);
    }).catch(function (err) { post("/results", {fatal: String(err && err.stack || err)}); });
  });
})();
</script>
"""


@dataclass(frozen=True, slots=True)
class BrowserIdentity:
    """What the browser reported about itself (from the top page)."""

    user_agent: str
    brands: tuple[tuple[str, str], ...] | None
    mobile: bool
    platform: str


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    """One challenge's outcome: the JSON value it resolved to, or the error text."""

    value: Any
    error: str | None


class _State:
    def __init__(self, page: str, make_batch: Callable[[str, BrowserIdentity], list[str]]) -> None:
        self.page = page
        self.make_batch = make_batch
        self.origin = ""
        self.results: Any = None
        self.failure: str | None = None
        self.done = threading.Event()


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.send_header("cache-control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/":
                self._send(200, state.page.encode("utf-8"), "text/html; charset=utf-8")
            else:
                self._send(404, b"", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > _MAX_BODY:
                self._send(413, b"", "text/plain")
                return
            body = json.loads(self.rfile.read(length) or b"null")
            try:
                if self.path == "/identity":
                    brands = body.get("brands")
                    identity = BrowserIdentity(
                        user_agent=str(body["user_agent"]),
                        brands=None
                        if brands is None
                        else tuple((str(b), str(v)) for b, v in brands),
                        mobile=bool(body["mobile"]),
                        platform=str(body["platform"]),
                    )
                    headers = state.make_batch(state.origin, identity)
                    self._send(200, json.dumps(headers).encode(), "application/json")
                elif self.path == "/results":
                    state.results = body
                    self._send(200, b"{}", "application/json")
                    state.done.set()
                else:
                    self._send(404, b"", "text/plain")
            except Exception as exc:  # reported to the test, never swallowed
                state.failure = f"{type(exc).__name__}: {exc}"
                self._send(500, b"", "text/plain")
                state.done.set()

    return Handler


def solve_in_chromium(
    chromium: str,
    page_html: str,
    make_batch: Callable[[str, BrowserIdentity], list[str]],
    *,
    hook: str = "__sansioSolve",
    user_agent: str | None = None,
    extra_flags: Sequence[str] = (),
    timeout: float = 50.0,
) -> list[SolveOutcome]:
    """Serve ``page_html`` at a loopback origin and solve ``make_batch(origin, identity)``.

    ``make_batch`` receives the page's origin (``http://127.0.0.1:PORT``) and the browser's
    identity, and returns the challenge headers to solve, in order.
    """
    page = page_html.replace("</body>", _RUNNER.replace("HOOK", hook) + "</body>", 1)
    state = _State(page, make_batch)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="sansio-chat-chromium-") as profile:
            argv = [chromium, *_FLAGS, *extra_flags, f"--user-data-dir={profile}"]
            if user_agent is not None:
                argv.append(f"--user-agent={user_agent}")
            argv.append(state.origin + "/")
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                finished = state.done.wait(timeout)
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, err = proc.communicate(timeout=30)
            if not finished:
                tail = err.decode("utf-8", "replace")[-2000:]
                raise BrowserError(f"chromium gave no results within {timeout} s: {tail}")
    finally:
        server.shutdown()
        server.server_close()
    if state.failure is not None:
        raise BrowserError(f"the test server failed: {state.failure}")
    results = state.results
    if isinstance(results, dict) and "fatal" in results:
        raise BrowserError(f"the runner failed: {results['fatal']}")
    if not isinstance(results, list):
        raise BrowserError(f"malformed results: {results!r:.200}")
    out: list[SolveOutcome] = []
    for item in results:
        if isinstance(item, dict) and "ok" in item:
            out.append(SolveOutcome(json.loads(item["ok"]), None))
        else:
            out.append(
                SolveOutcome(None, str(item.get("error") if isinstance(item, dict) else item))
            )
    return out
