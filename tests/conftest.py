"""Shared pytest configuration: hypothesis profiles and the anyio backends."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("quick", deadline=None, max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Fixture modules owned by individual areas live beside the tests (tests/ is on sys.path).
pytest_plugins: list[str] = ["fixtures_emulator", "hostile_server"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on asyncio and on trio."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _cli_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the command line's saved conversations and history out of the user's home."""
    monkeypatch.setenv("SANSIO_CHAT_DATA_DIR", str(tmp_path_factory.mktemp("sansio-chat-data")))
