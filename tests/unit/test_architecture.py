"""The house rules of the layout, checked on the source (DESIGN.md, "Know your room").

* a tool never imports an agent, a graph or the model caller (tools have no LLM inside);
* an agent never imports a graph builder (only the leaf schema module ``graphs/state.py``);
* only ``crossroads/settings.py`` reads the environment.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", python_files("tools"), ids=lambda p: p.name)
def test_tools_import_no_agent_graph_or_model(path: Path) -> None:
    forbidden = ("crossroads.agents", "crossroads.graphs", "crossroads.llm", "crossroads.models")
    bad = [m for m in imported_modules(path) if m.startswith(forbidden)]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", python_files("agents"), ids=lambda p: p.name)
def test_agents_import_no_graph_builder(path: Path) -> None:
    bad = [
        module
        for module in imported_modules(path)
        if module.startswith("crossroads.graphs") and module != "crossroads.graphs.state"
    ]
    assert not bad, f"{path.name} imports {bad}"


def test_only_settings_reads_the_environment() -> None:
    readers = []
    for folder in ("crossroads", "agents", "graphs", "tools"):
        for path in python_files(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                is_environ = isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
                if is_environ and path != ROOT / "crossroads" / "settings.py":
                    readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


def test_the_rules_would_catch_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom crossroads.graphs.app import build_app_graph\nos.environ\n")
    assert "crossroads.graphs.app" in list(imported_modules(sample))


@pytest.mark.parametrize(
    "module",
    ["crossroads.agents.calculator", "crossroads.agents.writers", "crossroads.graphs.state"],
)
def test_each_module_imports_first_without_a_cycle(module: str) -> None:
    """A fresh interpreter importing this module first (agents import graphs.state, and the
    graphs package must not import the agents back while they load)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
