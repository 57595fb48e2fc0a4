"""The emulator's ``x-vqd-hash-1`` challenges: real JavaScript, random HTML, known answers.

A challenge is a program a browser can evaluate, shaped like the service's (docs/protocol.md):
it creates a ``div`` ``e``, assigns an HTML snippet to ``e.innerHTML`` as an escaped
single-quoted literal, and evaluates to ``{server_hashes: [...], client_hashes:
[navigator.userAgent, String(OFFSET + e.innerHTML.length)], signals: {}}``.

The snippets exercise the HTML parsing rules a solver must get right (unclosed and
misnested tags, character references, void elements, tables and foster parenting, quoted
attributes, comments, raw-text elements, SVG/MathML, characters beyond the BMP), using only
constructs where the solver was measured to agree with Chromium
(``tests/test_browser_live.py`` re-checks fresh samples in a live browser).

Everything here is pure: randomness comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sansio_chat.providers.ddg_challenge import inner_html_length, sha256_b64

__all__ = [
    "IssuedChallenge",
    "expected_solution",
    "generate_snippet",
    "issue_challenge",
    "js_string_literal",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedChallenge:
    """One challenge as the emulator issued it.

    Attributes:
        js_text: the JavaScript program.
        b64: ``js_text`` (pure ASCII) as base64: the ``x-vqd-hash-1`` status header.
        server_hashes: the server hashes the program carries, in order.
        snippet: the HTML the program assigns to ``e.innerHTML`` (escapes decoded).
        offset: the number the program adds to ``e.innerHTML.length``.
        fingerprint: ``str(offset + innerHTML length)``, the browser's answer.
    """

    js_text: str
    b64: str
    server_hashes: tuple[str, ...]
    snippet: str
    offset: int
    fingerprint: str


# --- snippets ---------------------------------------------------------------------------------

_WORDS = (
    "duck", "chat", "hello", "world", "lorem", "ipsum", "quack", "pond", "feather", "river",
    "Straße", "café", "naïve", "日本語", "中文", "русский", "ελληνικά", "עברית", "العربية",
)  # fmt: skip
_NON_BMP = ("\U0001f600", "\U0001f986", "\U0001f4a9", "\U00010348", "\U0001d54f", "\U00020000")
_ENTITIES = (
    "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&nbsp;", "&copy;", "&eacute;", "&hellip;",
    "&amp", "&lt", "&copy", "&not", "&notin;", "&notit;", "&#60;", "&#x3C;", "&#X3e;", "&#38;",
    "&#128512;", "&#x1F600;", "&#0;", "&#x110000;", "&#xD800;", "&#150;", "&#x80;", "&fopf;",
    "&NotEqualTilde;", "&bogus;", "&", "& ", "&#;", "&#65", "&#x41",
)  # fmt: skip
_ODD_TEXT = (" ", "  ", "\n", "\t", "\r\n", "\r", "\u00a0", "<", ">", "< ", "a<b", "1 > 0",
             '"', "'", "\\", "/", "=", "`", "\x00", "\u2028", "\ufeff", "</>", "<>",
             "<3")  # fmt: skip
_INLINE = ("span", "b", "i", "em", "strong", "a", "u", "s", "code", "small", "sub", "sup", "q",
           "abbr", "cite", "mark", "font", "nobr", "x-tag", "custom-el")  # fmt: skip
_BLOCK = ("div", "p", "section", "article", "aside", "header", "footer", "blockquote", "h1",
          "h2", "h3", "pre", "address", "center", "details", "dialog", "main", "nav")  # fmt: skip
_VOID = ("br", "img", "hr", "input", "wbr", "area", "embed", "source", "track", "meta", "link",
         "col", "param", "base", "keygen", "basefont", "bgsound", "frame")  # fmt: skip
_ATTR_NAMES = ("id", "class", "title", "href", "data-x", "lang", "style", "alt", "DATA-Up",
               "aria-label", "x", "_y", "on-click", "a:b")  # fmt: skip
# No legacy reference followed by "=" or an alphanumeric ("?a=1&copy=2"): the standard
# keeps it as text in attributes, Chromium's innerHTML fast path decodes it.
_ATTR_VALUES = ("", "x", "two words", "a&b", "a&amp;b", "&lt;tag&gt;", "<b>", "1>0", 'say "hi"',
                "it's", "\u00a0", "&nbsp;", "tab\there", "line\nbreak", "\U0001f600",
                "?a=1&copy;=2", "&copy", "=", "`", "π≈3.14")  # fmt: skip
_COMMENTS = ("<!---->", "<!-- c -->", "<!--a&amp;b<c>-->", "<!--\u00a0-->", "<!--\U0001f600-->",
             "<!-->", "<!--->", "<!-- a -- b -->", "<!--x--!>", "<!x>", "<!DOCTYPE html>",
             "</ bogus>", "<![CDATA[cd]]>", "<!--<!-- x -->", "<!---x--->")  # fmt: skip
_RAW = ("script", "style", "xmp", "iframe", "noembed", "noframes", "noscript")
_RAW_BODIES = ("a<b && c>d", "x &amp; y", "</p><b>", "\u00a0", "if (a < b) { c(); }", "<!-- c -->",
               "'q' \"dq\"", "\U0001f600")  # fmt: skip
_TABLE_STRAY = ("stray text", "<b>bold</b>", "<div>fostered</div>", "<span>s</span>",
                "<input type=hidden>", "<input>", "<form>", "<img>")  # fmt: skip
_FOREIGN = (
    '<svg viewbox="0 0 10 10"><circle r=5 /><path d="M0 0L1 1"/></svg>',
    "<svg><foreignobject><b>html</b></foreignobject></svg>",
    "<svg><lineargradient id=g><stop offset=0 /></lineargradient></svg>",
    "<svg xlink:href=#x XML:LANG=en><use xlink:href=#y /></svg>",
    "<svg><p>breaks out</p>",
    "<svg><desc><i>d</i></desc><title>t &amp;</title></svg>",
    "<svg><style>a &amp; b</style><script>x &lt; y</script></svg>",
    "<svg><![CDATA[a<b&c]]></svg>",
    "<math><mi>x</mi><mo>&lt;</mo><mn>2</mn></math>",
    "<math definitionurl=u><mtext><b>t</b></mtext></math>",
    '<math><annotation-xml encoding="text/html"><div>h</div></annotation-xml></math>',
    "<math><ms>s</ms><mglyph/></math>",
    "<svg><font color=red>f</font></svg>",
)


def _text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(_WORDS) + rng.choice(("", " ", "  "))
    if roll < 0.65:
        return rng.choice(_ENTITIES)
    if roll < 0.85:
        return rng.choice(_ODD_TEXT)
    return rng.choice(_NON_BMP)


def _name(rng: random.Random, name: str) -> str:
    """Sometimes upper- or mixed-case: HTML tag and attribute names are case-insensitive."""
    roll = rng.random()
    if roll < 0.1:
        return name.upper()
    if roll < 0.2:
        return "".join(c.upper() if rng.random() < 0.5 else c for c in name)
    return name


def _attributes(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        name = _name(rng, rng.choice(_ATTR_NAMES))
        value = rng.choice(_ATTR_VALUES)
        style = rng.random()
        if style < 0.1:
            parts.append(f" {name}")
        elif style < 0.45 and '"' not in value:
            parts.append(f' {name}="{value}"')
        elif style < 0.8 and "'" not in value:
            parts.append(f" {name}='{value}'")
        elif value and not any(c in value for c in " \t\n\"'=<>`"):
            parts.append(f" {name}={value}")
        else:
            parts.append(f' {name}="{value.replace(chr(34), "&quot;")}"')
        if rng.random() < 0.05:
            parts.append(f" {name}=dup")  # a duplicate attribute is dropped
    return "".join(parts)


def _element(rng: random.Random, depth: int) -> str:
    tag = rng.choice(_INLINE if rng.random() < 0.6 else _BLOCK)
    opening = f"<{_name(rng, tag)}{_attributes(rng)}{rng.choice(('', '', ' '))}>"
    inner = _content(rng, depth + 1)
    ending = rng.random()
    if ending < 0.7:
        return f"{opening}{inner}</{_name(rng, tag)}>"
    if ending < 0.85:
        return f"{opening}{inner}"  # left open
    other = rng.choice(_INLINE + _BLOCK)
    return f"{opening}{inner}</{other}>"  # a misnested or stray end tag


def _void(rng: random.Random) -> str:
    tag = _name(rng, rng.choice(_VOID))
    return f"<{tag}{_attributes(rng)}{rng.choice(('', '/', ' /'))}>"


def _list(rng: random.Random, depth: int) -> str:
    items = "".join(f"<li>{_content(rng, depth + 1)}" for _ in range(rng.randint(1, 3)))
    return f"<{rng.choice(('ul', 'ol'))}>{items}{rng.choice(('', '</ul>', '</ol>'))}"


def _table(rng: random.Random, depth: int) -> str:
    rows: list[str] = []
    for _ in range(rng.randint(1, 3)):
        cells = "".join(
            f"<{rng.choice(('td', 'th'))}{_attributes(rng)}>{_content(rng, depth + 1)}"
            for _ in range(rng.randint(1, 3))
        )
        rows.append(f"<tr>{cells}" if rng.random() < 0.5 else f"<tr>{cells}</tr>")
    body = "".join(rows)
    if rng.random() < 0.4:
        body = f"<tbody>{body}</tbody>"
    if rng.random() < 0.3:
        body = f"<caption>{_text(rng)}</caption>" + body
    if rng.random() < 0.2:
        body = "<colgroup><col><col span=2></colgroup>" + body
    if rng.random() < 0.4:
        body = rng.choice(_TABLE_STRAY) + body  # foster parenting
    closing = "</table>" if rng.random() < 0.8 else ""
    return f"<table{_attributes(rng)}>{body}{closing}"


def _raw(rng: random.Random) -> str:
    tag = rng.choice(_RAW)
    return f"<{_name(rng, tag)}>{rng.choice(_RAW_BODIES)}</{tag}>"


def _rcdata(rng: random.Random) -> str:
    tag = rng.choice(("textarea", "title"))
    body = rng.choice(("a<b>c</b>", "&amp; &lt; &copy", "\n\nlead", "x\u00a0y", "\U0001f600"))
    return f"<{tag}>{body}</{tag}>"


def _pre(rng: random.Random, depth: int) -> str:
    tag = rng.choice(("pre", "listing"))
    lead = rng.choice(("\n", "\n\n", "", "\r\n"))
    return f"<{tag}>{lead}{_content(rng, depth + 1)}</{tag}>"


def _misnested(rng: random.Random) -> str:
    return rng.choice(
        (
            "<b><i>bi</b>i</i>",
            "<a href=1>one<a href=2>two</a>",
            "<b>b<p>p</b>q</p>",
            "<p>a<p>b",
            "<p><b>x<p>y",
            "<h1>a<h2>b</h1>",
            "<dd>a<dt>b",
            "<button>a<button>b",
            "<i>a<div>b</i>c</div>",
            "</p>",
            "</br>",
            "<nobr>a<nobr>b",
            "<em><strong><u>x</em>y",
            "<p>a<table><td>b</table>",
            "<select><option>a<option selected>b</select>",
            "<ruby>r<rt>t<rp>p</ruby>",
            "<form>a<form>b</form>",
            "<template><td>t</td></template>",
            "<html><body class=x>ignored</body></html>",
        )
    )


_ITEMS: tuple[tuple[float, Callable[[random.Random, int], str]], ...] = (
    (0.30, lambda rng, depth: _text(rng)),
    (0.20, _element),
    (0.08, lambda rng, depth: _void(rng)),
    (0.06, lambda rng, depth: rng.choice(_COMMENTS)),
    (0.05, _table),
    (0.04, _list),
    (0.05, lambda rng, depth: _raw(rng)),
    (0.03, lambda rng, depth: _rcdata(rng)),
    (0.03, _pre),
    (0.06, lambda rng, depth: _misnested(rng)),
    (0.04, lambda rng, depth: rng.choice(_FOREIGN)),
)


_TOTAL_WEIGHT = sum(weight for weight, _ in _ITEMS)


def _pick(rng: random.Random) -> Callable[[random.Random, int], str]:
    roll = rng.random() * _TOTAL_WEIGHT
    for weight, make in _ITEMS:
        roll -= weight
        if roll < 0:
            return make
    return _ITEMS[-1][1]


def _content(rng: random.Random, depth: int) -> str:
    count = rng.randint(0, 3) if depth < 3 else rng.randint(0, 1)
    parts: list[str] = []
    for _ in range(count):
        make = _pick(rng)
        if depth >= 3:
            make = _ITEMS[0][1]  # deep down, text only: keeps snippets short
        parts.append(make(rng, depth))
    return "".join(parts)


def generate_snippet(rng: random.Random) -> str:
    """A random HTML snippet with some markup, 20 to 600 characters long."""
    while True:
        snippet = _content(rng, 0)
        if 20 <= len(snippet) <= 600 and "<" in snippet:
            return snippet


# --- the program ------------------------------------------------------------------------------


def js_string_literal(text: str, rng: random.Random | None = None) -> str:
    """``text`` as a single-quoted JavaScript string literal.

    The literal is ASCII: every other character is written as an escape (``\\uXXXX``, a
    surrogate pair beyond U+FFFF), so the program means the same however its bytes are
    decoded. Quotes, backslashes, line breaks and control characters are always escaped; with an
    ``rng``, other characters are sometimes escaped too (``\\xHH``, ``\\uHHHH``, ``\\u{…}``,
    a surrogate pair, an identity escape like ``\\/``) and line continuations are inserted,
    so that solvers see every escape form.
    """
    rate = 0.0 if rng is None else rng.choice((0.0, 0.0, 0.05, 0.3))
    out: list[str] = ["'"]
    for index, ch in enumerate(text):
        code = ord(ch)
        if ch == "'":
            out.append("\\'")
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\u2028" or ch == "\u2029":
            out.append(f"\\u{code:04x}")
        elif code == 0 and rng is not None and not text[index + 1 : index + 2].isdigit():
            out.append("\\0" if rng.random() < 0.5 else "\\x00")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code > 0x7F:
            # ASCII only: a page that runs eval(atob(header)) reads the bytes as Latin-1.
            out.append(_escape_randomly(ch, rng) if rng is not None else _escape_unicode(code))
        elif rng is not None and rng.random() < rate:
            out.append(_escape_randomly(ch, rng))
        else:
            out.append(ch)
        if rng is not None and rate and rng.random() < 0.02:
            out.append("\\\n")  # a line continuation: contributes nothing
    out.append("'")
    return "".join(out)


def _escape_unicode(code: int) -> str:
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _escape_randomly(ch: str, rng: random.Random) -> str:
    code = ord(ch)
    if code > 0xFFFF:
        if rng.random() < 0.5:
            return f"\\u{{{code:X}}}"
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04x}"
    forms = [f"\\u{code:04x}", f"\\u{{{code:x}}}", f"\\u{{00{code:x}}}"]
    if code <= 0xFF:
        forms.append(f"\\x{code:02X}")
    if ch in '/<>&="':
        forms.append("\\" + ch)  # an identity escape
    if ch == '"':
        forms.append('\\"')
    return rng.choice(forms)


def _server_hash(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(32)).decode("ascii")


def issue_challenge(rng: random.Random) -> IssuedChallenge:
    """A fresh challenge: a random snippet, two server hashes and an offset, as a program."""
    snippet = generate_snippet(rng)
    server_hashes = (_server_hash(rng), _server_hash(rng))
    offset = rng.randrange(0, 100_000)
    offset_text = hex(offset) if rng.random() < 0.5 else str(offset)
    literal = js_string_literal(snippet, rng)
    hashes = ", ".join(f'"{h}"' for h in server_hashes)
    js_text = (
        "(function () {\n"
        "  const e = document.createElement('div');\n"
        f"  e.innerHTML = {literal};\n"
        "  return {\n"
        f"    server_hashes: [{hashes}],\n"
        "    client_hashes: [navigator.userAgent, (function () {\n"
        f"      return String({offset_text} + e.innerHTML.length);\n"
        "    })()],\n"
        "    signals: {}\n"
        "  };\n"
        "})();\n"
    )
    return IssuedChallenge(
        js_text=js_text,
        b64=base64.b64encode(js_text.encode("ascii")).decode("ascii"),
        server_hashes=server_hashes,
        snippet=snippet,
        offset=offset,
        fingerprint=str(offset + inner_html_length(snippet)),
    )


def expected_solution(issued: IssuedChallenge, user_agent: str, sec_ch_ua: str) -> dict[str, Any]:
    """The JSON object a correct client sends (decoded from its ``x-vqd-hash-1``)."""
    return {
        "server_hashes": list(issued.server_hashes),
        "client_hashes": [sha256_b64(user_agent + sec_ch_ua), sha256_b64(issued.fingerprint)],
        "signals": {},
    }
