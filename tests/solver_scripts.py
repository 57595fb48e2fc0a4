# ruff: noqa: E501 - JavaScript challenge text keeps one statement per line
"""Hand-written challenge scripts, one per probe family of spec/DDG-2026.md.

Each is an ``(async function(){…})()`` expression like the service's challenges; the V8 tests
assert what each resolves to on a clean page, and the agreement test runs the same scripts in
Chromium under random browser identities.
"""

from __future__ import annotations

import random

from sansio_chat import ChallengePage

__all__ = ["PROBES", "STRING_TABLE", "random_page"]

PROBES: dict[str, str] = {
    "user_agent": "(async function(){ return navigator.userAgent; })()",
    "brands": """(async function(){
      const d = navigator.userAgentData;
      return {joined: d ? d.brands.map(b => '"' + b.brand + '";v="' + b.version + '"').join(', ') : '',
              mobile: d.mobile, platform: d.platform, nav: navigator.platform,
              langs: Array.from(navigator.languages), lang: navigator.language};
    })()""",
    "jsa": """(async function(){
      const base = 0x10;
      const f = window.top.document.querySelector('#jsa');
      const meta = f.contentDocument.querySelector('meta[http-equiv="Content-Security-Policy"]');
      const own = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
      let n = base;
      if (meta && meta.getAttribute('content') === "default-src 'none'; script-src 'unsafe-inline';") n++;
      if (f.getAttribute('sandbox') === 'allow-scripts allow-same-origin') n++;
      if (window.top.hasOwnProperty('__DDG_BE_VERSION__')) n++;
      if (window.top.hasOwnProperty('__DDG_FE_CHAT_HASH__')) n++;
      return {n, sandbox: String(f.sandbox), value: f.sandbox.value, same: meta === own,
              inFrame: window.top !== window, self: window.self === window, parent: window.parent === window.top,
              frameEl: window.frameElement === f, contentWindow: f.contentWindow === window,
              be: window.top.__DDG_BE_VERSION__, fe: window.top.__DDG_FE_CHAT_HASH__};
    })()""",
    "webdriver": "(async function(){ return [navigator.webdriver, typeof navigator.webdriver, 'webdriver' in navigator, navigator.hasOwnProperty('webdriver')]; })()",
    "child_iframe": """(async function(){
      const i = document.createElement('iframe');
      i.srcdoc = 'DuckDuckGo Fraud & Abuse';
      const before = i.contentWindow;
      document.body.appendChild(i);
      const w = i.contentWindow;
      const r = [before === null, !!w, typeof w.self.get, w.self === w, w.top === window.top,
                 w.parent === window, Object.prototype.toString.call(w), i.getAttribute('srcdoc')];
      document.body.removeChild(i);
      r.push(i.contentWindow === null, document.body.querySelectorAll('iframe').length);
      return r;
    })()""",
    "leaked_aliases": """(async function(){
      const names = ['Array', 'Object', 'Promise', 'Proxy', 'Symbol', 'JSON', 'Window'];
      const hits = Object.keys(window.top).filter(k => names.some(n => k.endsWith('_' + n)) &&
        window.top[k] === window.top[k.slice(k.lastIndexOf('_') + 1)]);
      return {hits, tag: Object.prototype.toString.call(window.top), own: Object.prototype.toString.call(window)};
    })()""",
    "markup": r"""(async function(){
      const snippets = ['<p>a<b>c</p>d', '<table><td>x<tr>y', '<svg><style>&amp;<x></style></svg><!-- c -->',
                        '<a href="x&y">\u00a0</a><template><i>t</i></template>', 'plain & <br> text',
                        '<select><option>1<option>2</select><ul><li>a<li>b'];
      return snippets.map(s => {
        const e = document.createElement('div');
        e.innerHTML = s;
        return [e.innerHTML.length, e.querySelectorAll('*').length, e.querySelectorAll('b, li').length, e.innerHTML];
      });
    })()""",
    "hex_arithmetic": "(async function(){ const a = 0x1f3, b = 0xa0; return [(a * 0x3 + b) ^ 0x55, (a << 2) + (b >>> 1), String(0x7fffffff + 0x10)]; })()",
    "debug_xor": """(async function(){
      const key = [0x2a, 0x13];
      const text = JSON.stringify({});
      let out = '';
      for (let i = 0; i < text.length; i++) out += String.fromCharCode(text.charCodeAt(i) ^ key[i % key.length]);
      return {debug: out, b64: btoa(out), back: atob(btoa(out)) === out};
    })()""",
    "layout": """(async function(){
      const d = document.createElement('div');
      d.style.cssText = 'display:inline-block; padding:8px; position:absolute; visibility:hidden';
      d.textContent = 'x';
      document.body.appendChild(d);
      const r = d.getBoundingClientRect();
      const out = [d.offsetWidth > 0, d.offsetHeight > 0, r.width > 0 && r.height > 0,
                   getComputedStyle(d).display !== '', d.scrollHeight > 0];
      d.remove();
      const detached = document.createElement('div');
      out.push(detached.offsetWidth);
      return out;
    })()""",
}

# The service's shape: a rotated string table decoded by index, async steps, then the proof.
STRING_TABLE = r"""(async function(){
  const _0x1a = ['userAgent', 'querySelector', '#jsa', 'sandbox', 'hasOwnProperty',
                 '__DDG_BE_VERSION__', 'innerHTML', 'createElement', 'div', 'length', 'top'];
  (function(arr, n){ while (n--) arr.push(arr.shift()); })(_0x1a, 0x3);
  const _0x2b = function(i){ return _0x1a[(i - 0x3 + _0x1a.length) % _0x1a.length]; };
  await new Promise(r => setTimeout(r, 1));
  const w = window[_0x2b(0xa)];
  const e = document[_0x2b(0x7)](_0x2b(0x8));
  e[_0x2b(0x6)] = '<div><p>x</div><i>';
  const sum = 0x2d + e[_0x2b(0x6)][_0x2b(0x9)] + e.querySelectorAll('*')[_0x2b(0x9)];
  return {server_hashes: ['a', 'b', 'c'],
          client_hashes: [navigator[_0x2b(0x0)], String(sum),
                          String(w[_0x2b(0x4)](_0x2b(0x5))) + w.document[_0x2b(0x1)](_0x2b(0x2)).getAttribute(_0x2b(0x3))],
          signals: {}, meta: {v: '4', challenge_id: 'c1', timestamp: '0', debug: ''}};
})()"""

_OS = [
    ("Windows NT 10.0; Win64; x64", "Windows"),
    ("Macintosh; Intel Mac OS X 10_15_7", "macOS"),
    ("X11; Linux x86_64", "Linux"),
]
_GREASE = ["Not)A;Brand", "Not=A?Brand", "Not/A)Brand", "Not.A/Brand", "Not_A Brand"]


def random_page(rng: random.Random) -> ChallengePage:
    """A random coherent browser identity (Chrome-like UA, brands, platform, languages)."""
    major = str(rng.randint(120, 160))
    os_token, platform = rng.choice(_OS)
    ua = (
        f"Mozilla/5.0 ({os_token}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )
    brands = [
        ("Chromium", major),
        ("Google Chrome", major),
        (rng.choice(_GREASE), rng.choice(["8", "24", "99"])),
    ]
    rng.shuffle(brands)
    langs = rng.choice([("en-US", "en"), ("de-DE", "de", "en"), ("fr-FR",)])
    return ChallengePage(
        origin=rng.choice(["https://duck.ai", "http://127.0.0.1:8765"]),
        user_agent=ua,
        brands=tuple(brands),
        platform=platform,
        languages=langs,
        be_version=f"be-{rng.randrange(10**6)}",
        fe_chat_hash=f"{rng.getrandbits(64):016x}",
    )
