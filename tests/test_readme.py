"""Every Python and shell block of the README runs, offline, as it is written.

A block that cannot run here (it installs packages, runs the whole test suite, or needs a
model API) must say so in an HTML comment on the line before it:
``<!-- not run by the tests: REASON -->``. Console blocks (``$ command`` then its output) are
run and their output compared. So the README cannot drift from the code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"(?:<!-- (?P<note>[^>]*) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)
SKIP = "not run by the tests: "
RUNNABLE = {"python", "bash", "console"}


def blocks() -> list[tuple[str, str, str, int]]:
    found = []
    for match in BLOCK.finditer(README):
        lang = match["lang"]
        if lang in RUNNABLE:
            line = README.count("\n", 0, match.start("body"))
            found.append((lang, match["body"], match["note"] or "", line))
    return found


BLOCKS = blocks()


def test_the_readme_has_the_blocks_this_test_expects() -> None:
    kinds = [lang for lang, *_ in BLOCKS]
    assert kinds.count("python") >= 4 and kinds.count("bash") >= 3 and "console" in kinds


def test_every_skipped_block_says_why() -> None:
    for _lang, _body, note, line in BLOCKS:
        if note:
            assert note.startswith(SKIP) and len(note) > len(SKIP) + 10, (line, note)


def offline_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CROSSROADS_", "GOOGLE_"))}
    bin_dir = str(Path(sys.executable).parent)
    return {
        **env,
        "CROSSROADS_HOME": str(home),
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
        "COLUMNS": "200",
    }


@pytest.mark.timeout(600)  # a block may start the CLI several times
@pytest.mark.parametrize(
    ("lang", "body", "note", "line"),
    [pytest.param(*block, id=f"{block[0]}-line{block[3]}") for block in BLOCKS],
)
def test_a_readme_block_runs_offline(
    lang: str, body: str, note: str, line: int, tmp_path: Path
) -> None:
    if note.startswith(SKIP):
        pytest.skip(note)
    env = offline_env(tmp_path / "home")
    work = tmp_path / "work"
    shutil.copytree(ROOT / "docs", work / "docs")
    shutil.copytree(ROOT / "benchmarks" / "corpus", work / "benchmarks" / "corpus")
    if lang == "python":
        script = work / "block.py"
        script.write_text(body)
        proc = subprocess.run(
            [sys.executable, str(script)],
            cwd=work,  # outside the repository: the imports must work as installed
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    elif lang == "bash":
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", body],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
        assert "Traceback" not in proc.stderr
    else:  # console: "$ command" lines, each followed by its expected output
        for command, expected in console_steps(body):
            command = command.replace(".venv/bin/", "")
            proc = subprocess.run(
                ["bash", "-c", command],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.strip() == expected.strip(), (command, proc.stdout)


def console_steps(body: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        elif steps:
            command, output = steps[-1]
            steps[-1] = (command, output + line + "\n")
    return steps
