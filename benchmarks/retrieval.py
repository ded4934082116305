"""Local index vs LangChain's BM25Retriever: index time and query latency, as ratios.

Generates 1,000 synthetic documents (.md, .txt and .html; 40 topics with their own vocabulary
plus a Zipf-distributed common vocabulary, so BM25 has something to rank), indexes them with
``build_index``, and runs 100 queries. The baseline, measured in the same run on the very
same chunks, is ``langchain_community.retrievers.BM25Retriever`` (rank_bm25's BM25Okapi).

Compared:

* indexing: ``build_index`` from files (read, parse, chunk, bm25s index, save) and bm25s alone
  on the chunk texts, each against ``BM25Retriever.from_texts`` on the chunk texts;
* re-indexing with nothing changed (``build_index`` again) against the first build;
* query latency: ``LocalIndex.search(q, 5)`` against ``BM25Retriever.invoke(q)`` with k=5;
* how much the two top-5 lists agree (they tokenize differently, so not 100 %).

Run: ``.venv/bin/python benchmarks/retrieval.py`` (writes benchmarks/out/retrieval.json).
"""

from __future__ import annotations

import itertools
import json
import platform
import random
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import bm25s

from crossroads.tools.retrievers import LocalIndex, build_index

DOCUMENTS = 1000
QUERIES = 100
TOPICS = 40
K = 5
SEED = 20240601
OUT = Path(__file__).parent / "out" / "retrieval.json"

SYLLABLES = ["ka", "lo", "mi", "ren", "tus", "vo", "bel", "dra", "qui", "son", "tar", "ux",
             "pra", "len", "gor", "fi", "hal", "zen", "mur", "est", "ony", "cle", "wa", "rip"]  # fmt: skip


def make_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def make_corpus(folder: Path, rng: random.Random) -> list[list[str]]:
    """Write the documents; return each topic's vocabulary (queries are drawn from it)."""
    common = list(dict.fromkeys(make_word(rng) for _ in range(3000)))
    # Zipf-like: the n-th most common word is n times rarer than the first.
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(common))))
    topics = [list(dict.fromkeys(make_word(rng) for _ in range(150))) for _ in range(TOPICS)]
    for number in range(DOCUMENTS):
        topic = topics[number % TOPICS]
        paragraphs = []
        for _ in range(rng.randint(2, 8)):
            length = rng.randint(30, 120)
            words = rng.choices(common, cum_weights=cumulative, k=length)
            for position in rng.sample(range(length), k=length * 3 // 10):
                words[position] = rng.choice(topic)  # 30 % topic words
            paragraphs.append(" ".join(words).capitalize() + ".")
        kind = number % 10
        if kind < 6:
            path, body = (
                folder / f"doc{number:04}.md",
                f"# Document {number}\n\n" + "\n\n".join(paragraphs),
            )
        elif kind < 9:
            path, body = folder / f"doc{number:04}.txt", "\n\n".join(paragraphs)
        else:
            html_paragraphs = "".join(f"<p>{p}</p>" for p in paragraphs)
            path = folder / f"doc{number:04}.html"
            body = f"<html><head><title>Document {number}</title></head><body>{html_paragraphs}</body></html>"
        path.write_text(body, encoding="utf-8")
    return topics


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # langchain-community notice
    from langchain_community.retrievers import BM25Retriever

    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as scratch:
        docs, index_dir = Path(scratch) / "docs", Path(scratch) / "index"
        docs.mkdir()
        topics = make_corpus(docs, rng)
        queries = [
            " ".join(rng.sample(rng.choice(topics), rng.randint(2, 4))) for _ in range(QUERIES)
        ]

        started = time.perf_counter()
        stats = build_index([docs], index_dir)
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rebuild = build_index([docs], index_dir)
        rebuild_seconds = time.perf_counter() - started

        # The very chunks build_index made (manifest layout: see local_index's docstring).
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
        chunk_ids: dict[str, int] = {}
        texts: list[str] = []
        for path in sorted(manifest["files"]):
            entry = manifest["files"][path]
            for number, text in enumerate(entry["chunks"]):
                chunk_ids[f"{path}#chunk-{number + 1}"] = len(texts)
                texts.append(f"{entry['title']}\n{text}")

        started = time.perf_counter()
        core = bm25s.BM25()
        core.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        bm25s_seconds = time.perf_counter() - started

        started = time.perf_counter()
        baseline = BM25Retriever.from_texts(texts, metadatas=[{"id": i} for i in range(len(texts))])
        baseline.k = K
        baseline_index_seconds = time.perf_counter() - started

        index = LocalIndex(index_dir)
        index.search(queries[0], K)  # loads the index; loading is not query latency
        baseline.invoke(queries[0])
        ours_ms, theirs_ms, overlaps = [], [], []
        for query in queries:
            started = time.perf_counter()
            ours = index.search(query, K)
            ours_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            theirs = baseline.invoke(query)
            theirs_ms.append((time.perf_counter() - started) * 1000)
            ours_ids = {chunk_ids[p.source] for p in ours}
            theirs_ids = {d.metadata["id"] for d in theirs}
            overlaps.append(len(ours_ids & theirs_ids) / K)

    ours_median, theirs_median = statistics.median(ours_ms), statistics.median(theirs_ms)
    result: dict[str, Any] = {
        "documents": DOCUMENTS,
        "chunks": stats.chunks,
        "queries": QUERIES,
        "k": K,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "index_seconds": {
            "build_index_from_files": build_seconds,
            "build_index_nothing_changed": rebuild_seconds,
            "bm25s_on_chunks": bm25s_seconds,
            "langchain_bm25retriever_on_chunks": baseline_index_seconds,
        },
        "query_ms": {
            "local_index": {"median": ours_median, "p95": percentile(ours_ms, 0.95)},
            "langchain_bm25retriever": {
                "median": theirs_median,
                "p95": percentile(theirs_ms, 0.95),
            },
        },
        "ratios": {
            "build_index_vs_bm25retriever_index": build_seconds / baseline_index_seconds,
            "bm25s_vs_bm25retriever_index": bm25s_seconds / baseline_index_seconds,
            "reindex_unchanged_vs_first_build": rebuild_seconds / build_seconds,
            "query_median_local_vs_bm25retriever": ours_median / theirs_median,
        },
        "top5_overlap_mean": statistics.mean(overlaps),
        "reindex_unchanged_files_reparsed": rebuild.files_indexed,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2), encoding="utf-8")

    ratios = result["ratios"]
    print(f"{DOCUMENTS} documents, {stats.chunks} chunks, {QUERIES} queries, k={K}")
    print(f"{'measure':<44}{'value':>12}{'ratio':>10}")
    rows = [
        ("index: LangChain BM25Retriever (baseline)", f"{baseline_index_seconds:.3f} s", "1.00"),
        ("index: bm25s on the same chunks", f"{bm25s_seconds:.3f} s",
         f"{ratios['bm25s_vs_bm25retriever_index']:.2f}"),
        ("index: build_index from files (all steps)", f"{build_seconds:.3f} s",
         f"{ratios['build_index_vs_bm25retriever_index']:.2f}"),
        ("re-index, nothing changed (vs first build)", f"{rebuild_seconds:.3f} s",
         f"{ratios['reindex_unchanged_vs_first_build']:.2f}"),
        ("query median: BM25Retriever (baseline)", f"{theirs_median:.2f} ms", "1.00"),
        ("query median: LocalIndex.search", f"{ours_median:.2f} ms",
         f"{ratios['query_median_local_vs_bm25retriever']:.2f}"),
    ]  # fmt: skip
    for name, value, ratio in rows:
        print(f"{name:<44}{value:>12}{ratio:>10}")
    print(f"top-5 overlap between the two: {result['top5_overlap_mean']:.0%}; JSON: {OUT}")


if __name__ == "__main__":
    main()
