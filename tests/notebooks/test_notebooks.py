"""The tour notebooks run top to bottom offline, and are committed clean.

Each notebook in ``notebooks/`` is executed with nbclient in a fresh kernel, with no model key
in the environment and ``CROSSROADS_HOME`` in a temporary folder (the autouse
``hermetic_env`` fixture sets both in this process; the kernel inherits them). A cell that
raises fails the test with the cell's traceback.

The kernel must be this virtual environment's Python, not whatever ``python3`` kernel a
developer installed in their home folder (Jupyter's user kernel folder wins over the
venv's). So the tests put a ``python3`` kernelspec that names ``sys.executable`` first on
``JUPYTER_PATH``, and :func:`test_the_kernel_is_this_python` checks it.

Each notebook is edited as its jupytext pair, ``notebooks/<name>.py`` (percent format: linted
by ruff and type-checked by ``scripts/typecheck`` like the rest of the code), and the
``.ipynb`` is kept in step with ``.venv/bin/jupytext --sync notebooks/*.py``. The committed
``.ipynb`` files must have no outputs and no execution counts, and the same cells as their
``.py`` pair.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 120  # a notebook takes seconds; this only bounds a hang
NO_MODEL_BANNER = "Model mode: NO MODEL"

# What each notebook must show when run offline: a notebook that runs without an error but
# answers wrongly (a scripted reply out of step, a question the agent cannot read) fails.
EXPECTED = {
    "01_quickstart": [
        "A 240 * 15 / 100 = 36.",
        "[1] egyptian_pyramids.md (local)",
        "Writing needs a chat model",
        "result: 12 * 7 = 84.",
        "router(router)",
    ],
    "02_calculator": [
        "'expressions': ['36 - sold']",
        "error: unknown name 'sold'",
        "The baker has 16 rolls left.",
        "calculator.extract   {'llm_calls': 2",
        "result: That makes 4 rolls per basket.",
        "-> 36 - 20 = 16.",
        "give_up(give_up)",
    ],
    "03_research": [
        "files_unchanged=3",
        "Parliament first sat in Canberra in 1927. [1]",
        "[1] egyptian_pyramids.md",
        "[fact] I don't know",
        "'kept_titles': ['canberra.md']",
    ],
    "04_writers": [
        "paused for: plan_review | The Last Light of Eldmoor",
        "draft 1: model said 'approve', verdict 'revise' (overridden by a check)",
        "'Mara' appears once",
        "Give the story an ending",
        "error: None",
        "the lamp burned as bright as ever",
    ],
    "05_your_own_agent": [
        "route=units -> 26.2 mile = 42.1648 km",
        "route=units -> 5 lb = 2.26796 kg",
        "unknown unit 'parsecs'",
        "route=fact",
        "units(units)",
        "['math', 'fact', 'none', 'units']",
    ],
    "06_evaluation": [
        "suite       rows  route acc  answer acc  calls/req",
        "<Figure size 1400x400 with 3 Axes>",  # the text twin of the plotted PNG
        "    math    fact    none",
    ],
}
NEVER = ["has no reply left", "Sorry, I could not finish", "Traceback"]


@pytest.fixture
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``python3`` kernelspec for ``sys.executable``, first on ``JUPYTER_PATH``."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (crossroads venv)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "python3"


def execute(notebook: NotebookNode, kernel_name: str) -> NotebookNode:
    """Run every cell in a fresh kernel whose working folder is ``notebooks/``."""
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()  # raises CellExecutionError, with the traceback, when a cell fails
    return notebook


def outputs_text(cell: NotebookNode) -> str:
    """Everything a code cell printed or displayed as text or Markdown."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        else:
            data = output.get("data", {})
            parts.append(str(data.get("text/markdown") or data.get("text/plain", "")))
    return "".join(parts)


def test_every_notebook_has_expectations() -> None:
    assert [path.stem for path in NOTEBOOKS] == sorted(EXPECTED)


def test_the_kernel_is_this_python(venv_kernel: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    executed = execute(notebook, venv_kernel)
    assert outputs_text(executed.cells[0]).strip() == sys.executable


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_offline(path: Path, venv_kernel: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    executed = execute(notebook, venv_kernel)

    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert NO_MODEL_BANNER in outputs_text(code_cells[0]), "the first code cell names the mode"
    shown = "\n".join(outputs_text(cell) for cell in code_cells)
    for cell in code_cells:
        assert all(output.get("output_type") != "error" for output in cell.outputs), cell.source
    missing = [text for text in EXPECTED[path.stem] if text not in shown]
    assert not missing, f"{path.name} did not show {missing}"
    unwanted = [text for text in NEVER if text in shown]
    assert not unwanted, f"{path.name} showed {unwanted}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"outputs committed in: {cell.source[:60]!r}"
            assert cell.execution_count is None, f"execution count in: {cell.source[:60]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_committed_notebook_has_the_cells_of_its_py_pair(path: Path) -> None:
    pair = path.with_suffix(".py")
    assert pair.exists(), f"{pair.name} is missing: jupytext --set-formats ipynb,py:percent"
    assert cells(jupytext.read(pair)) == cells(nbformat.read(path, as_version=4)), (
        f"{path.name} and {pair.name} differ; run .venv/bin/jupytext --sync notebooks/*.py"
    )


def test_every_py_pair_has_its_notebook() -> None:
    pairs = sorted(NOTEBOOKS_DIR.glob("*.py"))
    assert [pair.stem for pair in pairs] == [path.stem for path in NOTEBOOKS]


def cells(notebook: NotebookNode) -> list[tuple[str, str]]:
    """What a reader sees: each cell's kind and text."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_a_diverged_pair_is_seen(tmp_path: Path) -> None:
    pair = NOTEBOOKS[0].with_suffix(".py")
    edited = tmp_path / pair.name
    edited.write_text(pair.read_text(encoding="utf-8") + "\n# %%\nprint('one cell more')\n")
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    assert cells(jupytext.read(edited)) != cells(notebook)
