"""The gateway's routing table: every model name it accepts, with its provider and upstream id.

Both endpoints read one table: ``POST /v1/chat/completions`` routes ``model`` by it and
``GET /v1/models`` is generated from it, so a listed id always goes to the provider it is
listed under (``owned_by``). The table is built from the served providers' own lists, in
``--providers`` order:

1. ``provider/id`` for every id of every provider, then ``provider/alias`` for every alias
   (accepted, never listed: the bare alias is);
2. every bare id, then every bare alias, of the first provider, then of the next; a name an
   earlier provider or step already holds keeps that meaning.

Every provider's names are listed but for some of DuckDuckGo's, which its view
(:class:`~._models.DuckDuckGoModels`) accepts without listing them.

So a name two providers know is the first provider's as a bare name, and the other's only as
``provider/name``. A bare name in no list is refused with 404: nothing is sent upstream on
the chance that a service might know it. ``ddg/NAME`` is the one way past the lists, where
DuckDuckGo's list is not closed (today's service adds models the built-in list does not
know, and its live list is not fetched yet or not at all): a well-formed id is sent, and the
service's refusal names its models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sansio_chat.providers.ddg import ModelInfo

from ._models import DuckDuckGoModels
from ._openai import model_not_found

__all__ = ["ModelCatalog", "ModelRoute", "ProviderInfo", "RoutingEntry", "RoutingTable"]


class ProviderInfo(Protocol):
    """What the gateway needs from a provider of ``sansio_chat.providers``."""

    @property
    def name(self) -> str:
        """The provider's short name (``ddg``, ``darkai``)."""

    @property
    def models(self) -> Sequence[str]:
        """The canonical model ids."""

    @property
    def model_aliases(self) -> Mapping[str, str]:
        """Alias → canonical model id."""

    def validate_model(self, model: str) -> str:
        """Return the canonical id for ``model`` or raise ``ModelNotSupportedError``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRoute:
    """Where a requested model name goes.

    Attributes:
        provider: the provider name.
        model: the provider's canonical model id.
    """

    provider: str
    model: str

    @property
    def public_id(self) -> str:
        """The ``provider/model`` id reported back to clients."""
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingEntry:
    """One name the gateway accepts.

    Attributes:
        name: the name as a request spells it (``ddg/gpt-4o-mini``, ``gpt-4``).
        route: the provider and upstream model it means.
        listed: whether ``GET /v1/models`` shows it (its ``owned_by`` is ``route.provider``).
    """

    name: str
    route: ModelRoute
    listed: bool


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Every model name the gateway accepts, in listing order (see the module docstring)."""

    entries: Mapping[str, RoutingEntry]
    unlisted: Mapping[str, Callable[[str], str | None]]
    """Per provider whose list is open: its id for a name after ``provider/`` it does not
    list, or ``None``."""

    @classmethod
    def build(cls, providers: Sequence[ProviderInfo]) -> RoutingTable:
        """The table of ``providers``, in their order; a provider that refuses a name it
        lists raises (``ModelNotSupportedError``): that is a bug, not a name to drop."""
        entries: dict[str, RoutingEntry] = {}
        for name, route, listed in _candidates(providers):
            entries.setdefault(name, RoutingEntry(name=name, route=route, listed=listed))
        unlisted = {
            provider.name: provider.unlisted
            for provider in providers
            if isinstance(provider, DuckDuckGoModels)
        }
        return cls(entries, unlisted)

    def route(self, requested: str) -> ModelRoute:
        """The route of ``requested``, or the 404 ``GatewayError`` of an unknown model."""
        entry = self.entries.get(requested)
        if entry is not None:
            return entry.route
        provider, slash, name = requested.partition("/")
        check = self.unlisted.get(provider) if slash else None
        model = check(name) if check is not None else None
        if model is None:
            raise model_not_found(requested)
        return ModelRoute(provider=provider, model=model)

    def listed(self) -> list[RoutingEntry]:
        """The entries ``GET /v1/models`` shows, in order."""
        return [entry for entry in self.entries.values() if entry.listed]


def _candidates(providers: Sequence[ProviderInfo]) -> Iterator[tuple[str, ModelRoute, bool]]:
    """Every ``(name, route, listed)`` the providers claim, in the table's order of priority."""
    claims = [(provider, _claims(provider)) for provider in providers]
    for provider, (ids, _aliases) in claims:
        for model_id, route in ids:
            yield f"{provider.name}/{model_id}", route, _lists(provider, model_id)
    for provider, (_ids, aliases) in claims:
        for alias, route in aliases:
            yield f"{provider.name}/{alias}", route, False
    for provider, (ids, aliases) in claims:
        for name, route in (*ids, *aliases):
            yield name, route, _lists(provider, name)


_Claims = tuple[list[tuple[str, ModelRoute]], list[tuple[str, ModelRoute]]]


def _claims(provider: ProviderInfo) -> _Claims:
    """The provider's ids and aliases, each with the route its own check gives it."""

    def routed(names: Sequence[str] | Mapping[str, str]) -> list[tuple[str, ModelRoute]]:
        return [
            (name, ModelRoute(provider=provider.name, model=provider.validate_model(name)))
            for name in names
        ]

    return routed(provider.models), routed(provider.model_aliases)


def _lists(provider: ProviderInfo, name: str) -> bool:
    """Whether ``GET /v1/models`` shows the provider's ``name`` (bare, or after the provider's
    name if it is an id): DuckDuckGo's view says which of its era's names; any other
    provider's are all shown."""
    return provider.lists(name) if isinstance(provider, DuckDuckGoModels) else True


class ModelCatalog:
    """The served providers, in model-resolution order, and the routing table built from
    them (once; again after DuckDuckGo's live list changes).

    Attributes:
        providers: the providers (DuckDuckGo as a :class:`DuckDuckGoModels` view).
        live: DuckDuckGo's live models by id, their details for ``GET /v1/models``.
    """

    __slots__ = ("_table", "live", "providers")

    def __init__(self, providers: Sequence[ProviderInfo]) -> None:
        self.providers: tuple[ProviderInfo, ...] = tuple(providers)
        self.live: dict[str, ModelInfo] = {}
        self._table: RoutingTable | None = None

    def table(self) -> RoutingTable:
        """The routing table, built at first use."""
        if self._table is None:
            self._table = RoutingTable.build(self.providers)
        return self._table

    def resolve(self, requested: str) -> ModelRoute:
        """The route of ``requested``, or the 404 ``GatewayError`` of an unknown model."""
        return self.table().route(requested)

    def listing(self) -> list[tuple[str, str]]:
        """``(id, owner)`` of every listed entry, in order."""
        return [(entry.name, entry.route.provider) for entry in self.table().listed()]

    def learn_live(self, live: Sequence[ModelInfo]) -> None:
        """Take DuckDuckGo's live list: its ids replace the built-in ones in the table."""
        found = {info.id: info for info in live}
        if found == self.live:
            return
        self.live = found
        for provider in self.providers:
            if isinstance(provider, DuckDuckGoModels):
                provider.live = tuple(i for i in self.live if provider.sendable(i))
        self._table = None
