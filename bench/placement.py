"""Where vector search lives in server mode, measured: papertide's embedded vector index (the
files each app host keeps beside its tantivy index) against pgvector HNSW inside PostgreSQL, on
the same vectors and queries, in one run.

    .venv/bin/python bench/placement.py [--papers 100000] [--queries 300]

Vectors are bench/search.py's clustered synthetic ones (384-d, normalised). Queries are corpus
vectors with noise added. Recall@10 is against exact inner-product search. Both sides are timed
as the app sees them: papertide's index in process (the path `/search` takes), pgvector as one
SQL round trip over loopback through psycopg (what every app instance would send). The filtered
query keeps about 3% of the rows (one category in ten, the last three years in ten), as in
bench/search.py. The PostgreSQL server is tests/pgserver.py's throwaway one with fsync on.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg

from papertide.search.vectors import VectorFilter, VectorIndex
from search import CATEGORIES, clustered_vectors, percentiles  # bench/search.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pgserver import ThrowawayPostgres  # the tests' throwaway server

START = datetime(2016, 1, 1)
SINCE = datetime(2023, 1, 1)


def corpus(n: int):
    """(id, vector, published, category) rows: ten years of papers, one category each."""
    for start, block in clustered_vectors(n):
        for offset, vector in enumerate(block):
            i = start + offset
            yield f"syn{i:07d}", vector, START + timedelta(days=i * 3650 // n), CATEGORIES[i % 10]


def queries(matrix: np.ndarray, count: int) -> np.ndarray:
    rng = np.random.default_rng(9)
    picked = matrix[rng.integers(0, len(matrix), count)]
    noisy = picked + 0.3 * rng.normal(size=picked.shape).astype(np.float32) / np.sqrt(384)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def exact_top10(matrix: np.ndarray, query: np.ndarray, mask: np.ndarray | None) -> set[int]:
    scores = matrix @ query
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return set(np.argpartition(-scores, 10)[:10].tolist())


def timed(run, qs: np.ndarray) -> tuple[list[float], list[list[int]]]:
    times, results = [], []
    for query in qs:
        start = time.perf_counter()
        results.append(run(query))
        times.append(time.perf_counter() - start)
    return times, results


def report(name: str, times: list[float], results, truth: list[set[int]]) -> None:
    recall = np.mean([len(set(r) & t) / 10 for r, t in zip(results, truth, strict=True)])
    print(f"  {name:<44} {percentiles(times)}  recall@10 {recall:.3f}")


def embedded(folder: Path, rows: list, qs: np.ndarray, filtered: VectorFilter):
    index = VectorIndex(folder / "vectors")
    start = time.perf_counter()
    index.build(((pid, v.tobytes(), day, [cat]) for pid, v, day, cat in rows), 384, {"bench": 1})
    print(f"  embedded index built in {time.perf_counter() - start:.1f} s")
    row_of = {pid: i for i, (pid, *_rest) in enumerate(rows)}

    def plain(query):
        return [row_of[p] for p in index.search(query, 10)[0]]

    def with_filter(query):
        return [row_of[p] for p in index.search(query, 10, filtered)[0]]

    return plain, with_filter


def pgvector(url: str, rows: list, ef_search: int):
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute("CREATE TABLE items (row int PRIMARY KEY, day date, category text, v vector(384))")
    start = time.perf_counter()
    with conn.cursor().copy("COPY items (row, day, category, v) FROM STDIN") as copy:
        for i, (_, vector, day, category) in enumerate(rows):
            copy.write_row((i, day.date(), category, "[" + ",".join(map(str, vector)) + "]"))
    loaded = time.perf_counter() - start
    conn.execute("SET maintenance_work_mem = '2GB'")
    start = time.perf_counter()
    conn.execute("CREATE INDEX ON items USING hnsw (v vector_ip_ops) WITH (m = 16)")
    print(
        f"  pgvector: {loaded:.1f} s to COPY the rows, "
        f"{time.perf_counter() - start:.1f} s to build HNSW (m 16, ef_construction 64)"
    )
    conn.execute(f"SET hnsw.ef_search = {ef_search}")
    conn.execute("SET hnsw.iterative_scan = relaxed_order")  # pgvector 0.8: filters refill

    def plain(query):
        text = "[" + ",".join(map(str, query)) + "]"
        sql = "SELECT row FROM items ORDER BY v <#> %s::vector LIMIT 10"
        return [r for (r,) in conn.execute(sql, (text,))]

    def with_filter(query):
        text = "[" + ",".join(map(str, query)) + "]"
        sql = (
            "SELECT row FROM items WHERE day >= %s AND category = %s "
            "ORDER BY v <#> %s::vector LIMIT 10"
        )
        return [r for (r,) in conn.execute(sql, (SINCE.date(), "cs.CL", text))]

    return conn, plain, with_filter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ef-search", type=int, default=64)
    args = parser.parse_args()
    rows = list(corpus(args.papers))
    matrix = np.stack([v for _, v, _, _ in rows])
    mask = np.array([day >= SINCE and cat == "cs.CL" for _, _, day, cat in rows])
    qs = queries(matrix, args.queries)
    truth = [exact_top10(matrix, q, None) for q in qs]
    truth_filtered = [exact_top10(matrix, q, mask) for q in qs]
    print(f"{args.papers:,} vectors, {args.queries} queries, filter keeps {mask.mean():.1%}")
    filtered = VectorFilter(since=SINCE, category="cs.CL")
    postgres = ThrowawayPostgres(durable=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            plain, with_filter = embedded(Path(tmp), rows, qs, filtered)
            report("embedded (papertide), no filter", *timed(plain, qs), truth)
            report("embedded (papertide), filtered", *timed(with_filter, qs), truth_filtered)
        conn, plain, with_filter = pgvector(
            postgres.url(postgres.create_database()), rows, args.ef_search
        )
        with conn:
            label = f"pgvector HNSW ef_search {args.ef_search}"
            report(f"{label}, no filter", *timed(plain, qs), truth)
            report(f"{label}, filtered", *timed(with_filter, qs), truth_filtered)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
