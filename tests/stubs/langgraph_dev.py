"""``langgraph dev`` as a throwaway server on loopback, for the server tests and benchmark.

It runs offline (no analytics, no version check, no tracing), in offline Crossroads mode,
on a free port of 127.0.0.1, with its working files in ``workdir``; it is stopped by PID
(SIGTERM, then SIGKILL) however the caller ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH_CLI = Path(sys.executable).with_name("langgraph")
STOP_TIMEOUT_S = 15.0

SCRUBBED_ENV = (
    "CROSSROADS_MODEL",
    "CROSSROADS_BASE_URL",
    "CROSSROADS_MODEL_KWARGS",
    "CROSSROADS_SEARCH",
    "CROSSROADS_ZIM",
    "CROSSROADS_CHECKPOINT_URL",
    "CROSSROADS_SERVER_MODELS",
    "CROSSROADS_SERVER_TOKENS",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "TAVILY_API_KEY",
    "OPENAI_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_TRACING_V2",
)
"""Variables a developer's shell may hold that would change what the server does."""


class DevServerError(RuntimeError):
    """``langgraph dev`` exited or did not answer ``/ok`` in time; the message ends with its log."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_up(url: str) -> bool:
    """Whether the server at ``url`` answers ``GET /ok``."""
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` by PID: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def langgraph_dev(
    workdir: Path,
    *,
    startup_timeout: float,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> Iterator[str]:
    """Run ``langgraph dev`` on ``langgraph.json``; yield its URL; stop it by PID.

    ``env`` is laid over the scrubbed, offline environment (to give the server a model, a
    key or a setting); ``config`` replaces the repository's ``langgraph.json``.

    Raises:
        DevServerError: the server exited, or was not up within ``startup_timeout``.
    """
    server_env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
    server_env.update(
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        LANGSMITH_TRACING="false",
        CROSSROADS_OFFLINE="1",
        CROSSROADS_HOME=str(workdir / "crossroads-home"),
    )
    server_env.update(env or {})
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(LANGGRAPH_CLI),
        "dev",
        "--config",
        str(config or ROOT / "langgraph.json"),
        "--host",
        "127.0.0.1",
        "--port",
        url.rsplit(":", 1)[1],
        "--no-browser",
        "--no-reload",
        *extra_args,
    ]
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        # cwd: the in-memory runtime saves its state under ./.langgraph_api
        process = subprocess.Popen(
            command, cwd=workdir, env=server_env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not is_up(url):
            if process.poll() is not None:
                raise DevServerError(
                    f"langgraph dev exited with {process.returncode}:\n{log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise DevServerError(
                    f"langgraph dev not up after {startup_timeout}s:\n{log_tail(log_path)}"
                )
            time.sleep(0.25)
        yield url
    finally:
        stop(process)
