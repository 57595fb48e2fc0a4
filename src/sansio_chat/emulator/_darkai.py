"""DarkAI, server side (docs/protocol.md): one POST, a ``text-chunk`` / ``stream-end`` stream.

The service sent JSON split across network reads (docs/protocol.md, "DarkAI"), so every write
here ends inside the next event's JSON: write ``i`` is the tail of event ``i - 1`` and the head
of event ``i``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, final

from ._faults import Fault, shape_body
from ._plan import ResponsePlan, whole_reply
from ._replies import reply_tokens

__all__ = ["DARKAI_MODELS", "DarkAIService", "text_chunk"]

# The service's own list (docs/protocol.md), kept apart from the client's.
DARKAI_MODELS: tuple[str, ...] = ("llama-3-70b", "gpt-4o", "gpt-3.5-turbo")


def _event(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return b"data: " + text.encode("utf-8") + b"\n\n"


def text_chunk(text: str) -> bytes:
    """One ``text-chunk`` event."""
    return _event({"event": "text-chunk", "data": {"text": text}})


@final
@dataclass(slots=True, kw_only=True)
class DarkAIService:
    """The DarkAI side: stateless but for the RNG that places the split points."""

    split_rng: random.Random
    misc_rng: random.Random

    @classmethod
    def create(cls, seed: int) -> DarkAIService:
        """A fresh service whose write boundaries depend only on ``seed``."""
        return cls(
            split_rng=random.Random(f"sansio-chat-darkai-split:{seed}"),
            misc_rng=random.Random(f"sansio-chat-darkai-misc:{seed}"),
        )

    def split(self, events: list[bytes]) -> list[bytes]:
        """Group events into writes that each end inside the next event's JSON."""
        writes: list[bytes] = []
        carry = b""
        for event in events:
            opening = event.find(b"{")
            if opening < 0 or len(event) - opening < 4:
                writes.append(carry + event)
                carry = b""
                continue
            cut = self.split_rng.randrange(opening + 1, len(event) - 2)
            writes.append(carry + event[:cut])
            carry = event[cut:]
        if carry:
            writes.append(carry)
        return [write for write in writes if write]

    def chat(
        self,
        body: bytes,
        *,
        seed: int,
        reply_tokens_count: int,
        delay: float,
        final_response: bool,
        events_per_write: int = 1,
        take_faults: Callable[[], Sequence[Fault]],
    ) -> ResponsePlan:
        """``POST /chat`` with ``{"query": …, "model": …}``: stream the reply.

        ``take_faults()`` returns the body fault switches for this reply and uses them up.
        """
        try:
            data: Any = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return whole_reply(400, b'{"detail":"invalid request body"}')
        query, model = data.get("query"), data.get("model")
        if not isinstance(query, str) or not isinstance(model, str):
            return whole_reply(400, b'{"detail":"query and model are required"}')
        if model not in DARKAI_MODELS:
            return whole_reply(400, b'{"detail":"unknown model"}')
        used = take_faults()
        pieces = reply_tokens(seed, query, reply_tokens_count)
        events = [text_chunk(piece) for piece in pieces]
        if final_response:
            events.append(_event({"event": "final-response", "data": {"message": "".join(pieces)}}))
        events.append(_event({"event": "stream-end", "data": {}}))
        actions, head_delay = shape_body(
            events,
            faults=used,
            make_event=text_chunk,
            split=self.split,
            delay=delay,
            rng=self.misc_rng,
            group=events_per_write,
        )
        return ResponsePlan(
            status=200,
            headers=(("content-type", "text/event-stream"), ("cache-control", "no-cache")),
            body=actions,
            head_delay=head_delay,
            faults=tuple(fault.spec for fault in used),
        )
