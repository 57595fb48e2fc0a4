"""The DuckDuckGo catalogue entry: models, options, and the rules a new session gets."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType

from sansio_chat._conversation import Conversation
from sansio_chat._errors import LocalProtocolError, ModelNotSupportedError
from sansio_chat._session import ProviderRules
from sansio_chat.providers._base import Provider, check_no_options
from sansio_chat.providers.ddg.dialects import DEFAULT_DIALECT, DIALECT_2026, DIALECTS, Dialect
from sansio_chat.providers.ddg.models import (
    MODEL_ALIASES_2026,
    MODELS_2026,
    RETIRED_MODELS,
    aliases_naming,
)
from sansio_chat.providers.ddg.state import DuckDuckGoState
from sansio_chat.providers.ddg.wire import BROWSER, INPUT_CHAR_LIMIT, Browser

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_MODEL_2026",
    "MODELS",
    "MODEL_ALIASES",
    "DuckDuckGoProvider",
    "era_models",
]

DEFAULT_MODEL = "gpt-4o-mini"
MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "claude-3-haiku-20240307",
    "o3-mini",
    "mistralai/Mistral-Small-24B-Instruct-2501",
)
DEFAULT_MODEL_2026 = "gpt-5.4-mini"
# A model id the chat body may carry: printable ASCII without spaces, of a sane length.
_MODEL_ID = re.compile(r"[\x21-\x7e]{1,128}")
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


def era_models(dialect: str | None) -> tuple[tuple[str, ...], dict[str, str]]:
    """The built-in ids of ``dialect``'s era and its aliases (alias → id); ``None``, as a
    session that discovers its era takes them: today's, then the seed eras'."""
    if dialect is None:
        ids, aliases = era_models(DIALECT_2026.name)
        seed_ids, seed_aliases = era_models("2025-03")
        return (*ids, *seed_ids), {**aliases, **seed_aliases}
    if not DIALECTS[dialect].script_challenge:
        return MODELS, dict(MODEL_ALIASES)
    return MODELS_2026, aliases_naming(MODELS_2026)


class DuckDuckGoProvider(Provider):
    """DuckDuckGo AI Chat.

    Options of ``new_session``: ``dialect`` (``"2024"``, ``"2025-03"`` (default),
    ``"2026"`` or a :class:`Dialect`), ``browser`` (a :class:`Browser`: one identity for the
    ``user-agent`` and ``sec-ch-ua*`` headers and, in ``2026``, for the page a challenge
    sees), ``fe_version`` (an fe-version another session of the client already fetched: the
    page is fetched once per client, not once per conversation; a conversation's own wins).

    Dialect ``2025-03`` only: ``solver`` (a :data:`ChallengeSolver`; default: the pure solver
    of :mod:`sansio_chat.providers.ddg_challenge`). Dialect ``2026`` only: ``key_source`` (a
    callable returning a :class:`~sansio_chat.providers.ddg.wire2026.DurableKey`; default: a
    fresh 2048-bit RSA key from ``cryptography``), ``keep_private_key`` (store the private
    half in the conversation; default ``False``: sending needs only the public half),
    ``reasoning_effort`` (``"none"``, ``"minimal"``, ``"low"`` or ``"medium"``) and
    ``wall_clock`` (epoch seconds for the ``x-fe-signals`` log; default :func:`time.time`).
    """

    name = "ddg"
    label = "DuckDuckGo AI Chat"
    url = "https://duckduckgo.com/aichat"
    working = True
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    default_model = DEFAULT_MODEL_2026
    models = MODELS_2026
    model_aliases = MappingProxyType(
        {alias: ids[0] for alias, ids in MODEL_ALIASES_2026.items() if ids[0] in MODELS_2026}
    )
    default_base_url = DIALECT_2026.base_url
    input_char_limit = INPUT_CHAR_LIMIT
    dialects = DIALECTS

    def dialect(self, dialect: object) -> Dialect:
        """The :class:`Dialect` named by ``dialect`` (a name or a ``Dialect``)."""
        if isinstance(dialect, str):
            if dialect not in DIALECTS:
                raise LocalProtocolError(
                    f"unknown dialect {dialect!r}; known dialects: {', '.join(DIALECTS)}"
                )
            return DIALECTS[dialect]
        if not isinstance(dialect, Dialect):
            raise LocalProtocolError("dialect must be a dialect name or a Dialect")
        return dialect

    def validate_model(self, model: str | None = None, dialect: object = None) -> str:
        """The model id for ``model`` in ``dialect``.

        In ``2024``/``2025-03`` only that era's built-in ids and aliases are accepted. In
        ``2026`` the live list decides: aliases map onto the built-in list, ids the service
        retired raise :class:`~sansio_chat.ModelNotSupportedError` at once, and any other id
        is sent (a refusal then names the live models). With no dialect (the session will
        discover the era) a seed-era id or alias means that model, any other name is checked
        as today's; the era's own check follows once it is known. No model means today's
        default, which a discovered older era replaces by its own default.
        """
        if dialect is None:
            # The seed eras' names are a closed list: such a name means that era's model.
            # Anything else is today's (the live list decides).
            if isinstance(model, str) and (model in MODELS or model in MODEL_ALIASES):
                return MODEL_ALIASES.get(model, model)
            return self.validate_model(model, DIALECT_2026)
        era = self.dialect(dialect)
        if not era.script_challenge:
            if model is None or model == "":
                return DEFAULT_MODEL
            if not isinstance(model, str):
                raise LocalProtocolError(f"model must be a str, not {type(model).__name__}")
            model = MODEL_ALIASES.get(model, model)
            if model not in MODELS:
                raise ModelNotSupportedError(model, MODELS, provider=self.name)
            return model
        if model is None or model == "":
            return DEFAULT_MODEL_2026
        if not isinstance(model, str):
            raise LocalProtocolError(f"model must be a str, not {type(model).__name__}")
        for candidate in MODEL_ALIASES_2026.get(model, ()):
            if candidate in MODELS_2026:
                return candidate
        if model in RETIRED_MODELS or _MODEL_ID.fullmatch(model) is None:
            raise ModelNotSupportedError(model, MODELS_2026, provider=self.name)
        return model

    def _session_options(
        self, conversation: Conversation | None, options: dict[str, object]
    ) -> dict[str, object]:
        # A conversation keeps the dialect it was held in: continuing it speaks that dialect,
        # and asking for another one is an error naming both.
        if isinstance(conversation, Conversation) and conversation.provider == self.name:
            stored = DuckDuckGoState.of(conversation).era
            if stored:
                asked = options.get("dialect")
                if asked is None:
                    options["dialect"] = stored
                elif self.dialect(asked).name != stored:
                    raise LocalProtocolError(
                        f"this conversation speaks dialect {stored!r}; it cannot continue in "
                        f"dialect {self.dialect(asked).name!r}"
                    )
        return options

    def _model_validator(self, options: Mapping[str, object]) -> Callable[[str | None], str]:
        asked = options.get("dialect")
        era = None if asked is None else self.dialect(asked)
        return lambda model: self.validate_model(model, era)

    def _default_base_url(self, options: Mapping[str, object]) -> str:
        asked = options.get("dialect")
        return DEFAULT_DIALECT.base_url if asked is None else self.dialect(asked).base_url

    def _rules(
        self,
        *,
        conversation: Conversation,
        base_url: str,
        options: dict[str, object],
        rng: random.Random,
    ) -> ProviderRules:
        # The turns, their wire and the challenge solver load with the first session, so
        # the catalogue alone (`sansio-chat models`) does not import them.
        from sansio_chat.providers.ddg.discovery import DiscoveringRules
        from sansio_chat.providers.ddg.turn import Rules
        from sansio_chat.providers.ddg.turn2026 import Rules2026
        from sansio_chat.providers.ddg.wire2026 import (
            BROWSER_2026,
            REASONING_EFFORTS,
            generate_durable_key,
            parse_brands,
        )

        asked = options.pop("dialect", None)
        pinned = None if asked is None else self.dialect(asked)
        browser = options.pop("browser", None)
        if browser is not None and not isinstance(browser, Browser):
            raise LocalProtocolError("browser must be a Browser")
        fe_version = options.pop("fe_version", "")
        if not isinstance(fe_version, str):
            raise LocalProtocolError("fe_version must be a str")
        model_given = bool(options.pop("model_given", True))
        solver = options.pop("solver", None)
        if solver is not None and not callable(solver):
            raise LocalProtocolError("solver must be a callable (challenge_js, headers) -> str")
        if solver is not None and pinned is not None and pinned.script_challenge:
            raise LocalProtocolError(
                "dialect 2026 takes no solver option: the session asks for the challenge's "
                "result with a SolveChallenge step, which a driver answers"
            )
        key_source = options.pop("key_source", generate_durable_key)
        if not callable(key_source):
            raise LocalProtocolError("key_source must be a callable returning a DurableKey")
        keep_private_key = options.pop("keep_private_key", False)
        if not isinstance(keep_private_key, bool):
            raise LocalProtocolError("keep_private_key must be a bool")
        effort = options.pop("reasoning_effort", "none")
        if effort not in REASONING_EFFORTS:
            raise LocalProtocolError(
                f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}, not {effort!r}"
            )
        wall_clock = options.pop("wall_clock", time.time)
        if not callable(wall_clock):
            raise LocalProtocolError("wall_clock must be a callable returning epoch seconds")
        check_no_options(self.name, options)
        state = DuckDuckGoState.of(conversation)
        if fe_version and not state.fe_version:
            state = replace(state, fe_version=fe_version)
        # Discovering, one identity serves every era: today's browser.
        identity = browser if browser is not None else BROWSER_2026

        def rules_for(name: str | Dialect) -> Rules:
            era = self.dialect(name)
            if era.script_challenge:
                chosen = browser if browser is not None else BROWSER_2026
                parse_brands(chosen.sec_ch_ua)  # the page must be able to describe it
                return Rules2026(
                    state=state,
                    base_url=base_url,
                    dialect=era,
                    browser=chosen if pinned is not None else identity,
                    rng=rng,
                    wall_clock=wall_clock,
                    key_source=key_source,
                    keep_private_key=keep_private_key,
                    reasoning_effort=str(effort),
                )
            chosen = browser if browser is not None else BROWSER
            return Rules(
                state=state,
                base_url=base_url,
                dialect=era,
                browser=chosen if pinned is not None else identity,
                solver=solver,
            )

        if pinned is not None:
            return rules_for(pinned)

        def model_for(model: str, era: str) -> str:
            return self.validate_model(model if model_given else None, era)

        parse_brands(identity.sec_ch_ua)
        return DiscoveringRules(
            base_url=base_url,
            browser=identity,
            rules_for=rules_for,
            model_for=model_for,
            solver_given=solver is not None,
            fe_version_held=bool(state.fe_version),
        )
