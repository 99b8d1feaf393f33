"""Keeping the indexes in step with the database: incremental updates, rebuilds when unsure.

`update_indexes` is the one writer of every index: it takes the writer lock, brings a new
generation up to date (search/generations.py) and publishes it. Nothing else writes indexes."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime

import numpy as np
from sqlalchemy.engine import Connection, Engine

from papertide.extract.compute import compute_extracts
from papertide.extract.plan import ExtractPlan
from papertide.search.embedder import Embedder, document_text
from papertide.search.generations import Indexes, IndexStore
from papertide.search.keyword import KeywordIndex
from papertide.search.parallel_embed import embed_batches
from papertide.search.ray_embed import RayPlan, embed_on_ray
from papertide.search.vectors import ANN_THRESHOLD, VectorIndex
from papertide.store import queries
from papertide.store import vectors as stored_vectors

EMBED_BATCH = 256
Progress = Callable[[str, int, int | None], None]  # (stage, done, total)


def _quiet(stage: str, done: int, total: int | None) -> None:
    """The default progress callback: report nothing."""


def _watermark(meta: dict | None) -> datetime | None:
    """The newest paper modification a keyword index's metadata says it covers."""
    return datetime.fromisoformat(meta["watermark"]) if meta and meta["watermark"] else None


def _keyword_is_current(conn: Connection, meta: dict | None) -> bool:
    return meta is not None and queries.latest_modification(conn) == _watermark(meta)


def refresh_keyword(
    engine: Engine, index: KeywordIndex, rebuild: bool = False, progress: Progress = _quiet
) -> int:
    """Bring the keyword index up to date; rebuild it when it is missing, corrupt or asked to."""
    meta = index.meta()
    if rebuild or not index.usable():
        index.reset()
        meta = None
    watermark = _watermark(meta)
    with engine.connect() as conn:
        newest = queries.latest_modification(conn)
        if meta is not None and newest == watermark:
            return 0
        total = queries.count_modified_since(conn, watermark)
        papers = queries.modified_since(conn, watermark)
        return index.apply(papers, newest, lambda done: progress("keyword index", done, total))


def embed_pending(
    engine: Engine,
    embedder: Embedder,
    progress: Progress = _quiet,
    workers: int = 1,
    ray: RayPlan | None = None,
) -> int:
    """Embed papers that have no current vector, on the Ray cluster of RAY when given, else in
    WORKERS processes when there is more than a batch to do; each batch is saved in its own
    transaction, so an interrupted run resumes where it stopped."""
    with engine.connect() as conn:
        total = stored_vectors.count_pending(conn, embedder.name)
    batches = _pending_batches(engine, embedder.name)
    directory = getattr(embedder, "directory", None)  # a model worker processes can load
    if ray is not None and directory is not None:
        results: Iterator[tuple[list[dict], np.ndarray]] = (
            embed_on_ray(ray, directory, batches) if total else iter(())
        )
    elif workers > 1 and directory is not None and total > EMBED_BATCH:
        waiting: deque[list[dict]] = deque()

        def texts() -> Iterator[list[str]]:
            for batch in batches:
                waiting.append(batch)
                yield [document_text(p["title"], p["abstract"]) for p in batch]

        threads = getattr(embedder, "threads", 1)
        results = (
            (waiting.popleft(), matrix)
            for _, matrix in embed_batches(directory, threads, workers, texts())
        )
    else:
        results = (
            (batch, embedder.embed([document_text(p["title"], p["abstract"]) for p in batch]))
            for batch in batches
        )
    done = 0
    for batch, matrix in results:
        rows = [
            (p["id"], p["content_hash"], np.ascontiguousarray(vec, dtype="<f4").tobytes())
            for p, vec in zip(batch, matrix, strict=True)
        ]
        with engine.begin() as conn:
            stored_vectors.save(conn, embedder.name, rows)
        done += len(batch)
        progress("embeddings", done, total)
    return done


def _pending_batches(engine: Engine, model: str) -> Iterator[list[dict]]:
    """Papers without a current vector, EMBED_BATCH at a time, read ahead by id (batches in
    flight in worker processes are not saved yet, so each read starts after the last one)."""
    after = None
    while True:
        with engine.connect() as conn:
            batch = stored_vectors.pending(conn, model, EMBED_BATCH, after)
        if not batch:
            return
        after = batch[-1]["id"]
        yield batch


def refresh_vectors(
    engine: Engine, index: VectorIndex, embedder: Embedder, progress: Progress = _quiet
) -> list[int] | None:
    """Bring the vector files in step with the stored embeddings. Returns the rows an
    incremental update wrote ([] when nothing changed), or None after a full rebuild."""
    identity = vector_identity(engine, embedder.name)
    count = int(identity["count"])  # type: ignore[call-overload]
    with engine.connect() as conn:
        if index.matches(identity) and index.has_row_table():
            return []
        meta = index.meta()
        previous = (meta or {}).get("identity", {})
        # an index without row times (written before they were kept) is rebuilt once
        incremental = previous.get("model") == embedder.name and index.has_row_table()
        if incremental and previous.get("newest"):
            since = datetime.fromisoformat(previous["newest"])
            return index.update(stored_vectors.iter_vectors(conn, embedder.name, since), identity)
        rows = stored_vectors.iter_vectors(conn, embedder.name)
        index.build(rows, embedder.dim, identity, lambda n: progress("vector index", n, count))
    return None


def refresh_neighbors(engine: Engine, indexes: Indexes, progress: Progress = _quiet) -> int:
    """Stored similar-paper lists in step with the vector index: lists for papers whose vector
    is newer than the lists (whoever updated the vector files), or all of them."""
    vectors, neighbors = indexes.vectors, indexes.neighbors
    current = (vectors.meta() or {}).get("identity")
    covered = (neighbors.meta() or {}).get("identity")
    if current is None or covered == current:
        return 0
    changed = None
    if covered and covered.get("model") == current["model"] and covered.get("newest"):
        since = datetime.fromisoformat(covered["newest"])
        with engine.connect() as conn:
            ids = [row[0] for row in stored_vectors.iter_vectors(conn, current["model"], since)]
        changed = [r for r in map(vectors.row_of, ids) if r is not None]
    return neighbors.refresh(
        vectors, changed, lambda done, total: progress("similar papers", done, total)
    )


def vector_identity(engine: Engine, model: str) -> dict[str, object]:
    """What the vector files must have been built from to match the stored embeddings."""
    with engine.connect() as conn:
        count, newest = stored_vectors.state(conn, model)
    return {"model": model, "count": count, "newest": newest.isoformat() if newest else None}


def up_to_date(engine: Engine, indexes: Indexes, embedder: Embedder | None) -> bool:
    """True when INDEXES already reflect the database (and the stored vectors): then an index
    run has nothing to publish. Cheap: two queries and three small files."""
    with engine.connect() as conn:
        if not _keyword_is_current(conn, indexes.keyword.meta()):
            return False
    if embedder is None:
        return True
    vectors = indexes.vectors.meta()
    if vectors is None or vectors.get("identity") != vector_identity(engine, embedder.name):
        return False
    if not indexes.vectors.has_row_table():  # written before row times were kept
        return False
    if vectors["count"] == 0 or vectors["count"] >= ANN_THRESHOLD:
        return True  # no neighbour lists are kept at these sizes
    return (indexes.neighbors.meta() or {}).get("identity") == vectors["identity"]


def papers_behind(engine: Engine, indexes: Indexes) -> int:
    """How many papers changed after the keyword index of INDEXES was written (0: current)."""
    meta = indexes.keyword.meta()
    with engine.connect() as conn:
        if _keyword_is_current(conn, meta):
            return 0
        return queries.count_modified_since(conn, _watermark(meta))


def refresh_all(
    engine: Engine,
    indexes: Indexes,
    embedder: Embedder | None,
    rebuild: bool = False,
    progress: Progress = _quiet,
) -> dict[str, int]:
    """Bring INDEXES (a writer's draft generation) up to date with the stored papers and
    vectors. Without an embedder: keyword only."""
    report = {"keyword_updated": refresh_keyword(engine, indexes.keyword, rebuild, progress)}
    if embedder is not None:
        changed = refresh_vectors(engine, indexes.vectors, embedder, progress)
        report["vector_index_rebuilt"] = int(changed is None)
        report["vectors_updated"] = len(changed or [])
        report["similar_lists"] = refresh_neighbors(engine, indexes, progress)
    return report


def update_indexes(
    engine: Engine,
    store: IndexStore,
    embedder: Embedder | None,
    rebuild: bool = False,
    progress: Progress | None = None,
    embed: bool = True,
    wait: bool = True,
    workers: int = 1,
    ray: RayPlan | None = None,
    extract: ExtractPlan | None = None,
) -> dict[str, int]:
    """The one index writer: embed what has no vector yet (unless EMBED is false; in WORKERS
    processes, or on the Ray cluster of RAY), derive keywords and summaries as EXTRACT says
    (extract/compute.py; they reach the keyword index in the same run), then publish a new
    generation of every index (search/generations.py). Raises IndexBusy when WAIT is false and
    another process is writing."""
    progress = progress or _quiet
    with store.lock(wait):
        embedded = (
            embed_pending(engine, embedder, progress, workers, ray) if embedder and embed else 0
        )
        report: dict[str, int] = {"keyword_updated": 0}
        if embedder is not None:
            report.update(embedded=embedded, vector_index_rebuilt=0, vectors_updated=0)
            report["similar_lists"] = 0
        if extract is not None:
            report.update(compute_extracts(engine, extract, embedder, progress))
        if not rebuild and up_to_date(engine, store.current(), embedder):
            return report
        with store.new_generation(rebuild) as draft:
            report.update(refresh_all(engine, draft.indexes, embedder, rebuild, progress))
            draft.changed = True
        return report
