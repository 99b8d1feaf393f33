"""Recommendations over the whole corpus at all-of-arXiv size: one reader, every paper a candidate.

    .venv/bin/python bench/recommend_scale.py [--papers 2600000] [--calls 20] [--dir DIR]

Builds (in DIR, default a temp folder; kept with --dir so a second run skips the build, and
rebuilds only the index when it was written by an older index writer) an SQLite database of
PAPERS minimal papers dated over 30 years, and an index generation written by the index writer
(VectorIndex.build, published by IndexStore) from synthetic clustered unit vectors (bench/
search.py's generator, 384-d float32, produced 50,000 rows at a time: 2.6M rows are 4 GB on
disk, never in memory at once), with the int8 copy the recommender's bound reads (1 GB; its
writing is timed on its own). No ANN index is built: the recommender does not read it.
A reader has 50 saved papers near three points of the space and 5 thumbs-down.

Then, in a new process each time, `recommend --days 36500` (Recommender.feed, 20 picks):
  - cold, page cache warm: the first call of a fresh process (its files read once before);
  - cold from disk: the same after this benchmark's own files are evicted from the page cache
    (posix_fadvise DONTNEED on them; other processes' cache is left alone);
  - warm: CALLS more calls in that process, p50/p99;
  - peak RSS of the process (VmHWM; mapped vector pages count in it, as file-backed memory),
    and its anonymous part;
  - the same picks scored the naive way (every row in full: nearest library paper too), timed,
    and whether both give the same picks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DIM = 384
START = datetime(1996, 1, 1)
SPAN_DAYS = 30 * 365
NOW = START + timedelta(days=SPAN_DAYS + 1)
LIBRARY, DISLIKED = 50, 5
INDEX_FORMAT = 3  # 2: with the int8 copy of the vectors; 3: and the decomposed background


def paper_id(row: int) -> str:
    return f"syn.{row:08d}"


def published(row: int, n: int) -> datetime:
    """Rows in date order, as arXiv ids are: one every SPAN/N, at varying times of day."""
    return START + timedelta(seconds=int(row * SPAN_DAYS * 86_400 // n))


def insert_papers(engine: Engine, n: int) -> None:
    from papertide.store.schema import papers

    start = time.perf_counter()
    for first in range(0, n, 50_000):
        batch = []
        for row in range(first, min(first + 50_000, n)):
            when = published(row, n)
            batch.append(
                {
                    "id": paper_id(row),
                    "title": f"Synthetic paper {row}",
                    "title_key": f"{row:012d}",
                    "published_at": when,
                    "first_seen_at": when,
                    "modified_at": when,
                    "content_hash": f"{row:016d}",
                }
            )
        with engine.begin() as conn:
            conn.execute(papers.insert(), batch)
    print(f"database: {n:,} papers in {time.perf_counter() - start:.0f} s", flush=True)


def build(folder: Path, n: int, index_only: bool = False) -> None:
    """The database, the reader and the index generation; INDEX_ONLY: the index alone (its
    vectors are the same as before, so the reader's library still fits them)."""
    from papertide.search import row_table, vectors
    from papertide.search.generations import IndexStore
    from papertide.store.engine import open_engine
    from search import clustered_vectors

    engine = open_engine(f"sqlite:///{folder / 'scale.db'}")
    if not index_only:
        insert_papers(engine, n)

    anchors, anchor_vectors = [n // 7, n // 2, n - n // 9], []
    sample = np.random.default_rng(4).choice(n, min(n, 400_000), replace=False)
    sample_vectors: dict[int, np.ndarray] = {}

    def rows():
        for first, block in clustered_vectors(n):
            for offset in (a - first for a in anchors if first <= a < first + len(block)):
                anchor_vectors.append(block[offset])
            inside = sample[(sample >= first) & (sample < first + len(block))]
            sample_vectors.update((int(r), block[r - first]) for r in inside)
            for i, vector in enumerate(block.astype("<f4")):
                row = first + i
                yield paper_id(row), vector.tobytes(), published(row, n), [], published(row, n)

    write_codes, coding = row_table.write_codes, []

    def timed_codes(*args: object) -> None:
        began = time.perf_counter()
        write_codes(*args)  # type: ignore[arg-type]
        coding.append(time.perf_counter() - began)

    row_table.write_codes = timed_codes
    start = time.perf_counter()
    vectors.ANN_THRESHOLD = n + 1  # the recommender reads no ANN index: not worth its build
    store = IndexStore(folder / "scale.index")
    with store.lock(), store.new_generation(rebuild=True) as draft:
        draft.indexes.vectors.build(rows(), DIM, {"model": "synthetic", "count": n})
        draft.changed = True
    print(
        f"index generation: {time.perf_counter() - start:.0f} s, of which the int8 copy "
        f"{sum(coding):.0f} s",
        flush=True,
    )
    if index_only:
        engine.dispose()
        return

    # the library: the sampled papers nearest three points; thumbs-down near a fourth
    sampled = np.array(sorted(sample_vectors))
    matrix = np.stack([sample_vectors[int(r)] for r in sampled])
    liked = [sampled[np.argsort(-(matrix @ v))[1 : 1 + LIBRARY // 3 + 1]] for v in anchor_vectors]
    saved = list(dict.fromkeys(int(r) for part in liked for r in part))[:LIBRARY]
    disliked = [int(r) for r in sampled[np.argsort(-(matrix @ matrix[0]))[:DISLIKED]]]
    with engine.begin() as conn:
        from papertide.security import hash_password
        from papertide.store import accounts, library

        accounts.create_user(conn, "reader", hash_password("password123"))
        user_id = accounts.user_by_name(conn, "reader")["id"]
        library.save_many(conn, user_id, [paper_id(r) for r in saved])
        for row in disliked:
            if row not in saved:
                library.set_rating(conn, user_id, paper_id(row), "down")
    engine.dispose()


def evict(folder: Path) -> None:
    """Drop this benchmark's files from the page cache (only them: the machine is shared)."""
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def warm_cache(folder: Path) -> None:
    """Read this benchmark's files once, so the first measurement has them in the page cache
    (a run with --dir that skips the build did not just write them)."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(1 << 24):
                    pass


def memory() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) // 1024  # MB
    return fields


def measure(folder: Path, calls: int) -> None:
    """One fresh process: the cold call, CALLS warm ones, memory, the naive comparison."""
    began = time.perf_counter()
    from papertide.clock import FixedClock
    from papertide.rank.affinity import UserScorer
    from papertide.rank.recommend import Recommender
    from papertide.search.generations import IndexStore
    from papertide.store import accounts
    from papertide.store.engine import open_engine

    engine = open_engine(f"sqlite:///{folder / 'scale.db'}", migrate=False)
    with engine.connect() as conn:
        user_id = accounts.user_by_name(conn, "reader")["id"]
    imported = time.perf_counter()
    store = IndexStore(folder / "scale.index")
    recommender = Recommender(engine, store.current, FixedClock(NOW))
    start = time.perf_counter()
    feed = recommender.feed(user_id, 20, 36_500)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(calls):
        start = time.perf_counter()
        recommender.feed(user_id, 20, 36_500)
        warm.append(time.perf_counter() - start)
    held = memory()

    # the naive way, over the same window: every row scored in full
    indexes = store.current()
    window = recommender.window(None, NOW, indexes)
    table = window.table
    signals, _titles = recommender._signals(user_id)
    positives = table.rows_of(signals.positive)
    negatives = table.rows_of(signals.negative)
    drawn = [r for r in positives.tolist() if r in window.background_rows]
    scorer = UserScorer.of(
        np.asarray(table.matrix[positives]),
        np.asarray(table.matrix[negatives]),
        window.background,
        np.asarray(table.matrix[drawn]) if drawn else None,
    )
    start = time.perf_counter()
    scores = window.map_rows(lambda m: scorer.score(m).scores) + window.recency
    taken = table.rows_of([*signals.positive, *signals.negative])
    scores[np.searchsorted(window.rows, taken)] = -np.inf
    naive = time.perf_counter() - start
    top = np.argsort(-scores, kind="stable")[:20]
    same = table.ids_at(window.rows[top]) == [p.id for p in feed.picks]
    ms = np.asarray(warm) * 1000
    print(
        json.dumps(
            {
                "picks": len(feed.picks),
                "note": feed.note,
                "reason": feed.picks[0].reason if feed.picks else None,
                "imports_s": round(imported - began, 3),
                "cold_s": round(cold, 3),
                "warm_p50_ms": round(float(np.percentile(ms, 50)), 1),
                "warm_p99_ms": round(float(np.percentile(ms, 99)), 1),
                "peak_rss_mb": held["VmHWM"],
                "rss_anon_mb": held["RssAnon"],
                "rss_file_mb": held["RssFile"],
                "naive_full_scoring_s": round(naive, 3),
                "same_picks_as_naive": same,
            }
        )
    )


def run_measure(folder: Path, calls: int) -> dict:
    command = [sys.executable, __file__, "--measure", str(folder), "--calls", str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=2_600_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.calls)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.dir:  # kept: a second run with the same size measures without building
            folder = args.dir / f"scale-{args.papers}"
            folder.mkdir(parents=True, exist_ok=True)
        built = folder / "built.json"
        state = json.loads(built.read_text()) if built.exists() else {}
        if state.get("papers") != args.papers:
            for stale in folder.iterdir():
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
            build(folder, args.papers)
        elif state.get("index") != INDEX_FORMAT:
            shutil.rmtree(folder / "scale.index")
            build(folder, args.papers, index_only=True)
        built.write_text(json.dumps({"papers": args.papers, "index": INDEX_FORMAT}))
        load = os.getloadavg()
        print(f"{args.papers:,} papers x {DIM}-d float32; load average {load[0]:.1f} (2 vCPUs)")
        for label, cold_disk in (("page cache warm", False), ("from disk", True)):
            if cold_disk:
                evict(folder)
            else:
                warm_cache(folder)
            result = run_measure(folder, args.calls)
            print(
                f"new process, {label}: cold call {result['cold_s'] * 1000:.0f} ms "
                f"(imports and database open before it: {result['imports_s'] * 1000:.0f} ms); "
                f"warm p50 {result['warm_p50_ms']} ms, p99 {result['warm_p99_ms']} ms "
                f"({args.calls} calls); peak RSS {result['peak_rss_mb']} MB "
                f"(anonymous {result['rss_anon_mb']} MB, mapped files {result['rss_file_mb']} MB)"
            )
        print(
            f"{result['picks']} picks, first: {result['reason']}; every row scored in full "
            f"instead: {result['naive_full_scoring_s'] * 1000:.0f} ms, same picks: "
            f"{result['same_picks_as_naive']}"
        )


if __name__ == "__main__":
    main()
