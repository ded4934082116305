"""Finding 3 of the attack review: a crafted checkpoint row must not run code when read.

The attack, replayed with real files and a real ``crossroads`` process: ask once on a
thread, rewrite the thread's latest checkpoint row in ``threads.sqlite`` so that one value is
a msgpack "constructor" extension for ``os.system``, then ask again on that thread.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import ormsgpack
import pytest

from crossroads.checkpoints import strict_serializer

ROOT = Path(__file__).resolve().parents[2]
EXT_CONSTRUCTOR_SINGLE_ARG = 0  # langgraph.checkpoint.serde.jsonplus's code for "call f(x)"


def _ask(home: Path, question: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.endswith("_API_KEY")}
    env.update(CROSSROADS_HOME=str(home), CROSSROADS_OFFLINE="1")
    env.pop("CROSSROADS_CHECKPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "crossroads", "ask", "--thread", "t", question],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _keep_ext(code: int, data: bytes) -> Any:
    return ormsgpack.Ext(code, data)


def _plant(database: Path, command: str) -> None:
    """Replace the question in the thread's latest checkpoint with a call of os.system."""
    with sqlite3.connect(database) as connection:
        rowid, kind, blob = connection.execute(
            "SELECT rowid, type, checkpoint FROM checkpoints WHERE thread_id = 't' "
            "ORDER BY checkpoint_id DESC LIMIT 1"
        ).fetchone()
        assert kind == "msgpack"
        checkpoint = ormsgpack.unpackb(blob, ext_hook=_keep_ext, option=ormsgpack.OPT_NON_STR_KEYS)
        payload = ormsgpack.packb(("os", "system", command))
        checkpoint["channel_values"]["question"] = ormsgpack.Ext(
            EXT_CONSTRUCTOR_SINGLE_ARG, payload
        )
        connection.execute(
            "UPDATE checkpoints SET checkpoint = ? WHERE rowid = ?",
            (ormsgpack.packb(checkpoint, option=ormsgpack.OPT_NON_STR_KEYS), rowid),
        )


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_crafted_row_does_not_run_code_when_the_thread_is_read(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _ask(home, "What is 2 + 2?")
    assert first.returncode == 0, first.stderr
    marker = tmp_path / "pwned"
    _plant(home / "threads.sqlite", f"touch {marker}")

    second = _ask(home, "What is 3 + 3?")

    assert not marker.exists(), "the checkpoint row ran os.system"
    assert second.returncode == 0, second.stderr
    assert "6" in second.stdout


def test_the_serializer_refuses_constructors_and_pickle() -> None:
    serde = strict_serializer()
    payload = ormsgpack.packb(("os", "system", "true"))
    row = ormsgpack.packb({"x": ormsgpack.Ext(EXT_CONSTRUCTOR_SINGLE_ARG, payload)})
    value = serde.loads_typed(("msgpack", row))
    assert value["x"] != 0  # os.system("true") would have returned 0
    with pytest.raises(NotImplementedError, match="pickle"):
        serde.loads_typed(("pickle", b"cos\nsystem\n(S'true'\ntR."))
