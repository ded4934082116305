"""The local document index: extraction per file type, search, incremental re-indexing."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from crossroads.errors import InputError
from crossroads.tools.retrievers import LocalIndex, RetrievalError, build_index
from crossroads.tools.retrievers import local_index as local_index_module


def pdf_bytes(text: str, title: str) -> bytes:
    """A one-page PDF whose content stream draws ``text`` in Helvetica (ASCII only)."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    helvetica = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): helvetica})}
    )
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii"))
    page.replace_contents(content)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "glaciers.md").write_text(
        "# Glaciers\n\nA glacier is a persistent body of dense ice that moves under its own weight.",
        encoding="utf-8",
    )
    (folder / "sub" / "violin.txt").write_text(
        "The violin is a wooden string instrument with four strings tuned in fifths.",
        encoding="utf-8",
    )
    (folder / "bakery.html").write_text(
        "<html><head><title>Corner bakery</title><script>var secretword = 'zeppelin';</script>"
        "</head><body><h1>Menu</h1><p>Our croissant is baked with butter every morning.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    (folder / "report.pdf").write_bytes(
        pdf_bytes("Quarterly sales of wind turbines rose sharply", "Turbine report")
    )
    (folder / "notes.csv").write_text("not,indexed\n", encoding="utf-8")
    return folder


@pytest.fixture
def extracted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files whose text was extracted (parsed), in order."""
    names: list[str] = []
    real_extract = local_index_module._extract_text

    def spy(path: Path, data: bytes) -> tuple[str, str]:
        names.append(path.name)
        return real_extract(path, data)

    monkeypatch.setattr(local_index_module, "_extract_text", spy)
    return names


def top_file(index: LocalIndex, query: str) -> str:
    passages = index.search(query, 3)
    assert passages, f"nothing found for {query!r}"
    return Path(passages[0].source.split("#")[0]).name


def test_every_supported_file_type_is_indexed_and_found(docs: Path, tmp_path: Path) -> None:
    stats = build_index([docs], tmp_path / "index")
    index = LocalIndex(tmp_path / "index")

    assert (stats.files_indexed, stats.files_unchanged, stats.files_removed) == (4, 0, 0)
    assert stats.chunks == 4
    assert stats.skipped == ()
    assert top_file(index, "glacier ice") == "glaciers.md"
    assert top_file(index, "string instrument") == "violin.txt"
    assert top_file(index, "croissant butter") == "bakery.html"
    assert top_file(index, "wind turbines sales") == "report.pdf"


def test_passages_carry_title_source_with_chunk_and_score(docs: Path, tmp_path: Path) -> None:
    build_index([docs], tmp_path / "index")

    html = LocalIndex(tmp_path / "index").search("croissant", 1)[0]
    pdf = LocalIndex(tmp_path / "index").search("turbines", 1)[0]

    assert html.title == "Corner bakery"
    assert html.source == f"{docs.resolve() / 'bakery.html'}#chunk-1"
    assert html.backend == "local"
    assert html.score > 0
    assert "croissant is baked" in html.text
    assert pdf.title == "Turbine report"


def test_html_scripts_are_not_indexed(docs: Path, tmp_path: Path) -> None:
    build_index([docs], tmp_path / "index")

    assert LocalIndex(tmp_path / "index").search("zeppelin secretword", 3) == []


def test_long_files_are_split_into_chunks_and_the_matching_chunk_is_returned(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    filler = "Plain words about nothing in particular fill this paragraph. " * 10
    (folder / "long.txt").write_text(
        f"{filler}\n\n{filler}\n\nThe lighthouse keeper lit the lamp at dusk.\n\n{filler}",
        encoding="utf-8",
    )

    stats = build_index([folder], tmp_path / "index", chunk_chars=400)
    best = LocalIndex(tmp_path / "index").search("lighthouse keeper", 1)[0]

    assert stats.chunks >= 3
    assert "lighthouse keeper" in best.text
    assert not best.source.endswith("#chunk-1")


def test_reindex_rereads_only_the_modified_file(
    docs: Path, tmp_path: Path, extracted: list[str]
) -> None:
    build_index([docs], tmp_path / "index")
    index = LocalIndex(tmp_path / "index")
    assert top_file(index, "glacier") == "glaciers.md"
    extracted.clear()

    violin = docs / "sub" / "violin.txt"
    violin.write_text("The cello is a larger bowed instrument.", encoding="utf-8")
    stats = build_index([docs], tmp_path / "index")

    assert extracted == ["violin.txt"]
    assert (stats.files_indexed, stats.files_unchanged) == (1, 3)
    assert top_file(index, "cello bowed") == "violin.txt"  # same LocalIndex sees the rebuild
    assert index.search("tuned in fifths", 3) == []


def test_touched_but_unchanged_file_is_not_parsed_again(
    docs: Path, tmp_path: Path, extracted: list[str]
) -> None:
    build_index([docs], tmp_path / "index")
    extracted.clear()
    report = docs / "report.pdf"
    later = report.stat().st_mtime_ns + 5_000_000_000
    os.utime(report, ns=(later, later))

    stats = build_index([docs], tmp_path / "index")

    assert extracted == []
    assert (stats.files_indexed, stats.files_unchanged) == (0, 4)


def test_deleted_file_leaves_the_index(docs: Path, tmp_path: Path) -> None:
    build_index([docs], tmp_path / "index")
    (docs / "glaciers.md").unlink()

    stats = build_index([docs], tmp_path / "index")

    assert stats.files_removed == 1
    assert stats.chunks == 3
    assert LocalIndex(tmp_path / "index").search("glacier ice", 3) == []


def test_files_outside_the_given_paths_stay_until_deleted(docs: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "comet.md").write_text("A comet has an icy nucleus and a tail.", encoding="utf-8")
    build_index([docs], tmp_path / "index")

    stats = build_index([other], tmp_path / "index")
    index = LocalIndex(tmp_path / "index")

    assert (stats.files_indexed, stats.files_removed) == (1, 0)
    assert top_file(index, "glacier") == "glaciers.md"
    assert top_file(index, "comet nucleus") == "comet.md"


def test_corrupt_and_binary_files_are_reported_and_skipped(docs: Path, tmp_path: Path) -> None:
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02 binary junk \x00")
    (docs / "empty.md").write_text("   \n", encoding="utf-8")

    stats = build_index([docs], tmp_path / "index")

    reasons = {Path(path).name: reason for path, reason in stats.skipped}
    assert set(reasons) == {"broken.pdf", "binary.txt", "empty.md"}
    assert reasons["broken.pdf"].startswith("cannot be parsed")
    assert "binary" in reasons["binary.txt"]
    assert "no extractable text" in reasons["empty.md"]
    assert stats.files_indexed == 4
    assert top_file(LocalIndex(tmp_path / "index"), "turbines") == "report.pdf"


def test_a_file_that_becomes_corrupt_leaves_the_index(docs: Path, tmp_path: Path) -> None:
    build_index([docs], tmp_path / "index")
    (docs / "report.pdf").write_bytes(b"%PDF-1.4 truncated")

    stats = build_index([docs], tmp_path / "index")

    assert stats.files_removed == 1
    assert [Path(p).name for p, _ in stats.skipped] == ["report.pdf"]
    assert LocalIndex(tmp_path / "index").search("turbines", 3) == []


def test_changing_chunk_size_reparses_everything(
    docs: Path, tmp_path: Path, extracted: list[str]
) -> None:
    build_index([docs], tmp_path / "index", chunk_chars=1000)
    extracted.clear()

    stats = build_index([docs], tmp_path / "index", chunk_chars=500)

    assert sorted(extracted) == ["bakery.html", "glaciers.md", "report.pdf", "violin.txt"]
    assert stats.files_indexed == 4


def test_a_single_file_can_be_indexed_and_unsupported_ones_are_reported(
    docs: Path, tmp_path: Path
) -> None:
    stats = build_index([docs / "glaciers.md", docs / "notes.csv"], tmp_path / "index")

    assert stats.files_indexed == 1
    assert [Path(p).name for p, _ in stats.skipped] == ["notes.csv"]


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "nowhere")

    assert not index.exists()
    with pytest.raises(RetrievalError, match="crossroads index PATH") as caught:
        index.search("anything", 3)
    assert caught.value.backend == "local"


def test_damaged_index_is_a_clear_error(docs: Path, tmp_path: Path) -> None:
    build_index([docs], tmp_path / "index")
    (tmp_path / "index" / "manifest.json").write_text("{not json", encoding="utf-8")

    with pytest.raises(RetrievalError, match="Rebuild it"):
        LocalIndex(tmp_path / "index").search("glacier", 3)


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        build_index([tmp_path / "missing"], tmp_path / "index")


def test_empty_folder_gives_an_empty_but_valid_index(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    stats = build_index([tmp_path / "empty"], tmp_path / "index")

    assert stats.chunks == 0
    assert LocalIndex(tmp_path / "index").search("anything", 3) == []


def test_stop_word_only_query_finds_nothing(docs: Path, tmp_path: Path) -> None:
    build_index([docs], tmp_path / "index")

    assert LocalIndex(tmp_path / "index").search("the of and", 3) == []


def test_progress_bar_advances_once_per_file(
    docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advanced: list[Any] = []
    real_progress = local_index_module.Progress

    class RecordingProgress(real_progress):  # type: ignore[misc, valid-type]
        def advance(self, task_id: Any, advance: float = 1) -> None:
            advanced.append(task_id)
            super().advance(task_id, advance)

    monkeypatch.setattr(local_index_module, "Progress", RecordingProgress)

    build_index([docs], tmp_path / "index", progress=True)

    assert len(advanced) == 4


def test_bm25_index_is_rebuilt_only_when_some_file_changed(
    docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilds: list[int] = []
    real_write = local_index_module._write_bm25

    def spy(directory: Path, corpus: list[dict[str, Any]]) -> None:
        rebuilds.append(len(corpus))
        real_write(directory, corpus)

    monkeypatch.setattr(local_index_module, "_write_bm25", spy)

    build_index([docs], tmp_path / "index")
    build_index([docs], tmp_path / "index")
    assert rebuilds == [4]

    (docs / "glaciers.md").write_text("Glaciers carve valleys.", encoding="utf-8")
    build_index([docs], tmp_path / "index")
    assert rebuilds == [4, 4]
    assert top_file(LocalIndex(tmp_path / "index"), "carve valleys") == "glaciers.md"
