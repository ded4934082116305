"""Finding 12 of the attack review (the small ones), each replayed."""

from __future__ import annotations

import stat
from pathlib import Path

from crossroads import Crossroads
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel

GOOGLE_KEY = "AIzaSyD-not-a-real-key-but-shaped-like-1"
TAVILY_KEY = "tvly-not-a-real-key-0123456789"


def test_repr_of_settings_shows_no_key() -> None:
    shown = repr(Settings(google_api_key=GOOGLE_KEY, tavily_api_key=TAVILY_KEY))
    assert GOOGLE_KEY not in shown
    assert TAVILY_KEY not in shown


def test_a_provider_error_that_echoes_the_key_is_scrubbed(tmp_path: Path) -> None:
    # An error Crossroads cannot classify is shown in its own words: those must be scrubbed.
    # (A recognised "key rejected" error is replaced by a sentence that holds no key at all.)
    echo = ValueError(
        f"upstream gateway failed: POST https://gateway/v1/models?key={GOOGLE_KEY} "
        f"(x-goog-api-key: {GOOGLE_KEY})"
    )
    model = ScriptedChatModel(default=echo)
    app = Crossroads(
        model=model,
        google_api_key=GOOGLE_KEY,
        checkpointer="memory",
        home=tmp_path,
        model_retries=0,
        router_threshold=1.01,  # the model router always runs, and fails
    )
    try:
        result = app.ask("Write a short poem about rain", thread_id="t")
        history = app.history("t")
    finally:
        app.close()
    assert result.error, result
    everything = f"{result!r} {history!r}"
    assert GOOGLE_KEY not in everything
    assert "[redacted]" in everything


def test_the_thread_store_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    app = Crossroads(home=home, offline=True)
    try:
        app.ask("What is 2 + 2?", thread_id="t")
    finally:
        app.close()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    database = home / "threads.sqlite"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_the_document_index_is_private(tmp_path: Path) -> None:
    from crossroads.tools.retrievers import build_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("The lighthouse keeper logs every storm.\n")
    index = tmp_path / "home" / "index"
    build_index([docs], index)
    assert stat.S_IMODE(index.stat().st_mode) == 0o700
    assert stat.S_IMODE((index / "manifest.json").stat().st_mode) == 0o600
