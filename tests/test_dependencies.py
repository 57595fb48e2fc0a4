"""Every third-party module that ``src/`` imports is a declared dependency.

httpx-sse once shipped without declaring httpx; a fresh install is the only place such a
slip shows, so this test reads the imports and ``pyproject.toml`` instead.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# Import name -> distribution name, where they differ.
DISTRIBUTION_OF = {"sseclient": "sseclient-py", "py_mini_racer": "mini-racer"}
# Modules that import an optional extra on purpose (and say so when it is missing).
OPTIONAL = {
    "hypothesis": "hypothesis",  # sansio_chat.testing, the `hypothesis` extra
    "orjson": "fast",  # used when installed, the `fast` extra
    "py_mini_racer": "js",  # sansio_chat.adapters.solvers.V8Solver, the `js` extra
    "playwright": "chromium",  # sansio_chat.adapters.solvers.ChromiumSolver, the `chromium` extra
}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0].lower() for req in requirements}


def _imported_top_levels() -> dict[str, set[Path]]:
    found: dict[str, set[Path]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.relative_to(ROOT))
    return found


def test_every_third_party_import_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = _requirement_names(project["dependencies"])
    extras = {
        extra: _requirement_names(reqs) for extra, reqs in project["optional-dependencies"].items()
    }
    undeclared = []
    for module, paths in sorted(_imported_top_levels().items()):
        if module in sys.stdlib_module_names or module in {"sansio_chat", "__future__"}:
            continue
        distribution = DISTRIBUTION_OF.get(module, module).lower()
        if module in OPTIONAL:
            assert distribution in extras[OPTIONAL[module]], (module, OPTIONAL[module])
            continue
        if distribution not in required:
            undeclared.append(f"{module} (imported by {', '.join(map(str, sorted(paths)))})")
    assert not undeclared, "imported but not in [project].dependencies: " + "; ".join(undeclared)


def test_the_core_needs_no_adapter_dependency() -> None:
    core_imports = {
        module
        for module, paths in _imported_top_levels().items()
        if any(path.parts[1] == "sansio_chat" for path in paths)
    }
    assert not core_imports & {"httpx", "anyio", "h11", "hypercorn", "sniffio", "trio"}
