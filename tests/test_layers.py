"""The layers of the tree, checked from the source (parsed with :mod:`ast`, nothing imported).

``pelangi`` (the wire contract) is the bottom layer; ``edge_agent`` and ``collector`` stand
on it side by side; ``sandbox`` (servers for the tests, the demo, the benchmarks; not
installed) stands on all three. An import pointing up or sideways would ship test code to
the gateways, or tie one deployable to the other, wherever it sits in the file: at module
level, inside a function, under ``TYPE_CHECKING``, or as ``import_module("...")``.

The last test imports every runtime module first and alone, each in a fresh interpreter:
a circular import shows up there even when the suite's own import order hides it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

if TYPE_CHECKING:
    from collections.abc import Collection

REPO: Final = Path(__file__).resolve().parents[1]
RUNTIME: Final = ("pelangi", "edge_agent", "collector")
"""The installed packages (pyproject.toml), whose modules run on gateways and servers."""
DYNAMIC_IMPORTS: Final = frozenset({"import_module", "__import__"})


@dataclass(frozen=True, slots=True)
class Import:
    """One module named by an import in a source file."""

    path: Path
    line: int
    module: str
    """The absolute dotted name (relative imports resolved)."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def module_name(path: Path, root: Path) -> str:
    """``edge_agent/outbox/store.py`` -> ``edge_agent.outbox.store``; a package is its folder."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, *, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    # `from . import x` is relative to the package: the module itself for an __init__.py.
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every module the file at ``path`` imports, anywhere in it (see the module docstring)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    module = module_name(path, root)
    where = path.relative_to(root)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(where, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = _absolute(node, module, is_package=path.name == "__init__.py")
            found.append(Import(where, node.lineno, name))
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in DYNAMIC_IMPORTS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import(where, node.lineno, node.args[0].value))
    return sorted(found, key=lambda found_import: found_import.line)


def sources(root: Path, package: str) -> list[Path]:
    """The ``.py`` files of ``package`` under ``root`` (failing loudly if there are none)."""
    paths = sorted((root / package).rglob("*.py"))
    assert paths, f"no .py files under {root / package}: the layer checks would check nothing"
    return paths


def violations(root: Path, package: str, forbidden: Collection[str]) -> list[str]:
    """Imports in ``package`` of any module under the top-level packages ``forbidden``."""
    return [
        str(found)
        for path in sources(root, package)
        for found in imports_of(path, root)
        if found.module.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize("package", RUNTIME)
def test_no_runtime_module_imports_the_sandbox(package: str) -> None:
    found = violations(REPO, package, {"sandbox"})
    assert found == [], f"{package} must not import sandbox (test code, not installed):\n" + (
        "\n".join(found)
    )


def test_the_shared_core_imports_neither_deployable() -> None:
    found = violations(REPO, "pelangi", {"edge_agent", "collector"})
    assert found == [], "pelangi is what both deployables import, it imports neither:\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize(
    ("package", "other"), [("edge_agent", "collector"), ("collector", "edge_agent")]
)
def test_the_deployables_do_not_import_each_other(package: str, other: str) -> None:
    found = violations(REPO, package, {other})
    assert found == [], f"{package} must not import {other} (share code through pelangi):\n" + (
        "\n".join(found)
    )


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_scan_finds_imports_wherever_they_hide(tmp_path: Path) -> None:
    # A tree breaking every rule once, each in a different place in its file.
    _write(tmp_path, "pelangi/__init__.py", "from . import topics\n")
    _write(tmp_path, "pelangi/topics.py", "def f():\n    from edge_agent.agent import run\n")
    _write(
        tmp_path,
        "edge_agent/uplink/__init__.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import collector.config\n"
        "from .. import sandbox\n",
    )
    _write(
        tmp_path,
        "collector/service.py",
        "import importlib\nimportlib.import_module('sandbox.servers')\n"
        "__import__('edge_agent')\nfrom .storage import base\n",
    )
    assert violations(tmp_path, "pelangi", {"edge_agent", "collector"}) == [
        "pelangi/topics.py:2 imports edge_agent.agent"
    ]
    assert violations(tmp_path, "edge_agent", {"sandbox", "collector"}) == [
        "edge_agent/uplink/__init__.py:3 imports collector.config",
        # `from .. import sandbox` in edge_agent.uplink names edge_agent: allowed.
    ]
    assert violations(tmp_path, "collector", {"sandbox", "edge_agent"}) == [
        "collector/service.py:2 imports sandbox.servers",
        "collector/service.py:3 imports edge_agent",
    ]
    assert [str(i) for i in imports_of(tmp_path / "collector/service.py", tmp_path)][-1] == (
        "collector/service.py:4 imports collector.storage"
    )


def runtime_modules() -> list[str]:
    """The dotted name of every module of the installed packages, in this checkout."""
    return sorted(module_name(path, REPO) for package in RUNTIME for path in sources(REPO, package))


def _import_alone(module: str) -> str | None:
    """Import ``module`` first, in a new interpreter run from the checkout; None if it worked."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode == 0:
        return None
    # The last line is the exception ("... partially initialized module ..." for a cycle).
    last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return f"python -c 'import {module}' exited with status {done.returncode}: {last}"


def test_every_runtime_module_imports_alone_in_a_fresh_interpreter() -> None:
    modules = runtime_modules()
    assert "edge_agent.uplink.publisher" in modules  # the walk reached the sub-packages
    # One interpreter per module, as many at once as there are CPUs: ~10 s on 2 cores.
    with ThreadPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        failures = [failure for failure in pool.map(_import_alone, modules) if failure]
    assert failures == [], "\n".join(failures)
