"""The emulator's duck.ai page in dialect ``2026``.

What a challenge probes is here as docs/protocol.md describes the real page: the version
attributes on ``<html>``, the two version globals on the top window, and the ``#jsa`` iframe
(sandboxed, off-screen, a ``srcdoc`` document whose CSP allows inline scripts but not
``eval``). A small frontend hook stands in for the duck.ai bundle:
``window.__sansioSolve(header)`` decodes a challenge header, runs the script inside ``#jsa``
as an inline ``<script>`` element and resolves to the JSON text of what the script resolved to.
"""

from __future__ import annotations

import html
import json

from sansio_chat._challenge import ChallengePage

__all__ = ["DEFAULT_VERSION_SHA", "DEFAULT_VERSION_TAG", "SOLVE_HOOK", "jsa_document", "page_html"]

DEFAULT_VERSION_TAG = "serp_20260615_183429_ET"
"""A ``data-version-tag`` in the shape the real page carries."""

DEFAULT_VERSION_SHA = "ec17a44c4ba5177d076644699c451976233a9143"
"""A ``data-version-sha`` in the shape the real page carries (40 hex digits)."""

SOLVE_HOOK = "__sansioSolve"
"""The name of the frontend hook on the top window (not enumerable: ``Object.keys`` skips it)."""

# The hook: wait for the page (and so #jsa) to load, atob the header, run the script in the
# frame as an inline <script> whose completion value is parked on the frame's window, then
# read it back. The frame's CSP allows inline scripts only, so no eval and no Function.
_HOOK = """
(function () {
  var frame = document.getElementById("jsa");
  var counter = 0;
  var loaded = new Promise(function (resolve) {
    if (document.readyState === "complete") { resolve(); }
    else { window.addEventListener("load", function () { resolve(); }); }
  });
  function solve(header) {
    return loaded.then(function () {
      var source = atob(header);
      var win = frame.contentWindow;
      var doc = frame.contentDocument;
      var slot = "__sansioChallenge" + (counter++);
      var script = doc.createElement("script");
      script.textContent = "window[" + JSON.stringify(slot) + "] = " + source + "\\n;";
      var failure = null;
      var onError = function (event) { failure = event.message || String(event.error); };
      win.addEventListener("error", onError);
      try {
        doc.body.appendChild(script);
      } finally {
        win.removeEventListener("error", onError);
        script.remove();
      }
      if (!Object.prototype.hasOwnProperty.call(win, slot)) {
        throw new Error("the challenge script did not run: " + (failure || "no error event"));
      }
      var result = win[slot];
      delete win[slot];
      return Promise.resolve(result);
    }).then(function (value) {
      return JSON.stringify(value);
    });
  }
  Object.defineProperty(window, "HOOK_NAME", {value: solve, enumerable: false, configurable: true});
})();
""".replace("HOOK_NAME", SOLVE_HOOK)


def jsa_document(page: ChallengePage) -> str:
    """The ``srcdoc`` of the ``#jsa`` iframe: an empty page with the CSP ``<meta>``."""
    csp = html.escape(page.jsa_csp, quote=True)
    return (
        "<!DOCTYPE html><html><head>"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        "</head><body></body></html>"
    )


def _js_literal(value: str) -> str:
    """A JavaScript string literal that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_html(
    page: ChallengePage,
    *,
    version_tag: str = DEFAULT_VERSION_TAG,
    version_sha: str = DEFAULT_VERSION_SHA,
) -> str:
    """The HTML of ``GET /`` for ``page``: version attributes, globals, ``#jsa`` and the hook."""
    srcdoc = html.escape(jsa_document(page), quote=True)
    sandbox = html.escape(page.jsa_sandbox, quote=True)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en" data-version-tag="{html.escape(version_tag, quote=True)}" '
        f'data-version-sha="{html.escape(version_sha, quote=True)}">\n'
        '<head><meta charset="utf-8"><title>Duck.ai</title>\n'
        "<script>\n"
        f"window.__DDG_BE_VERSION__ = {_js_literal(page.be_version)};\n"
        f"window.__DDG_FE_CHAT_HASH__ = {_js_literal(page.fe_chat_hash)};\n"
        "</script></head>\n"
        "<body>\n"
        f'<iframe id="jsa" sandbox="{sandbox}" title="" aria-hidden="true" tabindex="-1" '
        'style="position:absolute;left:-10000px;top:-10000px;width:1px;height:1px;border:0" '
        f'srcdoc="{srcdoc}"></iframe>\n'
        f"<script>{_HOOK}</script>\n"
        "</body></html>\n"
    )
