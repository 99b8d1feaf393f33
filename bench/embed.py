"""Embedding on both cores: one process, two worker processes, and one process with two
onnxruntime threads, side by side in one run over the same papers.

    .venv/bin/python bench/embed.py [--papers 512] [--workers 2]

The papers are the 130 real abstracts of ../shared/data (cycled, each copy told apart by a
number in its title) written to a temp SQLite database; each path embeds all of them with
`search.refresh.embed_pending`, as `papertide index` does, into its own copy. The worker path's
vectors are compared with the single process's bit for bit.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from papertide.config import Settings
from papertide.records import PaperRecord
from papertide.search.embedder import DEFAULT_MODEL, OnnxEmbedder
from papertide.search.refresh import embed_pending
from papertide.store.engine import open_engine
from papertide.store.schema import embeddings
from papertide.store.writer import save_batch

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-papers.jsonl"


def make_database(path: Path, count: int) -> None:
    real = [json.loads(line) for line in SHARED.open(encoding="utf-8")]
    records = [
        PaperRecord(
            source="jsonl",
            source_id=f"b{n}",
            title=f"{real[n % len(real)]['title']} ({n})",
            abstract=real[n % len(real)]["abstract"],
        )
        for n in range(count)
    ]
    engine = open_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        save_batch(conn, records)
    engine.dispose()


def run(template: Path, folder: Path, name: str, threads: int, workers: int) -> tuple[float, dict]:
    path = folder / f"{name}.db"
    shutil.copy(template, path)
    engine = open_engine(f"sqlite:///{path}")
    embedder = OnnxEmbedder(Settings.load().models / DEFAULT_MODEL, threads)
    start = time.perf_counter()
    done = embed_pending(engine, embedder, workers=workers)
    seconds = time.perf_counter() - start
    with engine.connect() as conn:
        vectors = dict(conn.execute(select(embeddings.c.paper_id, embeddings.c.vector)).all())
    engine.dispose()
    return done / seconds, vectors


def _spin(seconds_of_work: int) -> float:
    """A fixed amount of pure-Python work; returns how long it took."""
    start = time.perf_counter()
    total = 0
    for n in range(seconds_of_work * 12_000_000):
        total += n & 7
    return time.perf_counter() - start


def machine_parallelism(workers: int) -> float:
    """How many cores' worth of work WORKERS processes get done at once on this machine: the
    ceiling for any parallel embedding here, measured in the same run (each worker times its
    own work, so process start-up is not counted)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        pool.map(_spin, [0] * workers)  # started and warm
        alone = pool.apply(_spin, (2,))
        together = max(pool.map(_spin, [2] * workers))
    return workers * alone / together


def lowest_cosine(reference: dict[str, bytes], other: dict[str, bytes]) -> float:
    a = np.stack([np.frombuffer(reference[k], dtype="<f4") for k in sorted(reference)])
    b = np.stack([np.frombuffer(other[k], dtype="<f4") for k in sorted(reference)])
    return float((a * b).sum(axis=1).min())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    ceiling = machine_parallelism(args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "template.db"
        make_database(template, args.papers)
        single, reference = run(template, folder, "single", 1, 1)
        pool, pooled = run(template, folder, "workers", 1, args.workers)
        threaded, threaded_vectors = run(template, folder, "threads", args.workers, 1)
    print(
        f"this machine: {args.workers} busy processes do {ceiling:.2f}x the work of one "
        "(the ceiling for any of the paths below)"
    )
    print(f"{args.papers} real abstracts (title + abstract, up to 512 tokens), int8 MiniLM-L6:")
    print(f"  1 process, 1 thread:          {single:6.1f} abstracts/s")
    print(
        f"  {args.workers} worker processes:         {pool:6.1f} abstracts/s  "
        f"({pool / single:.2f}x; vectors identical: {pooled == reference})"
    )
    print(
        f"  1 process, {args.workers} onnxruntime threads: {threaded:6.1f} abstracts/s  "
        f"({threaded / single:.2f}x; vectors identical: {threaded_vectors == reference}, "
        f"lowest cosine to them {lowest_cosine(reference, threaded_vectors):.6f})"
    )


if __name__ == "__main__":
    main()
