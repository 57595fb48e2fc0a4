"""The README and docs/*.md run as written (issue 17).

Every fenced ``python`` block of README.md and docs/*.md runs in a fresh interpreter against a
live emulator (dialect ``2026`` unless a ``<!-- run: dialect=ERA -->`` comment just before the
block names another); ``http://127.0.0.1:8765`` in an example is the emulator's address and
``http://127.0.0.1:8000`` the gateway's (one is started in front of the emulator when an
example uses it). A block that cannot run on its own says why in a
``<!-- not-run: REASON -->`` comment just before it; there must be few of those.

Also here: the docs point nowhere outside the repository, every install line works from a
checkout, and the README's typecheck command survives the script changing directory.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from sansio_chat.adapters.gateway import create_gateway_app
from sansio_chat.adapters.serving import serve_in_thread

from fixtures_emulator import EmulatorHandle

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the test extra installs tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EMULATOR_URL = "http://127.0.0.1:8765"
GATEWAY_URL = "http://127.0.0.1:8000"
MAX_NOT_RUN = 4

_BLOCK = re.compile(
    r"(?:<!--\s*(?P<kind>not-run|run):\s*(?P<note>.*?)\s*-->\s*\n)?^```python\n(?P<code>.*?)^```",
    re.S | re.M,
)


@dataclass(frozen=True)
class Example:
    """One ``python`` block of a document."""

    where: str
    code: str
    kind: str | None
    note: str


def _examples() -> list[Example]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("code"))
            found.append(
                Example(
                    where=f"{path.relative_to(ROOT)}:{line}",
                    code=match["code"],
                    kind=match["kind"],
                    note=match["note"] or "",
                )
            )
    return found


EXAMPLES = _examples()
RUNNABLE = [example for example in EXAMPLES if example.kind != "not-run"]


def test_the_examples_are_found_and_few_are_not_run() -> None:
    assert len(EXAMPLES) >= 15
    not_run = [example for example in EXAMPLES if example.kind == "not-run"]
    assert len(not_run) <= MAX_NOT_RUN, [example.where for example in not_run]
    for example in not_run:
        assert len(example.note) >= 20, f"{example.where}: say why it is not run"


@pytest.fixture
def gateway(emulator: EmulatorHandle) -> Iterator[Callable[[str], str]]:
    with ExitStack() as stack:

        def start(upstream: str) -> str:
            app = create_gateway_app(base_url=upstream, min_interval=0)
            return str(stack.enter_context(serve_in_thread(app)).base_url)

        yield start


@pytest.mark.parametrize("example", RUNNABLE, ids=[example.where for example in RUNNABLE])
def test_the_example_runs(
    example: Example,
    emulator_factory: Callable[..., EmulatorHandle],
    gateway: Callable[[str], str],
    tmp_path: Path,
) -> None:
    settings = dict(
        item.split("=", 1) for item in example.note.split() if example.kind == "run" and "=" in item
    )
    emulator = emulator_factory(dialect=settings.get("dialect", "2026"), reply_tokens=5)
    code = example.code.replace(EMULATOR_URL, emulator.base_url)
    if GATEWAY_URL in code:
        code = code.replace(GATEWAY_URL, gateway(emulator.base_url))
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, "SANSIO_CHAT_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, f"{example.where}:\n{done.stderr[-3000:]}"


# -- the docs stay inside the repository ----------------------------------------------------

_OUTSIDE = re.compile(r"\bspec/[A-Z]|\bSOURCES\b|\.\./shared|shared/spec")
# Written by another maintainer and checked where they are written.
_OTHERS = {"docs/architecture.md", "docs/architecture-core.md", "docs/benchmarks.md"}


def _texts() -> Iterator[tuple[str, str]]:
    paths = [ROOT / "README.md", ROOT / "pyproject.toml", *(ROOT / "docs").glob("*.md")]
    paths += [p for p in (ROOT / "src").rglob("*") if p.suffix in (".py", ".js", ".md")]
    for path in paths:
        name = str(path.relative_to(ROOT))
        if name not in _OTHERS and not name.startswith("docs/dialects"):
            yield name, path.read_text(encoding="utf-8")


def test_nothing_points_outside_the_repository() -> None:
    pointers = [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}"
        for name, text in _texts()
        for m in _OUTSIDE.finditer(text)
    ]
    assert pointers == []


def test_the_links_of_the_docs_lead_to_files_that_exist() -> None:
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (path.parent / target).exists(), f"{path.name}: {target}"


def test_every_install_line_works_from_a_checkout() -> None:
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    lines = [
        (path.name, line)
        for path in DOCS
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"pip install (?!-r)", line)
    ]
    assert lines
    for name, line in lines:
        for match in re.finditer(r"pip install (?:-q )?(-e )?[\"']?(\.(?:\[([\w,]*)\])?)?", line):
            assert match[1], f"{name}: not from a checkout: {line}"
            assert match[2], f"{name}: not from a checkout: {line}"
            wanted = set(match[3].split(",")) if match[3] else set()
            assert wanted <= extras, f"{name}: unknown extra in {line}"


def test_the_typecheck_command_of_the_readme_survives_the_script_s_cd(tmp_path: Path) -> None:
    # tools/typecheck.sh runs mypy from a temporary directory: a PATH entry relative to the
    # checkout stops naming the virtual environment there. Run the README's line with a
    # stand-in script that does what matters: change directory, then find python with mypy.
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if "tools/typecheck.sh" in ln and "PATH=" in ln]
    command = line.split("#", 1)[0].strip()
    checkout = tmp_path / "checkout"
    (checkout / "tools").mkdir(parents=True)
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    stand_in = checkout / "tools" / "typecheck.sh"
    stand_in.write_text('#!/bin/sh\ncd "$(mktemp -d)" && exec python -c "import mypy"\n')
    stand_in.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"  # a shell without the virtual environment
    done = subprocess.run(
        ["sh", "-c", command], cwd=checkout, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{shlex.quote(command)}: {done.stderr}"
