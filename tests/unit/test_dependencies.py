"""Declared = imported: every third-party module the package imports is a declared dependency.

The package's source (``crossroads/``, ``agents/``, ``graphs/``, ``tools/``) is read with
``ast``; each imported module is resolved to the installed distribution that ships it
(``importlib.metadata``). Then:

* a distribution imported at module level must be a core dependency (``dependencies``):
  ``pip install crossroads`` with no extras must be able to import every module;
* a distribution imported inside a function (a lazy import) must be a core dependency or
  belong to an extra, and the feature names that extra in one line when it is missing
  (``test_optional_features_name_their_extra``);
* every declared runtime dependency is imported somewhere, or is listed in
  :data:`USED_OTHERWISE` with the table it must stay in and the reason.

``test_removing_any_declared_dependency_is_caught`` drops each declared dependency in turn
and checks that the checker reports it, so the test above cannot silently pass.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = ("crossroads", "agents", "graphs", "tools")
RUNTIME_EXTRAS = ("zim", "postgres", "server", "plot", "mcp", "otel")
"""Extras that switch on a feature of the package (dev, notebooks and realmodel are tooling)."""

USED_OTHERWISE = {
    "numexpr": (
        "dependencies",
        "named by the design card; benchmarks/calculator_engine.py "
        "measures the engine against it (tools/calculator.py says why the engine does not "
        "call it)",
    ),
    "langchain-google-genai": (
        "dependencies",
        "the default model's provider, imported by name "
        "through init_chat_model (crossroads/models.py)",
    ),
    "langgraph-cli": ("server", "the `server` extra's `langgraph dev` command, run as a program"),
    "lxml": (
        "dependencies",
        "bs4's HTML parser, named by the string 'lxml' (linear on hostile HTML)",
    ),
    "opentelemetry-sdk": (
        "otel",
        "what a user sets exporters up with; crossroads.tracing emits "
        "through opentelemetry-api only",
    ),
}

SERVER_ONLY = {"graphs/auth.py": "server"}
"""Package modules that only one extra's program loads (``langgraph dev`` reads the auth hook
from langgraph.json): they may import that extra at module level."""
"""Declared dependencies that no package module imports, each with its reason."""


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return canonical(match.group(1))


@dataclass(frozen=True)
class Declared:
    core: frozenset[str]
    extras: dict[str, frozenset[str]]

    @classmethod
    def from_pyproject(cls, text: str) -> Declared:
        project = tomllib.loads(text)["project"]
        extras = {
            name: frozenset(requirement_name(r) for r in reqs)
            for name, reqs in project.get("optional-dependencies", {}).items()
        }
        return cls(frozenset(requirement_name(r) for r in project["dependencies"]), extras)

    def runtime_extras(self) -> frozenset[str]:
        return frozenset().union(*(self.extras.get(name, frozenset()) for name in RUNTIME_EXTRAS))


@dataclass(frozen=True)
class Import:
    module: str
    path: Path
    line: int
    lazy: bool  # inside a function or an ``if TYPE_CHECKING:`` block

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.module}"


def _imports(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(node: ast.AST, lazy: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = True
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, path, child.lineno, lazy)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                # ``from pkg import sub``: ``pkg.sub`` may be the module (pkg a namespace
                # package that no one distribution owns, e.g. opentelemetry).
                for alias in child.names:
                    yield Import(f"{child.module}.{alias.name}", path, child.lineno, lazy)
            yield from visit(child, inner)

    yield from visit(tree, False)


def package_imports() -> list[Import]:
    found = []
    for folder in PACKAGE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            found.extend(_imports(path))
    return found


@cache
def _file_owners() -> dict[str, str]:
    """Installed file (absolute, resolved) -> the distribution that installed it."""
    owners: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = canonical(dist.metadata["Name"])
        for file in dist.files or ():
            if file.suffix in {".py", ".so", ".pyd"} or file.name == "__init__.py":
                owners[str(Path(str(dist.locate_file(file))).resolve())] = name
    return owners


@cache
def distribution_of(module: str) -> str | None:
    """The distribution that ships ``module`` (or its deepest importable parent)."""
    if module.split(".")[0] in sys.stdlib_module_names or module.startswith("crossroads"):
        return None
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:end]))
        except (ImportError, ValueError, AttributeError):
            continue
        if spec is None or spec.origin in (None, "built-in", "frozen"):
            continue
        owner = _file_owners().get(str(Path(spec.origin).resolve()))
        if owner:
            return owner
    raise AssertionError(f"{module} is imported but no installed distribution ships it")


def problems(declared: Declared, imports: list[Import]) -> list[str]:
    """What is wrong between the declarations and the imports (empty when they agree)."""
    found: list[str] = []
    used: set[str] = set()
    optional = declared.runtime_extras()
    for item in imports:
        dist = distribution_of(item.module)
        if dist is None:
            continue
        used.add(dist)
        if dist in declared.core:
            continue
        module_extra = SERVER_ONLY.get(str(item.path.relative_to(ROOT)))
        if module_extra and dist in declared.extras.get(module_extra, frozenset()):
            continue
        if not item.lazy:
            found.append(f"{item.where()} at module level, but {dist} is not a core dependency")
        elif dist not in optional:
            found.append(f"{item.where()}, but {dist} is declared in no runtime extra")
    for dist in sorted((declared.core | optional) - used - set(USED_OTHERWISE)):
        found.append(f"{dist} is declared but never imported (or add it to USED_OTHERWISE)")
    for dist, (table, reason) in USED_OTHERWISE.items():
        where = (
            declared.core if table == "dependencies" else declared.extras.get(table, frozenset())
        )
        if dist not in where:
            found.append(f"{dist} must be declared in {table}: {reason}")
    return found


PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_every_import_is_declared_and_every_declaration_is_used() -> None:
    assert problems(Declared.from_pyproject(PYPROJECT), package_imports()) == []


def _runtime_declarations() -> list[tuple[str, str]]:
    declared = Declared.from_pyproject(PYPROJECT)
    pairs = [("dependencies", name) for name in sorted(declared.core)]
    for extra in RUNTIME_EXTRAS:
        pairs += [(extra, name) for name in sorted(declared.extras.get(extra, frozenset()))]
    return [pair for pair in pairs if not pair[1].startswith("crossroads")]


@pytest.mark.parametrize(
    ("table", "name"), _runtime_declarations(), ids=[f"{t}:{n}" for t, n in _runtime_declarations()]
)
def test_removing_any_declared_dependency_is_caught(table: str, name: str) -> None:
    declared = Declared.from_pyproject(PYPROJECT)
    if table == "dependencies":
        without = Declared(declared.core - {name}, declared.extras)
    else:
        extras = dict(declared.extras)
        extras[table] = extras[table] - {name}
        without = Declared(declared.core, extras)
    reported = problems(without, package_imports())
    assert reported, f"dropping {name} from {table} went unnoticed"
    assert any(name in line for line in reported)


OPTIONAL_FEATURES = [
    pytest.param(
        "libzim",
        "from crossroads.tools.retrievers.zim import ZimRetriever\nZimRetriever(Path('wiki.zim'))",
        "crossroads[zim]",
        id="zim",
    ),
    pytest.param(
        "langgraph.checkpoint.postgres",
        "import asyncio, contextlib\n"
        "from crossroads import Settings\nfrom crossroads.checkpoints import open_checkpointer\n"
        "async def main():\n"
        "    async with contextlib.AsyncExitStack() as stack:\n"
        "        await open_checkpointer('postgresql://u@127.0.0.1/db', Settings(), stack)\n"
        "asyncio.run(main())",
        "crossroads[postgres]",
        id="postgres",
    ),
    pytest.param(
        "matplotlib",
        "from crossroads.evaluation import write_plot\nwrite_plot({}, Path('x.png'))",
        "crossroads[plot]",
        id="plot",
    ),
]


@pytest.mark.parametrize(("blocked", "code", "extra"), OPTIONAL_FEATURES)
def test_optional_features_name_their_extra(
    blocked: str, code: str, extra: str, tmp_path: Path
) -> None:
    """With the extra's package missing, the feature fails with one line naming the extra."""
    script = (
        "import sys\nfrom pathlib import Path\n"
        f"sys.modules[{blocked!r}] = None  # importing it raises ImportError, as if not installed\n"
        "from crossroads.errors import CrossroadsError\n"
        "try:\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "except CrossroadsError as error:\n"
        "    print(error)\n    sys.exit(3)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "ModuleNotFoundError" not in proc.stdout + proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    assert f"pip install '{extra}'" in line
