"""The DuckDuckGo catalogue entry: models, options, and the rules a new session gets."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from sansio_chat._conversation import Conversation
from sansio_chat._errors import LocalProtocolError
from sansio_chat._session import ProviderRules
from sansio_chat.providers._base import Provider, check_no_options
from sansio_chat.providers.ddg.dialects import DEFAULT_DIALECT, DIALECTS, Dialect
from sansio_chat.providers.ddg.state import DuckDuckGoState
from sansio_chat.providers.ddg.turn import Rules
from sansio_chat.providers.ddg.wire import BROWSER, DEFAULT_BASE_URL, INPUT_CHAR_LIMIT, Browser

__all__ = ["DEFAULT_MODEL", "MODELS", "MODEL_ALIASES", "DuckDuckGoProvider"]

DEFAULT_MODEL = "gpt-4o-mini"
MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "claude-3-haiku-20240307",
    "o3-mini",
    "mistralai/Mistral-Small-24B-Instruct-2501",
)
MODEL_ALIASES = MappingProxyType(
    {
        "gpt-4": "gpt-4o-mini",
        "gpt-4o": "gpt-4o-mini",
        "llama-3.3-70b": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "claude-3-haiku": "claude-3-haiku-20240307",
        "mistral-small": "mistralai/Mistral-Small-24B-Instruct-2501",
        "mistral-small-24b": "mistralai/Mistral-Small-24B-Instruct-2501",
    }
)


class DuckDuckGoProvider(Provider):
    """DuckDuckGo AI Chat.

    Options of ``new_session``: ``dialect`` (``"2024"``, ``"2025-03"`` (default) or a
    :class:`Dialect`), ``solver`` (a :data:`ChallengeSolver`; default: the pure solver of
    :mod:`sansio_chat.providers.ddg_challenge`), ``browser`` (a :class:`Browser`),
    ``fe_version`` (an fe-version another session of the client already fetched: the page
    is fetched once per client, not once per conversation; a conversation's own wins).
    """

    name = "ddg"
    label = "DuckDuckGo AI Chat"
    url = "https://duckduckgo.com/aichat"
    working = True
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    default_model = DEFAULT_MODEL
    models = MODELS
    model_aliases = MODEL_ALIASES
    default_base_url = DEFAULT_BASE_URL
    input_char_limit = INPUT_CHAR_LIMIT
    dialects = DIALECTS

    def _rules(
        self, *, conversation: Conversation, base_url: str, options: dict[str, object]
    ) -> ProviderRules:
        dialect = options.pop("dialect", DEFAULT_DIALECT)
        if isinstance(dialect, str):
            if dialect not in DIALECTS:
                raise LocalProtocolError(
                    f"unknown dialect {dialect!r}; known dialects: {', '.join(DIALECTS)}"
                )
            dialect = DIALECTS[dialect]
        if not isinstance(dialect, Dialect):
            raise LocalProtocolError("dialect must be a dialect name or a Dialect")
        solver = options.pop("solver", None)
        if solver is not None and not callable(solver):
            raise LocalProtocolError("solver must be a callable (challenge_js, headers) -> str")
        browser = options.pop("browser", BROWSER)
        if not isinstance(browser, Browser):
            raise LocalProtocolError("browser must be a Browser")
        fe_version = options.pop("fe_version", "")
        if not isinstance(fe_version, str):
            raise LocalProtocolError("fe_version must be a str")
        check_no_options(self.name, options)
        state = DuckDuckGoState.of(conversation)
        if fe_version and not state.fe_version:
            state = replace(state, fe_version=fe_version)
        return Rules(
            state=state,
            base_url=base_url,
            dialect=dialect,
            browser=browser,
            solver=solver,
        )
