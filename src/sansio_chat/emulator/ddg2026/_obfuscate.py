"""The obfuscated shape of a challenge: a rotated string table, a decoder, folded numbers.

The service's scripts come out of a JavaScript obfuscator: every string sits in one array that
is stored rotated and put back in order by a loop comparing a checksum of ``parseInt`` values
with a target; a decoder turns an index (offset by a constant) into the string; numbers are
written as sums of hex products. :class:`ScriptBuilder` produces the same family, and knows,
for each piece it emits, the value it has: the script text is ASCII whatever the strings hold.
"""

from __future__ import annotations

import random
import string

from sansio_chat.emulator.ddg2026._jsvalues import js_parse_int, utf16_units

__all__ = ["ScriptBuilder"]

_ALPHABET = string.ascii_letters + string.digits + "+/"
_MAX_SAFE = 2**53 - 1


class ScriptBuilder:
    """Names, strings and numbers for one challenge script, drawn from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._names: set[str] = set()
        self._strings: list[str] = []
        self._index: dict[str, int] = {}
        self.base = rng.randrange(0x60, 0x400)
        self.table_fn = self.name()
        self.decoder = self.name()
        self._aliases = [self.decoder]

    # --- names and numbers --------------------------------------------------------------------

    def name(self) -> str:
        """A fresh identifier in the obfuscator's style, ``_0x`` and hex digits."""
        while True:
            candidate = f"_0x{self.rng.randrange(0x1000, 0xFFFFFF):x}"
            if candidate not in self._names:
                self._names.add(candidate)
                return candidate

    def num(self, value: int) -> str:
        """An expression worth exactly ``value``: a hex literal or a sum of hex products."""
        rng = self.rng
        if rng.random() < 0.3:
            return _hex(value)
        terms: list[str] = []
        rest = value
        for _ in range(rng.randint(1, 2)):
            factor = rng.randint(1, 9) * rng.choice((1, -1))
            operand = rng.randrange(1, 0x3000)
            rest -= factor * operand
            terms.append(f"{_hex(operand)}*{_hex(factor)}" if factor != 1 else _hex(operand))
        terms.append(_hex(rest))
        rng.shuffle(terms)
        return "(" + "+".join(terms) + ")"

    # --- strings ------------------------------------------------------------------------------

    def s(self, text: str) -> str:
        """An expression decoding ``text`` from the string table."""
        index = self._index.get(text)
        if index is None:
            index = len(self._strings)
            self._strings.append(text)
            self._index[text] = index
        if len(self._aliases) < 3 and self.rng.random() < 0.1:
            self._aliases.append(self.name())  # declared in the prelude, which runs first
        fn = self.rng.choice(self._aliases)
        return f"{fn}({_hex(self.base + index)})"

    def member(self, obj: str, name: str) -> str:
        """``obj.name``, or ``obj[<decoded name>]``."""
        if self.rng.random() < 0.5:
            return f"{obj}.{name}"
        return f"{obj}[{self.s(name)}]"

    # --- the prelude --------------------------------------------------------------------------

    def prelude(self) -> str:
        """The table function, the decoder and its aliases, and the rotation loop.

        Call it last: it holds every string the other pieces asked for.
        """
        rng = self.rng
        for _ in range(rng.randint(2, 6)):  # decoys, some of them numeric for the checksum
            self._strings.append(_decoy(rng))
        markers = [_numeric(rng) for _ in range(rng.randint(4, 6))]
        # The table in its final order: the used strings keep their indices, markers go last.
        table = self._strings + markers
        marker_slots = list(range(len(self._strings), len(table)))
        n = len(table)
        rotation = rng.randrange(1, n)
        checksum, target = self._checksum(table, marker_slots, rotation)
        stored = [table[(i - rotation) % n] for i in range(n)]
        alphabet = list(_ALPHABET)
        rng.shuffle(alphabet)
        abc = "".join(alphabet)
        key, step = rng.randrange(1, 0x10000), rng.randrange(0x101, 0x10000)
        encoded = ",".join("'" + _encode(text, abc, key, step) + "'" for text in stored)
        t, d = self.table_fn, self.decoder
        a, i, o, j, v, f, x = (self.name() for _ in range(7))
        parts = [
            f"function {t}(){{var {a}=[{encoded}];{t}=function(){{return {a};}};return {t}();}}",
            f"function {d}({i}){{{i}={i}-{_hex(self.base)};var {a}={t}()[{i}],{o}='';"
            f"for(var {j}=0x0;{j}<{a}.length;{j}+=0x3){{var {v}=('{abc}'.indexOf({a}.charAt({j}))"
            f"<<0xc)|('{abc}'.indexOf({a}.charAt({j}+0x1))<<0x6)|'{abc}'.indexOf({a}.charAt({j}+0x2));"
            f"{o}+=String.fromCharCode({v}^(({_hex(key)}^{j}/0x3*{_hex(step)})&0xffff));}}"
            f"return {o};}}",
        ]
        parts += [f"var {alias}={d};" for alias in self._aliases[1:]]
        parts.append(
            f"(function({f},{x}){{var {a}={f}();while(!![]){{try{{var {v}={checksum};"
            f"if({v}==={x})break;else {a}['push']({a}['shift']());}}catch({o}){{"
            f"{a}['push']({a}['shift']());}}}}}}({t},{self.num(target)}));"
        )
        return "".join(parts)

    def _checksum(self, table: list[str], slots: list[int], rotation: int) -> tuple[str, int]:
        """A checksum expression over ``parseInt`` of marker entries, and its target.

        The loop rotates the stored array left until the checksum equals the target; the
        model below checks that this first happens at ``rotation`` (the table in order).
        """
        n = len(table)
        rng = self.rng
        for _ in range(200):
            chosen = rng.sample(slots, k=min(len(slots), rng.randint(3, 4)))
            factors = [rng.choice((1, 1, -1, 2, -2, 3)) for _ in chosen]
            # Per rotation: None for NaN, else the exact sum and how far the doubles
            # JavaScript adds may stray from it (parseInt of a long digit string is rounded).
            values: list[tuple[int, float] | None] = []
            for r in range(rotation + 1):
                total, magnitude = 0, 0
                for slot, factor in zip(chosen, factors, strict=True):
                    # At rotation r the stored array reads table[(i + r - rotation) % n].
                    parsed = js_parse_int(table[(slot + r - rotation) % n])
                    if parsed is None:
                        values.append(None)
                        break
                    total += factor * parsed
                    magnitude += abs(factor * parsed)
                else:
                    error = 0.0 if magnitude <= _MAX_SAFE else magnitude * 2.0**-45 + 1
                    values.append((total, error))
            final = values[rotation]
            if final is None or final[1]:
                continue  # the target must be exact
            target = final[0]
            if all(v is None or abs(v[0] - target) > v[1] for v in values[:rotation]):
                terms = []
                for slot, factor in zip(chosen, factors, strict=True):
                    call = f"parseInt({self.s_raw(slot)})"
                    terms.append(call if factor == 1 else f"{call}*{_hex(factor)}")
                return "+".join(terms), target
        raise RuntimeError("no usable checksum for the string table")  # pragma: no cover

    def s_raw(self, index: int) -> str:
        """A decoder call for a table index (the markers are not in the lookup)."""
        return f"{self.decoder}({_hex(self.base + index)})"


def _hex(value: int) -> str:
    return f"-0x{-value:x}" if value < 0 else f"0x{value:x}"


def _encode(text: str, alphabet: str, key: int, step: int) -> str:
    """Each UTF-16 unit XOR a key that moves with its position, as 3 characters of ``alphabet``."""
    out: list[str] = []
    for position, unit in enumerate(utf16_units(text)):
        value = unit ^ ((key ^ (position * step)) & 0xFFFF)
        out.append(alphabet[value >> 12] + alphabet[(value >> 6) & 63] + alphabet[value & 63])
    return "".join(out)


def _numeric(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(2, 6)))
    return f"{rng.randrange(1, 2_000_000)}{letters}"


def _decoy(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return _numeric(rng)
    return "".join(rng.choice(string.ascii_letters + "_$") for _ in range(rng.randint(3, 10)))
