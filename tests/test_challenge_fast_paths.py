"""The 2025-03 solver's fast paths agree with simple references written here.

``decode_js_string_literal`` decodes common escapes through dedicated regular-expression
groups (runs of ``\\uHHHH`` at once) and skips bodies with nothing to decode; the program
scanner searches from literal text and reads the name before ``.innerHTML =`` by hand; a list
of plain double-quoted server hashes is read by one pattern; the header is decoded by
binascii's strict mode; the answer's JSON is written by hand; a program laid out as the
service lays it out is read by one pattern. Each property compares them with
a straightforward reference on generated input: the character by character decoder of the
ECMAScript grammar below, the regular expressions the scanner had before
(``(?<![\\w$.])NAME...``), which try every position of the program, the general list reader,
the regular expression and ``json`` encoder the solver used before, and the general program
reader.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import sys
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sansio_chat import ChallengeError, LocalProtocolError
from sansio_chat.emulator.challenge import issue_challenge
from sansio_chat.providers import ddg_challenge
from sansio_chat.providers.ddg_challenge import (
    build_x_vqd_hash_1,
    decode_challenge,
    decode_js_string_literal,
    parse_challenge,
)

# --- string literals -------------------------------------------------------------------------

_HEX = "0123456789abcdefABCDEF"
_SIMPLE = {"'": "'", '"': '"', "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
           "t": "\t", "v": "\v"}  # fmt: skip


class _Refused(Exception):
    pass


def _units(text: str) -> list[int]:
    """UTF-16 code units; a lone surrogate is one unit, as in a JavaScript string."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _hex_digits(digits: str, width: int) -> int:
    if len(digits) != width or any(d not in _HEX for d in digits):
        raise _Refused
    return int(digits, 16)


def reference_decode(body: str) -> str:
    """The body of a string literal decoded one character at a time, to UTF-16 units.

    \\0 followed by a digit is refused; the solver tests "a digit" with str.isdigit.
    """
    units: list[int] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch in "\n\r":
            raise _Refused
        if ch != "\\":
            units += _units(ch)
            i += 1
            continue
        if i + 1 == len(body):
            raise _Refused
        ch = body[i + 1]
        i += 2
        if ch == "u" and body[i : i + 1] == "{":
            close = body.find("}", i)
            if close < 0 or close == i + 1 or any(d not in _HEX for d in body[i + 1 : close]):
                raise _Refused
            value = int(body[i + 1 : close], 16)
            if value > 0x10FFFF:
                raise _Refused
            units += _units(chr(value))
            i = close + 1
        elif ch == "u":
            units.append(_hex_digits(body[i : i + 4], 4))
            i += 4
        elif ch == "x":
            units.append(_hex_digits(body[i : i + 2], 2))
            i += 2
        elif ch == "\r":
            i += body[i : i + 1] == "\n"  # CR LF is one line continuation
        elif ch in "\n\u2028\u2029":
            pass  # a line continuation
        elif ch == "0" and not body[i : i + 1].isdigit():
            units.append(0)
        elif ch in "0123456789":
            raise _Refused  # legacy octal and \8 \9
        else:
            units += _units(_SIMPLE.get(ch, ch))
    return b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le", "surrogatepass")


def _escape(kind: str, value: int, upper: bool) -> str:
    digits = f"{value:X}" if upper else f"{value:x}"
    return {
        "u": f"\\u{value & 0xFFFF:04x}",
        "U": f"\\u{digits.zfill(4)[-4:]}",
        "braced": f"\\u{{{digits}}}",
        "braced0": f"\\u{{000{digits}}}",
        "x": f"\\x{value & 0xFF:02x}",
    }[kind]


escapes = st.builds(
    _escape,
    st.sampled_from(("u", "U", "braced", "braced0", "x")),
    st.one_of(
        st.integers(0, 0x7F),
        st.integers(0xD800, 0xDFFF),  # surrogates: pairs join, lone ones stay
        st.integers(0, 0x10FFFF),
        st.integers(0x110000, 0xFFFFFF),  # beyond Unicode in \u{...}: refused
    ),
    st.booleans(),
)
odd_pieces = st.sampled_from(
    (
        "\\'", '\\"', "\\\\", "\\b", "\\f", "\\n", "\\r", "\\t", "\\v", "\\/", "\\<", "\\a",
        "\\é", "\\\U0001f600", "\\0", "\\00", "\\08", "\\0\u0661", "\\1", "\\7", "\\8", "\\9",
        "\\\n", "\\\r\n", "\\\r", "\\\u2028", "\\\u2029", "\\\n\r",  # line continuations
        "\\u12", "\\u12G4", "\\x4", "\\xZZ", "\\u{", "\\u{}", "\\u{12", "\\u{xyz}", "\\u{-1}",
        "\\", "\n", "\r", "\u2028", "\ud83d", "\ude00",
    )
)  # fmt: skip
plain = st.text(st.characters(blacklist_characters="\\\n\r"), max_size=6)
lone_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
bodies = st.lists(st.one_of(plain, escapes, odd_pieces, lone_surrogates), max_size=12).map("".join)


def _decoded_or_refused(decode: Callable[[str], str], body: str) -> str | type[Exception]:
    try:
        return decode(body)
    except (ChallengeError, _Refused):
        return ChallengeError


@given(bodies)
@example("\\u0041\\u00e9\\uD83D\\uDE00\\u{1F600}\\x41")
@example("\\uD83D\\u{DE00}")  # a pair split over two escape forms
@example("\ud83d\\uDE00")  # a raw high surrogate and an escaped low one
@example("\\u{110000}")
@example("a\\\u2028b\\\u2029c\\\r\\\r\nd")  # line continuations
@example("\\u0041\\u12")
@example("\\0\\n")  # \0 is NUL unless a digit follows
@example("\\08")
@example("\\0a\\\nb\\\r\nc\\\u2028d")  # line continuations in the general decoder
@example("\\0\u0661")
def test_literal_decoder_matches_reference(body: str) -> None:
    assert _decoded_or_refused(decode_js_string_literal, body) == _decoded_or_refused(
        reference_decode, body
    )


@given(st.text(st.sampled_from("\\'\"xu{}0123456789abcdefDE\n\r\u2028\ud83d\ude00 "), max_size=30))
def test_literal_decoder_matches_reference_on_escape_soup(body: str) -> None:
    assert _decoded_or_refused(decode_js_string_literal, body) == _decoded_or_refused(
        reference_decode, body
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a\rb", "line break inside"),
        ("\\0\r", "line break inside"),  # \0 sends the body to the general decoder
        ("\\u{12", "unterminated"),
        ("\\u{1x}", "malformed"),
        ("\\u{110000}", "beyond U\\+10FFFF"),
        ("\\0\\u{110000}", "beyond U\\+10FFFF"),
        ("\\08", "legacy octal"),
        ("\\", "lone backslash"),
        ("\\x4", "malformed \\\\x"),
        ("\\u12G4", "malformed \\\\u"),
    ],
)
def test_refusals_say_why(body: str, message: str) -> None:
    with pytest.raises(ChallengeError, match=message):
        decode_js_string_literal(body)


def test_body_without_escapes_is_returned_as_is() -> None:
    body = "<b>duck</b> 日本語 \U0001f600"
    assert decode_js_string_literal(body) is body


def test_run_of_escapes_joins_a_surrogate_pair() -> None:
    assert decode_js_string_literal("\\uD83D\\uDE00") == "\U0001f600"
    assert decode_js_string_literal("\\uDE00\\uD83D") == "\ude00\ud83d"


# --- the program scanner ---------------------------------------------------------------------

# The patterns as they were before the scanner searched from literal text.
OLD_ASSIGNMENT = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*\.\s*innerHTML\s*=(?!=)\s*")
OLD_CREATE = r"(?<![\w$.]){var}\s*=\s*document\s*\.\s*createElement\s*\(\s*(['\"])([^'\"]*)\1\s*\)"
OLD_RETURN = (
    r"\breturn\s+String\s*\(\s*(0[xX][0-9a-fA-F]+|[0-9]+)\s*\+\s*"
    r"{var}\s*\.\s*innerHTML\s*\.\s*length\s*\)"
)
OLD_SERVER_HASHES = re.compile(
    r"(?:(?<![\w$])server_hashes|\"server_hashes\"|'server_hashes')\s*:\s*\["
)
OLD_LITERAL = {
    quote: re.compile(rf"{quote}(?:[^{quote}\\\n\r]|\\(?:\r\n|[\s\S]))*{quote}") for quote in "'\""
}

program_pieces = st.sampled_from(
    (
        "e", "el", "$", "$e", "_x", "e1", "1", "é", "\u0661", "K", ".", ". ", " ", "\t",
        "\u00a0", "\u2028", "\x1c", "\n", "innerHTML", "=", "==", "(", ")", "'", '"', ";",
        "\\", "return", "String", "+", "0x1f", "07", "length", "document", "createElement",
        "'div'", '"p"', "server_hashes", ":", "[", "]", ",", "'a'", "\\'", "\r\n",
    )
)  # fmt: skip
programs = st.lists(program_pieces, max_size=40).map("".join)


assignment_pieces = st.sampled_from(
    (
        "e", "$", "_1", "é", "\u0661", "K", "1", ".", " ", "\t", "\u00a0", "\u2028", "\x1c",
        ".innerHTML", "innerHTML", "=", "==", ";", "'",
    )
)  # fmt: skip


@given(st.one_of(programs, st.lists(assignment_pieces, max_size=12).map("".join)))
@example("e.innerHTML = 'x'; e .\tinnerHTML= 'y'")
@example("a.e.innerHTML = 1; $1.innerHTML == 2; 1e.innerHTML = 3; é.innerHTML = 4")
@example("\u00e9e.innerHTML = 1; _\u0661.innerHTML = 2; K.innerHTML = 3")
@example(".e.innerHTML = 1; e\t\u00a0\u2028.innerHTML = 2; a$.innerHTML = 3")
def test_assignments_match_the_old_pattern(text: str) -> None:
    old = [(found.group(1), found.end()) for found in OLD_ASSIGNMENT.finditer(text)]
    assert _all_assignments(text) == old


def _all_assignments(text: str) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    start = 0
    while (one := ddg_challenge._first_assignment(text, start)) is not None:
        found.append(one)
        start = one[1]
    return found


@given(programs, st.sampled_from(("e", "el", "$e", "_x", "é")))
@example("e = document.createElement('div'); return String(0x1f + e.innerHTML.length)", "e")
@example("xe = document.createElement('p'); .e=document.createElement('b')", "e")
@example("xreturn String(1 + e.innerHTML.length); return String(2+e.innerHTML.length)", "e")
@example('$e=document . createElement ( "div" ) returnString(1+$e.innerHTML.length)', "$e")
def test_program_patterns_match_the_old_ones(text: str, var: str) -> None:
    create, return_string = ddg_challenge._program_patterns(var)
    assert create.findall(text) == re.findall(OLD_CREATE.format(var=re.escape(var)), text)
    assert return_string.findall(text) == re.findall(OLD_RETURN.format(var=re.escape(var)), text)


@given(programs)
@example("server_hashes: ['a'], 'server_hashes' : [, \"server_hashes\":[")
@example("xserver_hashes: [ $server_hashes:[ \"server_hashes': [ 'server_hashes\":[")
def test_server_hashes_search_matches_the_old_one(text: str) -> None:
    new = [found.span() for found in ddg_challenge._SERVER_HASHES.finditer(text)]
    old = [found.span() for found in OLD_SERVER_HASHES.finditer(text)]
    # The new pattern starts at the key, the old one at its opening quote.
    assert [end for _, end in new] == [end for _, end in old]


@given(programs, st.sampled_from("'\""))
@example("'a\\'b' rest", "'")
@example("'a\\\r\nb'", "'")
@example("'unterminated\\'", "'")
@example("a\\'b\rc' after a raw CR", "'")
def test_literal_scan_matches_the_old_pattern(text: str, quote: str) -> None:
    text = quote + text
    old = OLD_LITERAL[quote].match(text)
    if old is None:
        with pytest.raises(ChallengeError):
            ddg_challenge._scan_string_literal(text, 0)
    else:
        assert ddg_challenge._scan_string_literal(text, 0) == old.end()


def test_name_characters_are_the_regex_classes() -> None:
    # _name_before tests \s and \w with str.isspace and str.isalnum: the same classes.
    space, word = re.compile(r"\s"), re.compile(r"\w")
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert bool(space.match(ch)) == ch.isspace(), hex(code)
        assert bool(word.match(ch)) == (ch.isalnum() or ch == "_"), hex(code)


def test_long_runs_before_many_candidates_are_read() -> None:
    # Many `.innerHTML =` candidates, each after long runs of name characters and spaces.
    js = ("a" * 200 + " " * 200 + ".innerHTML=1;") * 200
    assert len(_all_assignments(js)) == 200
    with pytest.raises(ChallengeError, match="not assigned a string literal"):
        parse_challenge(js)


def test_program_with_every_escape_form() -> None:
    literal = r"'<b title=\"\u00e9\x41\">\u{1F600}\uD83D\uDE00 \\ \'\
<\/b>'"
    js = (
        "(function () { const e = document.createElement('div'); "
        f"e.innerHTML = {literal}; return {{server_hashes: [\"a\\x62\", 'c'], "
        "client_hashes: [navigator.userAgent, (function () { "
        "return String(0x1f + e.innerHTML.length); })()], signals: {}}; })();"
    )
    challenge = parse_challenge(js)
    assert challenge.snippet == '<b title="\u00e9A">\U0001f600\U0001f600 \\ \'</b>'
    assert challenge.server_hashes == ("ab", "c")
    assert challenge.offset == 0x1F


def test_answer_escapes_only_lone_surrogates() -> None:
    js = (
        "(function () { const e = document.createElement('div'); e.innerHTML = 'x'; "
        "return {server_hashes: ['\\uD800\\u00e9', 'plain'], client_hashes: [navigator.userAgent, "
        "(function () { return String(1 + e.innerHTML.length); })()], signals: {}}; })();"
    )
    header = base64.b64encode(js.encode()).decode()
    answer = base64.b64decode(build_x_vqd_hash_1(header, {})).decode("utf-8")
    assert answer.startswith('{"server_hashes":["\\ud800\u00e9","plain"],"client_hashes":["')


# --- the usual program -----------------------------------------------------------------------

# The service's program (the emulator writes the same), with a slot for each part and each
# space; the reader recognises this shape in one pass and must read it exactly as the
# general scans do, refusals included.
_USUAL_LAYOUT = (
    "(function{s}(){s}{{{n}{decl}{S}{var}{s}={s}document{s}.{s}createElement{s}({s}{tag}{s}){s};{n}"
    "{var}{s}.{s}innerHTML{s}={s}'{literal}'{s};{n}return{s}{{{n}"
    "server_hashes{s}:{s}[{hashes}]{s},{n}"
    "client_hashes{s}:{s}[navigator{s}.{s}userAgent,{s}(function{s}(){s}{{{n}"
    "return{S}String{s}({s}{offset}{s}+{s}{var}{s}.{s}innerHTML{s}.{s}length{s}){s};{n}"
    "}}{s}){s}({s}){s}]{s},{n}signals{s}:{s}{{{s}}}{n}}}{s};{n}}}{s}){s}({s}){s};{n}"
)
_PLAIN_SPACES = ("", " ", "\n    ", "\t")
_ODD_SPACES = ("\u00a0", "\r\n", "\v", "\u2028", "\x1c", "\ufeff", "x")
_PLAIN_NAMES = ("e", "el", "$", "_x1", "$e_2")
# Names that are words the program's other scans look for, or not plain ASCII names at all.
_ODD_NAMES = ("return", "String", "document", "innerHTML", "server_hashes", "length", "const",
              "navigator", "é", "1e", "e.x", "e e", "")  # fmt: skip
_BASE64_HASH = st.text("ABCXYZabcxyz0189+/=", max_size=12).map(lambda text: f'"{text}"')
_ODD_HASHES = st.sampled_from(
    ('"a.b"', '"x.innerHTML = 1"', '"server_hashes:["', '"server_hashes: ["', '"é"',
     "\"x.innerHTML = 'y'\"", '"\\x41"', "'A'", '"return String(1 + e.innerHTML.length)"',
     '"', "", "x"),
)  # fmt: skip
_ODD_OFFSETS = ("0", "012", "9007199254740993", "0x20000000000000", "0x", "1e3", "-1", "1_0")


_ODD_PARTS = ("space", "hashes", "separator", "trailing", "quote", "tag", "offset", "literal",
              "decl", "var", "edit")  # fmt: skip


@st.composite
def usual_programs(draw: st.DrawFn, changed: frozenset[str] = frozenset()) -> str:
    """A program laid out as the service lays it out, but for the ``changed`` parts: each
    holds something the fast path must leave to the general reader (or read identically)."""

    def pick(part: str, plain: st.SearchStrategy[str], other: st.SearchStrategy[str]) -> str:
        return draw(other if part in changed else plain)

    items = draw(st.lists(_BASE64_HASH, min_size=1, max_size=3))
    if "hashes" in changed:
        items = draw(st.lists(st.one_of(_BASE64_HASH, _ODD_HASHES), max_size=3))
    separator = pick(
        "separator", st.sampled_from((", ", ",", " ,\n  ")), st.sampled_from((",\u00a0", " ", ",,"))
    )
    trailing = pick("trailing", st.just(""), st.sampled_from((",", ", ")))
    quote = pick("quote", st.sampled_from("'\""), st.just("`"))
    tag = pick("tag", st.just("div"), st.sampled_from(("DIV", "p", "div x", "")))
    declarations = st.sampled_from(("const", "let", "var"))
    offsets = st.one_of(st.integers(0, 2**53 - 1).map(str), st.integers(0, 2**53 - 1).map(hex))
    fields = {
        "decl": pick("decl", declarations, st.sampled_from(("", "constx", "Const"))),
        "var": pick("var", st.sampled_from(_PLAIN_NAMES), st.sampled_from(_ODD_NAMES)),
        "tag": quote + tag + quote,
        "literal": pick("literal", emulator_literals, bodies),
        "hashes": separator.join(items) + trailing,
        "offset": pick("offset", offsets, st.sampled_from(_ODD_OFFSETS)),
    }
    slots = re.split(r"(\{\w+\}|\{\{|\}\})", _USUAL_LAYOUT)
    spaces = [i for i, slot in enumerate(slots) if slot in ("{s}", "{S}", "{n}")]
    odd_space = draw(st.sampled_from(spaces)) if "space" in changed else -1
    text = ""
    for i, slot in enumerate(slots):
        if slot in ("{s}", "{S}", "{n}"):
            space = draw(st.sampled_from(_ODD_SPACES if i == odd_space else _PLAIN_SPACES))
            text += space or ("" if slot == "{s}" else " ")
        elif slot in ("{{", "}}"):
            text += slot[0]
        elif slot.startswith("{"):
            text += fields[slot[1:-1]]
        else:
            text += slot
    if "edit" in changed:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.one_of(program_pieces, st.just(""))) + text[at + 1 :]
    return text


# Literal bodies as the emulator writes them: escaped quotes, \\uHHHH, \\u{...}, \\xHH, line
# continuations, and any text without a quote, backslash or line break.
emulator_literals = st.lists(
    st.one_of(
        st.text(st.characters(blacklist_characters="'\\\n\r"), max_size=8),
        st.sampled_from(("\\'", "\\n", "\\\\", "\\\n", "\\x3c", "\\u00e9", "\\u{1D54F}", "\\/")),
        escapes,
    ),
    max_size=10,
).map("".join)


def _outcome(read: Callable[[], object]) -> object:
    try:
        return read()
    except ChallengeError as exc:
        return (ChallengeError, str(exc))


@given(usual_programs())
@example(
    "(function () {\n  const e = document.createElement('div');\n  e.innerHTML = '<b>x\\'</b>';"
    '\n  return {\n    server_hashes: ["QQ==", "Qg=="],\n    client_hashes: [navigator.userAgent,'
    " (function () {\n      return String(0x60f1 + e.innerHTML.length);\n    })()],\n"
    "    signals: {}\n  };\n})();\n"
)
def test_the_usual_program_is_read_in_one_pass_as_the_scans_read_it(text: str) -> None:
    assert ddg_challenge._USUAL_PROGRAM.fullmatch(text) is not None
    expected = _outcome(lambda: ddg_challenge._read_any_program(text))
    assert _outcome(lambda: ddg_challenge._read_challenge(text)) == expected


@pytest.mark.parametrize("part", _ODD_PARTS)
@given(data=st.data())
def test_a_program_with_an_odd_part_is_read_as_the_scans_read_it(
    part: str, data: st.DataObject
) -> None:
    others = data.draw(st.sets(st.sampled_from(_ODD_PARTS), max_size=1))
    text = data.draw(usual_programs(frozenset({part, *others})))
    expected = _outcome(lambda: ddg_challenge._read_any_program(text))
    assert _outcome(lambda: ddg_challenge._read_challenge(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            # a hash with a second assignment in it: the scans refuse the program
            "(function(){const e=document.createElement('div');e.innerHTML='x';return{"
            'server_hashes:["x.innerHTML = 1"],client_hashes:[navigator.userAgent,(function(){'
            "return String(1+e.innerHTML.length);})()],signals:{}};})();",
            (
                ChallengeError,
                "challenge error: more than one innerHTML assignment in the challenge",
            ),
        ),
        (
            # the name `return`, which the return scan also starts from
            "(function(){const return=document.createElement('div');return.innerHTML='x';return{"
            'server_hashes:["a"],client_hashes:[navigator.userAgent,(function(){return String(1+'
            "return.innerHTML.length);})()],signals:{}};})();",
            (("a",), "x", 1),
        ),
        (
            # a space \s knows and JavaScript does not, where the scans skip JavaScript's
            "(function(){const e=document.createElement('div');e.innerHTML='x'\x1c;return{"
            'server_hashes:["a"],client_hashes:[navigator.userAgent,(function(){return String(1+'
            "e.innerHTML.length);})()],signals:{}};})();",
            (
                ChallengeError,
                "challenge error: innerHTML is assigned an expression, not a single string literal",
            ),
        ),
    ],
)
def test_programs_near_the_usual_one_are_read_as_the_scans_read_them(
    text: str, expected: object
) -> None:
    assert _outcome(lambda: ddg_challenge._read_any_program(text)) == expected
    assert _outcome(lambda: ddg_challenge._read_challenge(text)) == expected


def test_the_emulators_programs_take_the_one_pass_reader() -> None:
    rng = random.Random(16)
    for _ in range(300):
        issued = issue_challenge(rng)
        js_text = decode_challenge(issued.b64)
        assert ddg_challenge._USUAL_PROGRAM.fullmatch(js_text) is not None
        assert ddg_challenge._read_challenge(js_text) == (
            issued.server_hashes,
            issued.snippet,
            issued.offset,
        )


def test_a_long_hostile_near_usual_program_is_refused_in_linear_time() -> None:
    # The one-pass pattern has no nested repetition but the literal's (as _LITERAL has):
    # long literals, space runs and hash lists that end wrong fail it once, then the
    # general reader refuses them.
    head = "(function () { const e = document.createElement('div'); e.innerHTML = '"
    for text in (
        head + "\\'" * 40_000,
        head + "x';" + " " * 100_000,
        head + "x'; return { server_hashes: [" + '"A", ' * 20_000 + "x",
    ):
        with pytest.raises(ChallengeError):
            ddg_challenge._read_challenge(text)


# --- server hashes, the header's base64, the answer ---------------------------------------------

_LIST_SPACE = st.sampled_from(("", " ", "\t", "\n", "\u00a0", "\u2028", "\x1c", "  "))
_list_items = st.one_of(
    st.builds(lambda body: f'"{body}"', st.one_of(bodies, st.text(max_size=8))),
    st.builds(lambda body: f"'{body}'", bodies),
    st.sampled_from(('"server_hashes: ["', "x", "", ",", '"unterminated', "]")),
)
server_hash_lists = st.builds(
    lambda items, spaces, trailing, end: (
        "server_hashes: ["
        + ",".join(spaces + item + spaces for item in items)
        + (",", "")[not trailing]
        + end
    ),
    st.lists(_list_items, max_size=5),
    _LIST_SPACE,
    st.booleans(),
    st.sampled_from(("]", " ] rest", "", "\n]", ")")),
)


def _read_or_refused(read: Callable[[], tuple[str, ...]]) -> tuple[str, ...] | type[Exception]:
    try:
        return read()
    except ChallengeError:
        return ChallengeError


@given(server_hash_lists)
@example('server_hashes: ["a", "b"]')
@example('server_hashes: [ "a" ,\u2028"b" , ]')
@example('server_hashes: ["server_hashes: [", "x"]')  # the key inside an item: a second key
@example('server_hashes: ["a\\x41", "b"]')  # an escape: the general reader
@example('server_hashes: ["\ud83d\ude00"]')  # raw surrogates: the general reader joins them
@example('server_hashes: ["a", ]]')
@example("server_hashes: ['a']")
def test_plain_server_hashes_match_the_general_reader(text: str) -> None:
    keys = list(ddg_challenge._SERVER_HASHES.finditer(text))
    if len(keys) == 1:
        expected = _read_or_refused(lambda: ddg_challenge._read_string_list(text, keys[0].end()))
    else:
        expected = ChallengeError
    assert _read_or_refused(lambda: ddg_challenge._parse_server_hashes(text)) == expected


def test_a_long_hostile_hash_list_is_refused() -> None:
    # Patterns that could backtrack: many items before a bad end, long runs of spaces.
    for text in (
        "server_hashes: [" + '"a" , ' * 30_000 + "x",
        'server_hashes: ["a"' + " " * 100_000 + "x",
        "server_hashes: [" + '"a",' * 30_000 + " " * 30_000,
        # A key inside every other item: each is looked ahead from, and each look stops at
        # the next such item (the work stays linear).
        "server_hashes: [" + '"server_hashes: [", ", ", ' * 3_000 + '"x"]',
    ):
        with pytest.raises(ChallengeError):
            ddg_challenge._parse_server_hashes(text)


_B64 = re.compile(r"[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def reference_decode_challenge(value: str) -> str:
    """The header decoder before binascii's strict mode: a pattern, then a2b_base64."""
    text = value.strip()
    if not text or len(text) % 4 or not _B64.fullmatch(text):
        raise ChallengeError("not base64")
    return binascii.a2b_base64(text).decode("utf-8")


def _text_or_refused(decode: Callable[[str], str], value: str) -> str | type[Exception]:
    try:
        return decode(value)
    except (ChallengeError, UnicodeDecodeError):
        return ChallengeError


@given(st.text(st.sampled_from("AQgw+/=\n -_\u00e9\x00"), max_size=14))
@example("AAAA=")  # a2b_base64's strict mode takes padding after a full group
@example("QQ==")
@example("QQ=A")
@example("=QQA")
@example("gA==")  # not UTF-8
def test_header_decoder_matches_the_pattern(value: str) -> None:
    assert _text_or_refused(decode_challenge, value) == _text_or_refused(
        reference_decode_challenge, value
    )


_REFERENCE_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def reference_answer(server_hashes: tuple[str, ...], client_hashes: tuple[str, str]) -> str:
    """The answer through json, lone surrogates escaped as JSON.stringify does."""
    answer = {"server_hashes": list(server_hashes), "client_hashes": list(client_hashes),
              "signals": {}}  # fmt: skip
    text = _REFERENCE_JSON.encode(answer)
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


@given(
    st.lists(st.one_of(st.text(), st.text(st.sampled_from('"\\/\x00\x1f\u2028\ud800\ue000a'))),
             max_size=4).map(tuple),
    st.tuples(st.text("ABC+/=", max_size=44), st.text("xyz09", max_size=44)),
)  # fmt: skip
@example(("\ud800\u00e9", "plain"), ("a", "b"))
@example(("\ud83d\ude00",), ("", ""))  # a pair is one character, written as it is
def test_answer_json_matches_the_json_module(
    server_hashes: tuple[str, ...], client_hashes: tuple[str, str]
) -> None:
    assert ddg_challenge._answer_json(server_hashes, client_hashes) == reference_answer(
        server_hashes, client_hashes
    )


def test_the_escape_memo_is_bounded_and_keeps_no_error() -> None:
    memo = ddg_challenge._COMMON_ESCAPE_TEXT
    body = "".join(f"\\u{{{code:x}}}" for code in range(0x4E00, 0x4E00 + 6000))
    assert decode_js_string_literal(body) == "".join(map(chr, range(0x4E00, 0x4E00 + 6000)))
    assert len(memo) <= ddg_challenge._ESCAPE_TEXTS_KEPT
    for _ in range(2):
        with pytest.raises(ChallengeError, match="beyond U\\+10FFFF"):
            decode_js_string_literal("\\u{110000}")
    assert "\\u{110000}" not in memo


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, ("", "")),
        ({"User-Agent": "a", "USER-AGENT": "a", "Sec-CH-UA": "b"}, ("a", "b")),
        ({"sec-ch-ua": "", "x-other": "y"}, ("", "")),
    ],
)
def test_identity_headers_are_read_in_one_pass(
    headers: dict[str, str], expected: tuple[str, str]
) -> None:
    assert ddg_challenge._identity(headers) == expected


@pytest.mark.parametrize("headers", [{"sec-ch-ua": "a", "SEC-CH-UA": "b"},
                                     {"user-agent": "", "User-Agent": "x"}])  # fmt: skip
def test_conflicting_identity_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(LocalProtocolError, match="conflicting values"):
        ddg_challenge._identity(headers)
