"""sansio-chat: sans-IO protocol state machines for streaming AI chat web APIs.

The core (this package) does no I/O: protocol objects produce request descriptions and
consume response bytes into events. Drivers that do the I/O live in
``sansio_chat.adapters``.
"""

from __future__ import annotations

# --- end section: sse ---
# --- section: session (owner: session/conversation/pacing) ---
from ._conversation import Conversation, Message, format_prompt, last_user_message
from ._errors import (
    ChallengeError,
    ConversationLimitError,
    HTTPStatusError,
    InputLimitError,
    LocalProtocolError,
    ModelNotSupportedError,
    ProtocolError,
    RateLimitError,
    RemoteProtocolError,
    SansioChatError,
    ServiceRefusal,
    StreamInterrupted,
    Timeout,
    TransportError,
)
from ._events import Event, Finished, FinishReason, RateLimited, TitleEvent, TokenEvent, VqdUpdate
from ._http import NEED_DATA, HttpRequest, Sleep, Step, TurnComplete
from ._pacing import Backoff, Pacer
from ._session import ChatSession, Limits

# --- section: sse (owner: SSE decoder) ---
from ._sse import ServerSentEvent, SSEDecoder
from ._state import TRANSITIONS, Input, State
from ._version import __version__

# --- end section: session ---

__all__ = [
    "NEED_DATA",
    "ChallengeError",
    "ConversationLimitError",
    "Event",
    "FinishReason",
    "Finished",
    "HTTPStatusError",
    "HttpRequest",
    "InputLimitError",
    "LocalProtocolError",
    "ModelNotSupportedError",
    "ProtocolError",
    "RateLimitError",
    "RateLimited",
    "RemoteProtocolError",
    "SansioChatError",
    "ServiceRefusal",
    "Sleep",
    "Step",
    "StreamInterrupted",
    "Timeout",
    "TitleEvent",
    "TokenEvent",
    "TransportError",
    "TurnComplete",
    "VqdUpdate",
    "__version__",
    # --- section: sse names ---
    "SSEDecoder",
    "ServerSentEvent",
    # --- end section: sse names ---
    # --- section: session names ---
    "TRANSITIONS",
    "Backoff",
    "ChatSession",
    "Conversation",
    "Input",
    "Limits",
    "Message",
    "Pacer",
    "State",
    "format_prompt",
    "last_user_message",
    # --- end section: session names ---
]
