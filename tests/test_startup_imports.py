"""Start-up imports only what is used (issue 16, target 4; timed by bench/bench_startup.py).

Each check runs in a fresh interpreter and reads ``sys.modules``: ``import sansio_chat``
loads the standard library modules its dataclasses need and nothing more, and the
``sansio-chat`` commands that print a help text or the offline model list load no network
stack and no part of a turn.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import sansio_chat
import sansio_chat.providers.ddg as ddg
import sansio_chat.providers.ddg.wire2026 as wire2026
import sansio_chat.providers.ddg_challenge as ddg_challenge
from sansio_chat import Backoff

# Where the tested package lives (src/ of the checkout, or site-packages of a wheel).
PACKAGE_ROOT = str(Path(sansio_chat.__file__).resolve().parent.parent)

# `python -S`: no site, so nothing but this code loads modules (an editable install's import
# hook, run by site, would load pathlib, re and urllib.parse before the check).
CORE_IMPORT = """
import sys
sys.path[:0] = %r
before = set(sys.modules)
import sansio_chat
loaded = sorted(set(sys.modules) - before)
import json, orjson  # both importable: their absence above is the package's doing
print(json.dumps(loaded))
"""

COMMAND = """
import json, os, sys
before = set(sys.modules)
from sansio_chat.adapters.cli import main
sys.stdout = open(os.devnull, "w")
status = main(%r)
sys.stdout = sys.__stdout__
print(json.dumps({"status": status, "loaded": sorted(set(sys.modules) - before)}))
"""

# What the core imported before issue 16 and needs only when a turn, a conversation file or
# a back-off uses it; and what it must never import.
NOT_AT_CORE_IMPORT = frozenset(
    {"json", "orjson", "random", "urllib", "urllib.parse", "ipaddress", "pathlib", "fnmatch"}
    | {"importlib.util", "logging", "hashlib", "base64", "uuid", "datetime", "threading"}
    | {"selectolax", "cryptography", "socket", "asyncio", "httpx", "anyio", "h11"}
)
# What the offline model list does not need: the turns, their wire, the challenge solver,
# and the conversation store.
NOT_FOR_MODELS = frozenset(
    {
        "sansio_chat.providers.ddg_challenge",
        "sansio_chat.providers.ddg.discovery",
        "sansio_chat.providers.ddg.turn",
        "sansio_chat.providers.ddg.turn2026",
        "sansio_chat.providers.ddg.exchanges2026",
        "sansio_chat.providers.ddg.wire2026",
        "sansio_chat.adapters.cli._store",
        "secrets",
        "tempfile",
    }
)


def run_child(argv: list[str]) -> object:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def third_party(modules: list[str]) -> set[str]:
    """The top-level names of ``modules`` that are neither sansio_chat nor the stdlib."""
    tops = {name.partition(".")[0] for name in modules}
    return tops - set(sys.stdlib_module_names) - {"sansio_chat"}


def test_importing_the_package_loads_only_the_stdlib_modules_it_needs() -> None:
    path = [PACKAGE_ROOT, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    loaded = run_child(["-S", "-c", CORE_IMPORT % (path,)])
    assert isinstance(loaded, list)
    assert "sansio_chat._session" in loaded  # the whole public API was imported
    assert third_party(loaded) == set()
    assert NOT_AT_CORE_IMPORT.isdisjoint(loaded), sorted(NOT_AT_CORE_IMPORT.intersection(loaded))


@pytest.mark.parametrize("argv", [["--help"], ["ask", "--help"]], ids=" ".join)
def test_help_loads_no_provider_and_no_third_party_package(argv: list[str]) -> None:
    report = run_child(["-c", COMMAND % (argv,)])
    assert isinstance(report, dict)
    assert report["status"] == 0
    loaded = report["loaded"]
    assert "sansio_chat.adapters.cli._main" in loaded
    assert third_party(loaded) == set()
    assert not [name for name in loaded if name.startswith("sansio_chat.providers")]


def test_the_offline_model_list_loads_the_catalogue_only() -> None:
    report = run_child(["-c", COMMAND % (["models"],)])
    assert isinstance(report, dict)
    assert report["status"] == 0
    loaded = report["loaded"]
    assert "sansio_chat.providers.ddg.provider" in loaded
    assert "sansio_chat.providers.darkai" in loaded
    assert third_party(loaded) <= {"orjson"}  # the payload parsers' optional fast path
    assert NOT_FOR_MODELS.isdisjoint(loaded), sorted(NOT_FOR_MODELS.intersection(loaded))


def test_the_lazy_names_of_the_ddg_package_are_the_role_modules_objects() -> None:
    assert ddg.ChallengeSolver is ddg_challenge.ChallengeSolver
    assert ddg.BROWSER_2026 is wire2026.BROWSER_2026
    assert ddg.DurableKey is wire2026.DurableKey
    assert ddg.models_request is wire2026.models_request
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = ddg.no_such_name


def test_the_lazy_names_are_listed_before_they_are_loaded() -> None:
    code = (
        "import json, sys\n"
        "import sansio_chat.providers.ddg as ddg\n"
        "solver = 'sansio_chat.providers.ddg_challenge'\n"
        "print(json.dumps([sorted(dir(ddg)), solver in sys.modules]))"
    )
    report = run_child(["-c", code])
    assert isinstance(report, list)
    names, solver_loaded = report
    assert set(ddg.__all__) <= set(names)
    assert solver_loaded is False


def test_a_default_backoff_draws_from_its_own_random_generator() -> None:
    first, second = Backoff(), Backoff()
    assert isinstance(first.rng, random.Random)
    assert first.rng is not second.rng
