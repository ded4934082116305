#!/usr/bin/env python3
"""End-to-end: LangChain's agent-chat-ui, in Debian's Chromium, talking to ``langgraph dev``.

What it does, all on 127.0.0.1 and offline (no model, no key):

1. builds the vendored UI (``../shared/vendor/agent-chat-ui`` or ``shared/vendor/...`` next
   to the repository, or ``--ui-source``) in a copy
   under ``--cache`` (default ``~/.cache/crossroads/agent-chat-ui``): the Google font is
   swapped for the system sans-serif (``next/font/google`` downloads at build time), lint and
   type checks are skipped, packages come from the npm registry (``npm install``). The copy
   is keyed by a hash of the UI's sources, so a second run reuses it;
2. indexes a small note for the researcher and starts ``langgraph dev`` serving Crossroads
   (``tests/stubs/langgraph_dev.py``, offline mode);
3. serves the built UI with ``next start`` and drives it with Playwright on the system
   Chromium (``/usr/bin/chromium``; Playwright's own browsers are never downloaded): a math
   question, a fact question and a follow-up on the same thread; it reads each rendered
   answer and the route line under it, checks the thread on the server holds the six
   messages, and saves a screenshot (``--screenshot``, default ``docs/images/chat-ui.png``).

Cost on the 2-core dev machine: the first run ~10 min (npm install ~3 min, ``next build``
~8 min under load); with the cache, ~1-2 min. Exit code 0 when every check holds, 1 with
the failed check on one line otherwise.

    .venv/bin/python scripts/chat_ui_browser.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stubs.langgraph_dev import free_port, langgraph_dev, log_tail, stop  # noqa: E402

SOURCES = [
    ROOT.parent / "shared" / "vendor" / "agent-chat-ui",
    ROOT / "shared" / "vendor" / "agent-chat-ui",
]
DEFAULT_SOURCE = next((p for p in SOURCES if (p / "package.json").is_file()), SOURCES[0])
DEFAULT_CACHE = Path.home() / ".cache" / "crossroads" / "agent-chat-ui"
PATCH_VERSION = "1"  # bump when patch_copy changes, so cached builds are rebuilt
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTE = "The harbour lighthouse was built in 1871 by the engineer Ada Brennan.\n"
TURNS = [
    # (question, text the rendered answer must contain, route shown under it)
    ("What is 15% of 240?", "= 36", "math"),
    ("Who built the harbour lighthouse?", "Ada Brennan", "fact"),
    ("and divided by 4?", "= 9", "math"),
]
ANSWER_TIMEOUT_MS = 120_000


class CheckFailed(Exception):
    """One end-to-end check did not hold."""


def source_hash(source: Path) -> str:
    digest = hashlib.sha256(PATCH_VERSION.encode())
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(source)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def patch_copy(ui: Path) -> None:
    """Make the copy build offline: system font instead of Google's, no lint/type pass."""
    layout = ui / "src" / "app" / "layout.tsx"
    text = layout.read_text()
    text = text.replace('import { Inter } from "next/font/google";\n', "")
    text, count = re.subn(
        r"const inter = Inter\(\{.*?\}\);",
        'const inter = { className: "font-sans" };',
        text,
        flags=re.S,
    )
    if count != 1:
        raise CheckFailed("could not swap the Google font in src/app/layout.tsx")
    layout.write_text(text)
    config = ui / "next.config.mjs"
    config.write_text(
        config.read_text().replace(
            "const nextConfig = {",
            "const nextConfig = {\n  eslint: { ignoreDuringBuilds: true },\n"
            "  typescript: { ignoreBuildErrors: true },",
        )
    )


def run_step(command: list[str], cwd: Path, log: Path, timeout: float) -> None:
    env = {
        **os.environ,
        "NEXT_TELEMETRY_DISABLED": "1",
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    with log.open("ab") as out:
        proc = subprocess.run(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )
    if proc.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} failed ({proc.returncode}):\n{log_tail(log)}")


def build_ui(source: Path, cache: Path) -> Path:
    """The built UI for ``source``, from the cache or freshly built into it."""
    key = source_hash(source)
    ui = cache / key
    if (ui / ".next" / "BUILD_ID").is_file():
        print(f"ui: cached build {ui}", flush=True)
        return ui
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="agent-chat-ui-", dir=cache))
    try:
        shutil.copytree(source, work, dirs_exist_ok=True)
        patch_copy(work)
        log = cache / "build.log"
        log.write_text("")
        started = time.monotonic()
        run_step(["npm", "install", "--no-audit", "--no-fund"], work, log, 1800)
        print(f"ui: npm install {time.monotonic() - started:.0f}s", flush=True)
        started = time.monotonic()
        run_step([str(work / "node_modules" / ".bin" / "next"), "build"], work, log, 2400)
        print(f"ui: next build {time.monotonic() - started:.0f}s", flush=True)
        if ui.exists():
            shutil.rmtree(ui)
        work.rename(ui)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return ui


@contextmanager
def serve_ui(ui: Path, workdir: Path) -> Iterator[str]:
    port = free_port()
    log_path = workdir / "ui.log"
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(ui / "node_modules" / ".bin" / "next"),
                "start",
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=ui,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise CheckFailed(f"next start did not come up:\n{log_tail(log_path)}")
            time.sleep(0.5)
        yield url
    finally:
        stop(process)


def thread_messages(api: str, thread_id: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{api}/threads/{thread_id}/state", timeout=10) as response:
        state = json.load(response)
    return list(state["values"].get("messages") or [])


def drive_browser(ui_url: str, api: str, screenshot: Path, profile: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_url = f"{ui_url}/?apiUrl={api}&assistantId=crossroads"
    with sync_playwright() as playwright:
        # A fresh profile per run (Playwright takes it as user_data_dir, not as an argument).
        browser = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1000, "height": 1250},
        )
        try:
            page = browser.new_page()
            page.goto(page_url, wait_until="networkidle", timeout=120_000)
            box = page.get_by_placeholder("Type your message...")
            box.wait_for(timeout=60_000)
            for number, (question, expected, route) in enumerate(TURNS, start=1):
                started = time.monotonic()
                box.fill(question)
                box.press("Enter")
                answer = page.get_by_text(expected, exact=False).last
                routes = page.get_by_text(re.compile(r"^route: "))
                try:
                    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
                    routes.nth(number - 1).wait_for(timeout=ANSWER_TIMEOUT_MS)
                    shown = routes.nth(number - 1).inner_text().strip()
                    if shown != f"route: {route}":
                        raise CheckFailed(f"turn {number}: the UI shows {shown!r}, not {route!r}")
                except CheckFailed:
                    raise
                except Exception as error:
                    page.screenshot(path=str(screenshot.with_suffix(".failed.png")))
                    raise CheckFailed(
                        f"turn {number} ({question!r}): no rendered answer with {expected!r} "
                        f"and 'route: {route}' ({type(error).__name__})"
                    ) from None
                print(
                    f"turn {number}: {question!r} -> {expected!r} [{route}] "
                    f"in {time.monotonic() - started:.1f}s",
                    flush=True,
                )
            thread_id = re.search(r"threadId=([0-9a-f-]+)", page.url)
            if not thread_id:
                raise CheckFailed(f"the UI did not put a threadId in its URL: {page.url}")
            messages = thread_messages(api, thread_id.group(1))
            kinds = [m.get("type") for m in messages]
            if kinds != ["human", "ai"] * len(TURNS):
                raise CheckFailed(f"thread {thread_id.group(1)} holds {kinds}, not 3 turns")
            print(f"thread {thread_id.group(1)}: {len(messages)} messages, one thread", flush=True)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"screenshot: {screenshot}", flush=True)
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ui-source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--screenshot", type=Path, default=ROOT / "docs" / "images" / "chat-ui.png")
    args = parser.parse_args()
    if not (args.ui_source / "package.json").is_file():
        print(f"error: no agent-chat-ui sources at {args.ui_source}", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).is_file():
        print(f"error: {CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        ui = build_ui(args.ui_source.resolve(), args.cache.expanduser())
        with tempfile.TemporaryDirectory(prefix="crossroads-chat-ui-") as tmp:
            workdir = Path(tmp)
            docs = workdir / "docs"
            docs.mkdir()
            (docs / "lighthouse.md").write_text(NOTE)
            from crossroads.tools.retrievers import build_index

            build_index([docs], workdir / "crossroads-home" / "index")
            with langgraph_dev(workdir, startup_timeout=240) as api, serve_ui(ui, workdir) as url:
                print(f"langgraph dev {api}, agent-chat-ui {url}", flush=True)
                drive_browser(url, api, args.screenshot, workdir / "chromium-profile")
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"ok: 3 questions answered in the browser ({time.monotonic() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
