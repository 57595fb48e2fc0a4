"""The challenge generator: random probes of the page, folded into numbers, with known answers.

Why this file is long: each probe family is a pair (the JavaScript it writes, the value its
model predicts) that must be read side by side; splitting the families from the folding and
the final assembly would separate code that changes together.

Every probe is emitted twice: as JavaScript for the browser, and as its value in a clean
Chromium on the emulator's page (:func:`~sansio_chat.emulator.ddg2026.page_html`) described
by a :class:`~sansio_chat.ChallengePage`. The values are computed here, by a model of each
probe, never by running the script.

Why this file is long: each probe family is a pair (the JavaScript it emits and the model of
its value) that must be read side by side; splitting the pairs across modules would hide the
one thing a reader checks, that both halves say the same.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, final

from sansio_chat._challenge import DEFAULT_JSA_CSP, DEFAULT_JSA_SANDBOX, ChallengePage
from sansio_chat.emulator.challenge import generate_snippet
from sansio_chat.emulator.ddg2026._jsvalues import utf16_units
from sansio_chat.emulator.ddg2026._markup import element_count, inner_html_length
from sansio_chat.emulator.ddg2026._obfuscate import ScriptBuilder

__all__ = ["PROBE_FAMILIES", "Challenge2026", "generate_challenge"]

PROBE_FAMILIES: Final = (
    "user_agent",
    "brands",
    "jsa",
    "webdriver",
    "iframe",
    "aliases",
    "markup",
)
"""The probe families a challenge draws from (docs/challenge-2026.md describes each)."""

PROOF_VERSION: Final = "4"
"""``meta.v`` of the challenges this generator issues."""

FRAUD_SRCDOC: Final = "DuckDuckGo Fraud & Abuse"
"""The ``srcdoc`` of the child iframe the ``iframe`` probe creates."""

ALIAS_SUFFIXES: Final = ("Array", "Object", "Promise", "Proxy", "Symbol", "JSON", "Window")
"""The names whose ``*_Name`` aliases on ``window.top`` betray an automation shim."""

VERSION_GLOBALS: Final = ("__DDG_BE_VERSION__", "__DDG_FE_CHAT_HASH__")
"""The globals the ``#jsa`` probe expects as own properties of ``window.top``."""

_U32 = 2**32


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge2026:
    """One issued challenge and the answer a clean browser gives on the emulator's page.

    Attributes:
        script: the JavaScript text (ASCII only), ``(async function(){...})()``.
        header: ``script`` in base64: the ``x-vqd-hash-1`` value the emulator sends.
        server_hashes: the three server hashes the script resolves with.
        challenge_id: ``meta.challenge_id``.
        timestamp: ``meta.timestamp`` (epoch milliseconds, as a string).
        debug: ``meta.debug`` a clean browser computes (two characters).
        client_values: ``client_hashes`` as the script resolves them, before hashing:
            the user agent, then the folded numbers (ints) or their strings.
        probes: the probe families the script runs, in order (repeats allowed).
        snippets: the HTML snippets of its markup probes.
    """

    script: str = field(repr=False)
    header: str = field(repr=False)
    server_hashes: tuple[str, ...]
    challenge_id: str
    timestamp: str
    debug: str
    client_values: tuple[str | int, ...] = field(repr=False)
    probes: tuple[str, ...]
    snippets: tuple[str, ...] = field(repr=False, default=())

    @property
    def expected(self) -> dict[str, Any]:
        """The value the script's promise resolves to in a clean browser (a fresh copy)."""
        return {
            "server_hashes": list(self.server_hashes),
            "client_hashes": list(self.client_values),
            "signals": {},
            "meta": {
                "v": PROOF_VERSION,
                "challenge_id": self.challenge_id,
                "timestamp": self.timestamp,
                "debug": self.debug,
            },
        }


@dataclass(slots=True)
class _Term:
    """One probe: statements to run, and a number (below 2**32) the model predicts."""

    family: str
    statements: list[str]
    js: str
    value: int


@dataclass(slots=True)
class _Context:
    builder: ScriptBuilder
    page: ChallengePage
    debug_var: str
    debug_keys: list[str]
    debug_model: dict[str, int]
    snippets: list[str]

    def debug_key(self) -> str:
        return self.debug_keys.pop()

    @property
    def rng(self) -> random.Random:
        return self.builder.rng


def _choice_of_bool(ctx: _Context, cond: str, ok: bool) -> tuple[str, int]:
    """``cond ? A : B`` with random constants, and its value given ``ok``."""
    a, b = ctx.rng.randrange(0, 0x10000), ctx.rng.randrange(0, 0x10000)
    return f"({cond}?{ctx.builder.num(a)}:{ctx.builder.num(b)})", a if ok else b


def _text_measure(ctx: _Context, var: str, text: str) -> tuple[list[str], str, int]:
    """A number from a string: its length, or a weighted sum of its UTF-16 units."""
    b, rng = ctx.builder, ctx.rng
    units = utf16_units(text)
    if rng.random() < 0.4:
        return [], b.member(var, "length"), len(units)
    total, i = b.name(), b.name()
    weight = rng.randint(2, 9)
    code = (
        f"var {total}=0x0;for(var {i}=0x0;{i}<{b.member(var, 'length')};{i}++)"
        f"{total}=({total}+{var}[{b.s('charCodeAt')}]({i})*({i}%{b.num(weight)}+0x1))>>>0x0;"
    )
    value = sum(unit * (index % weight + 1) for index, unit in enumerate(units)) % _U32
    return [code], total, value


def _probe_user_agent(ctx: _Context) -> _Term:
    b = ctx.builder
    ua = b.name()
    first = f"var {ua}={b.member('navigator', 'userAgent')};"
    more, js, value = _text_measure(ctx, ua, ctx.page.user_agent)
    return _Term("user_agent", [first, *more], js, value)


def _probe_brands(ctx: _Context) -> _Term:
    b = ctx.builder
    data, joined, item = b.name(), b.name(), b.name()
    first = (
        f"var {data}={b.member('navigator', 'userAgentData')};"
        f"var {joined}={data}?{b.member(data, 'brands')}[{b.s('map')}](function({item}){{"
        f"return {b.s(chr(34))}+{b.member(item, 'brand')}+{b.s(chr(34) + ';v=' + chr(34))}"
        f"+{b.member(item, 'version')}+{b.s(chr(34))};}})[{b.s('join')}]({b.s(', ')}):'';"
    )
    text = ctx.page.sec_ch_ua if ctx.page.brands else ""
    more, js, value = _text_measure(ctx, joined, text)
    return _Term("brands", [first, *more], js, value)


def _own_check(ctx: _Context, top: str, name: str) -> str:
    b, rng = ctx.builder, ctx.rng
    roll = rng.random()
    if roll < 0.35:
        return f"{top}[{b.s('hasOwnProperty')}]({b.s(name)})"
    if roll < 0.7:
        return (
            f"Object[{b.s('prototype')}][{b.s('hasOwnProperty')}][{b.s('call')}]({top},{b.s(name)})"
        )
    return f"Object[{b.s('keys')}]({top})[{b.s('indexOf')}]({b.s(name)})!==-0x1"


def _probe_jsa(ctx: _Context) -> _Term:
    b, rng = ctx.builder, ctx.rng
    top, frame, meta, total = b.name(), b.name(), b.name(), b.name()
    selector = 'meta[http-equiv="Content-Security-Policy"]'
    where = "document" if rng.random() < 0.5 else b.member(frame, "contentDocument")
    statements = [
        f"var {top}={b.member('window', 'top')};",
        f"var {frame}={b.member(top, 'document')}[{b.s('querySelector')}]({b.s('#jsa')});",
        f"var {meta}={frame}&&{where}[{b.s('querySelector')}]({b.s(selector)});",
    ]
    csp = (
        b.member(meta, "content")
        if rng.random() < 0.5
        else f"{meta}[{b.s('getAttribute')}]({b.s('content')})"
    )
    roll = rng.random()
    if roll < 0.4:
        sandbox = f"{frame}[{b.s('getAttribute')}]({b.s('sandbox')})"
    elif roll < 0.7:
        sandbox = b.member(b.member(frame, "sandbox"), "value")
    else:
        sandbox = f"String({b.member(frame, 'sandbox')})"
    page = ctx.page
    checks = [
        (f"{meta}&&{csp}==={b.s(DEFAULT_JSA_CSP)}", page.jsa_csp == DEFAULT_JSA_CSP),
        (
            f"{frame}&&{sandbox}==={b.s(DEFAULT_JSA_SANDBOX)}",
            page.jsa_sandbox == DEFAULT_JSA_SANDBOX,
        ),
        # page_html always defines both globals on the top window.
        (_own_check(ctx, top, VERSION_GLOBALS[0]), True),
        (_own_check(ctx, top, VERSION_GLOBALS[1]), True),
    ]
    rng.shuffle(checks)
    # "base + 4" in the samples: one per passing check; sometimes other weights.
    weights = [1, 1, 1, 1] if rng.random() < 0.5 else [rng.randint(1, 0x40) for _ in checks]
    statements.append(f"var {total}=0x0;")
    value = 0
    for (cond, ok), weight in zip(checks, weights, strict=True):
        statements.append(f"if({cond}){total}+={b.num(weight)};")
        value += weight if ok else 0
    key = ctx.debug_key()
    statements.append(f"if({total}!=={b.num(sum(weights))}){ctx.debug_var}[{b.s(key)}]=0x1;")
    if value != sum(weights):
        ctx.debug_model[key] = 1
    return _Term("jsa", statements, total, value)


def _probe_webdriver(ctx: _Context) -> _Term:
    b, rng = ctx.builder, ctx.rng
    flag = b.name()
    statements = [f"var {flag}={b.member('navigator', 'webdriver')};"]
    key = ctx.debug_key()
    statements.append(f"if({flag})" + f"{ctx.debug_var}[{b.s(key)}]=0x1;")
    # A clean Chromium says false.
    if rng.random() < 0.5:
        js, value = _choice_of_bool(ctx, flag, False)
    else:
        js, value = _choice_of_bool(ctx, f"{flag}===![]", True)
    return _Term("webdriver", statements, js, value)


def _probe_iframe(ctx: _Context) -> _Term:
    b, rng = ctx.builder, ctx.rng
    frame, win, ok = b.name(), b.name(), b.name()
    body = b.member("document", "body")
    statements = [
        f"var {frame}=document[{b.s('createElement')}]({b.s('iframe')});",
        f"{frame}[{b.s('srcdoc')}]={b.s(FRAUD_SRCDOC)};",
        f"{body}[{b.s('appendChild')}]({frame});",
        f"var {win}={b.member(frame, 'contentWindow')};",
    ]
    roll = rng.random()
    self_get = b.member(b.member(win, "self"), "get")
    if roll < 0.4:
        test = f"!!{win}&&!{self_get}"
    elif roll < 0.7:
        test = f"!!{win}&&typeof {self_get}==={b.s('undefined')}"
    else:
        test = f"!!{win}&&{b.member(win, 'self')}==={win}&&{self_get}===undefined"
    statements.append(f"var {ok}={test};")
    roll = rng.random()
    if roll < 0.4:
        statements.append(f"{frame}[{b.s('remove')}]();")
    elif roll < 0.7:
        statements.append(f"{body}[{b.s('removeChild')}]({frame});")
    else:
        statements.append(f"{b.member(frame, 'parentNode')}[{b.s('removeChild')}]({frame});")
    key = ctx.debug_key()
    statements.append(f"if(!{ok}){ctx.debug_var}[{b.s(key)}]=0x1;")
    js, value = _choice_of_bool(ctx, ok, True)
    return _Term("iframe", statements, js, value)


def _probe_aliases(ctx: _Context) -> _Term:
    b, rng = ctx.builder, ctx.rng
    top, keys, names, count, i, j, suffix = (b.name() for _ in range(7))
    suffixes = list(ALIAS_SUFFIXES)
    rng.shuffle(suffixes)
    listed = ",".join(b.s(name) for name in suffixes)
    length = b.member(suffix, "length")
    statements = [
        f"var {top}={b.member('window', 'top')},{keys}=Object[{b.s('keys')}]({top}),"
        f"{names}=[{listed}],{count}=0x0;",
        f"for(var {i}=0x0;{i}<{keys}.length;{i}++)for(var {j}=0x0;{j}<{names}.length;{j}++){{"
        f"var {suffix}={b.s('_')}+{names}[{j}];"
        f"if({keys}[{i}].length>{length}&&{keys}[{i}][{b.s('slice')}](-{length})==={suffix}"
        f"&&{top}[{keys}[{i}]]==={top}[{names}[{j}]]){count}++;}}",
    ]
    key = ctx.debug_key()
    statements.append(f"if({count}){ctx.debug_var}[{b.s(key)}]={count};")
    weight, offset = rng.randrange(1, 0x1000), rng.randrange(0, 0x10000)
    js = f"({count}*{b.num(weight)}+{b.num(offset)})"
    return _Term("aliases", statements, js, offset)  # a clean page has no alias


def _probe_markup(ctx: _Context) -> _Term:
    b, rng = ctx.builder, ctx.rng
    snippet = generate_snippet(rng)
    ctx.snippets.append(snippet)
    div, length, count = b.name(), b.name(), b.name()
    statements = [
        f"var {div}=document[{b.s('createElement')}]({b.s('div')});",
        f"{div}[{b.s('innerHTML')}]={b.s(snippet)};",
        f"var {length}={b.member(b.member(div, 'innerHTML'), 'length')},"
        f"{count}={div}[{b.s('querySelectorAll')}]({b.s('*')}).length;",
    ]
    k1, k2, k3 = rng.randrange(1, 0x100), rng.randrange(1, 0x100), rng.randrange(0, 0x10000)
    js = f"({length}*{b.num(k1)}+{count}*{b.num(k2)}+{b.num(k3)})"
    value = inner_html_length(snippet) * k1 + element_count(snippet) * k2 + k3
    return _Term("markup", statements, js, value)


_PROBES: dict[str, Callable[[_Context], _Term]] = {
    "user_agent": _probe_user_agent,
    "brands": _probe_brands,
    "jsa": _probe_jsa,
    "webdriver": _probe_webdriver,
    "iframe": _probe_iframe,
    "aliases": _probe_aliases,
    "markup": _probe_markup,
}


def _fold(ctx: _Context, acc: str, term: _Term, value: int) -> tuple[str, int]:
    """One folding step ``acc = op(acc, term) >>> 0`` and the value it leaves."""
    b, rng = ctx.builder, ctx.rng
    t = term.js
    op = rng.randrange(5)
    if op == 0:
        return f"{acc}=({acc}+{t})>>>0x0;", (value + term.value) % _U32
    if op == 1:
        return f"{acc}=({acc}-{t})>>>0x0;", (value - term.value) % _U32
    if op == 2:
        return f"{acc}=({acc}^{t})>>>0x0;", (value ^ term.value) % _U32
    if op == 3:
        factor = rng.randrange(3, 0x10000)
        return (
            f"{acc}=(Math[{b.s('imul')}]({acc},{b.num(factor)})+{t})>>>0x0;",
            (value * factor + term.value) % _U32,
        )
    shift = rng.randint(1, 31)
    rotated = ((value << shift) | (value >> (32 - shift))) % _U32
    return (
        f"{acc}=((({acc}<<{b.num(shift)})|({acc}>>>{b.num(32 - shift)}))+{t})>>>0x0;",
        (rotated + term.value) % _U32,
    )


def _radix(value: int, radix: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while True:
        value, rest = divmod(value, radix)
        out = digits[rest] + out
        if value == 0:
            return out


def _finish(ctx: _Context, acc: str, value: int) -> tuple[str, str | int]:
    """How a folded number enters ``client_hashes``: as a number or a string."""
    b, rng = ctx.builder, ctx.rng
    roll = rng.random()
    if roll < 0.4:
        return acc, value
    if roll < 0.7:
        return f"{acc}[{b.s('toString')}]({b.num(16)})", _radix(value, 16)
    if roll < 0.85:
        return f"{acc}[{b.s('toString')}]({b.num(36)})", _radix(value, 36)
    return f"String({acc})", str(value)


def _choose_families(rng: random.Random, families: Collection[str] | None) -> list[str]:
    if families is not None:
        unknown = set(families) - set(PROBE_FAMILIES)
        if unknown:
            raise ValueError(f"unknown probe families: {sorted(unknown)}")
        chosen = list(families)
    else:
        chosen = [name for name in PROBE_FAMILIES if rng.random() < 0.6]
        while len(chosen) < 3:
            extra = rng.choice(PROBE_FAMILIES)
            if extra not in chosen:
                chosen.append(extra)
        if "markup" in chosen and rng.random() < 0.4:
            chosen.append("markup")  # a second snippet
    rng.shuffle(chosen)
    return chosen


def _server_hash(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(32)).decode("ascii")


def _challenge_id(rng: random.Random) -> str:
    # As in a captured header: 64 hex digits and 5 more lowercase letters or digits.
    tail = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    return rng.randbytes(32).hex() + tail


def _debug_model(model: dict[str, int], key: tuple[int, int]) -> str:
    text = json.dumps(model, separators=(",", ":"))
    return "".join(chr(ord(ch) ^ key[i % 2]) for i, ch in enumerate(text))


def generate_challenge(
    rng: random.Random,
    page: ChallengePage,
    *,
    timestamp_ms: int,
    server_hashes: Sequence[str] | None = None,
    challenge_id: str | None = None,
    families: Collection[str] | None = None,
) -> Challenge2026:
    """A fresh challenge for ``page``, and what a clean browser resolves it to there.

    Args:
        rng: all randomness; the same seed gives the same challenge.
        page: the page the emulator serves (``page_html(page)``) and the identity of the
            browser that loads it.
        timestamp_ms: ``meta.timestamp``, epoch milliseconds (the caller's clock).
        server_hashes: three strings; random base64 of 32 bytes when ``None``.
        challenge_id: ``meta.challenge_id``; random when ``None``.
        families: the probe families to run, in any order (a family may repeat);
            a random choice of at least three when ``None``.
    """
    if server_hashes is None:
        hashes = tuple(_server_hash(rng) for _ in range(3))
    else:
        hashes = tuple(server_hashes)
        if len(hashes) != 3 or not all(isinstance(h, str) for h in hashes):
            raise ValueError("server_hashes must be three strings")
    cid = _challenge_id(rng) if challenge_id is None else challenge_id
    if timestamp_ms < 0:
        raise ValueError("timestamp_ms must not be negative")
    timestamp = str(timestamp_ms)
    chosen = _choose_families(rng, families)

    builder = ScriptBuilder(rng)
    keys = rng.sample(string.ascii_letters, k=len(chosen))
    ctx = _Context(builder, page, builder.name(), keys, {}, [])
    b = builder
    body: list[str] = [f"var {ctx.debug_var}={{}};"]
    accumulators = [b.name(), b.name()]
    values = [rng.randrange(0, _U32), rng.randrange(0, _U32)]
    body += [f"var {acc}={b.num(value)};" for acc, value in zip(accumulators, values, strict=True)]
    for family in chosen:
        term = _PROBES[family](ctx)
        body += term.statements
        slot = rng.randrange(2)
        step, values[slot] = _fold(ctx, accumulators[slot], term, values[slot])
        body.append(step)
        if rng.random() < 0.3:
            body.append(
                "await Promise[" + b.s("resolve") + "]();"
                if rng.random() < 0.5
                else "await new Promise(function(r){r();});"
            )
    finished = [_finish(ctx, acc, value) for acc, value in zip(accumulators, values, strict=True)]

    xor_key = (_debug_key(rng, "{"), _debug_key(rng, "}"))
    text, out, i = b.name(), b.name(), b.name()
    body.append(
        f"var {text}=JSON[{b.s('stringify')}]({ctx.debug_var}),{out}='';"
        f"for(var {i}=0x0;{i}<{text}.length;{i}++){out}+=String[{b.s('fromCharCode')}]"
        f"({text}[{b.s('charCodeAt')}]({i})^[{b.num(xor_key[0])},{b.num(xor_key[1])}][{i}%0x2]);"
    )
    debug = _debug_model(ctx.debug_model, xor_key)

    def key(name: str) -> str:
        return f"[{b.s(name)}]" if rng.random() < 0.5 else name

    ua = b.member("navigator", "userAgent")
    result = (
        f"return{{{key('server_hashes')}:[{','.join(b.s(h) for h in hashes)}],"
        f"{key('client_hashes')}:[{ua},{finished[0][0]},{finished[1][0]}],"
        f"{key('signals')}:{{}},"
        f"{key('meta')}:{{{key('v')}:{b.s(PROOF_VERSION)},"
        f"{key('challenge_id')}:{b.s(cid)},{key('timestamp')}:{b.s(timestamp)},"
        f"{key('debug')}:{out}}}}};"
    )
    body.append(result)
    script = "(async function(){" + b.prelude() + "".join(body) + "})()"
    if not script.isascii():  # pragma: no cover - every string goes through the table
        raise AssertionError("the challenge script must be ASCII")
    return Challenge2026(
        script=script,
        header=base64.b64encode(script.encode("ascii")).decode("ascii"),
        server_hashes=hashes,
        challenge_id=cid,
        timestamp=timestamp,
        debug=debug,
        client_values=(page.user_agent, finished[0][1], finished[1][1]),
        probes=tuple(chosen),
        snippets=tuple(ctx.snippets),
    )


def _debug_key(rng: random.Random, char: str) -> int:
    """An XOR key that leaves ``char`` a non-NUL ASCII character."""
    while True:
        key = rng.randrange(1, 0x80)
        if key != ord(char):
            return key
