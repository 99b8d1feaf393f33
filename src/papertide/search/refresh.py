"""Keeping the indexes in step with the database: incremental updates, rebuilds when unsure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine

from papertide.search.embedder import Embedder, document_text
from papertide.search.keyword import KeywordIndex
from papertide.search.neighbors import NeighborLists
from papertide.search.vectors import VectorIndex
from papertide.store import queries
from papertide.store import vectors as stored_vectors

EMBED_BATCH = 256
Progress = Callable[[str, int, int | None], None]  # (stage, done, total)


@dataclass
class Indexes:
    keyword: KeywordIndex
    vectors: VectorIndex
    neighbors: NeighborLists

    @classmethod
    def at(cls, directory: Path) -> Indexes:
        return cls(
            KeywordIndex(directory / "keyword"),
            VectorIndex(directory / "vectors"),
            NeighborLists(directory / "neighbors"),
        )


def _quiet(stage: str, done: int, total: int | None) -> None:
    """The default progress callback: report nothing."""


def refresh_keyword(
    engine: Engine, index: KeywordIndex, rebuild: bool = False, progress: Progress = _quiet
) -> int:
    """Bring the keyword index up to date; rebuild it when it is missing, corrupt or asked to."""
    meta = index.meta()
    if rebuild or not index.usable():
        index.reset()
        meta = None
    watermark = datetime.fromisoformat(meta["watermark"]) if meta and meta["watermark"] else None
    with engine.connect() as conn:
        newest = queries.latest_modification(conn)
        if meta is not None and newest == watermark:
            return 0
        total = queries.count_modified_since(conn, watermark)
        papers = queries.modified_since(conn, watermark)
        return index.apply(papers, newest, lambda done: progress("keyword index", done, total))


def embed_pending(engine: Engine, embedder: Embedder, progress: Progress = _quiet) -> int:
    """Embed papers that have no current vector; each batch is saved in its own transaction,
    so an interrupted run resumes where it stopped."""
    with engine.connect() as conn:
        total = stored_vectors.count_pending(conn, embedder.name)
    done = 0
    while True:
        with engine.connect() as conn:
            batch = stored_vectors.pending(conn, embedder.name, EMBED_BATCH)
        if not batch:
            return done
        matrix = embedder.embed([document_text(p["title"], p["abstract"]) for p in batch])
        rows = [
            (p["id"], p["content_hash"], np.ascontiguousarray(vec, dtype="<f4").tobytes())
            for p, vec in zip(batch, matrix, strict=True)
        ]
        with engine.begin() as conn:
            stored_vectors.save(conn, embedder.name, rows)
        done += len(batch)
        progress("embeddings", done, total)


def refresh_vectors(
    engine: Engine, index: VectorIndex, embedder: Embedder, progress: Progress = _quiet
) -> list[int] | None:
    """Bring the vector files in step with the stored embeddings. Returns the rows an
    incremental update wrote ([] when nothing changed), or None after a full rebuild."""
    with engine.connect() as conn:
        count, newest = stored_vectors.state(conn, embedder.name)
        identity = {
            "model": embedder.name,
            "count": count,
            "newest": newest.isoformat() if newest else None,
        }
        if index.matches(identity):
            return []
        meta = index.meta()
        previous = (meta or {}).get("identity", {})
        if previous.get("model") == embedder.name and previous.get("newest"):
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


def refresh_all(
    engine: Engine,
    indexes: Indexes,
    embedder: Embedder | None,
    rebuild: bool = False,
    progress: Progress = _quiet,
    embed: bool = True,
) -> dict[str, int]:
    """Everything search needs, brought up to date. Without an embedder: keyword only.
    embed=False takes in vectors already stored but computes none (for request paths)."""
    report = {"keyword_updated": refresh_keyword(engine, indexes.keyword, rebuild, progress)}
    if embedder is not None:
        report["embedded"] = embed_pending(engine, embedder, progress) if embed else 0
        if rebuild:
            indexes.vectors.meta_path.unlink(missing_ok=True)
        changed = refresh_vectors(engine, indexes.vectors, embedder, progress)
        report["vector_index_rebuilt"] = int(changed is None)
        report["vectors_updated"] = len(changed or [])
        if embed:  # lists cost a pass over the vectors: index runs do it, request paths never
            report["similar_lists"] = refresh_neighbors(engine, indexes, progress)
    return report
