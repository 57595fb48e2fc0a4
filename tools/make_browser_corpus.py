"""Regenerate ``tests/data/browser_corpus.json``: snippets with Chromium's ``innerHTML``.

Usage (from the repository root, with the project's venv)::

    nice python tools/make_browser_corpus.py            # rewrite the corpus with chromium
    python tools/make_browser_corpus.py --measure       # compare parsers with the corpus
    nice python tools/make_browser_corpus.py --check-generator 15   # fresh output vs chromium
    nice python tools/make_browser_corpus.py --deep     # rewrite the deep-nesting corpus
    nice python tools/make_browser_corpus.py --elements # rewrite the element lists

The corpus holds hand-written snippets, grouped by the parsing rule they exercise, and
output of the emulator's challenge generator from several seeds. Each entry records the
``innerHTML`` that headless Chromium reads back after assigning the snippet to a ``div``,
and its length in UTF-16 code units. ``--measure`` reports how many entries each candidate
parser reproduces: the solver (Lexbor via selectolax, with the solver's own serializer),
Lexbor's built-in serializer, and html5lib with a WHATWG serializer written here.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import (  # noqa: E402
    browser_elements,
    browser_eval_headers,
    browser_inner_html,
    chromium_version,
)
from sansio_chat.emulator.challenge import generate_snippet, issue_challenge  # noqa: E402
from sansio_chat.providers.ddg_challenge import (  # noqa: E402
    _RAW_TEXT,
    _VOID,
    inner_html,
    utf16_length,
)

CORPUS = ROOT / "tests" / "data" / "browser_corpus.json"
DEEP_CORPUS = ROOT / "tests" / "data" / "browser_deep.json"
ELEMENTS = ROOT / "tests" / "data" / "browser_elements.json"

# Snippets whose element lists are asked of Chromium beside the two corpora's: where the V8
# page model's list once disagreed, and the rules that case depends on.
ELEMENT_EXTRAS = {
    "agreement sample (SANSIO_CHAT_AGREE_SEED=3438482292, case 47)": (
        "<title>\U0001f600</title><listing>\n\n<em><strong><u>x</em>y\u05e2\u05d1\u05e8\u05d9"
        "\u05ea  &#;</listing><textarea>x\xa0y</textarea>"
    ),
    "textarea after pending formatting elements": "<b><i>x</b>y<textarea>t</textarea>z",
    "textarea with markup inside": "<p><textarea><b>x</b></textarea><b>y",
    "textarea in svg (foreign: children are elements)": "<svg><textarea><b>x</b></textarea>",
    "textarea in math": "<math><mi><textarea><b>x</b></textarea></mi></math>",
    "template contents are not listed": "<template><b>x</b><textarea>t</textarea></template><i>y",
    "nested templates": "<template><template><b>x</b></template></template><u>",
    "select with textarea": "<select><textarea><b>x</b></textarea></select>",
}
GENERATOR_SEEDS = range(6)
PER_SEED = 40

HAND: dict[str, list[str]] = {
    "text and character references": [
        "plain text", "  leading and trailing spaces  ", "a &amp; b", "a & b", "a &lt; b &gt; c",
        "&quot;&apos;", "x&nbsp;y", "x\u00a0y", "&copy; &copy &notit; &noti; &not",
        "&#60;&#x3C;&#X3c;", "&#0;", "&#x110000;", "&#128;&#x9F;", "&#xD800;", "&bogus; &amp",
        "&#x1F600;", "&fopf;", "&NotEqualTilde;", "&#12345678901234567890;", "&#;", "&am",
        "a > b", "a < b", "<>", "< p>", "<3", "</>x", "&gt&lt&amp", "&#;&#x;", "&#x", "&#xg;",
        "<pre>&#x;</pre>",
    ],
    "unclosed and misnested tags": [
        "<div><span>a", "<p>a<p>b", "<li>a<li>b", "<b><i>x</b></i>", "<a href=1><a href=2>x</a>",
        "<b><p>x</b>y</p>", "</p>", "</br>", "</div>x", "<p><b>x<p>y",
        "<b><b><b><b>x</b></b></b></b>", "<h1>a<h2>b", "<dd>a<dt>b", "<button>a<button>b",
        "<form>a<form>b</form>", "<ul><li>a<ul><li>b</ul>c", "<nobr>a<nobr>b", "<p>a<table>b",
        "<i>a<div>b</i>c</div>", "<a>a<div>b</a>c</div>", "<ruby>a<rb>b<rt>c<rp>d</ruby>",
        "<em><strong><u>x</em>y", "<p><button><p>x</button>", "<object><p>x</object>y",
        "<marquee><p>x</marquee>", "<DIV CLASS=A>Upper</DIV>", "<dIv ID=x>mixed</DiV>",
        "<span>a</span >b", "<span>a</span foo=bar>b", "<center><p>c</center>", "<isindex>",
        "<menu><li>x</menu>", "<dialog open>d</dialog>", "<details><summary>s</summary>d</details>",
        "<p>a</p>\n<p>b</p>", "x" * 300, "<div>" * 40 + "deep", "<b>" * 30 + "many b",
        "<b><div></b><textarea>q</textarea>", "<a href=1><i>x</a><xmp></xmp>",
        "<p><b>x<p><pre>a&amp;<i>b</i></pre>c",
    ],
    "void elements": [
        "<br>", "<br/>", "<br />x", "<img src=x>", "<img src=x/>", "<input>", "<input disabled>",
        "<hr><hr/>", "<wbr>", "<area>", "<col>", "<embed>", "<source>", "<track>",
        "<meta charset=utf-8>", "<link rel=x>", "<base href=x>", "<param name=x>", "<keygen>",
        "<image src=y>", "<basefont>", "<bgsound>", "<frame>", "<div/>x", "<span/>y</span>",
        "<p/>", "</img>",
    ],
    "tables and foster parenting": [
        "<table><tr><td>a</td></tr></table>", "<table>x<tr><td>y</table>",
        "<table><div>a</div></table>", "<td>x</td>", "<tr>y", "<table><caption>c<td>d</table>",
        "<table><colgroup><col><col span=2></table>",
        "<table><input type=hidden><input type=text></table>", "<table><form><tr><td>f</table>",
        "<table><td><table><td>inner</table></table>",
        "<table><thead><tr><th>h<tbody><tr><td>b<tfoot><tr><td>f</table>",
        "<table><tr><td>a<td>b<tr><td>c", "<table> <tr> </tr> </table>",
        "<table><script>s</script><style>t</style></table>", "<table>text<b>bold</b></table>",
        "<table><tbody><tr>x</tr></tbody></table>", "<table><caption><table></table>",
        "<table><svg><style>&amp;</style></svg></table>",
    ],
    "attributes and quotes": [
        "<a href='x'>q</a>", "<a href=x>q</a>", "<a title=\"a'b\">q</a>", "<a title='a\"b'>q</a>",
        "<a x=1 x=2>d</a>", "<A HREF=x>u</A>", '<a title="<b>&amp;</b>">t</a>',
        '<a title="&nbsp;\u00a0">n</a>', '<a href="?a=1&copy=2">e</a>',
        '<a href="?a=1&copy;=2">e</a>', '<a href="&lt">e</a>', '<a href="a&b">e</a>',
        "<a =x>e</a>", "<div a/b>s</div>", '<a foo"bar=1>q</a>', '<a title=a"b>q</a>',
        '<a title = "spaced" >q</a>', '<a title="\n\t x ">ws</a>', "<a b='1'c='2'>adj</a>",
        "<a title='\U0001f600'>emoji</a>", '<div class="a  b">c</div>', "<a title=>e</a>",
        "<a\nhref=x\n>nl</a>", '<a title="x>y">gt</a>', "<a title=x&amp;y>amp</a>",
        "<a <b>c</a>", '<a title="&#x;">t</a>',
    ],
    "comments and bogus comments": [
        "<!--x-->", "<!---->", "<!-->", "<!--->", "<!-- a -- b -->", "<!--x--!>y", "<!x>",
        "</ x>", "<!--abc", "<!DOCTYPE html>x", "<![CDATA[x]]>", "<svg><![CDATA[a<b]]></svg>",
        "<!--<!-- nested -->-->", "<!--a--!-->b", "a<!--\u00a0&amp;<>-->b", "<!---x-->",
        "<!--x---->", "<?  x>", "<?>", "<?xml version=\"1.0\"?>", "<?1x?>", "<?x&amp;<>?>",
        "<?x\u00a0y?>",
    ],
    "processing instructions (Chromium and Lexbor parse <?target data?>)": [
        "<?php x ?>", "<?php  x ?>", "<?x\ty>", "<?a>b<?c>", "<?x?>", "<?x y>z", "<?x-y z?>",
        "<?X Y?>", "<?x y?z?>", "<table><?x y?></table>", "<svg><?x y?></svg>", "<?x\ny\n?>",
        "<?x", "<?x y", "<?x ?>", "<?x  ?>",
    ],
    "characters beyond the BMP and lone surrogates": [
        "\U0001f600", "a\U0001f600b\U0001f4a9c", "<b>\U00010348</b>",
        "<x\U0001f600>t</x\U0001f600>",
        "<!--\U0001f600-->", "\U0001d54f\U0001d550", "&#x1D54F;", "\ud800x", "a\udfffb",
        "<a title='\udc00'>\ud83d</a>", "<\ud800>",
    ],
    "raw text and RCDATA": [
        "<script>a<b&c</script>", "<style>a<b&amp;</style>", "<xmp>a<b&amp;</xmp>",
        "<iframe><b>&amp;</iframe>", "<noembed><i>&amp;</noembed>", "<noframes><i>&amp;</noframes>",
        "<noscript><b>&amp;</noscript>", "<plaintext><b>&amp;</b></plaintext>",
        "<textarea>a<b>&amp;</textarea>", "<title>a&amp;b<i></title>", "<script>unterminated",
        "<script><!--<script></script>--></script>x", "<style>\u00a0</style>",
        "<textarea>\nx</textarea>", "<textarea>\n\nx</textarea>", "<pre>\nx</pre>",
        "<pre>\n\nx</pre>", "<listing>\nx</listing>", "<pre>x\n</pre>", "<script>a</script >b",
        "<script>a</SCRIPT>b", "<title>x</title>", "<style>x",
        "<p><b>x<p><textarea>a&amp;<i>b</i></textarea>c",
        "<b>x<p><textarea>\n\U0001f600</textarea>",
        "<p><b>x<p><title>a&amp;<i>b</i></title>c", "<p><b>x<p><xmp>a&amp;<i>b</i></xmp>c",
        "<p><b>x<p><plaintext>a&amp;<i>b</i></plaintext>c", "<a href=1><i>x</a><plaintext>",
    ],
    "newlines and NUL": [
        "a\r\nb", "a\rb", "a\r\rb", "a\x00b", '<a title="x\x00y">n</a>', "<!--a\x00b-->",
        "<x\x00y>t</x\x00y>", "<script>a\x00b</script>", "<textarea>a\x00b</textarea>",
        "\x01\x7f\x80", "a\u2028b\ufeffc",
    ],
    "document-level tags in a fragment": [
        "<html><head><title>t</title></head><body>b</body></html>", "<body class=x>y", "<head>h",
        "<frameset><frame>", "<html lang=en>x", "</body>after", "</html>after",
    ],
    "select and template": [
        "<select><option>a<option>b</select>", "<select><optgroup><option>a</optgroup></select>",
        "<option>a<option>b", "<template><td>x</td></template>",
        "<template><b>t</b></template>after",
        "<select><b>x</b></select>", "<select><input>", "<select><div>x</div></select>",
        "<select><button><selectedcontent></selectedcontent></button><option>a</option>"
        "<option selected>b</option></select>",
        "<template shadowrootmode=open><b>s</b></template>",
        "<template><template>in</template></template>",
    ],
    "SVG and MathML": [
        '<svg viewbox="0 0 1 1"><foreignobject><b>x</b></foreignobject></svg>',
        "<math><mi>x</mi></math>", "<svg><p>out</p>", "<svg><path/></svg>",
        "<svg xlink:href=x></svg>", "<svg><title><b>t</b></title></svg>",
        '<math><annotation-xml encoding="text/html"><div>x</div></annotation-xml></math>',
        "<svg><lineargradient/></svg>", "<math definitionurl=x><mi xlink:href=y>z</mi></math>",
        "<svg><font color=red>f</font></svg>", "<svg><script>a<b</script></svg>",
        "<svg><style>a&amp;</style></svg>", "<svg><desc><svg><circle/></svg></desc></svg>",
        "<svg XML:LANG=en xmlns:xlink=x/>", "<math><mtext><b>x</b></mtext></math>",
        "<svg><clipPath><rect/></clipPath></svg>", "<math><mi>&amp;</mi></math>",
        "<svg><text>&lt;&nbsp;</text></svg>",
        "<svg><input><link><area><col><wbr><source><param><base><track><keygen><frame>"
        "<basefont><bgsound></svg>",
        "<math><input><link><area></math>", "<svg><template><b>x</b></template></svg>",
        "<svg><template>t&amp;</template></svg>", "<math><style>a&amp;</style></math>",
        "<svg><script>a&amp;b</script></svg>", "<svg><xmp>&lt;</xmp></svg>",
        "<svg><noscript>&amp;</noscript></svg>", "<svg><textarea>&lt;b&gt;</textarea></svg>",
        "<svg><iframe>&amp;</iframe><noembed>&lt;</noembed><noframes>&gt;</noframes>"
        "<plaintext>&amp;</plaintext></svg>",
        "<b><svg><foreignObject><div>x</b>y", "<b><svg><title><style>&amp;</b>",
        "<math><annotation-xml><svg><style>&amp;</style></svg></annotation-xml></math>",
        "<math><mi><style>&amp;</style><mglyph><style>&amp;</style></mglyph></mi></math>",
        "<svg><desc><script>&amp;</script></desc></svg>", "<svg><font color=r>&amp;</font></svg>",
    ],
    "Chromium's innerHTML fast path": [
        "&#x;", "a&#x;", "&#X;b", '<a title="x">&#x;</a>', '<a title="&notit">&lt;</a>',
        '<a href="?a=1&copy=2">e&amp;</a>', '<p title="&copy;x&notit;"></p>',
        '<a title="&notit">x</a>',
    ],
    "<image> (renamed img) foster-parented out of a table": [
        "<table><image src=y></table>", "<table>x<image>", "<table><td><image></table>",
        "<select><image>", "<svg><image/></svg>",
    ],
}  # fmt: skip


# Past Chromium's tree depth cap of 512 (the html element counts): name -> snippet.
DEEP: dict[str, str] = {
    "nested b 500": "<b>" * 500 + "x",
    "nested b 511": "<b>" * 511 + "x",
    "nested b 512": "<b>" * 512 + "x",
    "nested b 513": "<b>" * 513 + "y",
    "nested b 600": "<b>" * 600 + "x",
    "nested div 600": "<div>" * 600 + "x",
    "nested div 600, siblings": "<div>" * 600 + "<p>a</p><p>b</p>",
    "nested div 600, closed": "<div>" * 600 + "x" + "</div>" * 600 + "after",
    "nested template 600": "<template>" * 600 + "x",
    "nested table 200": "<table><tr><td>" * 200 + "x",
    "mixed 800": "<div><b><i><span>" * 200 + "x",
    "mixed foreign 700": "<div><span><template><svg><g><desc><p>" * 100 + "x",
    "comments and voids past the cap": "<i>" * 515 + "a<!--c-->b<br><img>c<!--d-->",
    "raw text past the cap": "<div>" * 530
    + "<script>a<b&amp;</script><style>x<y</style><textarea>t&amp;<</textarea>z",
    "svg past the cap": "<div>" * 505
    + "<svg>"
    + "<g>" * 20
    + "<style>a&amp;</style><script>s</script><input>t",
    "mathml past the cap": "<span>" * 508
    + "<math><mi><mo><mrow>" * 3
    + "<mtext>x<style>&amp;</style>",
    "voids past the cap": "<s>" * 520 + "<br><hr><wbr>text<input>",
    "raw text at the cap": "<u>" * 511 + "<xmp><b>&amp;</xmp><noscript><i></noscript>",
    "processing instruction past the cap": "<q>" * 515 + "<?pi data?>x",
    "nested li 300": "<ul><li>" * 300 + "x",
    "select past the cap": "<div>" * 600 + "<select><option>a<option>b</select>",
    # Refused by the solver (adoption agency or foster parenting past the cap):
    "template with formatting end tags": "<span>" * 510
    + "<template><em><em><em>x</em>y</em>z</em>w</template>v",
    "formatting end tags past the cap": "<em>" * 512 + "a<em>b</em>c<em>d</em>e",
    "nested b 600, closed": "<b>" * 600 + "x" + "</b>" * 600 + "y",
    "table past the cap": "<div>" * 600 + "<table>x<tr><td>y</table>",
    "nested a 600": "<a>" * 600,
}


def build_deep() -> dict[str, Any]:
    """Ask chromium for the innerHTML of every ``DEEP`` snippet."""
    names = list(DEEP)
    results = browser_inner_html([DEEP[name] for name in names], timeout=300)
    return {
        "about": "innerHTML read back from headless Chromium for snippets nested past its "
        "depth cap; regenerate with tools/make_browser_corpus.py --deep.",
        "chromium": chromium_version(),
        "entries": [
            {
                "source": name,
                "snippet": DEEP[name],
                "inner_html": html,
                "length": utf16_length(html),
            }
            for name, html in zip(names, results, strict=True)
        ],
    }


def build_elements() -> dict[str, Any]:
    """Ask chromium for ``querySelectorAll('*')`` of every corpus snippet and the extras."""
    items = [
        (entry["source"], entry["snippet"])
        for path in (CORPUS, DEEP_CORPUS)
        for entry in json.loads(path.read_text(encoding="ascii"))["entries"]
    ]
    items += list(ELEMENT_EXTRAS.items())
    results = browser_elements([snippet for _, snippet in items], timeout=300)
    return {
        "about": "the local names of div.querySelectorAll('*'), in tree order, read from "
        "headless Chromium after div.innerHTML = snippet, for every snippet of "
        "browser_corpus.json and browser_deep.json and a few more; regenerate with "
        "tools/make_browser_corpus.py --elements.",
        "chromium": chromium_version(),
        "entries": [
            {"source": source, "snippet": snippet, "elements": names}
            for (source, snippet), names in zip(items, results, strict=True)
        ],
    }


def hand_snippets() -> list[tuple[str, str]]:
    """(group, snippet) for every hand-written snippet, without duplicates."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for group, snippets in HAND.items():
        for snippet in snippets:
            if snippet not in seen:
                seen.add(snippet)
                out.append((group, snippet))
    return out


def generated_snippets(exclude: set[str]) -> list[tuple[str, str]]:
    """(source, snippet) from the emulator's generator: ``PER_SEED`` new ones for each seed."""
    seen = set(exclude)
    out: list[tuple[str, str]] = []
    for seed in GENERATOR_SEEDS:
        rng = random.Random(f"browser-corpus:{seed}")
        count = 0
        while count < PER_SEED:
            snippet = generate_snippet(rng)
            if snippet not in seen:
                seen.add(snippet)
                out.append((f"generator seed {seed}", snippet))
                count += 1
    return out


def build() -> dict[str, Any]:
    """Ask chromium for every snippet's innerHTML; return the corpus document."""
    hand = hand_snippets()
    items = hand + generated_snippets({snippet for _, snippet in hand})
    results = browser_inner_html([snippet for _, snippet in items], timeout=300)
    return {
        "about": "innerHTML read back from headless Chromium after div.innerHTML = snippet; "
        "length in UTF-16 code units. Regenerate with tools/make_browser_corpus.py.",
        "chromium": chromium_version(),
        "entries": [
            {"source": source, "snippet": snippet, "inner_html": html, "length": utf16_length(html)}
            for (source, snippet), html in zip(items, results, strict=True)
        ],
    }


def write(corpus: dict[str, Any], path: Path = CORPUS) -> None:
    """Write the corpus as ASCII JSON (lone surrogates survive as escapes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(corpus, indent=1, ensure_ascii=True) + "\n", encoding="ascii")


# --- measuring other parsers --------------------------------------------------------------------


def _lexbor_builtin(snippet: str) -> str:
    from selectolax.lexbor import LexborHTMLParser

    document = LexborHTMLParser("<!DOCTYPE html><div></div>", scripting=True)
    div = document.css_first("div")
    assert div is not None
    div.inner_html = snippet
    return div.inner_html or ""


_HTML_NS = "http://www.w3.org/1999/xhtml"


def _html5lib(snippet: str) -> str:
    """html5lib's fragment parser (context div) with a WHATWG fragment serializer."""
    import html5lib

    fragment = html5lib.parseFragment(snippet, container="div", treebuilder="dom")
    out: list[str] = []

    def text_escape(data: str, attribute: bool) -> str:
        data = data.replace("&", "&amp;").replace("\u00a0", "&nbsp;")
        data = data.replace("<", "&lt;").replace(">", "&gt;")
        return data.replace('"', "&quot;") if attribute else data

    def children(node: Any, raw: bool) -> None:
        for child in node.childNodes:
            if child.nodeType == child.TEXT_NODE:
                out.append(child.data if raw else text_escape(child.data, False))
            elif child.nodeType == child.COMMENT_NODE:
                out.append(f"<!--{child.data}-->")
            elif child.nodeType == child.ELEMENT_NODE:
                is_html = child.namespaceURI in (None, _HTML_NS)
                name = child.tagName
                out.append(f"<{name}")
                for key, value in child.attributes.items():
                    out.append(f' {key}="{text_escape(value, True)}"')
                out.append(">")
                if is_html and name in _VOID:
                    continue
                children(child, is_html and name in _RAW_TEXT)
                out.append(f"</{name}>")

    children(fragment, False)
    return "".join(out)


def measure() -> int:
    """Print how many corpus entries each parser reproduces exactly and by length."""
    corpus = json.loads(CORPUS.read_text(encoding="ascii"))
    entries = corpus["entries"]
    candidates: dict[str, Callable[[str], str]] = {
        "solver (selectolax/Lexbor tree + own WHATWG serializer)": inner_html,
        "selectolax/Lexbor built-in serializer": _lexbor_builtin,
        "html5lib parseFragment + WHATWG serializer": _html5lib,
    }
    generated = sum(entry["source"].startswith("generator") for entry in entries)
    print(
        f"corpus: {len(entries)} entries ({len(entries) - generated} hand-written, "
        f"{generated} generated), {corpus['chromium']}"
    )
    for name, parse in candidates.items():
        same = same_length = same_generated = 0
        started = time.perf_counter()
        for entry in entries:
            try:
                got = parse(entry["snippet"])
            except Exception:  # a crash counts as a miss
                continue
            same += got == entry["inner_html"]
            same_length += utf16_length(got) == entry["length"]
            if entry["source"].startswith("generator"):
                same_generated += got == entry["inner_html"]
        per = (time.perf_counter() - started) / len(entries) * 1e6
        print(
            f"{name}:\n  {same}/{len(entries)} identical ({100 * same / len(entries):.1f} %), "
            f"{same_length}/{len(entries)} same length ({100 * same_length / len(entries):.1f} %); "
            f"generated {same_generated}/{generated}; {per:.0f} us a snippet"
        )
    return 0


def check_generator(batches: int, first: int = 0) -> int:
    """Compare fresh generator output with live chromium: snippets, and whole challenges."""
    checked = differences = 0
    for batch in range(first, first + batches):
        rng = random.Random(f"generator-check:{batch}")
        snippets = [generate_snippet(rng) for _ in range(1000)]
        for snippet, html in zip(snippets, browser_inner_html(snippets, timeout=300), strict=True):
            checked += 1
            if inner_html(snippet) != html:
                differences += 1
                print(
                    f"snippet {snippet!r}\n  chromium {html!r}\n  solver   {inner_html(snippet)!r}"
                )
        issued = [issue_challenge(rng) for _ in range(300)]
        results = browser_eval_headers([c.b64 for c in issued], timeout=300)
        for challenge, result in zip(issued, results, strict=True):
            checked += 1
            got = result.get("client_hashes", [None, None])[1]
            if got != challenge.fingerprint or result.get("server_hashes") != list(
                challenge.server_hashes
            ):
                differences += 1
                print(f"challenge {challenge.js_text!r}\n  chromium {result!r}")
    print(f"generator check: {differences} differences in {checked} snippets and challenges")
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="compare parsers with the corpus")
    parser.add_argument(
        "--check-generator",
        type=int,
        metavar="BATCHES",
        help="compare BATCHES x (1000 snippets + 300 challenges) of fresh generator output "
        "with live chromium instead of writing the corpus",
    )
    parser.add_argument(
        "--deep", action="store_true", help="rewrite the deep-nesting corpus instead"
    )
    parser.add_argument(
        "--elements",
        action="store_true",
        help="rewrite the element lists (querySelectorAll) of the corpora's snippets instead",
    )
    args = parser.parse_args(argv)
    if args.elements:
        elements = build_elements()
        write(elements, ELEMENTS)
        print(f"wrote {len(elements['entries'])} entries to {ELEMENTS.relative_to(ROOT)}")
        return 0
    if args.deep:
        deep = build_deep()
        write(deep, DEEP_CORPUS)
        print(f"wrote {len(deep['entries'])} entries to {DEEP_CORPUS.relative_to(ROOT)}")
        return 0
    if args.measure:
        return measure()
    if args.check_generator:
        return check_generator(args.check_generator)
    corpus = build()
    write(corpus)
    print(f"wrote {len(corpus['entries'])} entries to {CORPUS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
