"""The marker lines of a DuckDuckGo reply stream (``[DONE]``, ``[CHAT_TITLE:...]``, ...).

Dialect ``2026`` added several (usage, stop reason, account and entity limits, warnings);
unknown markers are reported as ``"unknown"`` and ignored by the turn, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, final

__all__ = ["StreamMarker", "parse_marker"]

MarkerKind = Literal[
    "done", "ping", "title", "usage", "stop_reason", "limit", "warn_limit", "unknown"
]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class StreamMarker:
    """A ``[NAME]`` or ``[NAME:VALUE]`` line of the reply stream.

    Attributes:
        kind: what it means (``"unknown"`` markers are ignored by the session).
        name: the marker's name, e.g. ``"LIMIT_ACCOUNT"``.
        value: the text after the colon, or ``""``.
    """

    kind: MarkerKind
    name: str
    value: str = ""


_MARKER = re.compile(r"\[([A-Z][A-Z0-9_]*)(?::(.*?))?\]", re.DOTALL)
_WHOLE_MARKER = re.compile(r"\[([A-Z][A-Z0-9_]*)(?::(.*))?\]", re.DOTALL)
_KINDS: Mapping[str, MarkerKind] = {
    "DONE": "done",
    "PING": "ping",
    "CHAT_TITLE": "title",
    "FIXED_COST_WINDOW_USAGE": "usage",
    "STOP_REASON": "stop_reason",
    "LIMIT_CONVERSATION": "limit",
    "LIMIT_ACCOUNT": "limit",
    "LIMIT_ENTITY": "limit",
    "LIMIT_IMAGE_GENERATIONS": "limit",
    "WARN_CONVERSATION_LIMIT": "warn_limit",
}


def parse_marker(data: str) -> tuple[StreamMarker, ...] | None:
    """The markers of one event's data (``[DONE][LIMIT_CONVERSATION]`` holds two), or
    ``None`` when the data is not a marker line."""
    text = data.strip()
    if text[:1] != "[" or not "A" <= text[1:2] <= "Z":
        return None
    markers: list[StreamMarker] = []
    position = 0
    while position < len(text):
        match = _MARKER.match(text, position)
        if match is None or (match.end() < len(text) and text[match.end()] != "["):
            # One marker whose value holds brackets (a title): take the whole line.
            whole = _WHOLE_MARKER.fullmatch(text)
            if whole is None:
                return (StreamMarker(kind="unknown", name=text[1:].split(":", 1)[0]),)
            match = whole
            markers.clear()
        name, value = match.group(1), match.group(2) or ""
        markers.append(StreamMarker(kind=_KINDS.get(name, "unknown"), name=name, value=value))
        position = match.end()
    return tuple(markers)
