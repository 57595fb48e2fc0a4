"""The ``x-vqd-hash-1`` challenge of DuckDuckGo AI Chat (dialect ``2025-03``): a pure solver.

The status reply carries base64 of a small JavaScript program. It creates a ``div`` ``e``,
assigns an HTML snippet to ``e.innerHTML`` and returns ``String(OFFSET + e.innerHTML.length)``
among its ``client_hashes``. The answer is base64 of the JSON::

    {"server_hashes": [...], "client_hashes": [sha256_b64(UA + sec-ch-ua),
     sha256_b64(str(OFFSET + L))], "signals": {}}

where ``L`` is what a browser returns for ``e.innerHTML.length``: the snippet goes through
the WHATWG fragment parsing algorithm (context ``div``, scripting enabled, standards mode),
the children are serialized by the WHATWG "serializing HTML fragments" algorithm, and the
length is counted in UTF-16 code units. Lexbor (via selectolax) builds the tree; the
serializer here is written from the standard, because Lexbor's own escapes nothing inside
an SVG or MathML ``<style>``/``<script>`` where browsers do.

Anything that cannot be parsed raises :class:`~sansio_chat.ChallengeError`; no value is ever
made up.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from selectolax.lexbor import LexborHTMLParser, LexborNode

from sansio_chat._errors import ChallengeError, LocalProtocolError

__all__ = [
    "INLINE_SOLVE_LIMIT",
    "Challenge",
    "ChallengeSolver",
    "build_x_vqd_hash_1",
    "decode_challenge",
    "decode_js_string_literal",
    "dom_fingerprint",
    "inner_html",
    "inner_html_elements",
    "inner_html_length",
    "parse_challenge",
    "sha256_b64",
    "solve_challenge",
    "utf16_length",
]

ChallengeSolver: TypeAlias = Callable[[str, Mapping[str, str]], str]
"""A pluggable solver: ``(decoded challenge JavaScript, request headers) -> header value``."""

# JavaScript numbers are doubles: beyond this, String(offset + length) stops being exact.
_MAX_SAFE_INTEGER = 2**53 - 1

# Every pattern that searches the program starts with literal text (a word boundary is
# checked by a lookbehind placed after the word): the regex engine then jumps from one
# occurrence of that text to the next, where a pattern starting with a lookbehind or a
# character class is tried at every position (20-40x slower on a challenge).
#
# `.innerHTML =` (not `==`); the name before the dot is read by _name_before.
_INNER_HTML_ASSIGNED = re.compile(r"\.\s*innerHTML\s*=(?!=)\s*")
# `VAR = document.createElement('TAG')`, VAR not preceded by a name character or a dot.
_CREATE = (
    r"{var}(?<![\w$.]{var})\s*=\s*document\s*\.\s*createElement\s*\(\s*(['\"])([^'\"]*)\1\s*\)"
)
_RETURN = (
    r"return(?<!\wreturn)\s+String\s*\(\s*(0[xX][0-9a-fA-F]+|[0-9]+)\s*\+\s*"
    r"{var}\s*\.\s*innerHTML\s*\.\s*length\s*\)"
)
# `server_hashes: [` with the key bare (not after a name character) or quoted.
_SERVER_HASHES = re.compile(
    r"server_hashes(?:(?<![\w$]server_hashes)|(?<=\"server_hashes)\"|(?<='server_hashes)')"
    r"\s*:\s*\["
)
_JS_SPACE = " \t\n\r\v\f\u00a0\ufeff\u2028\u2029"
_LINE_TERMINATORS = "\n\r\u2028\u2029"
_JS_SPACE_CLASS = f"[{_JS_SPACE}]"
# A list of double-quoted string literals (after its "[") that decode to themselves: no
# escape, line break or surrogate (a raw pair would join into one character), as the
# service writes its hashes. _read_string_list reads any other list.
_PLAIN_ITEM = re.compile(r'"([^"\\\n\r\ud800-\udfff]*)"')
_PLAIN_LIST = (
    rf"{_JS_SPACE_CLASS}*((?:{_PLAIN_ITEM.pattern})(?:{_JS_SPACE_CLASS}*,{_JS_SPACE_CLASS}*"
    rf"(?:{_PLAIN_ITEM.pattern}))*){_JS_SPACE_CLASS}*(?:,{_JS_SPACE_CLASS}*)?\]"
)
# _SERVER_HASHES, and ahead of it the items of a plain list (group 1; None for any other):
# looked at, not consumed, so that a key spelled inside an item still counts as a second one.
_SERVER_HASHES_PLAIN = re.compile(rf"{_SERVER_HASHES.pattern}(?=(?:{_PLAIN_LIST})?)")
_HEX = frozenset("0123456789abcdefABCDEF")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_SINGLE_ESCAPES = {
    "'": 0x27,
    '"': 0x22,
    "\\": 0x5C,
    "b": 0x08,
    "f": 0x0C,
    "n": 0x0A,
    "r": 0x0D,
    "t": 0x09,
    "v": 0x0B,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge:
    """What the solver reads from a challenge program.

    Attributes:
        server_hashes: the strings of ``server_hashes: [...]``, in order, escapes decoded.
        snippet: the HTML assigned to ``e.innerHTML``, with its JavaScript escapes decoded.
        offset: the integer added to ``e.innerHTML.length``.
    """

    server_hashes: tuple[str, ...]
    snippet: str
    offset: int


# --- JavaScript ------------------------------------------------------------------------------


def decode_challenge(challenge_b64: str) -> str:
    """Decode the ``x-vqd-hash-1`` header value (base64) to the challenge's JavaScript text."""
    if len(challenge_b64) > MAX_CHALLENGE_CHARS:
        raise ChallengeError(
            f"the challenge header has {len(challenge_b64)} characters "
            f"(at most {MAX_CHALLENGE_CHARS} are read)"
        )
    text = challenge_b64.strip()
    if not text:
        raise ChallengeError("the challenge header is empty")
    # Strict: the standard alphabet, padded to a multiple of four, padding only at the end.
    if len(text) % 4:
        raise ChallengeError("the challenge is not base64")
    try:
        raw = _strict_a2b_base64(text)
    except (binascii.Error, ValueError) as exc:
        raise ChallengeError(f"the challenge is not base64: {exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChallengeError(f"the challenge is not UTF-8: {exc}") from exc


if sys.version_info >= (3, 11):

    def _strict_a2b_base64(text: str) -> bytes:
        """Base64 in the standard alphabet, padding only at the end (a multiple of four
        characters is checked by the caller), or binascii.Error / ValueError."""
        return binascii.a2b_base64(text, strict_mode=True)

else:  # pragma: no cover - Python 3.10's binascii has no strict mode
    _BASE64 = re.compile(r"[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

    def _strict_a2b_base64(text: str) -> bytes:
        """Base64 in the standard alphabet, padding only at the end (a multiple of four
        characters is checked by the caller), or binascii.Error / ValueError."""
        if not _BASE64.fullmatch(text):
            raise binascii.Error("a character outside the base64 alphabet, or misplaced padding")
        return binascii.a2b_base64(text)


def decode_js_string_literal(body: str) -> str:
    """Decode the body of a JavaScript string literal (the text between its quotes).

    Handles every escape a string literal may hold: ``\\' \\" \\\\ \\n \\r \\t \\b \\f \\v``,
    ``\\0`` (not followed by a digit), ``\\xHH``, ``\\uHHHH``, ``\\u{H…}``, line continuations,
    and identity escapes such as ``\\/``. Surrogate pairs written as two ``\\u`` escapes become
    one character; a lone surrogate stays as it is, as in a JavaScript string. Legacy octal
    escapes (``\\1``, ``\\08``, …), malformed hex, a raw line break and a trailing backslash
    raise :class:`ChallengeError`.
    """
    if not _TO_DECODE.search(body):
        return body  # no escape, line break or surrogate: the body is the string
    pieces = _COMMON_ESCAPE.split(body)  # text, escape, text, escape, ..., text
    if _NOT_PLAIN.search("".join(pieces[::2])):
        # A rarer escape, a malformed one or a raw line break: the general decoder.
        pieces = _ESCAPE.split(body)
        pieces[1::2] = map(_decode_escape, pieces[1::2])
    else:
        pieces[1::2] = map(_COMMON_ESCAPE_TEXT.__getitem__, pieces[1::2])
    text = "".join(pieces)
    if not _LONE_SURROGATE.search(text):
        return text
    # Escapes produced surrogates: a pair joins into one character, as in JavaScript's
    # UTF-16 strings; a lone one stays.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


_TO_DECODE = re.compile("[\\\\\n\r\ud800-\udfff]")
_NOT_PLAIN = re.compile(r"[\\\n\r]")
# The escapes of almost every literal: well-formed, and each meaning the same wherever it
# stands (unlike \0, which a following digit makes illegal).
_COMMON_ESCAPE = re.compile(
    r"(\\(?:u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|\r\n|[^ux0-9]))"
)


def _decode_common_escape(escape: str) -> str:
    """The text of one escape that _COMMON_ESCAPE matched."""
    kind = escape[1]
    if kind in "ux":  # \uHHHH, \u{H...}, \xHH
        value = int(escape[2:].strip("{}"), 16)
        if value > 0x10FFFF:
            raise ChallengeError(f"\\u{escape[2:]} is beyond U+10FFFF")
        return chr(value)
    if kind in _LINE_TERMINATORS:
        return ""  # a line continuation (backslash CR LF included)
    return _SINGLE_ESCAPE_TEXT.get(kind, kind)


class _EscapeTexts(dict[str, str]):
    """The texts of escapes that _COMMON_ESCAPE matched, each decoded once.

    A challenge holds a dozen or so escapes, mostly the same ones every time, and a lookup
    here is a C call where decoding is a Python one. At most _ESCAPE_TEXTS_KEPT are kept, so
    a program made of distinct escapes cannot grow it without bound.
    """

    def __missing__(self, escape: str) -> str:
        text = _decode_common_escape(escape)
        if len(self) < _ESCAPE_TEXTS_KEPT:
            self[escape] = text
        return text


_ESCAPE_TEXTS_KEPT = 4096
_COMMON_ESCAPE_TEXT = _EscapeTexts()


# One escape (or a raw line break) in the body of a string literal: a backslash and u{...},
# u and up to four characters, x and up to two, CR LF, 0 and the character after it (what
# that is decides whether \0 is legal), any one character, or nothing. split() hands the
# escapes over without building a match object for each.
_ESCAPE = re.compile(r"(\\(?:u\{[^}]*\}?|u.{0,4}|x.{0,2}|\r\n|0[^\\\n\r]?|.|\Z)|[\n\r])", re.DOTALL)
_SINGLE_ESCAPE_TEXT = {key: chr(value) for key, value in _SINGLE_ESCAPES.items()}


def _decode_escape(escape: str) -> str:
    """The text of one escape that _ESCAPE matched, or ChallengeError."""
    if escape in ("\n", "\r"):
        raise ChallengeError("a line break inside a string literal")
    kind, rest = escape[1:2], escape[2:]
    if not kind:
        raise ChallengeError("a string literal ends in a lone backslash")
    if kind == "u" and rest.startswith("{"):
        if not rest.endswith("}"):
            raise ChallengeError("unterminated \\u{...} escape")
        braced = rest[1:-1]
        if not braced or not set(braced) <= _HEX:
            raise ChallengeError(f"malformed \\u{{{braced[:16]}}} escape")
        value = int(braced, 16)
        if value > 0x10FFFF:
            raise ChallengeError(f"\\u{{{braced[:16]}}} is beyond U+10FFFF")
        return chr(value)
    if kind == "u":
        return chr(_hex_value(rest, 4, "\\u"))
    if kind == "x":
        return chr(_hex_value(rest, 2, "\\x"))
    if kind == "0" and not rest.isdigit():
        return "\0" + rest  # rest: the character after \0, if any
    if "0" <= kind <= "9":
        raise ChallengeError(f"legacy octal or decimal escape \\{kind} in a string literal")
    if kind in _LINE_TERMINATORS:
        return ""  # a line continuation (backslash CR LF included)
    return _SINGLE_ESCAPE_TEXT.get(kind, kind)


def _hex_value(digits: str, width: int, what: str) -> int:
    if len(digits) != width or not set(digits) <= _HEX:
        raise ChallengeError(f"malformed {what} escape: {digits!r}")
    return int(digits, 16)


# A whole string literal: characters but its quote, a backslash or a line break, then any
# number of (a backslash and the character it escapes (CR LF is one line continuation),
# then such characters again). Each repetition starts at a backslash, so the pattern matches
# in one pass and never backtracks more than linearly.
_LITERAL = {
    quote: re.compile(rf"{quote}[^{quote}\\\n\r]*(?:\\(?:\r\n|[\s\S])[^{quote}\\\n\r]*)*{quote}")
    for quote in "'\""
}


def _scan_string_literal(text: str, start: int) -> int:
    """Index just past the literal whose opening quote is at ``start``."""
    found = _LITERAL[text[start]].match(text, start)
    if found is None:
        raise ChallengeError("unterminated string literal")
    return found.end()


def _first_assignment(text: str, start: int = 0) -> tuple[str, int] | None:
    """The first ``NAME.innerHTML =`` in ``text`` from ``start`` on: ``NAME`` and the index
    past ``=`` and spaces; None if there is none.

    ``NAME`` is an identifier (``[A-Za-z_$][\\w$]*``) not preceded by a name character or a
    dot; spaces (``\\s``) may stand on both sides of the dot.
    """
    for found in _INNER_HTML_ASSIGNED.finditer(text, start):
        name = _name_before(text, found.start())
        if name:
            return name, found.end()
    return None


def _name_before(text: str, end: int) -> str:
    """The identifier that ends, spaces aside, at ``end``; "" if there is none or it follows
    a name character or a dot."""
    # str.isspace and str.isalnum test the same Unicode classes as \s and \w.
    while end > 0 and text[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
        start -= 1
    if start == end or text[start] not in _NAME_START:
        return ""
    if start > 0 and text[start - 1] == ".":
        return ""
    return text[start:end]


@functools.lru_cache(maxsize=64)
def _program_patterns(var: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The compiled ``createElement`` and ``return String(...)`` patterns for this name."""
    name = re.escape(var)
    return re.compile(_CREATE.format(var=name)), re.compile(_RETURN.format(var=name))


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _JS_SPACE:
        i += 1
    return i


def parse_challenge(js_text: str) -> Challenge:
    """Read the server hashes, the HTML snippet and the offset from a challenge program."""
    server_hashes, snippet, offset = _read_challenge(js_text)
    return Challenge(server_hashes=server_hashes, snippet=snippet, offset=offset)


def _read_challenge(js_text: str) -> tuple[tuple[str, ...], str, int]:
    """:func:`parse_challenge`'s fields, in order (the solver needs no Challenge object)."""
    if len(js_text) > MAX_CHALLENGE_CHARS:
        raise ChallengeError(
            f"the challenge has {len(js_text)} characters (at most {MAX_CHALLENGE_CHARS})"
        )
    usual = _USUAL_PROGRAM.fullmatch(js_text)
    if usual is not None:
        return (
            tuple(_PLAIN_ITEM.findall(usual["hashes"])),
            decode_js_string_literal(usual["literal"]),
            _offset_value(usual["offset"]),
        )
    return _read_any_program(js_text)


# The program as the service and the emulator write it, spaces aside: one pass reads what
# the general scans below would find in it, at about a third of their cost. Everything it
# accepts is unambiguous for those scans: the only free text is the literal, which they
# blank out, and the hashes, held to base64's alphabet (no name, dot, colon or bracket a
# scan could stop on); the name is ASCII, as _name_before reads it, and the spaces are ones
# every scan skips. Any other program goes through the general reader
# (tests/test_challenge_fast_paths.py compares the two on generated programs).
_USUAL_PROGRAM = re.compile(
    r"""
    \(function~\(\)~\{~
      (?:const|let|var)~~(?P<var>[A-Za-z_$][A-Za-z0-9_$]*)~=~
        document~\.~createElement~\(~(?P<quote>['"])div(?P=quote)~\)~;~
      (?P=var)~\.~innerHTML~=~'(?P<literal>[^'\\\n\r]*(?:\\(?:\r\n|[\w\W])[^'\\\n\r]*)*)'~;~
      return~\{~
        server_hashes~:~\[~(?P<hashes>"[A-Za-z0-9+/=]*"(?:~,~"[A-Za-z0-9+/=]*")*)~\]~,~
        client_hashes~:~\[~navigator~\.~userAgent~,~\(~function~\(\)~\{~
          return~~String~\(~(?P<offset>0[xX][0-9a-fA-F]+|[0-9]+)~\+~
            (?P=var)~\.~innerHTML~\.~length~\)~;~
        \}~\)~\(~\)~\]~,~
        signals~:~\{~\}~
      \}~;~
    \}~\)~\(~\)~;~
    """.replace("~~", "[ \t\n]+").replace("~", "[ \t\n]*"),  # spaces: at least one, any
    re.VERBOSE,
)


def _offset_value(literal: str) -> int:
    """The number a ``return String(OFFSET + ...)`` literal (decimal or hex) stands for."""
    if literal[:2] in ("0x", "0X"):
        offset = int(literal, 16)
    elif len(literal) > 1 and literal.startswith("0"):
        raise ChallengeError(f"offset {literal} has a leading zero (a legacy octal literal)")
    else:
        offset = int(literal)
    if offset > _MAX_SAFE_INTEGER:
        raise ChallengeError(f"offset {literal} is beyond JavaScript's safe integers")
    return offset


def _read_any_program(js_text: str) -> tuple[tuple[str, ...], str, int]:
    """:func:`_read_challenge` for a program of any shape: each part found by its own scan."""
    found = _first_assignment(js_text)
    if found is None:
        raise ChallengeError("no `e.innerHTML = '...'` assignment in the challenge")
    var, open_quote = found
    if open_quote >= len(js_text) or js_text[open_quote] not in "'\"":
        raise ChallengeError("innerHTML is not assigned a string literal")
    close = _scan_string_literal(js_text, open_quote)
    snippet = decode_js_string_literal(js_text[open_quote + 1 : close - 1])
    after = _skip_space(js_text, close)
    if after < len(js_text) and js_text[after] not in ";,)}":
        raise ChallengeError("innerHTML is assigned an expression, not a single string literal")
    # Search the rest of the program with the literal blanked out, so that markup in the
    # snippet can never be mistaken for the program's own text.
    rest = js_text[:open_quote] + "''" + js_text[close:]
    # The text before the literal is unchanged, and the first assignment ends there.
    if _first_assignment(rest, open_quote) is not None:
        raise ChallengeError("more than one innerHTML assignment in the challenge")

    create, return_string = _program_patterns(var)
    for _quote, tag in create.findall(rest):
        if tag.lower() != "div":
            raise ChallengeError("the snippet is not parsed in a div")

    returns = return_string.findall(rest)
    if not returns:
        raise ChallengeError("no `return String(OFFSET + e.innerHTML.length)` in the challenge")
    if len(returns) > 1:
        raise ChallengeError("more than one `return String(...)` in the challenge")
    offset = _offset_value(returns[0])
    return _parse_server_hashes(rest), snippet, offset


def _parse_server_hashes(text: str) -> tuple[str, ...]:
    matches = list(_SERVER_HASHES_PLAIN.finditer(text))
    if not matches:
        raise ChallengeError("no `server_hashes: [...]` in the challenge")
    if len(matches) > 1:
        raise ChallengeError("more than one `server_hashes` in the challenge")
    plain = matches[0].group(1)
    if plain is not None:
        # Literals with nothing to decode (a base64 digest each): their bodies, as they are.
        return tuple(_PLAIN_ITEM.findall(plain))
    return _read_string_list(text, matches[0].end())


def _read_string_list(text: str, i: int) -> tuple[str, ...]:
    """The strings of the list literal whose ``[`` ends before ``i``, up to its ``]``."""
    hashes: list[str] = []
    while True:
        i = _skip_space(text, i)
        if i >= len(text):
            raise ChallengeError("unterminated server_hashes list")
        if text[i] == "]":
            break
        if text[i] not in "'\"":
            raise ChallengeError("server_hashes holds something other than string literals")
        end = _scan_string_literal(text, i)
        hashes.append(decode_js_string_literal(text[i + 1 : end - 1]))
        i = _skip_space(text, end)
        if i < len(text) and text[i] == ",":
            i += 1
        elif i < len(text) and text[i] == "]":
            break
        else:
            raise ChallengeError("malformed server_hashes list")
    if not hashes:
        raise ChallengeError("server_hashes is empty")
    return tuple(hashes)


# --- HTML fragment parsing and serialization -------------------------------------------------

_VOID = frozenset(
    ("area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input",
     "keygen", "link", "meta", "param", "source", "track", "wbr")
)  # fmt: skip
# Text in these (HTML-namespace) elements is serialized as is. Browsers parse with
# scripting enabled, so noscript belongs here too.
_RAW_TEXT = frozenset(
    ("style", "script", "xmp", "iframe", "noembed", "noframes", "plaintext", "noscript")
)
_NEEDS_NAMESPACE = _VOID | _RAW_TEXT | {"template", "textarea"}
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "\u00a0": "&nbsp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "\u00a0": "&nbsp;", '"': "&quot;", "<": "&lt;", ">": "&gt;"}
)
_CONTEXT_DOCUMENT = "<!DOCTYPE html><html><head></head><body><div></div></body></html>"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_PRIVATE_USE = range(0xE000, 0xF900)

# Namespaces, and what a parent makes of its element children (the tree builder's
# "insert a foreign element" versus HTML rules, read back from the finished tree).
_HTML, _SVG, _MATHML = 0, 1, 2
_IN_HTML, _IN_SVG, _IN_MATHML, _IN_MATH_TEXT, _IN_ANNOTATION = range(5)
_SVG_HTML_POINTS = frozenset(("foreignObject", "desc", "title"))
_MATH_TEXT_POINTS = frozenset(("mi", "mo", "mn", "ms", "mtext"))
_TABLE_PARTS = frozenset(
    ("tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup", "col")
)

MAX_CHALLENGE_CHARS = 128 * 1024
"""The longest ``x-vqd-hash-1`` header value the solver reads; a longer one is refused."""

INLINE_SOLVE_LIMIT = 2048
"""The longest ``x-vqd-hash-1`` (base64) this solver may answer on an event loop (about a
millisecond at worst; the service's are shorter): see ``ChatSession.costly_work_ahead``."""

MAX_SNIPPET_CHARS = 16 * 1024
"""The longest HTML snippet the solver parses; real challenges carry a few hundred characters.

HTML tree construction is quadratic for some markup (deep ``<div>`` or ``<li>`` nesting, many
attributes on one tag, many distinct formatting elements), in browsers and in Lexbor alike;
this cap keeps the worst case of a hostile snippet within milliseconds (bench/bench_challenge.py).
"""

MAX_TREE_DEPTH = 512
"""Chromium's parser nests at most this many open elements (``html`` included): an element
inserted deeper becomes a sibling of its parent. The solver reproduces that."""

# Formatting elements: "reconstruct the active formatting elements" can re-create every one
# of them for every later token, so their number times the number of tokens bounds the
# elements a snippet can produce. The list keeps at most three equal entries (Noah's Ark).
_FORMATTING_START = re.compile(
    r"<(?:a|b|big|code|em|font|i|nobr|s|small|strike|strong|tt|u)(?=[\t\n\f\r />])[^>]*>?",
    re.IGNORECASE,
)
_RECONSTRUCTION_BUDGET = 25_000  # about 10 ms of tree building on the development machine
# What makes Chromium's tree past its depth cap depend on more than the open elements: the
# adoption agency algorithm (formatting end tags, <a> and <nobr> start tags) moves nodes, and
# <selectedcontent> clones them. Only looked at when the cap can be reached at all.
_DOM_DEPENDENT = re.compile(
    r"</(?:a|b|big|code|em|font|i|nobr|s|small|strike|strong|tt|u)(?![^\t\n\f\r />])"
    r"|<(?:a|nobr)(?![^\t\n\f\r />])|selectedcontent",
    re.IGNORECASE,
)


def _check_snippet_cost(snippet: str) -> None:
    """Refuse, in linear time, a snippet whose parsing could take superlinear time."""
    if len(snippet) > MAX_SNIPPET_CHARS:
        raise ChallengeError(
            f"the snippet has {len(snippet)} characters (at most {MAX_SNIPPET_CHARS} are parsed)"
        )
    counts: dict[str, int] = {}
    for match in _FORMATTING_START.finditer(snippet):
        key = match.group().lower()
        counts[key] = counts.get(key, 0) + 1
    formatting = sum(min(3, count) for count in counts.values())
    tokens = snippet.count("<") + 1
    if formatting * tokens > _RECONSTRUCTION_BUDGET:
        raise ChallengeError(
            f"the snippet's {formatting} formatting elements and {tokens} tokens could make "
            "the parser create too many elements"
        )


def _children_context(node: LexborNode, namespace: int, tag: str) -> int:
    if namespace == _HTML:
        return _IN_HTML
    if namespace == _SVG:
        return _IN_HTML if tag in _SVG_HTML_POINTS else _IN_SVG
    if tag in _MATH_TEXT_POINTS:
        return _IN_MATH_TEXT
    if tag == "annotation-xml":
        encoding = (node.attributes.get("encoding") or "").lower()
        if encoding in ("text/html", "application/xhtml+xml"):
            return _IN_HTML
        return _IN_ANNOTATION
    return _IN_MATHML


def _namespace(context: int, tag: str) -> int:
    """The namespace of an element with this tag under a parent of this context."""
    if context == _IN_SVG:
        return _SVG
    if context == _IN_MATHML:
        return _MATHML
    if context == _IN_ANNOTATION:
        return _SVG if tag == "svg" else _MATHML
    if context == _IN_MATH_TEXT and tag in ("mglyph", "malignmark"):
        return _MATHML
    return _SVG if tag == "svg" else _MATHML if tag == "math" else _HTML


def _element_children(node: LexborNode, namespace: int, tag: str) -> LexborNode | None:
    """The first child: of the template contents for an HTML ``template``."""
    if namespace == _HTML and tag == "template":
        contents = node.template_fragments()[:1]
        return contents[0].first_child if contents else None
    return node.first_child


def _descendant_text(node: LexborNode) -> str:
    parts: list[str] = []
    pending = [node.first_child]
    while pending:
        child = pending.pop()
        if child is None:
            continue
        pending.append(child.next)
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.is_element_node:
            pending.append(child.first_child)
    return "".join(parts)


_Attributes = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Serialization:
    parts: list[str]
    nodes: int = 0
    elements: int = 0
    capped: bool = False
    fostered: bool = False
    # When asked for: the elements as a browser's tree holds them, in tree order, without
    # template contents (what querySelectorAll('*') on the div lists).
    tree: list[tuple[str, _Attributes]] | None = None


def _serialize(div: LexborNode, listing: bool = False) -> _Serialization:
    """Serialize the children of ``div`` per WHATWG, without recursion, each node once.

    Nodes are visited in document order from an explicit stack of work items: a node to
    write (with its parent's context, its depth and whether its parent holds raw text), or
    a string (an end tag) to write when the stack comes back to it. Chromium's depth cap is
    applied on the way: the children of an element at depth 513 or more (the ``html``
    element is depth 1) keep their text, and their other nodes become siblings that follow
    them, as Chromium attaches them to the element at depth 512.
    """
    result = _Serialization(parts=[], tree=[] if listing else None)
    out, tree = result.parts, result.tree
    # (node, context of its parent, depth of the node, text is raw, siblings follow, outside
    # template contents) | end tag
    stack: list[tuple[LexborNode | None, int, int, bool, bool, bool] | str] = [
        (div.first_child, _IN_HTML, 2, False, True, True)
    ]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node, context, depth, raw, siblings, listed = item
        if node is None:
            continue
        if siblings:
            stack.append((node.next, context, depth, raw, True, listed))
        result.nodes += 1
        tag = node.tag
        if tag == "-text":
            data = node.text_content or ""
            out.append(data if raw else data.translate(_TEXT_ESCAPES))
            continue
        if tag == "-comment":
            # comment_content strips whitespace; the node's own markup is "<!--" data "-->".
            out.append(node.html or "")
            continue
        if not node.is_element_node or tag is None:
            # Chromium and Lexbor follow the proposal to parse `<?target data?>` as a
            # processing instruction (serialized "<?" target " " data "?>"); selectolax
            # exposes such a node only through its markup.
            markup = node.html or ""
            if not (markup.startswith("<?") and markup.endswith("?>")):
                raise ChallengeError(f"unexpected node {markup[:40]!r} in the parsed snippet")
            out.append(markup)
            continue
        result.elements += 1
        namespace = _namespace(context, tag)
        out.append("<")
        out.append(tag)
        attributes = node.attributes
        for name, value in attributes.items():
            out.append(f' {name}="{(value or "").translate(_ATTR_ESCAPES)}"')
        out.append(">")
        if tree is not None and listed:
            tree.append((tag, tuple((name, value or "") for name, value in attributes.items())))
        html = namespace == _HTML
        if html and tag in _VOID:
            continue
        if tag == "table" and node.prev is not None:
            result.fostered = True  # (or plain content before a table: it cannot tell)
        if html and tag == "textarea":
            # Lexbor reconstructs pending formatting elements inside a textarea (Chromium
            # and the standard do not); a textarea holds text only, so write just its text.
            out.append(_descendant_text(node).translate(_TEXT_ESCAPES))
            out.append("</textarea>")
            continue
        first = _element_children(node, namespace, tag)
        if html and tag == "template" and first is not None:
            sibling: LexborNode | None = first
            while sibling is not None and not result.fostered:
                result.fostered = sibling.tag in _TABLE_PARTS
                sibling = sibling.next
        inner = _children_context(node, namespace, tag)
        inner_raw = html and tag in _RAW_TEXT
        inner_listed = listed and not (html and tag == "template")
        end = f"</{tag}>"
        if depth < MAX_TREE_DEPTH + 1:
            stack.append(end)
            stack.append((first, inner, depth + 1, inner_raw, True, inner_listed))
            continue
        # Past Chromium's cap: the text stays inside, everything else follows as siblings.
        others: list[LexborNode] = []
        child = first
        while child is not None:
            if child.tag == "-text":
                result.nodes += 1
                data = child.text_content or ""
                out.append(data if inner_raw else data.translate(_TEXT_ESCAPES))
            else:
                others.append(child)
            child = child.next
        out.append(end)
        if others:
            result.capped = True
            # Pushed last-first so that they come out in document order, each one alone
            # (its next sibling is in this list already).
            for other in reversed(others):
                stack.append((other, inner, depth + 1, inner_raw, False, inner_listed))
    return result


def _mask_lone_surrogates(snippet: str) -> tuple[str, dict[str, str]]:
    """Swap lone surrogates (Lexbor reads UTF-8) for unused private-use characters.

    Both are one UTF-16 unit and plain characters to the HTML parser, so the tree and the
    length are the same; the mapping restores the surrogates in the output.
    """
    lone = sorted(set(_LONE_SURROGATE.findall(snippet)))
    if not lone:
        return snippet, {}
    used = set(snippet)
    spare = (chr(cp) for cp in _PRIVATE_USE if chr(cp) not in used)
    mapping: dict[str, str] = {}
    for surrogate in lone:
        placeholder = next(spare, None)
        if placeholder is None:
            raise ChallengeError("the snippet uses every private-use character")
        mapping[surrogate] = placeholder
    masked = snippet.translate({ord(s): p for s, p in mapping.items()})
    return masked, {p: s for s, p in mapping.items()}


def _parse(snippet: str, listing: bool = False) -> _Serialization:
    _check_snippet_cost(snippet)
    masked, restore = _mask_lone_surrogates(snippet)
    # After "<", Chromium keeps a NUL as U+FFFD text, where the specification (and Lexbor)
    # drop it in body text; everywhere else both turn a NUL into U+FFFD or drop it alike.
    masked = masked.replace("<\x00", "<\ufffd")
    # A standards-mode document (quirks mode would change table parsing), scripting on.
    document = LexborHTMLParser(_CONTEXT_DOCUMENT, scripting=True)
    body = document.body
    div = body.child if body is not None else None
    if div is None or div.tag != "div":  # pragma: no cover - the context document is fixed
        raise ChallengeError("could not create the div context")
    div.inner_html = masked
    result = _serialize(div, listing)
    if result.elements >= MAX_TREE_DEPTH and (result.fostered or _DOM_DEPENDENT.search(snippet)):
        # Chromium's cap may have changed where nodes went in ways the finished tree
        # cannot tell (foster parenting, the adoption agency): refuse rather than guess.
        raise ChallengeError(
            f"the snippet has {result.elements} elements and markup whose placement past "
            f"Chromium's depth cap of {MAX_TREE_DEPTH} the solver cannot reproduce"
        )
    if restore:
        table = {ord(p): s for p, s in restore.items()}
        result.parts[:] = [part.translate(table) for part in result.parts]
        if result.tree is not None:
            result.tree[:] = [
                (tag, tuple((name, value.translate(table)) for name, value in attributes))
                for tag, attributes in result.tree
            ]
    return result


def inner_html(snippet: str) -> str:
    """What a browser's ``div.innerHTML`` reads back after ``div.innerHTML = snippet``."""
    return "".join(_parse(snippet).parts)


def inner_html_elements(snippet: str) -> tuple[str, tuple[tuple[str, _Attributes], ...]]:
    """:func:`inner_html` of ``snippet``, and the elements that parse made as a browser's tree
    holds them: in tree order, as ``(local name, attributes)``, without template contents
    (what ``div.querySelectorAll('*')`` lists)."""
    result = _parse(snippet, listing=True)
    assert result.tree is not None
    return "".join(result.parts), tuple(result.tree)


def utf16_length(text: str) -> int:
    """JavaScript's ``length``: UTF-16 code units (a character beyond U+FFFF counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def inner_html_length(snippet: str) -> int:
    """``div.innerHTML.length`` after ``div.innerHTML = snippet``, in UTF-16 code units."""
    return utf16_length("".join(_parse(snippet).parts))


def dom_fingerprint(js_text: str) -> str:
    """The decimal string ``String(OFFSET + e.innerHTML.length)`` of a challenge program."""
    _server_hashes, snippet, offset = _read_challenge(js_text)
    return _fingerprint(snippet, offset)


def _fingerprint(snippet: str, offset: int) -> str:
    value = offset + inner_html_length(snippet)
    if value > _MAX_SAFE_INTEGER:
        raise ChallengeError("the fingerprint is beyond JavaScript's safe integers")
    return str(value)


# --- the answer ------------------------------------------------------------------------------


def sha256_b64(text: str) -> str:
    """Base64 of the SHA-256 digest of ``text`` encoded as UTF-8."""
    # Lone surrogates become U+FFFD, as TextEncoder does in a browser.
    return _digest_b64(_LONE_SURROGATE.sub("\ufffd", text).encode("utf-8"))


def _digest_b64(data: bytes) -> str:
    return binascii.b2a_base64(hashlib.sha256(data).digest(), newline=False).decode("ascii")


_IDENTITY_HEADERS = ("user-agent", "sec-ch-ua")


def _identity(headers: Mapping[str, str]) -> tuple[str, str]:
    """The request's User-Agent and sec-ch-ua (``""`` if missing), in one pass over headers
    whose names may have any case."""
    found: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower()
        if name in _IDENTITY_HEADERS and found.setdefault(name, value) != value:
            raise LocalProtocolError(f"conflicting values for the {name} header")
    return found.get("user-agent", ""), found.get("sec-ch-ua", "")


# JSON's string encoder without ensure_ascii (json's C function where there is one).
_json_string: Callable[[str], str] = json.encoder.encode_basestring


def _answer_json(server_hashes: tuple[str, ...], client_hashes: tuple[str, str]) -> str:
    """The answer as ``JSON.stringify`` writes it: compact, non-ASCII as is, lone surrogates
    escaped. The client hashes are base64 (nothing in them to escape)."""
    text = (
        f'{{"server_hashes":[{",".join(map(_json_string, server_hashes))}],'
        f'"client_hashes":["{client_hashes[0]}","{client_hashes[1]}"],"signals":{{}}}}'
    )
    if text.isascii():
        return text  # the usual answer: no surrogate to look for
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@functools.lru_cache(maxsize=16)
def _client_hash(user_agent_and_hints: str) -> str:
    """``sha256_b64`` of a client's User-Agent and sec-ch-ua: the same on each of its requests."""
    return sha256_b64(user_agent_and_hints)


def solve_challenge(challenge_js: str, headers: Mapping[str, str]) -> str:
    """The default :data:`ChallengeSolver`: the header value for a decoded challenge program.

    ``headers`` are the request headers the chat request will carry; ``User-Agent`` and
    ``sec-ch-ua`` are looked up case-insensitively (a missing one counts as ``""``).
    """
    server_hashes, snippet, offset = _read_challenge(challenge_js)
    fingerprint = _fingerprint(snippet, offset)
    user_agent, sec_ch_ua = _identity(headers)
    # The fingerprint is a decimal number: ASCII, no surrogate to replace.
    client_hashes = (_client_hash(user_agent + sec_ch_ua), _digest_b64(fingerprint.encode()))
    answer = _answer_json(server_hashes, client_hashes)
    return binascii.b2a_base64(answer.encode("utf-8"), newline=False).decode("ascii")


def build_x_vqd_hash_1(challenge_b64: str, headers: Mapping[str, str]) -> str:
    """The ``x-vqd-hash-1`` request header for a challenge header value (base64)."""
    return solve_challenge(decode_challenge(challenge_b64), headers)
