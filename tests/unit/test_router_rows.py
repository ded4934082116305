"""The offline router's synthetic rows are data (``scripts/router_rows/``) plus a short composer
(``scripts/make_router_examples.py``); the shipped ``router_examples.jsonl`` must be what they
make, so the shipped weights (trained on that file, ``test_offline_router.py``) follow the data.

The real rows (GSM8K, NQ-open) need ``../shared/data`` and are not rebuilt here; the synthetic
rows come first in the file and do not depend on them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "crossroads" / "data" / "router_examples.jsonl"


@pytest.fixture(scope="module")
def composer() -> ModuleType:
    scripts = str(ROOT / "scripts")
    sys.path.insert(0, scripts)  # the script imports its neighbour router_real_data
    try:
        spec = importlib.util.spec_from_file_location(
            "make_router_examples", ROOT / "scripts" / "make_router_examples.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(scripts)
    return module


def shipped_synthetic() -> list[dict[str, str]]:
    rows = [json.loads(line) for line in SHIPPED.read_text(encoding="utf-8").splitlines()]
    return [row for row in rows if row["source"] == "synthetic"]


def test_the_shipped_synthetic_rows_are_what_the_data_files_compose(composer: ModuleType) -> None:
    made = composer.synthetic_rows()
    assert len(made) > 1000
    assert made == shipped_synthetic(), (
        "crossroads/data/router_examples.jsonl differs from scripts/router_rows/; run "
        "scripts/make_router_examples.py, then scripts/train_offline_router.py"
    )


def test_an_edited_data_file_is_seen(composer: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    real_written = composer.written
    monkeypatch.setattr(
        composer,
        "written",
        lambda name: (
            [*real_written(name), "what is 6 times 9"]
            if name == "train_math"
            else real_written(name)
        ),
    )
    assert composer.synthetic_rows() != shipped_synthetic()
