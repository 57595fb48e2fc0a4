"""The layout of ``src/`` holds: imports go one way, every package says its job, files stay short.

Imports are read from the source (every ``import`` statement, also inside functions and
``TYPE_CHECKING`` blocks), with ``src/adapters`` named as it is installed:
``sansio_chat.adapters``. See docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
CORE = SRC / "sansio_chat"
ADAPTERS = SRC / "adapters"

MAX_LINES = 400
LONG_FILE_REASON = "why this file is long:"
# Core files over the limit that the core reorganisation (issue 12) splits or explains. An
# entry that is split or explained must leave this list: the list only shrinks.
PENDING_LONG_FILES = {
    "sansio_chat/_sse.py",
    "sansio_chat/providers/ddg_challenge.py",
}

A = "sansio_chat.adapters"
DRIVERS = (f"{A}.httpx", f"{A}.h11", f"{A}._drivers")
SERVERS_AND_CLI = (f"{A}.gateway", f"{A}.emulator", f"{A}.cli", f"{A}.serving")


def module_name(path: Path) -> str:
    """The installed dotted name of a source file."""
    if path.is_relative_to(ADAPTERS):
        parts = [*A.split("."), *path.relative_to(ADAPTERS).with_suffix("").parts]
    else:
        parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved; ``from m import n`` gives
    ``m`` and ``m.n`` (``n`` may be a submodule)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


IMPORTS = {module_name(path): imported_modules(path) for path in source_files()}


def offenders(importers: tuple[str, ...], banned: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, targets in IMPORTS.items()
        if within(name, importers)
        for target in targets
        if within(target, banned) and not within(target, importers)
    )


def test_the_scanner_sees_the_known_edges() -> None:
    # Without these the rules below could pass by reading nothing.
    assert f"{A}.httpx" in IMPORTS[f"{A}.gateway._upstream"]
    assert f"{A}.gateway" in IMPORTS[f"{A}.cli.serve"]  # imported inside a function
    assert f"{A}._drivers.common" in IMPORTS[f"{A}.h11"]
    assert f"{A}.serving" in IMPORTS[f"{A}.emulator._app"]
    assert "sansio_chat" in IMPORTS[f"{A}._drivers.client"]


def test_the_core_never_imports_the_adapters() -> None:
    found = sorted(
        f"{name} imports {target}"
        for name, targets in IMPORTS.items()
        if not within(name, (A,))
        for target in targets
        if within(target, (A,))
    )
    assert found == []


def test_the_drivers_import_no_server_and_no_cli() -> None:
    assert offenders(DRIVERS, SERVERS_AND_CLI) == []


def test_the_gateway_imports_neither_the_cli_nor_the_emulator_server() -> None:
    assert offenders((f"{A}.gateway",), (f"{A}.cli", f"{A}.emulator")) == []


def test_the_emulator_server_imports_no_driver_gateway_or_cli() -> None:
    banned = (*DRIVERS, f"{A}.gateway", f"{A}.cli")
    assert offenders((f"{A}.emulator",), banned) == []


def test_serving_is_a_leaf_of_the_adapters() -> None:
    others = tuple(sorted(name for name in IMPORTS if within(name, (A,)) and name != A))
    assert offenders((f"{A}.serving",), others) == []


def test_driver_internals_are_reached_only_through_the_public_drivers() -> None:
    users = sorted(
        name
        for name, targets in IMPORTS.items()
        if any(within(t, (f"{A}._drivers",)) for t in targets)
        and not within(name, (f"{A}._drivers", f"{A}.httpx", f"{A}.h11"))
    )
    assert users == []


@pytest.mark.parametrize(
    "package",
    sorted(p for p in SRC.rglob("*") if p.is_dir() and "__pycache__" not in p.parts),
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_every_package_states_its_job(package: Path) -> None:
    init = package / "__init__.py"
    assert init.is_file(), f"{package} is a folder of src/ without __init__.py"
    docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert docstring, f"{init} has no docstring saying what the package is for"


def _says_why_it_is_long(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text)) or ""
    comments = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comments.append(line)
    return LONG_FILE_REASON in (docstring + "\n".join(comments)).lower()


def _long_files() -> set[str]:
    return {
        str(path.relative_to(SRC))
        for path in source_files()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
        and not _says_why_it_is_long(path)
    }


def test_no_file_is_long_without_a_reason_at_its_top() -> None:
    unexplained = _long_files() - PENDING_LONG_FILES
    assert unexplained == set(), (
        f"over {MAX_LINES} lines: split them, or start the module docstring with a "
        f"paragraph '{LONG_FILE_REASON.capitalize()} ...'"
    )


def test_the_pending_list_only_shrinks() -> None:
    assert PENDING_LONG_FILES - _long_files() == set(), "done: remove from PENDING_LONG_FILES"
