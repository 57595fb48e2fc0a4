"""The services' server side as pure logic, for the emulator (no I/O here).

An :class:`Emulator` takes an :class:`EmulatorRequest` and answers a :class:`ResponsePlan`:
the status, the headers, and the body as actions (:class:`Write`, :class:`Stall`,
:class:`Reset`). The adapters serve the plans over HTTP; nothing here imports them.
"""

from __future__ import annotations

from sansio_chat._text import utf16_length

from ._ddg import DIALECTS, error_body
from ._emulator import Emulator, EmulatorConfig, Exchange, RateLimit, parse_rate_limit
from ._faults import Fault, FaultSyntaxError, parse_fault
from ._plan import Action, EmulatorRequest, Reset, ResponsePlan, Stall, Write
from ._replies import WORDS, expected_reply, reply_tokens

__all__ = [
    "DIALECTS",
    "WORDS",
    "Action",
    "Emulator",
    "EmulatorConfig",
    "EmulatorRequest",
    "Exchange",
    "Fault",
    "FaultSyntaxError",
    "RateLimit",
    "Reset",
    "ResponsePlan",
    "Stall",
    "Write",
    "error_body",
    "expected_reply",
    "parse_fault",
    "parse_rate_limit",
    "reply_tokens",
    "utf16_length",
]
