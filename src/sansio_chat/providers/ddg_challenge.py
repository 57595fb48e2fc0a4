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

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from selectolax.lexbor import LexborHTMLParser, LexborNode

from sansio_chat._errors import ChallengeError, LocalProtocolError

__all__ = [
    "Challenge",
    "ChallengeSolver",
    "build_x_vqd_hash_1",
    "decode_challenge",
    "decode_js_string_literal",
    "dom_fingerprint",
    "inner_html",
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

_ASSIGNMENT = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*\.\s*innerHTML\s*=(?!=)\s*")
_CREATE = r"(?<![\w$.]){var}\s*=\s*document\s*\.\s*createElement\s*\(\s*(['\"])([^'\"]*)\1\s*\)"
_RETURN = (
    r"\breturn\s+String\s*\(\s*(0[xX][0-9a-fA-F]+|[0-9]+)\s*\+\s*"
    r"{var}\s*\.\s*innerHTML\s*\.\s*length\s*\)"
)
_SERVER_HASHES = re.compile(
    r"(?:(?<![\w$])server_hashes|\"server_hashes\"|'server_hashes')\s*:\s*\["
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_JS_SPACE = " \t\n\r\v\f\u00a0\ufeff\u2028\u2029"
_LINE_TERMINATORS = "\n\r\u2028\u2029"
_HEX = frozenset("0123456789abcdefABCDEF")
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
    text = challenge_b64.strip()
    if not text:
        raise ChallengeError("the challenge header is empty")
    # Strict: the standard alphabet, padded to a multiple of four, padding only at the end.
    if len(text) % 4 or not _BASE64.fullmatch(text):
        raise ChallengeError("the challenge is not base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ChallengeError(f"the challenge is not base64: {exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChallengeError(f"the challenge is not UTF-8: {exc}") from exc


def decode_js_string_literal(body: str) -> str:
    """Decode the body of a JavaScript string literal (the text between its quotes).

    Handles every escape a string literal may hold: ``\\' \\" \\\\ \\n \\r \\t \\b \\f \\v``,
    ``\\0`` (not followed by a digit), ``\\xHH``, ``\\uHHHH``, ``\\u{H…}``, line continuations,
    and identity escapes such as ``\\/``. Surrogate pairs written as two ``\\u`` escapes become
    one character; a lone surrogate stays as it is, as in a JavaScript string. Legacy octal
    escapes (``\\1``, ``\\08``, …), malformed hex, a raw line break and a trailing backslash
    raise :class:`ChallengeError`.
    """
    units: list[int] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != "\\":
            if ch in "\n\r":
                raise ChallengeError("a line break inside a string literal")
            _append_units(units, ord(ch))
            i += 1
            continue
        i += 1
        if i >= n:
            raise ChallengeError("a string literal ends in a lone backslash")
        ch = body[i]
        i += 1
        if ch in _SINGLE_ESCAPES:
            units.append(_SINGLE_ESCAPES[ch])
        elif ch == "0" and (i >= n or not body[i].isdigit()):
            units.append(0)
        elif "0" <= ch <= "9":
            raise ChallengeError(f"legacy octal or decimal escape \\{ch} in a string literal")
        elif ch == "x":
            units.append(_hex_value(body[i : i + 2], 2, "\\x"))
            i += 2
        elif ch == "u":
            if i < n and body[i] == "{":
                end = body.find("}", i + 1)
                if end < 0:
                    raise ChallengeError("unterminated \\u{...} escape")
                digits = body[i + 1 : end]
                if not digits or not set(digits) <= _HEX:
                    raise ChallengeError(f"malformed \\u{{{digits}}} escape")
                value = int(digits, 16)
                if value > 0x10FFFF:
                    raise ChallengeError(f"\\u{{{digits}}} is beyond U+10FFFF")
                _append_units(units, value)
                i = end + 1
            else:
                units.append(_hex_value(body[i : i + 4], 4, "\\u"))
                i += 4
        elif ch == "\r":
            if i < n and body[i] == "\n":
                i += 1
        elif ch in _LINE_TERMINATORS:
            pass
        else:
            _append_units(units, ord(ch))
    return _from_utf16(units)


def _hex_value(digits: str, width: int, what: str) -> int:
    if len(digits) != width or not set(digits) <= _HEX:
        raise ChallengeError(f"malformed {what} escape: {digits!r}")
    return int(digits, 16)


def _append_units(units: list[int], code_point: int) -> None:
    if code_point > 0xFFFF:
        code_point -= 0x10000
        units.append(0xD800 + (code_point >> 10))
        units.append(0xDC00 + (code_point & 0x3FF))
    else:
        units.append(code_point)


def _from_utf16(units: list[int]) -> str:
    """UTF-16 code units to a str: pairs join, lone surrogates stay (as in JavaScript)."""
    raw = b"".join(unit.to_bytes(2, "little") for unit in units)
    return raw.decode("utf-16-le", "surrogatepass")


def _scan_string_literal(text: str, start: int) -> int:
    """Index just past the literal whose opening quote is at ``start``."""
    quote = text[start]
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            # Skip the escaped character; a CR LF line continuation is two of them.
            i += 3 if text[i + 1 : i + 3] == "\r\n" else 2
            continue
        if ch == quote:
            return i + 1
        if ch in "\n\r":
            break
        i += 1
    raise ChallengeError("unterminated string literal")


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _JS_SPACE:
        i += 1
    return i


def parse_challenge(js_text: str) -> Challenge:
    """Read the server hashes, the HTML snippet and the offset from a challenge program."""
    found = _ASSIGNMENT.search(js_text)
    if found is None:
        raise ChallengeError("no `e.innerHTML = '...'` assignment in the challenge")
    var = found.group(1)
    open_quote = found.end()
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
    if len(_ASSIGNMENT.findall(rest)) != 1:
        raise ChallengeError("more than one innerHTML assignment in the challenge")

    created = re.findall(_CREATE.format(var=re.escape(var)), rest)
    if any(tag.lower() != "div" for _quote, tag in created):
        raise ChallengeError("the snippet is not parsed in a div")

    returns = re.findall(_RETURN.format(var=re.escape(var)), rest)
    if not returns:
        raise ChallengeError("no `return String(OFFSET + e.innerHTML.length)` in the challenge")
    if len(returns) > 1:
        raise ChallengeError("more than one `return String(...)` in the challenge")
    literal = returns[0]
    if literal[:2] in ("0x", "0X"):
        offset = int(literal, 16)
    elif len(literal) > 1 and literal.startswith("0"):
        raise ChallengeError(f"offset {literal} has a leading zero (a legacy octal literal)")
    else:
        offset = int(literal)
    if offset > _MAX_SAFE_INTEGER:
        raise ChallengeError(f"offset {literal} is beyond JavaScript's safe integers")

    return Challenge(server_hashes=_parse_server_hashes(rest), snippet=snippet, offset=offset)


def _parse_server_hashes(text: str) -> tuple[str, ...]:
    matches = list(_SERVER_HASHES.finditer(text))
    if not matches:
        raise ChallengeError("no `server_hashes: [...]` in the challenge")
    if len(matches) > 1:
        raise ChallengeError("more than one `server_hashes` in the challenge")
    i = matches[0].end()
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


def _is_html_element(node: LexborNode, tag: str) -> bool:
    """Whether an element whose name is shared by HTML and SVG/MathML is the HTML one."""
    # selectolax exposes no namespace; Lexbor's serializer prefixes foreign tags on request.
    pretty = node.html_pretty(tag_with_ns=True) or ""
    return pretty.startswith(f"<{tag}") and pretty[len(tag) + 1 : len(tag) + 2] in (">", " ", "\n")


def _children(node: LexborNode) -> Iterator[LexborNode]:
    child = node.child
    while child is not None:
        yield child
        child = child.next


def _serialize_children(node: LexborNode, out: list[str], raw_text: bool) -> None:
    for child in _children(node):
        tag = child.tag
        if tag == "-text":
            data = child.text_content or ""
            out.append(data if raw_text else data.translate(_TEXT_ESCAPES))
        elif tag == "-comment":
            # comment_content strips whitespace; the node's own markup is "<!--" data "-->".
            out.append(child.html or "")
        elif child.is_element_node and tag is not None:
            _serialize_element(child, tag, out)
        else:
            # Chromium and Lexbor follow the proposal to parse `<?target data?>` as a
            # processing instruction (serialized "<?" target " " data "?>"); selectolax
            # exposes such a node only through its markup.
            markup = child.html or ""
            if not (markup.startswith("<?") and markup.endswith("?>")):
                raise ChallengeError(f"unexpected node {markup[:40]!r} in the parsed snippet")
            out.append(markup)


def _serialize_element(node: LexborNode, tag: str, out: list[str]) -> None:
    html_namespace = tag in _NEEDS_NAMESPACE and _is_html_element(node, tag)
    out.append("<")
    out.append(tag)
    for name, value in node.attributes.items():
        out.append(f' {name}="{(value or "").translate(_ATTR_ESCAPES)}"')
    out.append(">")
    if html_namespace and tag in _VOID:
        return
    if html_namespace and tag == "textarea":
        # Lexbor reconstructs pending formatting elements inside a textarea (Chromium and
        # the standard do not); a textarea holds text only, so serialize just its text.
        out.append(_descendant_text(node).translate(_TEXT_ESCAPES))
    elif html_namespace and tag == "template":
        for content in node.template_fragments()[:1]:
            _serialize_children(content, out, raw_text=False)
    else:
        _serialize_children(node, out, raw_text=html_namespace and tag in _RAW_TEXT)
    out.append("</")
    out.append(tag)
    out.append(">")


def _descendant_text(node: LexborNode) -> str:
    parts: list[str] = []
    for child in _children(node):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.is_element_node:
            parts.append(_descendant_text(child))
    return "".join(parts)


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


def inner_html(snippet: str) -> str:
    """What a browser's ``div.innerHTML`` reads back after ``div.innerHTML = snippet``."""
    masked, restore = _mask_lone_surrogates(snippet)
    # A standards-mode document (quirks mode would change table parsing), scripting on.
    document = LexborHTMLParser(_CONTEXT_DOCUMENT, scripting=True)
    body = document.body
    div = body.child if body is not None else None
    if div is None or div.tag != "div":  # pragma: no cover - the context document is fixed
        raise ChallengeError("could not create the div context")
    div.inner_html = masked
    out: list[str] = []
    _serialize_children(div, out, raw_text=False)
    result = "".join(out)
    if restore:
        result = result.translate({ord(p): s for p, s in restore.items()})
    return result


def utf16_length(text: str) -> int:
    """JavaScript's ``length``: UTF-16 code units (a character beyond U+FFFF counts 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def inner_html_length(snippet: str) -> int:
    """``div.innerHTML.length`` after ``div.innerHTML = snippet``, in UTF-16 code units."""
    return utf16_length(inner_html(snippet))


def dom_fingerprint(js_text: str) -> str:
    """The decimal string ``String(OFFSET + e.innerHTML.length)`` of a challenge program."""
    return _fingerprint(parse_challenge(js_text))


def _fingerprint(challenge: Challenge) -> str:
    value = challenge.offset + inner_html_length(challenge.snippet)
    if value > _MAX_SAFE_INTEGER:
        raise ChallengeError("the fingerprint is beyond JavaScript's safe integers")
    return str(value)


# --- the answer ------------------------------------------------------------------------------


def sha256_b64(text: str) -> str:
    """Base64 of the SHA-256 digest of ``text`` encoded as UTF-8."""
    # Lone surrogates become U+FFFD, as TextEncoder does in a browser.
    data = _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str:
    value: str | None = None
    for key, candidate in headers.items():
        if key.lower() == name:
            if value is not None and candidate != value:
                raise LocalProtocolError(f"conflicting values for the {name} header")
            value = candidate
    return value or ""


def _js_json(value: object) -> str:
    """JSON as ``JSON.stringify`` writes it: compact, non-ASCII as is, lone surrogates escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def solve_challenge(challenge_js: str, headers: Mapping[str, str]) -> str:
    """The default :data:`ChallengeSolver`: the header value for a decoded challenge program.

    ``headers`` are the request headers the chat request will carry; ``User-Agent`` and
    ``sec-ch-ua`` are looked up case-insensitively (a missing one counts as ``""``).
    """
    challenge = parse_challenge(challenge_js)
    fingerprint = _fingerprint(challenge)
    user_agent = _header(headers, "user-agent")
    sec_ch_ua = _header(headers, "sec-ch-ua")
    answer = {
        "server_hashes": list(challenge.server_hashes),
        "client_hashes": [sha256_b64(user_agent + sec_ch_ua), sha256_b64(fingerprint)],
        "signals": {},
    }
    return base64.b64encode(_js_json(answer).encode("utf-8")).decode("ascii")


def build_x_vqd_hash_1(challenge_b64: str, headers: Mapping[str, str]) -> str:
    """The ``x-vqd-hash-1`` request header for a challenge header value (base64)."""
    return solve_challenge(decode_challenge(challenge_b64), headers)
