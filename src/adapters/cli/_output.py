"""How the command reports: exit statuses, the streamed reply or JSON lines, one-line errors."""

from __future__ import annotations

import json
import traceback
from typing import Any, TextIO

from sansio_chat import (
    Event,
    Finished,
    LocalProtocolError,
    RateLimited,
    RemoteProtocolError,
    ServiceRefusal,
    TitleEvent,
    TokenEvent,
    TransportError,
    VqdUpdate,
)

__all__ = ["EXIT_CODES", "Failure", "Output", "exit_status", "report"]

EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "error": 1,
    "usage": 2,
    "refused": 3,
    "network": 4,
    "protocol": 5,
    "interrupted": 130,
    "broken_pipe": 141,
}
"""The exit status of each outcome (see the module docstring)."""


class Failure(Exception):
    """A failure outside the protocol (a file), reported as one line with its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def exit_status(error: BaseException) -> int:
    if isinstance(error, Failure):
        return error.status
    if isinstance(error, LocalProtocolError):
        return EXIT_CODES["usage"]
    if isinstance(error, ServiceRefusal):
        return EXIT_CODES["refused"]
    if isinstance(error, TransportError):
        return EXIT_CODES["network"]
    if isinstance(error, RemoteProtocolError):
        return EXIT_CODES["protocol"]
    return EXIT_CODES["error"]


def event_json(event: Event) -> dict[str, Any]:
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
    if isinstance(event, Finished):
        return {"type": "finished", "reason": event.reason}
    return {"type": type(event).__name__}


class Output:
    """Writes a turn to stdout: the reply as it streams, or one JSON object per line."""

    def __init__(self, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.as_json, self.out, self.err = as_json, out, err
        self.open_line = False

    def event(self, event: Event) -> None:
        if self.as_json:
            self.json_line(event_json(event))
        elif isinstance(event, TokenEvent):
            self.out.write(event.text)
            self.out.flush()
            self.open_line = True
        elif isinstance(event, RateLimited):
            reason = f" {event.reason}" if event.reason else ""
            self.err.write(
                f"sansio-chat: refused (HTTP {event.status}{reason}); "
                f"retry {event.attempt} in {event.delay:.1f} s\n"
            )
        elif isinstance(event, Finished):
            self.end_line()
            if event.reason == "conversation_limit":
                self.err.write("sansio-chat: the service ended this conversation\n")

    def end_line(self) -> None:
        if self.open_line:
            self.out.write("\n")
            self.out.flush()
            self.open_line = False

    def error(self, error: BaseException, status: int) -> None:
        self.end_line()
        if self.as_json:
            self.json_line(
                {
                    "type": "error",
                    "error": type(error).__name__,
                    "message": str(error),
                    "partial_text": getattr(error, "partial_text", ""),
                    "exit_code": status,
                }
            )

    def json_line(self, value: dict[str, Any]) -> None:
        self.out.write(json.dumps(value, ensure_ascii=False) + "\n")
        self.out.flush()


def report(error: BaseException, output: Output, debug: bool) -> int:
    status = exit_status(error)
    output.error(error, status)
    if debug:
        traceback.print_exception(error, file=output.err)
    kinds = {EXIT_CODES["refused"]: "refused", EXIT_CODES["error"]: "failed"}
    kind = kinds.get(status, "error")
    output.err.write(f"sansio-chat: {kind}: {error}\n")
    output.err.flush()
    return status
