"""The served emulator in dialect ``2026`` against real Chromium: the page's own frontend.

The real emulator app is served on loopback; a thin test wrapper only appends a runner
script to its ``/`` page and takes the results at ``/__results``. Chromium loads the page
and, as the duck.ai frontend does, fetches a status challenge, solves it with the page's own
hook (``window.__sansioSolve``), hashes the values and builds the proof in the page
(``crypto.subtle``), generates a real RSA-OAEP key, and posts chat with its own browser
headers; the next turn answers the challenge chained on the reply. Every challenge is first
answered by an altered twin (one client value changed), which must be refused.

Fresh seeds every run; a failure prints the seed, ``SANSIO_CHAT_2026_SEED=N`` replays it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import tempfile
import threading
from collections.abc import MutableMapping
from typing import Any

import pytest
from sansio_chat.adapters.emulator import EmulatorApp
from sansio_chat.adapters.serving import Receive, Scope, Send, serve_in_thread

from browser import CLEAN_BROWSER_FLAGS, BrowserError, require_chromium
from sansio_chat.emulator import EmulatorConfig, expected_reply

pytestmark = pytest.mark.browser

CONVERSATIONS = 12
TURNS = 2  # 24 fresh challenges per run, each with an altered twin
_FLAGS = CLEAN_BROWSER_FLAGS

_RUNNER = """
<script>
(function () {
  var CONVERSATIONS = %(conversations)d, TURNS = %(turns)d;
  var encoder = new TextEncoder();
  function b64(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text);
  }
  async function sha(text) {
    return b64(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
  }
  async function proof(value, ms, alter) {
    var hashes = [];
    for (var i = 0; i < value.client_hashes.length; i++) {
      var text = String(value.client_hashes[i]);
      if (alter && i === 1) { text = text + "0"; }
      hashes.push(await sha(text));
    }
    var meta = Object.assign({}, value.meta, {
      origin: location.origin, stack: new Error().stack || "Error", duration: String(Math.round(ms))
    });
    return btoa(JSON.stringify({server_hashes: value.server_hashes, client_hashes: hashes,
                                signals: value.signals, meta: meta}));
  }
  function hex(count) {
    var bytes = crypto.getRandomValues(new Uint8Array(count)), out = "";
    for (var i = 0; i < bytes.length; i++) { out += bytes[i].toString(16).padStart(2, "0"); }
    return out;
  }
  function signals() {
    var log = {start: Date.now() - 3000, events: [
      {name: "startNewChat_free", delta: 397}, {name: "action", delta: 2147, trusted: true}
    ], end: 2600};
    return btoa(JSON.stringify(log));
  }
  async function post(headers, body) {
    var response = await fetch("/duckchat/v1/chat", {
      method: "POST", body: JSON.stringify(body), headers: headers
    });
    return {status: response.status, next: response.headers.get("x-vqd-hash-1"),
            text: await response.text()};
  }
  async function conversation(index) {
    var pair = await crypto.subtle.generateKey({name: "RSA-OAEP", modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256"}, true, ["encrypt", "decrypt"]);
    var jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    var html = document.documentElement;
    var version = html.dataset.versionTag + "-" + html.dataset.versionSha;
    var status = await fetch("/duckchat/v1/status", {headers: {"x-vqd-accept": "1"}});
    var challenge = status.headers.get("x-vqd-hash-1");
    var messages = [], turns = [], conversationId = crypto.randomUUID();
    for (var t = 0; t < TURNS; t++) {
      var started = performance.now();
      var value = JSON.parse(await window.__sansioSolve(challenge));
      var ms = performance.now() - started;
      var prompt = "question " + index + "." + t;
      messages.push({role: "user", content: prompt});
      var body = {model: "gpt-5.4-mini", metadata: {toolChoice: {NewsSearch: false,
        VideosSearch: false, LocalSearch: false, WeatherForecast: false}},
        messages: messages, canUseTools: true, reasoningEffort: "none",
        canUseApproxLocation: null, canDelegateImageGeneration: null,
        durableStream: {messageId: crypto.randomUUID(), conversationId: conversationId,
                        publicKey: jwk}};
      var headers = {"accept": "text/event-stream", "content-type": "application/json",
        "x-fe-version": version, "x-ddg-journey-id": hex(16), "x-fe-signals": signals()};
      headers["x-vqd-hash-1"] = await proof(value, ms, true);
      var twin = await post(headers, body);
      headers["x-vqd-hash-1"] = await proof(value, ms, false);
      var reply = await post(headers, body);
      turns.push({prompt: prompt, twin: twin.status, status: reply.status, text: reply.text,
                  chained: reply.next !== null && reply.next !== challenge});
      messages.push({role: "assistant", content: "ok"});
      challenge = reply.next;
      if (reply.status !== 200 || challenge === null) { break; }
    }
    return turns;
  }
  window.addEventListener("load", async function () {
    var out;
    try {
      out = [];
      for (var c = 0; c < CONVERSATIONS; c++) { out.push(await conversation(c)); }
    } catch (err) {
      out = {fatal: String(err && err.stack || err)};
    }
    await fetch("/__results", {method: "POST", body: JSON.stringify(out)});
  });
})();
</script>
"""


class _WithRunner:
    """The real emulator app; ``GET /`` gets the runner appended, ``/__results`` is ours."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.results: Any = None
        self.done = threading.Event()
        self.runner = _RUNNER % {"conversations": CONVERSATIONS, "turns": TURNS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in ("/", "/__results"):
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/__results":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            self.results = json.loads(body)
            self.done.set()
            await _reply(send, 200, b"{}", b"application/json")
            return
        sent: list[MutableMapping[str, Any]] = []

        async def capture(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, capture)
        page = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        assert sent[0]["status"] == 200, page
        page = page.replace(b"</body>", self.runner.encode() + b"</body>", 1)
        await _reply(send, 200, page, b"text/html; charset=utf-8")


async def _reply(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _seed() -> int:
    fixed = os.environ.get("SANSIO_CHAT_2026_SEED")
    return int(fixed) if fixed else random.SystemRandom().randrange(2**32)


def _reply_text(stream: str) -> str:
    pieces = []
    for event in stream.split("\n\n"):
        data = event.removeprefix("data: ")
        if data.startswith("{"):
            pieces.append(json.loads(data)["message"])
    return "".join(pieces)


def test_chromium_on_the_emulators_page_passes_every_fresh_challenge() -> None:
    chromium = require_chromium()
    seed = _seed()
    app = EmulatorApp(EmulatorConfig(dialect="2026", seed=seed, reply_tokens=4))
    wrapped = _WithRunner(app)
    with serve_in_thread(wrapped) as server, tempfile.TemporaryDirectory() as profile:
        argv = [chromium, *_FLAGS, f"--user-data-dir={profile}", server.base_url + "/"]
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            finished = wrapped.done.wait(90)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, err = proc.communicate(timeout=30)
        if not finished:
            tail = err.decode("utf-8", "replace")[-2000:]
            raise BrowserError(f"seed {seed}: chromium gave no results: {tail}")
        statuses = [x.status for x in app.control.requests_to("status")]
    results = wrapped.results
    assert isinstance(results, list), f"seed {seed}: {results!r:.2000}"
    turns = [turn for conversation in results for turn in conversation]
    assert len(turns) == CONVERSATIONS * TURNS, f"seed {seed}: {turns!r:.3000}"
    for turn in turns:
        assert turn["twin"] == 418, f"seed {seed}: an altered proof passed: {turn}"
        assert turn["status"] == 200, f"seed {seed}: {turn}"
        assert turn["chained"], f"seed {seed}: no fresh challenge on the reply"
        assert _reply_text(turn["text"]) == expected_reply(seed, turn["prompt"], 4)
    # One status request per conversation: every later turn answered the chained challenge.
    assert statuses == [200] * CONVERSATIONS
    print(f"seed {seed}: {len(turns)} challenges solved by chromium on the emulator's page")
