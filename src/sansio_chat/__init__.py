"""sansio-chat: sans-IO protocol state machines for streaming AI chat web APIs.

The core (this package) does no I/O: protocol objects produce request descriptions and
consume response bytes into events. Drivers that do the I/O live in
``sansio_chat.adapters``.
"""

from __future__ import annotations

from ._challenge import ChallengePage, ChallengeResult, SolveChallenge
from ._conversation import Conversation, Message, MessagesLike, format_prompt, last_user_message
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
from ._events import (
    Event,
    Finished,
    FinishReason,
    ImageEvent,
    RateLimited,
    TitleEvent,
    TokenEvent,
    UsageEvent,
    VqdUpdate,
    WarningEvent,
)
from ._http import NEED_DATA, HttpRequest, Sleep, Step, TurnComplete, find_header
from ._pacing import DEFAULT_MIN_INTERVAL, Backoff, Pacer
from ._session import ChatSession, Limits
from ._sse import ServerSentEvent, SSEDecoder
from ._state import TRANSITIONS, Input, State
from ._version import __version__

__all__ = [
    "DEFAULT_MIN_INTERVAL",
    "NEED_DATA",
    "TRANSITIONS",
    "Backoff",
    "ChallengeError",
    "ChallengePage",
    "ChallengeResult",
    "ChatSession",
    "Conversation",
    "ConversationLimitError",
    "Event",
    "FinishReason",
    "Finished",
    "HTTPStatusError",
    "HttpRequest",
    "ImageEvent",
    "Input",
    "InputLimitError",
    "Limits",
    "LocalProtocolError",
    "Message",
    "MessagesLike",
    "ModelNotSupportedError",
    "Pacer",
    "ProtocolError",
    "RateLimitError",
    "RateLimited",
    "RemoteProtocolError",
    "SSEDecoder",
    "SansioChatError",
    "ServerSentEvent",
    "ServiceRefusal",
    "Sleep",
    "SolveChallenge",
    "State",
    "Step",
    "StreamInterrupted",
    "Timeout",
    "TitleEvent",
    "TokenEvent",
    "TransportError",
    "TurnComplete",
    "UsageEvent",
    "VqdUpdate",
    "WarningEvent",
    "__version__",
    "find_header",
    "format_prompt",
    "last_user_message",
]
