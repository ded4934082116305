"""The house rules of the layout, checked on the source (DESIGN.md, "Know your room").

The rooms are layers, lowest first; a module may import its own layer and the layers below,
never one above, and no set of modules may import each other in a circle:

=============  =====================================================================
layer          modules
=============  =====================================================================
foundation     ``crossroads.errors`` (what failed), ``crossroads.retry`` (whether and
               when to try again, which the retrievers in ``tools/`` use too),
               ``crossroads.settings`` (how often, how long)
tools          ``tools/`` (``crossroads.tools``): plain functions, no model inside
core           the rest of ``crossroads/``: model loading and calling, usage,
               the agent contract, the agent registry, search setup, validation, threads
agents         ``agents/`` (``crossroads.agents``) and ``crossroads.mcp_agent``
graphs         ``graphs/`` (``crossroads.graphs``): state, wiring, LangGraph Server
api            ``crossroads.api`` and the package itself (``from crossroads import ...``)
applications   evaluation, the MCP server, tracing, ``examples/``
cli            ``crossroads.cli`` (the ``crossroads`` command) and ``python -m crossroads``
=============  =====================================================================

The three mapped folders (``agents/``, ``graphs/``, ``tools/``, see ``pyproject.toml``'s
``package-dir``) are followed under their installed names, so an arrow from ``agents/x.py``
to ``crossroads.graphs.state`` is seen as the upward arrow it is. Imports inside functions
and under ``TYPE_CHECKING`` count too: a lazy import is still an arrow.

Also: only ``crossroads/settings.py`` reads the environment.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Source folder -> installed package (pyproject.toml, [tool.setuptools.package-dir]).
PACKAGE_DIRS = {
    "crossroads": "crossroads",
    "tools": "crossroads.tools",
    "agents": "crossroads.agents",
    "graphs": "crossroads.graphs",
    "examples": "crossroads.examples",
}

# Lowest first. A module belongs to the layer of its longest matching prefix.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        ("crossroads.errors", "crossroads.retry", "crossroads.settings"),
    ),
    ("tools", ("crossroads.tools",)),
    (
        "core",
        (
            "crossroads.models",
            "crossroads.llm",
            "crossroads.structured",
            "crossroads.usage",
            "crossroads.contract",
            "crossroads.registry",
            "crossroads.search",
            "crossroads.validation",
            "crossroads.threads",
            "crossroads.transcript",  # issue 19's thread transcript (branch perf)
            "crossroads.thread_locks",
            "crossroads.checkpoints",
            "crossroads.testing",
            "crossroads.terminal",
            "crossroads.provider_errors",
        ),
    ),
    ("agents", ("crossroads.agents", "crossroads.mcp_agent")),
    ("graphs", ("crossroads.graphs",)),
    ("api", ("crossroads.api", "crossroads")),
    (
        "applications",
        (
            "crossroads.evaluation",
            "crossroads.mcp_server",
            "crossroads.tracing",
            "crossroads.examples",
        ),
    ),
    ("cli", ("crossroads.cli", "crossroads.__main__")),
)
LAYER_NAMES = [name for name, _ in LAYERS]

Edge = tuple[str, str]


def modules_under(root: Path) -> dict[str, Path]:
    """Every first-party module in the source tree at ``root``, by its installed name."""
    modules: dict[str, Path] = {}
    for folder, package in PACKAGE_DIRS.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def imported_names(path: Path) -> Iterator[str]:
    """Every module name ``path`` imports, anywhere in the file (``from a import b`` gives
    ``a`` and ``a.b``: ``b`` may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; the house uses absolute ones"
            if node.module:
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)


def import_edges(root: Path = ROOT) -> set[Edge]:
    """The first-party import graph of the tree at ``root``: (importer, imported) pairs."""
    modules = modules_under(root)
    edges: set[Edge] = set()
    for name, path in modules.items():
        for target in imported_names(path):
            while target and target not in modules:  # ``from pkg import function``
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add((name, target))
    return edges


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer index)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if prefix == "crossroads" and module != "crossroads":
                    continue  # the package itself, not everything under it
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), index)
    if best is None:
        raise LookupError(f"{module} has no layer: add it to LAYERS in {Path(__file__).name}")
    return best[1]


def upward_imports(edges: Iterable[Edge]) -> list[str]:
    return sorted(
        f"{a} ({LAYER_NAMES[layer_of(a)]}) imports {b} ({LAYER_NAMES[layer_of(b)]})"
        for a, b in edges
        if layer_of(b) > layer_of(a)
    )


def import_cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return cycles


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for module in modules_under(ROOT):
        try:
            layer_of(module)
        except LookupError:
            unplaced.append(module)
    assert unplaced == []


def test_no_import_points_upward() -> None:
    assert upward_imports(import_edges()) == []


def test_no_import_circle() -> None:
    assert import_cycles(import_edges()) == []


def test_the_mapped_folders_are_followed() -> None:
    """The checker sees arrows into and out of the mapped folders (else it would pass on
    an empty graph)."""
    edges = import_edges()
    assert ("crossroads.graphs.calculator", "crossroads.agents.calculator") in edges
    assert ("crossroads.agents.calculator", "crossroads.contract") in edges
    assert ("crossroads.agents.calculator", "crossroads.tools.calculator") in edges


def test_a_planted_upward_import_fails(tmp_path: Path) -> None:
    """A copy of the tree where a tool imports a graph: the checker names that arrow."""
    for folder in PACKAGE_DIRS:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("data"))
    planted = tmp_path / "tools" / "calculator.py"
    planted.write_text(
        planted.read_text(encoding="utf-8")
        + "\nfrom crossroads.graphs.app import build_app_graph\n",
        encoding="utf-8",
    )
    assert upward_imports(import_edges(tmp_path)) == [
        "crossroads.tools.calculator (tools) imports crossroads.graphs.app (graphs)"
    ]


def test_a_planted_circle_fails() -> None:
    """The real graph plus one arrow back from usage to the model caller that imports it:
    both are core, so only the circle check can catch it."""
    edges = import_edges()
    assert ("crossroads.llm", "crossroads.usage") in edges
    edges.add(("crossroads.usage", "crossroads.llm"))
    assert upward_imports(edges) == []
    assert import_cycles(edges) == [["crossroads.llm", "crossroads.usage"]]


def test_an_unplaced_module_fails() -> None:
    with pytest.raises(LookupError, match=r"crossroads\.newroom has no layer"):
        layer_of("crossroads.newroom")


def test_only_settings_reads_the_environment() -> None:
    readers = []
    for folder in ("crossroads", "agents", "graphs", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                is_environ = isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
                if is_environ and path != ROOT / "crossroads" / "settings.py":
                    readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


@pytest.mark.parametrize(
    "module",
    [
        "crossroads.contract",
        "crossroads.agents.calculator",
        "crossroads.agents.writers",
        "crossroads.graphs",
        "crossroads.graphs.state",
    ],
)
def test_each_module_imports_first_without_a_cycle(module: str) -> None:
    """A fresh interpreter importing this module first (Python's own check: a circle that
    the static graph missed fails here with a partially initialised module)."""
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
