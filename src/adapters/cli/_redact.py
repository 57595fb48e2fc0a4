"""Log redaction for ``--debug``: no token, cookie or key value reaches a log line.

The layers below (httpx, httpcore, hypercorn) log request and response headers at debug
level, as Python reprs (``(b'x-vqd-4', b'…')``) or as text (``x-vqd-4: …``). A filter on
the handler rewrites every record's final text, whatever logger it came from.
"""

from __future__ import annotations

import logging
import re

__all__ = ["SECRET_HEADER_NAMES", "RedactSecrets", "redact"]

SECRET_HEADER_NAMES = (
    "x-vqd-4",
    "x-vqd-hash-1",
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
)
"""Headers whose values are secrets of a conversation or of the gateway."""

_NAMES = "|".join(re.escape(name) for name in SECRET_HEADER_NAMES)
# ('x-vqd-4', 'value') or (b'x-vqd-4', b'value'), as reprs of header pairs show them.
_PAIR = re.compile(rf"""(b?(['"])(?:{_NAMES})\2,\s*b?(['"]))((?:(?!\3)[^\\]|\\.)*)(\3)""", re.I)
# 'x-vqd-4': 'value' (a dict repr).
_ITEM = re.compile(rf"""(b?(['"])(?:{_NAMES})\2:\s*b?(['"]))((?:(?!\3)[^\\]|\\.)*)(\3)""", re.I)
# x-vqd-4: value (a header line), up to the end of the line.
_LINE = re.compile(rf"""(^|[\s,{{])((?:{_NAMES}):[ \t]*)([^\r\n]+)""", re.I | re.M)


def redact(text: str) -> str:
    """``text`` with the values of secret headers replaced by ``<redacted>``."""
    text = _PAIR.sub(r"\1<redacted>\5", text)
    text = _ITEM.sub(r"\1<redacted>\5", text)
    return _LINE.sub(r"\1\2<redacted>", text)


class RedactSecrets(logging.Filter):
    """Rewrites each record's message with :func:`redact` (install it on a handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
