"""``-m/--model`` names read as the gateway reads them: ``PROVIDER/MODEL``, or a bare id or
alias of the first provider whose list holds it (``_routes.py`` in the gateway)."""

from __future__ import annotations

from sansio_chat import LocalProtocolError, providers

from ._output import EXIT_CODES, Failure

__all__ = ["resolve_model"]


def resolve_model(
    provider: str | None, model: str | None, dialect: str | None = None
) -> tuple[str | None, str | None]:
    """``(provider, model)`` from ``--provider`` and ``--model`` as the gateway reads model
    names: ``PROVIDER/MODEL``, or an id or alias of the first provider whose list (for
    DuckDuckGo, the ``dialect``'s, or any era's) holds it; a name no list holds goes to the
    first provider that takes it (DuckDuckGo's today's service decides on a well-formed id
    its built-in list does not know)."""
    if model is None:
        return provider, None
    prefix, sep, rest = model.partition("/")
    if sep and prefix in providers.names() and not rest:
        raise Failure(f"--model {model}: name a model after the provider", EXIT_CODES["usage"])
    if sep and prefix in providers.names():
        if provider is not None and provider != prefix:
            raise Failure(
                f"--model {model} belongs to provider {prefix}, not --provider {provider}",
                EXIT_CODES["usage"],
            )
        provider, model = prefix, rest
    candidates = [provider] if provider is not None else list(providers.names())
    listing = [name for name in candidates if model in _names_of(name, dialect)]
    for name in (*listing, *candidates):
        try:
            return name, providers.get(name).validate_model(model)
        except LocalProtocolError:
            continue
    known = ", ".join(f"{name}/{m}" for name in candidates for m in providers.get(name).models)
    raise Failure(f"--model {model}: no such model (try: {known})", EXIT_CODES["usage"])


def _names_of(provider: str, dialect: str | None) -> frozenset[str]:
    """The ids and aliases ``provider`` lists (DuckDuckGo: in ``dialect``, or in any era)."""
    if provider != "ddg":
        found = providers.get(provider)
        return frozenset((*found.models, *found.model_aliases))
    from sansio_chat.providers.ddg.provider import era_models

    ids, aliases = era_models(dialect)
    return frozenset((*ids, *aliases))
