"""The objects ``--json`` prints, one per event: a documented shape for each event type
(docs/cli.md), and never a secret of the conversation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sansio_chat import Event

__all__ = ["event_json"]


def event_json(event: Event) -> dict[str, Any]:
    """The JSON object ``--json`` prints for ``event`` (secrets left out; docs/cli.md lists
    the shapes)."""
    from sansio_chat import (
        Finished,
        ImageEvent,
        RateLimited,
        TitleEvent,
        TokenEvent,
        UsageEvent,
        VqdUpdate,
        WarningEvent,
    )

    if isinstance(event, TokenEvent):
        return {"type": "token", "text": event.text}
    if isinstance(event, RateLimited):
        return {
            "type": "rate_limited",
            "delay": event.delay,
            "attempt": event.attempt,
            "status": event.status,
            "reason": event.reason,
        }
    if isinstance(event, VqdUpdate):
        return {"type": "vqd_update"}  # the token itself is a secret of the conversation
    if isinstance(event, TitleEvent):
        return {"type": "title", "title": event.title}
    if isinstance(event, UsageEvent):
        return {"type": "usage", "value": event.value}
    if isinstance(event, WarningEvent):
        return {"type": "warning", "kind": event.kind, "remaining": event.remaining}
    if isinstance(event, ImageEvent):
        return {"type": "image", "data": event.data}
    if isinstance(event, Finished):
        line: dict[str, Any] = {"type": "finished", "reason": event.reason}
        if event.stop_reason:
            line["stop_reason"] = event.stop_reason
        return line
    return _unknown_event_json(event)


# Field names an event class may use for a conversation secret (the VQD token, the hash
# challenge, credentials): an event added later is printed without them.
_SECRET_FIELD = re.compile(r"vqd|hash|token|secret|key|cookie|auth|passw|credential", re.I)
_SCALARS = (str, int, float, bool, type(None))


def _unknown_event_json(event: Event) -> dict[str, Any]:
    """An event class this module does not know yet: its snake_case name and its plain
    (str, number, bool, None) fields, except any whose name suggests a secret."""
    import dataclasses

    name = type(event).__name__.removesuffix("Event") or "event"
    line: dict[str, Any] = {"type": re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()}
    if dataclasses.is_dataclass(event):
        for spec in dataclasses.fields(event):
            value = getattr(event, spec.name)
            secret = _SECRET_FIELD.search(spec.name) is not None
            if spec.name != "type" and not secret and isinstance(value, _SCALARS):
                line[spec.name] = value
    return line
