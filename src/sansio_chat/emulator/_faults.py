"""Fault switches: their syntax, and how they reshape a planned reply.

Syntax (one switch): ``KIND[:ARG[:ARG]][xCOUNT][@TARGET]``.

- ``COUNT`` is how many of the next matching requests the switch affects (default 1);
  ``x*`` means every one until cleared.
- ``TARGET`` is ``chat`` (default: both services' chat endpoints), ``ddg`` (DuckDuckGo chat),
  ``darkai`` (DarkAI chat), ``status``, ``page`` (the fe-version page), ``models``
  (dialect ``2026``'s model list) or ``any``.

Kinds:

=====================  ==================================================================
``418[:TYPE]``         refuse with 418 and the service's JSON body (``ERR_CHALLENGE``)
``429[:TYPE]``         refuse with 429 (``ERR_RATE_LIMIT``; ``ERR_SERVICE_UNAVAILABLE`` on
                       status)
``400``                refuse with 400 ``ERR_INVALID_VQD``
``http:STATUS``        refuse with that status and a plain-text body
``fragment[:MAX]``     split every write into pieces of 1..MAX bytes (default 7), at least
                       once inside a multi-byte UTF-8 character
``cut[:BYTES]``        end the body properly after BYTES bytes (default: after the first
                       event)
``reset[:BYTES]``      drop the connection after BYTES bytes, without ending the body
``malformed[:HOW]``    ``json`` (default): the second event's JSON is cut short;
                       ``nodelim``: the blank line after the first event is missing
``invalid-utf8``       the second event carries bytes that are not UTF-8
``stall[:S[:AFTER]]``  send nothing for S seconds (default 1) after AFTER writes (default
                       1); ``AFTER`` = ``head`` stalls before the status line
``drip[:DELAY[:N]]``   rewrite the body as N-byte writes (default 16) DELAY seconds apart
                       (default 0.01)
``oversized[:BYTES]``  insert an event whose text is BYTES long (default 1 MiB) second
=====================  ==================================================================

Marker switches (DuckDuckGo dialect ``2026`` only; elsewhere they shape nothing):

=======================  ================================================================
``ping[:EVERY]``         a ``[PING]`` line after every EVERY reply events (default 2)
``title[:TEXT]``         ``[CHAT_TITLE:TEXT]`` after the reply text
``usage[:VALUE]``        ``[FIXED_COST_WINDOW_USAGE:VALUE]`` after the reply text
``stop-reason:X``        ``[STOP_REASON:X]`` just before ``[DONE]``
``warn-limit:N``         ``[WARN_CONVERSATION_LIMIT:N]`` after the reply text
``limit:KIND``           ``[DONE][LIMIT_KIND]`` ends the reply (``ACCOUNT``, ``ENTITY``,
                         ``IMAGE_GENERATIONS``, ``CONVERSATION``; the last one also ends
                         the conversation)
``partial-image``        an event ``{"role":"partial-image",...}`` after the first one
``unknown-marker``       ``[SOMETHING_NEW:1]`` after the first event
=======================  ================================================================

Refusals (``418``, ``429``, ``400``, ``http``) are used up by every request they match; the
body switches are used up only by a reply that they shaped (a 200 reply at their target).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, final

from ._plan import Action, Reset, Stall, Write

__all__ = [
    "BODY_KINDS",
    "LIMIT_KINDS",
    "MARKER_KINDS",
    "REFUSAL_KINDS",
    "TARGETS",
    "Fault",
    "FaultSyntaxError",
    "parse_fault",
    "shape_body",
]

Target = Literal["chat", "ddg", "darkai", "status", "page", "models", "any"]
TARGETS: tuple[str, ...] = ("chat", "ddg", "darkai", "status", "page", "models", "any")
REFUSAL_KINDS: tuple[str, ...] = ("418", "429", "400", "http")
BODY_KINDS: tuple[str, ...] = (
    "fragment",
    "cut",
    "reset",
    "malformed",
    "invalid-utf8",
    "stall",
    "drip",
    "oversized",
)
MARKER_KINDS: tuple[str, ...] = (
    "ping",
    "title",
    "usage",
    "stop-reason",
    "warn-limit",
    "limit",
    "partial-image",
    "unknown-marker",
)
"""Body switches that add dialect-``2026`` marker lines (or events) to a DuckDuckGo reply."""
LIMIT_KINDS: tuple[str, ...] = ("ACCOUNT", "ENTITY", "IMAGE_GENERATIONS", "CONVERSATION")
"""The arguments of ``limit:KIND``."""
_MAX_ARGS = {
    "418": 1,
    "429": 1,
    "400": 0,
    "http": 1,
    "fragment": 1,
    "cut": 1,
    "reset": 1,
    "malformed": 1,
    "invalid-utf8": 0,
    "stall": 2,
    "drip": 2,
    "oversized": 1,
    "ping": 1,
    "title": 1,
    "usage": 1,
    "stop-reason": 1,
    "warn-limit": 1,
    "limit": 1,
    "partial-image": 0,
    "unknown-marker": 0,
}
_SPEC = re.compile(r"^(?P<body>.+?)(?:x(?P<count>\d+|\*))?(?:@(?P<target>[a-z]+))?$")
_TYPE = re.compile(r"^ERR_[A-Z_]+$")
# A marker's value: printable ASCII without the closing bracket.
_MARKER_VALUE = re.compile(r"^[\x20-\x5c\x5e-\x7e]+$")

# Markers the body shapers ask the service to put into an event's text; they are replaced
# on the wire, so they never reach a client.
_BAD_UTF8_MARKER = "SANSIOCHATINVALIDUTF8"


class FaultSyntaxError(ValueError):
    """A fault switch could not be parsed; the message says why."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """One parsed fault switch.

    Attributes:
        kind: one of :data:`REFUSAL_KINDS`, :data:`BODY_KINDS` or :data:`MARKER_KINDS`.
        args: the ``:``-separated arguments as written.
        count: how many matching requests it affects; ``None`` for all until cleared.
        target: which requests it matches (see the module docstring).
        spec: the switch as written.
    """

    kind: str
    args: tuple[str, ...] = ()
    count: int | None = 1
    target: str = "chat"
    spec: str = ""

    @property
    def is_refusal(self) -> bool:
        """Whether the switch replaces the reply with a refusal."""
        return self.kind in REFUSAL_KINDS

    @property
    def is_marker(self) -> bool:
        """Whether the switch adds dialect-``2026`` markers (see :data:`MARKER_KINDS`)."""
        return self.kind in MARKER_KINDS

    def matches(self, endpoint: str) -> bool:
        """Whether a request to ``endpoint`` (``ddg``, ``darkai``, ``status``, ``page``) matches."""
        if self.target == "any":
            return True
        if self.target == "chat":
            return endpoint in ("ddg", "darkai")
        return self.target == endpoint

    def arg(self, index: int) -> str | None:
        """Argument ``index``, or ``None`` when it was not given (or given empty)."""
        if index < len(self.args) and self.args[index]:
            return self.args[index]
        return None


def _number(fault: str, text: str, *, integer: bool) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise FaultSyntaxError(f"{fault!r}: {text!r} is not {kind}") from None
    if value < 0 or value != value or value == float("inf"):
        raise FaultSyntaxError(f"{fault!r}: {text!r} must be a finite number >= 0")
    return value


def parse_fault(spec: str) -> Fault:
    """Parse one fault switch such as ``429x3``, ``cut:120`` or ``stall:2@ddg``."""
    text = spec.strip()
    match = _SPEC.match(text)
    if not text or match is None:
        raise FaultSyntaxError(f"empty fault switch {spec!r}")
    parts = match["body"].split(":")
    kind, args = parts[0].lower(), tuple(parts[1:])
    if kind == "invalid-vqd":
        kind = "400"
    if kind not in _MAX_ARGS:
        known = ", ".join(sorted(_MAX_ARGS))
        raise FaultSyntaxError(f"{spec!r}: unknown fault kind {kind!r} (known: {known})")
    if len(args) > _MAX_ARGS[kind]:
        raise FaultSyntaxError(f"{spec!r}: {kind} takes at most {_MAX_ARGS[kind]} argument(s)")
    count_text = match["count"]
    count: int | None
    if count_text is None:
        count = 1
    elif count_text == "*":
        count = None
    else:
        count = int(count_text)
        if count < 1:
            raise FaultSyntaxError(f"{spec!r}: the count must be at least 1")
    target = match["target"] or "chat"
    if target not in TARGETS:
        raise FaultSyntaxError(f"{spec!r}: unknown target {target!r} (known: {TARGETS})")
    fault = Fault(kind=kind, args=args, count=count, target=target, spec=text)
    _validate(fault)
    return fault


def _validate(fault: Fault) -> None:
    first, second = fault.arg(0), fault.arg(1)
    if fault.kind in ("418", "429") and first is not None and not _TYPE.match(first):
        raise FaultSyntaxError(f"{fault.spec!r}: the type must look like ERR_SOMETHING")
    if fault.kind == "http":
        if first is None:
            raise FaultSyntaxError(f"{fault.spec!r}: http needs a status, e.g. http:503")
        status = int(_number(fault.spec, first, integer=True))
        if not 400 <= status <= 599:
            raise FaultSyntaxError(f"{fault.spec!r}: the status must be in 400..599")
    sized = fault.kind == "fragment" and first is not None
    if sized and _number(fault.spec, first or "", integer=True) < 1:
        raise FaultSyntaxError(f"{fault.spec!r}: pieces must be at least 1 byte")
    if fault.kind in ("cut", "reset", "oversized") and first is not None:
        _number(fault.spec, first, integer=True)
    if fault.kind == "malformed" and first not in (None, "json", "nodelim"):
        raise FaultSyntaxError(f"{fault.spec!r}: malformed takes json or nodelim")
    if fault.kind == "stall":
        if first is not None:
            _number(fault.spec, first, integer=False)
        if second is not None and second != "head":
            _number(fault.spec, second, integer=True)
    if fault.kind in ("stop-reason", "warn-limit", "limit") and first is None:
        raise FaultSyntaxError(f"{fault.spec!r}: {fault.kind} needs an argument")
    marked = fault.kind in ("title", "usage", "stop-reason")
    if marked and first is not None and not _MARKER_VALUE.match(first):
        raise FaultSyntaxError(f"{fault.spec!r}: the value must be printable ASCII, no ']'")
    if fault.kind == "ping" and _number(fault.spec, first or "2", integer=True) < 1:
        raise FaultSyntaxError(f"{fault.spec!r}: ping needs EVERY >= 1")
    if fault.kind == "warn-limit" and first is not None:
        _number(fault.spec, first, integer=True)
    if fault.kind == "limit" and (first or "").upper() not in LIMIT_KINDS:
        raise FaultSyntaxError(f"{fault.spec!r}: limit takes one of {', '.join(LIMIT_KINDS)}")
    if fault.kind == "drip":
        if first is not None:
            _number(fault.spec, first, integer=False)
        if second is not None and _number(fault.spec, second, integer=True) < 1:
            raise FaultSyntaxError(f"{fault.spec!r}: pieces must be at least 1 byte")


def _utf8_cut_points(data: bytes) -> list[int]:
    """Offsets that fall inside a multi-byte UTF-8 character."""
    return [i for i in range(1, len(data)) if 0x80 <= data[i] < 0xC0]


def _fragment(writes: list[bytes], largest: int, rng: random.Random) -> list[bytes]:
    out: list[bytes] = []
    for data in writes:
        inside = _utf8_cut_points(data)
        forced = {inside[len(inside) // 2]} if inside else set()
        # Cut inside a line, too (a newline is never the last byte before a forced cut).
        start = 0
        while start < len(data):
            end = min(len(data), start + rng.randint(1, largest))
            for cut in sorted(forced):
                if start < cut < end:
                    end = cut
                    break
            out.append(data[start:end])
            start = end
    return out


def _drip(writes: list[bytes], size: int) -> list[bytes]:
    joined = b"".join(writes)
    return [joined[i : i + size] for i in range(0, len(joined), size)]


def _truncate(writes: list[bytes], limit: int) -> list[bytes]:
    out: list[bytes] = []
    left = limit
    for data in writes:
        if left <= 0:
            break
        out.append(data[:left])
        left -= len(data)
    return out


def shape_body(
    events: Sequence[bytes],
    *,
    faults: Sequence[Fault],
    make_event: Callable[[str], bytes],
    split: Callable[[list[bytes]], list[bytes]],
    delay: float,
    rng: random.Random,
    group: int = 1,
) -> tuple[tuple[Action, ...], float]:
    """Turn a reply's events into body actions, applying the body fault switches.

    ``make_event(text)`` builds one more event of this service carrying ``text``;
    ``split`` is the service's own way of grouping events into writes, and ``group``
    joins that many of its writes into one. Returns the actions and the delay before the
    status line.
    """
    stream = list(events)
    by_kind = {fault.kind: fault for fault in faults}
    first_event = len(stream[0]) if stream else 0
    position = min(1, len(stream))

    oversized = by_kind.get("oversized")
    if oversized is not None:
        size = int(oversized.arg(0) or 1 << 20)
        stream.insert(position, make_event("a" * size))
    bad_utf8 = by_kind.get("invalid-utf8")
    if bad_utf8 is not None:
        event = make_event(f"bad {_BAD_UTF8_MARKER} bytes")
        stream.insert(position, event.replace(_BAD_UTF8_MARKER.encode(), b"\xff\xc3(\xed\xa0\x80"))
    malformed = by_kind.get("malformed")
    if malformed is not None and stream:
        if malformed.arg(0) == "nodelim":
            stream[0] = stream[0].rstrip(b"\r\n") + b"\n"
        else:
            event = make_event("this event is cut short")
            stream.insert(position, event[: len(event) // 2] + b"\n\n")

    writes = split(stream)
    if group > 1:
        writes = [b"".join(writes[i : i + group]) for i in range(0, len(writes), group)]
    fragment = by_kind.get("fragment")
    if fragment is not None:
        writes = _fragment(writes, int(fragment.arg(0) or 7), rng)
    write_delay = delay
    drip = by_kind.get("drip")
    if drip is not None:
        writes = _drip(writes, int(drip.arg(1) or 16))
        write_delay = float(drip.arg(0) or 0.01)

    reset = by_kind.get("reset")
    cut = by_kind.get("cut")
    ends_with_reset = False
    if reset is not None:
        writes = _truncate(writes, int(reset.arg(0) or first_event))
        ends_with_reset = True
    elif cut is not None:
        writes = _truncate(writes, int(cut.arg(0) or first_event))

    actions: list[Action] = [Write(data=data, delay=write_delay) for data in writes if data]
    head_delay = 0.0
    stall = by_kind.get("stall")
    if stall is not None:
        seconds = float(stall.arg(0) or 1.0)
        after = stall.arg(1)
        if after == "head":
            head_delay = seconds
        else:
            actions.insert(min(int(after or 1), len(actions)), Stall(seconds=seconds))
    if ends_with_reset:
        actions.append(Reset())
    return tuple(actions), head_delay
