"""The core is pure: it pulls in no I/O library and never uses the random module's global
state (ARCHITECTURE.md, STYLE.md rule 2)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = ("httpx", "anyio", "asyncio", "trio", "hypercorn", "socket")
# The random module's classes carry their own state; everything else uses the global one.
RANDOM_ALLOWED = frozenset({"Random", "SystemRandom"})
CORE = Path(__file__).resolve().parent.parent / "src" / "sansio_chat"

IMPORT_EVERYTHING = """
import json, pkgutil, sys
import sansio_chat
skip = ("sansio_chat.adapters", "sansio_chat.testing")
names = ["sansio_chat"]
for info in pkgutil.walk_packages(sansio_chat.__path__, "sansio_chat."):
    if info.name.startswith(skip):
        continue
    __import__(info.name)
    names.append(info.name)
forbidden = %r
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in forbidden)
print(json.dumps({"imported": names, "forbidden": loaded}))
"""

# hypothesis itself (through plugins such as trio's) may load some of them; the testing
# module must add none of its own.
IMPORT_TESTING = """
import json, sys
import hypothesis.strategies
forbidden = %r
before = {m for m in sys.modules if m.partition(".")[0] in forbidden}
import sansio_chat.testing
after = {m for m in sys.modules if m.partition(".")[0] in forbidden}
print(json.dumps(sorted(after - before)))
"""


def run_fresh(code: str) -> object:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_the_core_loads_no_io_library() -> None:
    report = run_fresh(IMPORT_EVERYTHING % (FORBIDDEN,))
    assert isinstance(report, dict)
    assert "sansio_chat._sse" in report["imported"]
    assert report["forbidden"] == []


def test_the_testing_module_adds_no_io_library() -> None:
    assert run_fresh(IMPORT_TESTING % (FORBIDDEN,)) == []


def core_sources() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def violations(tree: ast.AST) -> list[str]:
    found = []
    random_names = {"random"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.partition(".")[0]
                if root in FORBIDDEN:
                    found.append(f"line {node.lineno}: import {alias.name}")
                if alias.name == "random" and alias.asname:
                    random_names.add(alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.partition(".")[0]
            if root in FORBIDDEN:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            if node.module == "random":
                for alias in node.names:
                    if alias.name not in RANDOM_ALLOWED:
                        found.append(f"line {node.lineno}: from random import {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in random_names
            and node.attr not in RANDOM_ALLOWED
        ):
            found.append(f"line {node.lineno}: random.{node.attr}")
    return found


def test_the_source_walk_sees_the_core() -> None:
    names = {path.name for path in core_sources()}
    assert {"__init__.py", "_sse.py", "testing.py"} <= names


@pytest.mark.parametrize(
    "path", core_sources(), ids=[str(p.relative_to(CORE)) for p in core_sources()]
)
def test_core_source_imports_no_io_and_no_global_random(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert violations(tree) == []


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio",
        "import httpx.models",
        "from anyio import sleep",
        "from trio import lowlevel",
        "import socket as s",
        "import hypercorn",
        "import random\nrandom.random()",
        "import random as r\nr.choice([1])",
        "from random import shuffle",
        "import random\nrandom.seed(1)",
    ],
)
def test_the_checker_catches(source: str) -> None:
    assert violations(ast.parse(source)) != []


def test_the_checker_allows_injected_rngs() -> None:
    source = "import random\nfrom random import Random\nrng: random.Random = random.Random()"
    assert violations(ast.parse(source)) == []
