"""The core's import directions (docs/architecture.md), read from the source (no import runs).

Core modules (``src/sansio_chat/_*.py``, ``__init__.py``, ``testing.py``) import neither the
providers nor the emulator and name no provider; nothing under ``src/sansio_chat`` imports
the adapters; providers never import the emulator.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from sansio_chat import providers

SRC = Path(__file__).resolve().parent.parent / "src" / "sansio_chat"
ALL = sorted(SRC.rglob("*.py"))
CORE = sorted([*SRC.glob("_*.py"), SRC / "testing.py"])
PROVIDERS = sorted((SRC / "providers").rglob("*.py"))
EMULATOR = sorted((SRC / "emulator").rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def module_name(path: Path) -> str:
    parts = ["sansio_chat", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """The absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def code_words(path: Path) -> Iterator[str]:
    """Identifiers, attribute names and string constants that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
        # An attribute docstring: a string statement right after an assignment.
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if isinstance(statements, list):
                for before, after in itertools.pairwise(statements):
                    if (
                        isinstance(before, (ast.Assign, ast.AnnAssign))
                        and isinstance(after, ast.Expr)
                        and isinstance(after.value, ast.Constant)
                    ):
                        docstrings.add(id(after.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias)):
            yield node.name
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("path", ALL, ids=rel)
def test_nothing_in_the_pure_package_imports_the_adapters(path: Path) -> None:
    bad = [name for name in imports(path) if within(name, "sansio_chat.adapters")]
    assert bad == [], f"{rel(path)} imports the adapters: {bad}"
    dynamic = [w for w in code_words(path) if "sansio_chat.adapters" in w]
    assert dynamic == [], f"{rel(path)} names the adapters in code: {dynamic}"


@pytest.mark.parametrize("path", CORE, ids=rel)
def test_the_core_imports_no_provider_and_no_emulator(path: Path) -> None:
    bad = [
        name
        for name in imports(path)
        if within(name, "sansio_chat.providers") or within(name, "sansio_chat.emulator")
    ]
    assert bad == [], f"{rel(path)} imports {bad}"


@pytest.mark.parametrize("path", CORE, ids=rel)
def test_the_core_knows_no_provider_by_name(path: Path) -> None:
    # The event VqdUpdate is public core vocabulary (and format-1 files name vqd), so only
    # the catalogue names and the services' names count.
    names = {*providers.names(), "duckduckgo"}
    found = sorted({word for word in code_words(path) for name in names if name in word.lower()})
    assert found == [], f"{rel(path)} names a provider in code: {found}"


@pytest.mark.parametrize("path", PROVIDERS, ids=rel)
def test_providers_never_import_the_emulator(path: Path) -> None:
    bad = [name for name in imports(path) if within(name, "sansio_chat.emulator")]
    assert bad == [], f"{rel(path)} imports {bad}"


def test_the_walk_sees_the_layout() -> None:
    # Guards the globs above: an empty list would make every check pass vacuously.
    assert SRC / "_session.py" in CORE
    assert SRC / "providers" / "ddg" / "turn.py" in PROVIDERS
    assert SRC / "emulator" / "_ddg.py" in EMULATOR
    assert "sansio_chat.providers.ddg.wire" in set(imports(SRC / "providers/ddg/turn.py"))
    assert "sansio_chat._text" in set(imports(SRC / "emulator" / "_ddg.py"))
    assert "sansio_chat._plan" not in set(imports(SRC / "emulator" / "_ddg.py"))
    assert "sansio_chat.emulator._plan" in set(imports(SRC / "emulator" / "_ddg.py"))
    assert "ddg" in {w.lower() for w in code_words(SRC / "providers" / "ddg" / "state.py")}
