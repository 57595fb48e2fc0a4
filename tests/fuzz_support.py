"""The atheris harnesses of ``fuzz/`` as modules: pytest replays their corpora without atheris."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"


def load_harness(name: str) -> ModuleType:
    """``fuzz/{name}.py`` imported as module ``name`` (once per process).

    The module is registered before it runs: its dataclasses look their module up there.
    """
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, FUZZ / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
