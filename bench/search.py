"""Search speed at scale: index build, query latency, memory, embedding throughput.

    .venv/bin/python bench/search.py [--papers 1000000] [--queries 300]

Synthetic corpus: titles of 6-14 and abstracts of 120-280 words drawn from a Zipf vocabulary of
50,000 words; vectors are 384-d, normalized, drawn around 2,000 cluster centres (clustered like
real embeddings, not uniform noise). Papers are written to a temp SQLite database (the search
results are read back from it, as in `papertide search`); the keyword and vector indexes are
built with the same code `papertide index` uses. Queries are 2-3 words and run through
`papertide.search.hybrid.search`, query embedding included. Embedding throughput compares the
default ONNX int8 path with sentence-transformers fp32 on the same real abstracts, in one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from papertide.search.embedder import MAX_TOKENS, default_embedder, document_text
from papertide.search.generations import IndexStore
from papertide.search.hybrid import search
from papertide.search.keyword import Filters
from papertide.search.refresh import Indexes
from papertide.search.vectors import ANN_THRESHOLD, VectorFilter
from papertide.store.engine import open_engine
from papertide.store.schema import papers

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-papers.jsonl"
CATEGORIES = [f"cs.{c}" for c in ("LG", "CL", "CV", "AI", "IR", "RO", "NE", "CR", "DS", "SE")]
START = datetime(2016, 1, 1)
# About 3% of the corpus passes: one category in ten, published in the last three years in ten.
FILTERS = Filters(since=datetime(2023, 1, 1), category="cs.CL")


def memory() -> str:
    """Resident memory split into private (heap) and file-backed (mapped index files) pages."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) / 1000
    return (
        f"RSS {fields['VmRSS']:.0f} MB = {fields['RssAnon']:.0f} MB private + "
        f"{fields['RssFile']:.0f} MB mapped files"
    )


def vocabulary(rng: np.random.Generator, size: int = 50_000) -> tuple[list[str], np.ndarray]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "so", "da", "fu", "gi"]
    words = sorted({"".join(rng.choice(syllables, rng.integers(2, 5))) for _ in range(size * 3)})
    words = words[:size]
    ranks = np.arange(1, len(words) + 1)
    probabilities = 1 / ranks**1.07
    return words, probabilities / probabilities.sum()


def papers_batches(n: int, words: list[str], probs: np.ndarray, seed: int = 1):
    rng = np.random.default_rng(seed)
    word_array = np.asarray(words, dtype=object)
    for start in range(0, n, 10_000):
        size = min(10_000, n - start)
        title_lengths = rng.integers(6, 15, size)
        abstract_lengths = rng.integers(120, 281, size)
        drawn = rng.choice(len(words), int(title_lengths.sum() + abstract_lengths.sum()), p=probs)
        cursor = 0
        batch = []
        for i in range(size):
            title = " ".join(word_array[drawn[cursor : cursor + title_lengths[i]]])
            cursor += title_lengths[i]
            abstract = " ".join(word_array[drawn[cursor : cursor + abstract_lengths[i]]])
            cursor += abstract_lengths[i]
            pid = f"syn{start + i:07d}"
            batch.append(
                {
                    "id": pid,
                    "title": title.capitalize(),
                    "title_key": pid[-12:],
                    "abstract": abstract,
                    "authors": [f"Author {rng.integers(0, 200_000)}"],
                    "categories": [CATEGORIES[(start + i) % len(CATEGORIES)]],
                    "published_at": START + timedelta(days=int(rng.integers(0, 3650))),
                    "code_urls": [],
                    "keywords": [],
                    "hidden": False,
                    "first_seen_at": START,
                    "modified_at": START,
                }
            )
        yield batch


def clustered_vectors(n: int, dim: int = 384, clusters: int = 2000, seed: int = 2):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    for start in range(0, n, 50_000):
        size = min(50_000, n - start)
        points = centres[rng.integers(0, clusters, size)] + 0.55 * rng.normal(
            size=(size, dim)
        ).astype(np.float32)
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        yield start, points


def percentiles(times: list[float]) -> str:
    ms = np.asarray(times) * 1000
    return f"p50 {np.percentile(ms, 50):6.1f} ms  p99 {np.percentile(ms, 99):6.1f} ms"


def build(folder: Path, n: int) -> tuple:
    rng = np.random.default_rng(0)
    words, probs = vocabulary(rng)
    engine = open_engine(f"sqlite:///{folder / 'bench.db'}")
    indexes = Indexes.at(folder / "bench.index")
    indexes.keyword.reset()

    start = time.perf_counter()
    docs_seen = 0

    def all_docs():
        nonlocal docs_seen
        for batch in papers_batches(n, words, probs):
            with engine.begin() as conn:
                conn.execute(papers.insert(), batch)
            docs_seen += len(batch)
            yield from batch

    cpu0 = time.process_time()
    indexes.keyword.apply(all_docs(), None)
    keyword_s, keyword_cpu = time.perf_counter() - start, time.process_time() - cpu0
    size = sum(f.stat().st_size for f in indexes.keyword.directory.rglob("*") if f.is_file())
    print(
        f"papers + keyword index: {docs_seen:,} papers in {keyword_s:.0f} s "
        f"({keyword_cpu:.0f} CPU-s, includes generating and storing them); "
        f"index {size / 1e6:.0f} MB"
    )

    def rows():
        for first, block in clustered_vectors(n):
            for i, vector in enumerate(block):
                pid = f"syn{first + i:07d}"
                day = START + timedelta(days=int((first + i) * 7919 % 3650))
                yield (
                    pid,
                    vector.astype("<f4").tobytes(),
                    day,
                    [CATEGORIES[(first + i) % len(CATEGORIES)]],
                )

    start, cpu0 = time.perf_counter(), time.process_time()
    indexes.vectors.build(rows(), 384, {"bench": n})
    meta = indexes.vectors.meta()
    ann_size = (indexes.vectors.directory / "ann.faiss").stat().st_size if meta["ann"] else 0
    print(
        f"vector index: {time.perf_counter() - start:.0f} s ({time.process_time() - cpu0:.0f}"
        f" CPU-s); ann {meta['ann']} {ann_size / 1e6:.0f} MB (exact below {ANN_THRESHOLD:,})"
    )
    return engine, indexes, words


def recall(indexes: Indexes, vector_filter=None, trials: int = 100) -> float:
    """Mean recall@10 of the ANN against exact search, for vectors of the corpus as queries."""
    rng = np.random.default_rng(5)
    hits = []
    for _ in range(trials):
        query = indexes.vectors.vector(f"syn{rng.integers(0, indexes.vectors.meta()['count']):07d}")
        approx, _ = indexes.vectors.search(query, 10, vector_filter)
        exact, _ = indexes.vectors.search(query, 10, vector_filter, exact=True)
        hits.append(len(set(approx) & set(exact)) / max(len(exact), 1))
    return float(np.mean(hits))


def latencies(engine, indexes: Indexes, words: list[str], count: int) -> None:
    embedder = default_embedder()
    rng = np.random.default_rng(9)
    queries = [" ".join(rng.choice(words[50:5000], rng.integers(2, 4))) for _ in range(count)]
    filters = FILTERS
    for query in queries[:30]:  # warm up, as a running server is: page cache, lazy loads
        for active in (None, filters):
            search(engine, indexes, query, "hybrid", 10, active, embedder)
    for mode, active in (
        ("keyword", None),
        ("keyword", filters),
        ("semantic", None),
        ("semantic", filters),
        ("hybrid", None),
        ("hybrid", filters),
    ):
        times = []
        for query in queries:
            start = time.perf_counter()
            search(engine, indexes, query, mode, 10, active, embedder)
            times.append(time.perf_counter() - start)
        label = f"{mode}{' + filters' if active else ''}"
        print(f"{label:<20} {percentiles(times)}  ({len(queries)} queries)")
    embed_times = []
    for query in queries[:100]:
        start = time.perf_counter()
        embedder.embed([query], max_tokens=128)
        embed_times.append(time.perf_counter() - start)
    print(f"{'query embedding':<20} {percentiles(embed_times)}")


def throughput(limit: int) -> None:
    texts = [
        document_text(r["title"], r["abstract"])
        for r in map(json.loads, SHARED.open(encoding="utf-8"))
    ][:limit]
    embedder = default_embedder()
    embedder.embed(texts[:8])
    start = time.perf_counter()
    ours = embedder.embed(texts)
    ours_s = time.perf_counter() - start

    import torch
    from sentence_transformers import SentenceTransformer

    from papertide.search.model_build import bundled_source

    torch.set_num_threads(1)
    model = SentenceTransformer(str(bundled_source()), device="cpu")
    model.max_seq_length = MAX_TOKENS
    model.encode(texts[:8])
    start = time.perf_counter()
    reference = model.encode(texts, batch_size=32, normalize_embeddings=True)
    reference_s = time.perf_counter() - start
    cosine = (ours * reference).sum(axis=1)
    print(f"embedding {len(texts)} real abstracts at up to {MAX_TOKENS} tokens, 1 thread each:")
    print(f"  default (onnxruntime int8, length-sorted): {len(texts) / ours_s:5.1f} abstracts/s")
    print(
        f"  sentence-transformers fp32 (torch):        {len(texts) / reference_s:5.1f} abstracts/s"
    )
    print(
        f"  speed-up {reference_s / ours_s:.2f}x; cosine to fp32 mean {cosine.mean():.4f}, "
        f"min {cosine.min():.4f}"
    )


def query_only(folder: Path, queries: int) -> None:
    """Latency and memory in a fresh process that only opens the indexes, as a server would."""
    engine = open_engine(f"sqlite:///{folder / 'bench.db'}")
    indexes = Indexes.at(folder / "bench.index")
    words, _ = vocabulary(np.random.default_rng(0))
    print(f"fresh process, indexes opened: {memory()}")
    latencies(engine, indexes, words, queries)
    # (ru_maxrss is not reported: Linux carries it over from the parent across exec.)
    print(f"after all queries: {memory()}")


def daily_increment(folder: Path, n: int, new: int) -> None:
    """NEW papers added through index generations, as a daily index run adds them: clone the
    published generation, add the papers to the keyword and vector indexes, fsync, publish.
    (The papers' rows and stored vectors are made here rather than read from the database:
    that read is a few thousand rows. Similar-paper lists are not kept from ANN_THRESHOLD
    papers up, where pages compute them on demand: at 2.6M papers there are none to update.)"""
    store = IndexStore(folder / "bench.index")
    start = time.perf_counter()
    with store.lock(), store.new_generation() as draft:  # the folder above becomes a generation
        draft.changed = True
    print(f"first generation (the built indexes copied in): {time.perf_counter() - start:.0f} s")
    words, probs = vocabulary(np.random.default_rng(0))
    docs = [
        {**doc, "id": f"new{i:07d}"}
        for i, doc in enumerate(next(papers_batches(new, words, probs, seed=7)))
    ]
    vectors = next(clustered_vectors(new, seed=8))[1]
    timings = {}
    start = time.perf_counter()
    with store.lock(), store.new_generation() as draft:
        timings["clone the published generation"] = time.perf_counter() - start
        mark = time.perf_counter()
        draft.indexes.keyword.apply(docs, None)
        timings[f"add {new:,} papers to the keyword index"] = time.perf_counter() - mark
        mark = time.perf_counter()
        rows = [
            (d["id"], v.astype("<f4").tobytes(), d["published_at"], d["categories"])
            for d, v in zip(docs, vectors, strict=True)
        ]
        draft.indexes.vectors.update(rows, {"bench": n + new})
        timings[f"add {new:,} vectors (file and IVF index)"] = time.perf_counter() - mark
        draft.changed = True
        mark = time.perf_counter()
    timings["fsync and publish"] = time.perf_counter() - mark
    print(f"daily increment of {new:,} papers: {time.perf_counter() - start:.1f} s in all")
    for step, seconds in timings.items():
        print(f"  {step:<42} {seconds:6.1f} s")
    found = store.current().keyword.search(docs[0]["title"], 10, snippets=False)
    print(f"  the first new paper is found by its title: {found[0].id == docs[0]['id']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--increment", type=int, default=2_000, help="papers a daily run adds")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--abstracts", type=int, default=130)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--query-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_only:
        query_only(args.query_only, args.queries)
        return
    if not args.skip_throughput:
        throughput(args.abstracts)
    with tempfile.TemporaryDirectory() as tmp:
        _engine, indexes, _words = build(Path(tmp), args.papers)
        print(
            f"ANN recall@10 against exact search: {recall(indexes):.3f}; with the filters "
            f"below: {recall(indexes, VectorFilter(FILTERS.since, None, FILTERS.category)):.3f}"
            f"; category only: {recall(indexes, VectorFilter(category='cs.LG')):.3f}"
        )
        subprocess.run(
            [sys.executable, __file__, "--query-only", tmp, "--queries", str(args.queries)],
            check=True,
        )
        daily_increment(Path(tmp), args.papers, args.increment)


if __name__ == "__main__":
    main()
