"""What every provider object offers: its description, model validation, new sessions."""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from sansio_chat._conversation import Conversation
from sansio_chat._errors import LocalProtocolError, ModelNotSupportedError
from sansio_chat._pacing import Backoff, Pacer
from sansio_chat._session import ChatSession, Limits, ProviderRules

__all__ = ["Provider", "UnknownProviderError", "check_no_options", "normalize_base_url"]


class UnknownProviderError(LocalProtocolError):
    """No provider has this name.

    Attributes:
        name: the name asked for.
        known: the provider names there are.
    """

    name: str
    known: tuple[str, ...]

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown provider {name!r}; known providers: {', '.join(known)}")
        self.name = name
        self.known = known


def normalize_base_url(base_url: str) -> str:
    """Check that ``base_url`` is an absolute http(s) URL and drop a trailing ``/``."""
    if not isinstance(base_url, str):
        raise LocalProtocolError(f"base_url must be a str, not {type(base_url).__name__}")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise LocalProtocolError(
            f"base_url must be an absolute http(s) URL without query, not {base_url!r}"
        )
    return base_url.rstrip("/")


class Provider(ABC):
    """A chat service: what it is, which models it takes, and how to start a session.

    Attributes:
        name: the catalogue name (``"ddg"``, ``"darkai"``).
        label: a human-readable name.
        url: the service's web page.
        working: whether the public service is believed to work today.
        supports_stream: replies arrive as a stream of tokens.
        supports_system_message: system messages are accepted (maybe sent another way).
        supports_message_history: earlier turns are sent along with each turn.
        default_model: the model used when none is given.
        models: the model ids the provider accepts.
        model_aliases: other names for those ids.
        default_base_url: where requests go unless ``base_url`` says otherwise.
    """

    name: str
    label: str
    url: str
    working: bool
    supports_stream: bool = True
    supports_system_message: bool = True
    supports_message_history: bool = True
    default_model: str
    models: tuple[str, ...]
    model_aliases: Mapping[str, str]
    default_base_url: str

    def validate_model(self, model: str | None = None) -> str:
        """Return the model id for ``model``: empty → default, alias → id.

        Raises :class:`~sansio_chat.ModelNotSupportedError` (listing the ids) otherwise.
        """
        if model is None or model == "":
            return self.default_model
        if not isinstance(model, str):
            raise LocalProtocolError(f"model must be a str, not {type(model).__name__}")
        model = self.model_aliases.get(model, model)
        if model not in self.models:
            raise ModelNotSupportedError(model, self.models, provider=self.name)
        return model

    def new_session(
        self,
        model: str | None = None,
        base_url: str | None = None,
        conversation: Conversation | None = None,
        *,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        pacer: Pacer | None = None,
        backoff: Backoff | None = None,
        limits: Limits | None = None,
        **options: object,
    ) -> ChatSession:
        """Start a session (one conversation) with this provider.

        Args:
            model: a model id or alias; default: the conversation's model, else
                ``default_model``.
            base_url: where to send requests (e.g. an emulator at ``http://127.0.0.1:PORT``).
            conversation: a conversation to continue (its provider must be this one).
            clock: monotonic clock for the default pacer (default :func:`time.monotonic`).
            rng: random source for the default back-off (default: a fresh ``Random``).
            pacer: a pacer shared with the client's other sessions (default: a new one).
            backoff: retry policy (default ``Backoff(rng=rng)``).
            limits: buffering limits (default ``Limits()``).
            **options: provider options (see the provider's module).
        """
        options = self._session_options(conversation, dict(options))
        # A conversation on the default model follows the provider's default (which may depend
        # on what the session learns); any other model was chosen.
        model_given = bool(model) or (
            isinstance(conversation, Conversation) and conversation.model != self.default_model
        )
        validate = self._model_validator(options)
        if conversation is None:
            conversation = Conversation(provider=self.name, model=validate(model))
        else:
            if not isinstance(conversation, Conversation):
                raise LocalProtocolError("conversation must be a Conversation")
            if conversation.provider != self.name:
                raise LocalProtocolError(
                    f"this conversation belongs to provider {conversation.provider!r}, "
                    f"not {self.name!r}"
                )
            wanted = validate(model or conversation.model)
            if wanted != conversation.model:
                conversation = replace(conversation, model=wanted)
        if base_url is None:
            base_url = self._default_base_url(options)
        base = normalize_base_url(base_url)
        if pacer is None:
            pacer = Pacer(clock=clock if clock is not None else time.monotonic)
        if rng is None:
            rng = random.Random()
        if backoff is None:
            backoff = Backoff(rng=rng)
        limits = limits if limits is not None else Limits()
        options.setdefault("model_given", model_given)
        rules = self._rules(conversation=conversation, base_url=base, options=options, rng=rng)
        return ChatSession(rules, conversation, pacer=pacer, backoff=backoff, limits=limits)

    def _session_options(
        self, conversation: Conversation | None, options: dict[str, object]
    ) -> dict[str, object]:
        """The options of ``new_session`` completed from a continued conversation."""
        return options

    def _model_validator(self, options: Mapping[str, object]) -> Callable[[str | None], str]:
        """How ``new_session`` checks a model, given the session's options."""
        return self.validate_model

    def _default_base_url(self, options: Mapping[str, object]) -> str:
        """Where requests go when ``new_session`` gets no ``base_url``."""
        return self.default_base_url

    @abstractmethod
    def _rules(
        self,
        *,
        conversation: Conversation,
        base_url: str,
        options: dict[str, object],
        rng: random.Random,
    ) -> ProviderRules:
        """Build this provider's rules; refuse unknown ``options`` with LocalProtocolError.

        ``rng`` is the session's random source (per-request values such as ids come from it).
        ``options["model_given"]`` says whether the model was chosen (by the caller or the
        conversation) rather than defaulted; a provider that does not care pops it.
        """

    def __repr__(self) -> str:
        return f"<Provider {self.name!r} ({self.label}) working={self.working}>"


def check_no_options(name: str, options: Mapping[str, object]) -> None:
    """Refuse leftover provider options by name."""
    if options:
        raise LocalProtocolError(
            f"unknown option(s) for provider {name!r}: {', '.join(sorted(options))}"
        )
