"""Sharded search, simulated on one machine: the corpus split into S shards (each its own tantivy
index and vector index, as `papertide index` builds them), every query sent to all shards at once
and the shards' top 10 merged, against one index over the whole corpus, in one run.

    .venv/bin/python bench/shards.py [--papers 1000000] [--shards 8] [--queries 300]

Corpus: bench/search.py's synthetic papers and clustered vectors; paper i lives on shard i mod S
(sharding by id). Each shard is served by its own process (a shard server: it opens its indexes
read-only and answers queries over a pipe), so the fan-out and merge cost what they would across
machines, minus the network. Shards force the IVF index papertide uses above 200k rows, as the
shards of a 250M corpus would hold tens of millions each.

Merging: vector scores are cosines on every shard, so the top 10 by score is the true merge.
BM25 scores use each shard's own document frequencies, so the keyword merge is approximate;
its overlap with the single index's top 10 says how much that costs. Latency is the whole fan-out
as the caller sees it; "slowest shard" is the largest per-shard compute time of each query (what
a query would cost with one machine per shard, plus the network).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from papertide.search import vectors as vector_module
from papertide.search.keyword import KeywordIndex
from papertide.search.vectors import VectorIndex
from placement import queries  # bench/placement.py
from search import (  # bench/search.py
    CATEGORIES,
    START,
    clustered_vectors,
    papers_batches,
    percentiles,
    vocabulary,
)

K = 10


def vector_rows(n: int):
    for first, block in clustered_vectors(n):
        for i, vector in enumerate(block):
            yield first + i, vector


def fresh_keyword_index(folder: Path) -> KeywordIndex:
    index = KeywordIndex(folder / "keyword")
    index.reset()
    return index


def build(folder: Path, n: int, shards: int) -> np.ndarray:
    """One index over everything in FOLDER/all, one per shard in FOLDER/shard-S; the matrix."""
    rng = np.random.default_rng(0)
    words, probs = vocabulary(rng)
    docs = [doc for batch in papers_batches(n, words, probs) for doc in batch]
    start = time.perf_counter()
    fresh_keyword_index(folder / "all").apply(docs, None)
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    for s in range(shards):
        fresh_keyword_index(folder / f"shard-{s}").apply(docs[s::shards], None)
    print(
        f"keyword: one index {single_s:.0f} s, {shards} shards {time.perf_counter() - start:.0f} s"
    )
    del docs
    matrix = np.zeros((n, 384), dtype=np.float32)
    for i, vector in vector_rows(n):
        matrix[i] = vector

    def rows(indices):
        for i in indices:
            day = START + timedelta(days=i * 7919 % 3650)
            yield f"syn{i:07d}", matrix[i].tobytes(), day, [CATEGORIES[i % len(CATEGORIES)]]

    start = time.perf_counter()
    VectorIndex(folder / "all" / "vectors").build(rows(range(n)), 384, {"bench": n})
    single_s = time.perf_counter() - start
    threshold = vector_module.ANN_THRESHOLD
    vector_module.ANN_THRESHOLD = 0  # every shard gets the IVF index a big shard would
    start = time.perf_counter()
    try:
        for s in range(shards):
            VectorIndex(folder / f"shard-{s}" / "vectors").build(
                rows(range(s, n, shards)), 384, {"bench": n, "shard": s}
            )
    finally:
        vector_module.ANN_THRESHOLD = threshold
    meta = VectorIndex(folder / "shard-0" / "vectors").meta()
    whole = VectorIndex(folder / "all" / "vectors").meta()
    print(
        f"vectors: one index {single_s:.0f} s (ann {whole['ann']}), "
        f"{shards} shards {time.perf_counter() - start:.0f} s (each: ann {meta['ann']})"
    )
    return matrix


def serve_shard(folder: Path, conn) -> None:
    """A shard server: answers ('keyword', text) and ('vector', array) until told to stop."""
    keyword = KeywordIndex(folder / "keyword", read_only=True)
    vectors = VectorIndex(folder / "vectors")
    while (message := conn.recv()) is not None:
        kind, query = message
        start = time.perf_counter()
        if kind == "keyword":
            hits = keyword.search(query, K, snippets=False)
            found = ([h.id for h in hits], [h.score for h in hits])
        else:
            found = vectors.search(query, K)
        conn.send((*found, time.perf_counter() - start))


def fan_out(pipes, message) -> tuple[list[str], float]:
    for pipe in pipes:
        pipe.send(message)
    merged, slowest = [], 0.0
    for pipe in pipes:
        ids, scores, seconds = pipe.recv()
        merged.extend(zip(scores, ids, strict=True))
        slowest = max(slowest, seconds)
    merged.sort(reverse=True)
    return [pid for _, pid in merged[:K]], slowest


def compare(name: str, single, sharded, truth: list[set[str]]) -> None:
    """Latency and overlap with TRUTH of the single index (SINGLE) and of the shards (SHARDED)."""
    for label, run in (("one index", single), ("shards, merged", sharded)):
        times, slowest, overlaps = [], [], []
        for i, result in enumerate(run()):
            found, seconds, shard_seconds = result
            times.append(seconds)
            slowest.append(shard_seconds)
            overlaps.append(len(set(found) & truth[i]) / K)
        extra = f"  slowest shard {percentiles(slowest)}" if label.startswith("shards") else ""
        print(f"  {name} {label:<15} {percentiles(times)}  @10 {np.mean(overlaps):.3f}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        matrix = build(folder, args.papers, args.shards)
        vector_queries = queries(matrix, args.queries)
        exact = [
            {f"syn{i:07d}" for i in np.argpartition(-(matrix @ q), K)[:K]} for q in vector_queries
        ]
        del matrix
        rng = np.random.default_rng(3)
        words = vocabulary(np.random.default_rng(0))[0][50:3000]
        texts = [" ".join(rng.choice(words, int(rng.integers(2, 4)))) for _ in range(args.queries)]
        keyword = KeywordIndex(folder / "all" / "keyword", read_only=True)
        vectors = VectorIndex(folder / "all" / "vectors")
        keyword_truth = [{h.id for h in keyword.search(t, K, snippets=False)} for t in texts]

        context = multiprocessing.get_context("spawn")
        pipes, servers = [], []
        for s in range(args.shards):
            parent, child = context.Pipe()
            server = context.Process(target=serve_shard, args=(folder / f"shard-{s}", child))
            server.start()
            pipes.append(parent)
            servers.append(server)

        def timed(call, inputs):
            def run():
                for value in inputs:
                    start = time.perf_counter()
                    found, shard_seconds = call(value)
                    yield found, time.perf_counter() - start, shard_seconds

            return run

        try:
            for warm in texts[:20]:  # open every index, fault in the hot pages
                fan_out(pipes, ("keyword", warm))
            for warm in vector_queries[:20]:
                fan_out(pipes, ("vector", warm))
            print(
                f"{args.papers:,} papers, {args.shards} shards by id, {args.queries} queries; "
                "@10 = overlap with exact search (vectors) or with one BM25 index (keyword)"
            )
            compare(
                "vector ",
                timed(lambda q: (vectors.search(q, K)[0], 0.0), vector_queries),
                timed(lambda q: fan_out(pipes, ("vector", q)), vector_queries),
                exact,
            )
            compare(
                "keyword",
                timed(lambda t: ([h.id for h in keyword.search(t, K, snippets=False)], 0.0), texts),
                timed(lambda t: fan_out(pipes, ("keyword", t)), texts),
                keyword_truth,
            )
        finally:
            for pipe in pipes:
                pipe.send(None)
            for server in servers:
                server.join(30)


if __name__ == "__main__":
    main()
