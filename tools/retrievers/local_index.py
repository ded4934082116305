"""A persistent BM25 index over your own documents (.md, .txt, .html/.htm, .pdf).

Layout of the index directory (the app uses ``$CROSSROADS_HOME/index``)::

    manifest.json   format version, chunk settings, the name of its bm25s folder, and per
                    file: size, mtime, sha256, title and the chunk texts extracted from it
    bm25-<token>/   the bm25s index plus its corpus (path, chunk number, title, text per chunk)
                    (``bm25/`` in indexes built before the folder was named in the manifest)

A build writes a new bm25s folder beside the old one, then replaces ``manifest.json``
atomically (the swap, last), then removes the old folder: a build that fails at any point
leaves the previous index whole. File names that are not valid UTF-8 are kept as Python's
surrogate escapes (JSON ``\\udcxx``), so any name the file system holds can be indexed.

What is read: regular files only (a FIFO or a device would block or never end), at most
``max_file_bytes`` each (:data:`DEFAULT_MAX_FILE_BYTES`, 50 MB), and no symlink that leads
outside the folders being indexed unless ``follow_symlinks=True``. Every refused file is in
:attr:`IndexStats.skipped` with its reason. HTML is parsed with lxml, which stays linear on
hostile markup (``html.parser`` took minutes on 400 KB of ``<!--``).

Re-indexing is incremental where it matters: a file whose size and mtime are unchanged is not
opened at all; one whose size or mtime changed is hashed, and re-parsed only if its sha256
changed. When any file was added, changed or removed, the bm25s index is rebuilt from the
cached chunk texts (bm25s has no incremental update; tokenizing and indexing 5,000 chunks took
1-2 s on a small machine, see benchmarks/retrieval.py), but no unchanged file is read or parsed
again. When nothing changed, the bm25s index is kept as it is.

Text extraction uses real parsers: pypdf for PDF, BeautifulSoup over lxml for HTML. Chunks come from
LangChain's ``RecursiveCharacterTextSplitter``; ranking is bm25s. A file that cannot be read or
parsed is reported in :attr:`IndexStats.skipped` and left out; it never stops the build.

Usage::

    stats = build_index([Path("~/notes").expanduser()], home / "index", progress=True)
    passages = LocalIndex(home / "index").search("pyramid construction", k=5)
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
from bs4 import BeautifulSoup
from langchain_text_splitters import RecursiveCharacterTextSplitter
from pypdf import PdfReader
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from crossroads.errors import InputError
from crossroads.tools.retrievers.base import (
    Passage,
    RetrievalError,
    search_query_tokens,
    search_tokens,
)

__all__ = ["SUPPORTED_SUFFIXES", "IndexStats", "LocalIndex", "build_index"]

BACKEND_NAME = "local"
SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf"})
MANIFEST_NAME = "manifest.json"
BM25_DIR_NAME = "bm25"
MANIFEST_VERSION = 2
"""2: terms are stemmed and hyphens joined (``search_tokens``); a version-1 index is rebuilt."""
DEFAULT_CHUNK_CHARS = 1000
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
"""Files larger than this are skipped (``crossroads index --max-file-mb``)."""

ERROR_NO_INDEX = "No local document index in {directory}. Build one with `crossroads index PATH`."
ERROR_BROKEN_INDEX = (
    "The local document index in {directory} cannot be read ({detail}). "
    "Rebuild it with `crossroads index PATH`."
)
ERROR_PATH_MISSING = "Cannot index {path}: no such file or directory."
ERROR_BAD_CHUNK_CHARS = "chunk_chars must be at least 100, got {chunk_chars}"
SKIP_UNSUPPORTED = "unsupported file type (supported: .md, .txt, .html, .htm, .pdf)"
SKIP_BINARY = "looks like a binary file, not text"
SKIP_NO_TEXT = "no extractable text (a scanned PDF or an empty file?)"
SKIP_UNREADABLE = "cannot be read: {detail}"
SKIP_CORRUPT = "cannot be parsed: {detail}"
SKIP_NOT_REGULAR = "not a regular file ({kind}); only regular files are indexed"
SKIP_TOO_LARGE = "larger than the {limit_mb:g} MB limit per file (--max-file-mb)"
SKIP_OUTSIDE = (
    "a symlink to {target}, outside the folders being indexed (--follow-symlinks to include it)"
)
SKIP_BROKEN_LINK = "a symlink to nothing"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStats:
    """What :func:`build_index` did.

    Attributes:
        files_indexed: Files (re-)extracted in this run: new or changed.
        files_unchanged: Files kept from the previous run without re-parsing.
        files_removed: Files that left the index (deleted, or now unreadable).
        chunks: Chunks in the index after the run.
        seconds: Wall time of the run.
        skipped: ``(path, reason)`` for each file that could not be indexed.
    """

    files_indexed: int
    files_unchanged: int
    files_removed: int
    chunks: int
    seconds: float
    skipped: tuple[tuple[str, str], ...] = field(default=())


class _SkipFile(Exception):
    """A file cannot be indexed; the message is the reason shown to the user."""


def build_index(
    paths: Sequence[Path],
    directory: Path,
    *,
    progress: bool = False,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    follow_symlinks: bool = False,
) -> IndexStats:
    """Create or update the index in ``directory`` from the files under ``paths``.

    Files and folders in ``paths`` are scanned recursively for supported files. Files already
    in the index that are outside ``paths`` stay, unless they no longer exist on disk; files
    under ``paths`` that disappeared leave the index.

    Args:
        paths: Files and/or folders to index.
        directory: Where the index lives; created if needed.
        progress: Show a rich progress bar on the terminal while checking files.
        chunk_chars: Target chunk size in characters. Changing it re-chunks every file.
        max_file_bytes: Files larger than this are skipped.
        follow_symlinks: Index files that symlinks lead to outside ``paths`` too.

    Returns:
        Counts of what changed, and the files that were skipped with the reason.

    Raises:
        InputError: If a path does not exist or ``chunk_chars`` is too small.
    """
    started = time.perf_counter()
    if chunk_chars < 100:
        raise InputError(ERROR_BAD_CHUNK_CHARS.format(chunk_chars=chunk_chars))
    roots = [Path(p).expanduser().resolve() for p in paths]
    for root in roots:
        if not root.exists():
            raise InputError(ERROR_PATH_MISSING.format(path=root))
    directory = Path(directory).expanduser()
    # Owner-only: the index holds the text of your documents.
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    chunk_settings = {"chunk_chars": chunk_chars, "chunk_overlap": chunk_chars // 10}
    manifest = _read_manifest(directory)
    old_files: dict[str, dict[str, Any]] = {}
    if manifest is not None and manifest.get("chunking") == chunk_settings:
        old_files = manifest["files"]
    elif manifest is not None:
        # Other chunk settings: keep nothing, every file is re-extracted.
        old_files = {}
    previously_indexed = set(manifest["files"]) if manifest is not None else set()

    found, skipped = _scan(roots, follow_symlinks=follow_symlinks)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_settings["chunk_chars"], chunk_overlap=chunk_settings["chunk_overlap"]
    )
    new_files: dict[str, dict[str, Any]] = {}
    indexed = unchanged = 0
    with _progress_bar(progress, total=len(found)) as advance:
        for path in found:
            key = str(path)
            try:
                entry, was_reused = _entry_for(
                    path, old_files.get(key), splitter, max_file_bytes=max_file_bytes
                )
            except _SkipFile as reason:
                skipped.append((key, str(reason)))
                logger.warning("Skipped %s: %s", key, reason)
            else:
                new_files[key] = entry
                if was_reused:
                    unchanged += 1
                else:
                    indexed += 1
            advance()

    # Entries outside the scanned roots survive as long as their file still exists.
    for key, entry in (manifest or {}).get("files", {}).items():
        if key in new_files or _is_under(Path(key), roots) or not Path(key).is_file():
            continue
        if key in old_files:
            new_files[key] = entry
        # else: different chunk settings; the user re-indexes that folder to get it back.
    removed = len(previously_indexed - set(new_files))

    old_bm25 = _bm25_dir_name(manifest)
    bm25_is_current = (
        manifest is not None
        and indexed == 0
        and removed == 0
        and set(new_files) == previously_indexed
        and (not new_files or (directory / old_bm25).is_dir())
    )
    chunk_count = _write_index(
        directory, new_files, chunk_settings, old_bm25=old_bm25, rebuild_bm25=not bm25_is_current
    )
    return IndexStats(
        files_indexed=indexed,
        files_unchanged=unchanged,
        files_removed=removed,
        chunks=chunk_count,
        seconds=time.perf_counter() - started,
        skipped=tuple(skipped),
    )


class LocalIndex:
    """Searches an index built by :func:`build_index`.

    The index is loaded on the first search and reloaded when a later build replaced it.

    Args:
        directory: The index directory (the one given to :func:`build_index`).
    """

    name = BACKEND_NAME

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).expanduser()
        self._lock = threading.Lock()
        self._loaded_stamp: tuple[int, int, int] | None = None
        self._bm25: bm25s.BM25 | None = None
        self._corpus: list[dict[str, Any]] = []

    def exists(self) -> bool:
        """Whether an index has been built in :attr:`directory`."""
        return (self.directory / MANIFEST_NAME).is_file()

    def search(self, query: str, k: int) -> list[Passage]:
        """Return up to ``k`` chunks that match ``query``, best BM25 score first.

        Args:
            query: Search words.
            k: Maximum number of passages.

        Returns:
            Passages whose ``source`` is ``"<file path>#chunk-<n>"`` (n counts from 1) and whose
            ``score`` is the BM25 score; chunks that share no term with the query are left out.

        Raises:
            RetrievalError: If there is no index yet or it cannot be read.
        """
        bm25, corpus = self._load()
        query_tokens = search_query_tokens(query)
        if k <= 0 or not corpus or not query_tokens:
            return []
        documents, scores = bm25.retrieve(
            [query_tokens], k=min(k, len(corpus)), show_progress=False, n_threads=0
        )
        passages = []
        for doc_id, score in zip(documents[0], scores[0], strict=True):
            if score <= 0:
                continue
            chunk = corpus[int(doc_id)]
            passages.append(
                Passage(
                    title=chunk["title"],
                    text=chunk["text"],
                    source=f"{chunk['path']}#chunk-{chunk['chunk'] + 1}",
                    score=float(score),
                    backend=BACKEND_NAME,
                )
            )
        return passages

    def _load(self) -> tuple[bm25s.BM25, list[dict[str, Any]]]:
        manifest_path = self.directory / MANIFEST_NAME
        try:
            status = manifest_path.stat()
        except FileNotFoundError:
            raise RetrievalError(
                ERROR_NO_INDEX.format(directory=self.directory), backend=BACKEND_NAME
            ) from None
        # A rebuild replaces the manifest (new inode): noticed even within one mtime tick.
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        with self._lock:
            if self._loaded_stamp != stamp:
                self._bm25, self._corpus = self._read(manifest_path)
                self._loaded_stamp = stamp
            bm25 = self._bm25
            corpus = self._corpus
        if bm25 is None:
            return bm25s.BM25(), []
        return bm25, corpus

    def _read(self, manifest_path: Path) -> tuple[bm25s.BM25 | None, list[dict[str, Any]]]:
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("version") != MANIFEST_VERSION:
                raise ValueError("it was built by an older version of crossroads")
            corpus = _corpus_from(manifest["files"])
            if not corpus:
                return None, []
            bm25 = bm25s.BM25.load(self.directory / _bm25_dir_name(manifest), show_progress=False)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RetrievalError(
                ERROR_BROKEN_INDEX.format(directory=self.directory, detail=exc),
                backend=BACKEND_NAME,
            ) from exc
        if bm25.scores.get("num_docs") != len(corpus):
            raise RetrievalError(
                ERROR_BROKEN_INDEX.format(
                    directory=self.directory, detail="bm25 index and manifest disagree"
                ),
                backend=BACKEND_NAME,
            )
        return bm25, corpus


# -- building blocks ---------------------------------------------------------------------------


def _scan(
    roots: Sequence[Path], *, follow_symlinks: bool = False
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Supported regular files under ``roots``, sorted, and the files refused with why.

    Folders are walked without following symlinked folders; a symlinked file is kept only
    when it leads to a regular file inside ``roots`` (or anywhere, with ``follow_symlinks``).
    """
    found: set[Path] = set()
    skipped: list[tuple[str, str]] = []
    for root in roots:
        if not root.is_dir():
            if root.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append((str(root), SKIP_UNSUPPORTED))
            elif (reason := _refusal(root, roots, follow_symlinks=True)) is not None:
                skipped.append((str(root), reason))
            else:
                found.add(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            # Hidden folders (.git, .venv...) are tooling, not documents.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in filenames:
                path = Path(dirpath, filename)
                if path.suffix.lower() not in SUPPORTED_SUFFIXES or filename.startswith("."):
                    continue
                reason = _refusal(path, roots, follow_symlinks=follow_symlinks)
                if reason is None:
                    found.add(path)
                else:
                    skipped.append((str(path), reason))
    return sorted(found), skipped


def _refusal(path: Path, roots: Sequence[Path], *, follow_symlinks: bool) -> str | None:
    """Why ``path`` must not be read, or ``None`` when it is a regular file we may read."""
    try:
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                return SKIP_BROKEN_LINK
            if not follow_symlinks and not _is_under(target, roots):
                return SKIP_OUTSIDE.format(target=target)
        mode = path.stat().st_mode
    except OSError as exc:
        return SKIP_UNREADABLE.format(detail=exc.strerror or exc)
    if not stat.S_ISREG(mode):
        return SKIP_NOT_REGULAR.format(kind=_file_kind(mode))
    return None


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    )
    return next((name for test, name in kinds if test(mode)), "not a plain file")


def _read_regular(path: Path, limit: int) -> tuple[os.stat_result, bytes]:
    """Read a regular file of at most ``limit`` bytes; raises :class:`_SkipFile` otherwise.

    Opened without blocking and checked on the open descriptor, so a file swapped for a FIFO
    or a device after the scan is refused too, and never read past ``limit``.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _SkipFile(SKIP_UNREADABLE.format(detail=exc.strerror or exc)) from exc
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _SkipFile(SKIP_NOT_REGULAR.format(kind=_file_kind(status.st_mode)))
        if status.st_size > limit:
            raise _SkipFile(SKIP_TOO_LARGE.format(limit_mb=limit / 1024 / 1024))
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise _SkipFile(SKIP_UNREADABLE.format(detail=exc.strerror or exc)) from exc
    if len(data) > limit:
        raise _SkipFile(SKIP_TOO_LARGE.format(limit_mb=limit / 1024 / 1024))
    return status, data


def _is_under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _entry_for(
    path: Path,
    old: dict[str, Any] | None,
    splitter: RecursiveCharacterTextSplitter,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> tuple[dict[str, Any], bool]:
    """The manifest entry for ``path`` and whether the previous one was reused as is."""
    try:
        status = path.stat()
    except OSError as exc:
        raise _SkipFile(SKIP_UNREADABLE.format(detail=exc.strerror or exc)) from exc
    if not stat.S_ISREG(status.st_mode):
        raise _SkipFile(SKIP_NOT_REGULAR.format(kind=_file_kind(status.st_mode)))
    if status.st_size > max_file_bytes:
        raise _SkipFile(SKIP_TOO_LARGE.format(limit_mb=max_file_bytes / 1024 / 1024))
    if old is not None and old["size"] == status.st_size and old["mtime_ns"] == status.st_mtime_ns:
        return old, True
    status, data = _read_regular(path, max_file_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if old is not None and old["sha256"] == digest:
        # Touched but not changed: keep the chunks, remember the new mtime.
        return {**old, "size": status.st_size, "mtime_ns": status.st_mtime_ns}, True
    title, text = _extract_text(path, data)
    chunks = [c for c in (c.strip() for c in splitter.split_text(text)) if c]
    if not chunks:
        raise _SkipFile(SKIP_NO_TEXT)
    entry = {
        "size": status.st_size,
        "mtime_ns": status.st_mtime_ns,
        "sha256": digest,
        "title": title,
        "chunks": chunks,
    }
    return entry, False


def _extract_text(path: Path, data: bytes) -> tuple[str, str]:
    """``(title, plain text)`` of a supported file's bytes; raises :class:`_SkipFile`."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_text(path, data)
    if suffix in {".html", ".htm"}:
        return _html_text(path, data)
    return path.name, _plain_text(data)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAX_CONTROL_SHARE = 0.05
"""Share of control characters above which a file counts as binary, not text."""
_CONTROL = frozenset(chr(code) for code in (*range(32), *range(0x7F, 0xA0))) - set("\t\n\r\f")


def _plain_text(data: bytes) -> str:
    """Text of a .txt/.md file: UTF-8, UTF-16/32 with a byte-order mark, or Windows-1252.

    A NUL test alone let random bytes through as "text" and refused UTF-16 notes. Bytes that
    are not UTF-8 are read as Windows-1252 (old Western text files); either way a file whose
    first 8 KB hold more than 5% control characters is binary (random bytes: about 25%).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise _SkipFile(SKIP_BINARY) from None
    try:
        text = data.decode("utf-8")
        sample = text[:8192]
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        sample = data[:8192].decode("latin-1")
    controls = sum(1 for char in sample if char in _CONTROL)
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        raise _SkipFile(SKIP_BINARY)
    return text


def _pdf_text(path: Path, data: bytes) -> tuple[str, str]:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata_title = reader.metadata.title if reader.metadata else None
    except Exception as exc:
        # pypdf raises many exception types on damaged files (PdfReadError, ValueError,
        # KeyError, struct errors...); a bad file must never stop the whole build.
        raise _SkipFile(SKIP_CORRUPT.format(detail=f"{type(exc).__name__}: {exc}")) from exc
    return (metadata_title or path.name), "\n\n".join(pages)


def _html_text(path: Path, data: bytes) -> tuple[str, str]:
    # lxml: linear on hostile markup, where html.parser is quadratic ("<!--" * N).
    soup = BeautifulSoup(data, "lxml")
    for invisible in soup(["script", "style", "noscript", "template"]):
        invisible.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    return (title or path.name), soup.get_text(separator="\n", strip=True)


def _corpus_from(files: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per chunk, in a stable order (by path, then chunk number)."""
    return [
        {"path": key, "chunk": number, "title": files[key]["title"], "text": text}
        for key in sorted(files)
        for number, text in enumerate(files[key]["chunks"])
    ]


def _bm25_dir_name(manifest: dict[str, Any] | None) -> str:
    """The bm25s folder a manifest belongs to (``bm25`` for manifests that do not say)."""
    name = (manifest or {}).get("bm25_dir", BM25_DIR_NAME)
    if not isinstance(name, str) or not name.startswith(BM25_DIR_NAME) or "/" in name:
        return BM25_DIR_NAME
    return name


def _write_index(
    directory: Path,
    files: dict[str, dict[str, Any]],
    chunk_settings: dict[str, int],
    *,
    old_bm25: str = BM25_DIR_NAME,
    rebuild_bm25: bool,
) -> int:
    """Write a new bm25s folder beside the old one (when asked), then swap the manifest in.

    Replacing ``manifest.json`` is the one atomic step that switches to the new index; the
    old bm25s folder is removed only after it, so a failure anywhere before leaves the
    previous index as it was.
    """
    corpus = _corpus_from(files)
    bm25_name = old_bm25
    if rebuild_bm25:
        bm25_name = f"{BM25_DIR_NAME}-{secrets.token_hex(6)}"
        try:
            _write_bm25(directory / bm25_name, corpus)
            _write_manifest(directory, files, chunk_settings, bm25_name)
        except BaseException:
            shutil.rmtree(directory / bm25_name, ignore_errors=True)
            raise
        _remove_stale_bm25(directory, keep=bm25_name)
    else:
        _write_manifest(directory, files, chunk_settings, bm25_name)
    return len(corpus)


def _write_manifest(
    directory: Path, files: dict[str, dict[str, Any]], chunk_settings: dict[str, int], bm25: str
) -> None:
    manifest = {
        "version": MANIFEST_VERSION,
        "chunking": chunk_settings,
        "bm25_dir": bm25,
        "files": files,
    }
    partial = directory / f"{MANIFEST_NAME}.{secrets.token_hex(4)}.tmp"
    try:
        # ensure_ascii: a file name that is not UTF-8 (a surrogate escape) is written as
        # \udcxx and read back as the same name.
        partial.write_text(json.dumps(manifest, ensure_ascii=True), encoding="utf-8")
        partial.chmod(0o600)
        os.replace(partial, directory / MANIFEST_NAME)
    finally:
        partial.unlink(missing_ok=True)


def _remove_stale_bm25(directory: Path, *, keep: str) -> None:
    """Remove bm25s folders of earlier builds (a reader holds its index in memory)."""
    for child in directory.iterdir():
        if child.name != keep and child.name.startswith(BM25_DIR_NAME) and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)


def _write_bm25(target: Path, corpus: list[dict[str, Any]]) -> None:
    target.mkdir(parents=True)
    if corpus:
        # The title goes in with the text so that a file name or page title can match too.
        tokens = search_tokens([f"{c['title']}\n{c['text']}" for c in corpus])
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        bm25.save(target, show_progress=False)


def _read_manifest(directory: Path) -> dict[str, Any] | None:
    """The previous manifest, or ``None`` when there is none or it is unusable (then rebuild)."""
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        return None
    if not isinstance(manifest.get("files"), dict):
        return None
    return manifest


@contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Callable[[], None]]:
    """Yield a function that advances a rich progress bar over files; a no-op when disabled."""
    if not enabled:
        yield lambda: None
        return
    columns = (TextColumn("Indexing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("files", total=total)
        yield lambda: progress.advance(task)
