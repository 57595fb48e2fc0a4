"""``ChromiumSolver``: challenge scripts in a real headless Chromium, driven by Playwright.

The ground truth for the V8 page model. One browser is launched on first use and kept warm;
every challenge gets a fresh browser context and page. The page is served by request
interception at the page's own origin (no socket is opened), with the identity of the
:class:`~sansio_chat.ChallengePage` set over the DevTools protocol.
"""

from __future__ import annotations

import asyncio
import html
import json
import secrets
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from sansio_chat import ChallengeError, ChallengePage, ChallengeResult, SolveChallenge

from ._base import run_off_loop

__all__ = ["DEFAULT_CHROMIUM", "ChromiumSolver", "navigator_platform"]

DEFAULT_CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium; any other path can be given to :class:`ChromiumSolver`."""

_INSTALL_HINT = 'the Chromium solver needs Playwright: pip install "sansio-chat[chromium]"'
_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-blink-features=AutomationControlled",
)


def navigator_platform(user_agent: str) -> str:
    """``navigator.platform`` a Chromium with this user agent reports (as the page model does)."""
    if "Windows" in user_agent:
        return "Win32"
    if "Macintosh" in user_agent or "Mac OS X" in user_agent:
        return "MacIntel"
    if "Android" in user_agent:
        return "Linux armv81"
    if "Linux" in user_agent or "CrOS" in user_agent:
        return "Linux x86_64"
    return ""


def _page_html(page: ChallengePage) -> str:
    """The duck.ai page: the two globals on top, the off-screen ``#jsa`` iframe with its CSP."""
    frame_doc = (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{html.escape(page.jsa_csp)}"></head><body></body></html>'
    )
    globals_js = (
        f"window.__DDG_BE_VERSION__ = {json.dumps(page.be_version)};"
        f"window.__DDG_FE_CHAT_HASH__ = {json.dumps(page.fe_chat_hash)};"
    ).replace("<", "\\u003c")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>DuckDuckGo AI Chat</title>'
        f"<script>{globals_js}</script></head><body>"
        f'<iframe id="jsa" sandbox="{html.escape(page.jsa_sandbox)}" '
        'style="position:absolute;left:-10000px;top:-10000px" '
        f'srcdoc="{html.escape(frame_doc)}"></iframe></body></html>'
    )


def _inline_script(script: str, slot: str) -> str:
    """The frame's ``<script>`` text: the challenge expression, its value kept in ``slot``."""
    expression = script.rstrip().rstrip(";")
    return (
        f"try {{ window[{json.dumps(slot)}] = {{p: (\n{expression}\n)}}; }}"
        f" catch (e) {{ window[{json.dumps(slot)}] = {{e: String(e && e.stack || e)}}; }}"
    )


# Runs in the #jsa frame (a DevTools evaluation, which the frame's CSP does not cover):
# inserts the inline script as the frontend does, then awaits what it produced.
_RUNNER = """async ([text, slot, limitMs]) => {
  const s = document.createElement("script");
  s.textContent = text;
  document.body.appendChild(s);
  s.remove();
  const box = window[slot];
  delete window[slot];
  if (box === undefined) return {error: "the script does not parse"};
  if ("e" in box) return {error: box.e};
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), limitMs);
  });
  try {
    const value = await Promise.race([box.p, limit]);
    const text = JSON.stringify(value);
    return text === undefined ? {error: "resolved to undefined"} : {ok: text};
  } catch (e) {
    return {error: String(e && e.stack || e)};
  } finally {
    clearTimeout(timer);
  }
}"""


class ChromiumSolver:
    """Evaluates challenge scripts in a headless Chromium on a page matching the challenge.

    Args:
        executable: the Chromium binary (default Debian's ``/usr/bin/chromium``).
        time_limit: seconds one solve may take (the browser launch is not counted).
        launch_timeout: seconds the first launch may take.
        headless: run without a window (default).

    Raises:
        ChallengeError: Playwright is not installed (``pip install "sansio-chat[chromium]"``).
    """

    def __init__(
        self,
        executable: str = DEFAULT_CHROMIUM,
        *,
        time_limit: float = 10.0,
        launch_timeout: float = 30.0,
        headless: bool = True,
    ) -> None:
        try:
            from playwright.async_api import async_playwright
        except ImportError as exc:
            raise ChallengeError(_INSTALL_HINT) from exc
        self._async_playwright = async_playwright
        self.executable = executable
        self.time_limit = time_limit
        self.launch_timeout = launch_timeout
        self.headless = headless
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._closed = False

    def __repr__(self) -> str:
        return f"ChromiumSolver(executable={self.executable!r}, time_limit={self.time_limit!r})"

    def __enter__(self) -> ChromiumSolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the browser's own event loop, on a thread of its own --------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="sansio-chat-chromium", daemon=True
            )
            thread.start()
            self._loop, self._thread = loop, thread
        return self._loop

    def _run(self, coro: Any, timeout: float) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise

    async def _launch(self) -> Any:
        if self._browser is None or not self._browser.is_connected():
            if self._playwright is None:
                self._playwright = await self._async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.executable, headless=self.headless, args=list(_ARGS)
            )
        return self._browser

    def solve(self, step: SolveChallenge) -> ChallengeResult:
        """Evaluate ``step.script`` in the ``#jsa`` frame of a fresh page.

        Raises:
            ChallengeError: the browser could not start, the script threw or rejected, or it
                did not settle within the time limit.
        """
        with self._lock:
            if self._closed:
                raise ChallengeError("the Chromium solver is closed")
            try:
                self._run(self._launch(), self.launch_timeout)
            except FutureTimeout:
                raise ChallengeError(
                    f"Chromium did not start within {self.launch_timeout} s"
                ) from None
            except Exception as exc:
                raise ChallengeError(f"Chromium could not be started: {exc}") from None
            started = time.monotonic()
            try:
                report = self._run(self._evaluate(step), self.time_limit + 2.0)
            except FutureTimeout:
                # A script that blocks the page's thread: drop the browser, start anew next time.
                self._run(self._drop_browser(), 10.0)
                raise ChallengeError(
                    f"the script did not settle within {self.time_limit} s"
                ) from None
            except ChallengeError:
                raise
            except Exception as exc:
                raise ChallengeError(f"Chromium failed: {str(exc).splitlines()[0][:300]}") from None
            duration = (time.monotonic() - started) * 1000.0
        if "error" in report:
            raise ChallengeError(f"the script failed: {str(report['error']).splitlines()[0][:500]}")
        return ChallengeResult(value=json.loads(report["ok"]), duration_ms=duration)

    async def asolve(self, step: SolveChallenge) -> ChallengeResult:
        """:meth:`solve` in a worker thread; cancellation returns at once (see ``run_off_loop``)."""
        return await run_off_loop(self, step)

    async def _evaluate(self, step: SolveChallenge) -> dict[str, Any]:
        page_desc = step.page
        browser = await self._launch()
        languages = list(page_desc.languages)
        context = await browser.new_context(
            user_agent=page_desc.user_agent, locale=languages[0] if languages else None
        )
        try:
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            brands = [{"brand": b, "version": v} for b, v in page_desc.brands]
            await cdp.send(
                "Emulation.setUserAgentOverride",
                {
                    "userAgent": page_desc.user_agent,
                    "acceptLanguage": ",".join(languages),
                    "platform": navigator_platform(page_desc.user_agent),
                    "userAgentMetadata": {
                        "brands": brands,
                        "fullVersionList": brands,
                        "platform": page_desc.platform,
                        "platformVersion": "",
                        "architecture": "",
                        "model": "",
                        "mobile": page_desc.mobile,
                    },
                },
            )
            top_url = page_desc.origin + "/"
            body = _page_html(page_desc)

            async def serve(route: Any) -> None:
                if route.request.url == top_url:
                    await route.fulfill(status=200, content_type="text/html", body=body)
                else:
                    await route.abort()

            await page.route("**/*", serve)
            await page.goto(top_url, wait_until="load", timeout=self.time_limit * 1000)
            element = await page.query_selector("#jsa")
            frame = await element.content_frame() if element is not None else None
            if frame is None:
                raise ChallengeError("the #jsa frame did not load")
            slot = "__sansio_" + secrets.token_hex(8)
            limit_ms = int(self.time_limit * 1000)
            report: dict[str, Any] = await frame.evaluate(
                _RUNNER, [_inline_script(step.script, slot), slot, limit_ms]
            )
            return report
        finally:
            try:
                await asyncio.wait_for(context.close(), 5.0)
            except Exception:
                pass

    async def _drop_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                await asyncio.wait_for(browser.close(), 5.0)
            except Exception:
                pass

    async def _shutdown(self) -> None:
        await self._drop_browser()
        if self._playwright is not None:
            playwright, self._playwright = self._playwright, None
            await playwright.stop()

    def close(self) -> None:
        """Close the browser and its thread; later solves raise ``ChallengeError``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._loop is not None:
                try:
                    self._run(self._shutdown(), 15.0)
                except Exception:
                    pass
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._thread is not None:
                    self._thread.join(5.0)
                self._loop.close()
