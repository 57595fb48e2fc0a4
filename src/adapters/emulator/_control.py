"""A thread-safe handle on a running emulator's state, for the server thread and its caller."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from sansio_chat.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorRequest,
    Exchange,
    Fault,
    ResponsePlan,
)

__all__ = ["EmulatorControl"]

_ENDPOINTS = ("page", "status", "ddg", "darkai", "models", "other")


class EmulatorControl:
    """A thread-safe handle on a running emulator's state, for tests and the CLI.

    The server thread and the caller's thread both use it; every call takes one lock.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._lock = threading.Lock()

    def handle(self, request: EmulatorRequest) -> ResponsePlan:
        """Answer one request (called by the app)."""
        with self._lock:
            return self._emulator.handle(request)

    def fault(self, *specs: str | Fault) -> None:
        """Activate fault switches, e.g. ``control.fault("429x3", "cut:120@ddg")``."""
        with self._lock:
            for spec in specs:
                self._emulator.add_fault(spec)

    def clear_faults(self) -> None:
        """Deactivate every fault switch."""
        with self._lock:
            self._emulator.clear_faults()

    @property
    def active_faults(self) -> tuple[str, ...]:
        """The fault switches still in force, as written."""
        with self._lock:
            return self._emulator.active_faults

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change :class:`~sansio_chat.emulator.EmulatorConfig` fields while it runs."""
        with self._lock:
            return self._emulator.configure(**changes)

    @property
    def config(self) -> EmulatorConfig:
        """The current configuration."""
        with self._lock:
            return self._emulator.config

    @property
    def seed(self) -> int:
        """The effective seed (chosen at random when the config gives none)."""
        with self._lock:
            return self._emulator.seed

    @property
    def fe_version(self) -> str:
        """The ``x-fe-version`` a client should build from the page."""
        with self._lock:
            return self._emulator.fe_version

    def deploy_frontend(self) -> str:
        """Dialect ``2026``: ship a new frontend (the page names a new fe-version; chat refuses
        the old one with a 418 challenge refusal). Returns the new fe-version."""
        with self._lock:
            return self._emulator.ddg2026.deploy_frontend()

    def challenge_answer(self, header: str) -> dict[str, object] | None:
        """Dialect ``2026``: what a clean browser resolves the challenge ``header`` (from a
        status or chat reply) to, by the emulator's own model; ``None`` if not issued."""
        with self._lock:
            return self._emulator.ddg2026.expected_answer(header)

    def expected_reply(self, prompt: str) -> str:
        """The reply text either service streams for ``prompt`` (the last user message)."""
        with self._lock:
            return self._emulator.expected_reply(prompt)

    @property
    def exchanges(self) -> list[Exchange]:
        """The requests answered so far (the last 1,000), oldest first."""
        with self._lock:
            return list(self._emulator.exchanges)

    def requests_to(self, endpoint: str) -> list[Exchange]:
        """The exchanges of one endpoint: ``page``, ``status``, ``ddg`` (DuckDuckGo's chat),
        ``darkai``, ``models`` or ``other``; another name is a ``ValueError`` (it would match
        nothing, and a check that nothing was asked would pass whatever was asked)."""
        if endpoint not in _ENDPOINTS:
            raise ValueError(f"no endpoint {endpoint!r}; the endpoints: {', '.join(_ENDPOINTS)}")
        return [exchange for exchange in self.exchanges if exchange.endpoint == endpoint]

    def reset(self) -> None:
        """Forget tokens, conversations, faults and the log; keep the configuration."""
        with self._lock:
            self._emulator = Emulator(dataclasses.replace(self._emulator.config, faults=()))
