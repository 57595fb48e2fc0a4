"""The V8 solver ships by default (a newcomer's ``pip install sansio-chat`` talks to today's
duck.ai); the ``js`` extra stays as an alias; Chromium stays optional."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROJECT = tomllib.loads(
    (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
)["project"]


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0].lower() for req in requirements}


def test_mini_racer_is_a_default_dependency_and_js_an_alias() -> None:
    assert "mini-racer" in names(PROJECT["dependencies"])
    assert names(PROJECT["optional-dependencies"]["js"]) == {"mini-racer"}


def test_playwright_stays_in_the_chromium_extra() -> None:
    assert "playwright" not in names(PROJECT["dependencies"])
    assert "playwright" in names(PROJECT["optional-dependencies"]["chromium"])
