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
from papertide.search.vectors import VectorIndex
from papertide.store import queries
from papertide.store import vectors as stored_vectors

EMBED_BATCH = 256
Progress = Callable[[str, int, int | None], None]  # (stage, done, total)


@dataclass
class Indexes:
    keyword: KeywordIndex
    vectors: VectorIndex

    @classmethod
    def at(cls, directory: Path) -> Indexes:
        return cls(KeywordIndex(directory / "keyword"), VectorIndex(directory / "vectors"))


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
) -> bool:
    """Rebuild the vector files when they do not match the stored embeddings; True if rebuilt."""
    with engine.connect() as conn:
        count, newest = stored_vectors.state(conn, embedder.name)
        identity = {
            "model": embedder.name,
            "count": count,
            "newest": newest.isoformat() if newest else None,
        }
        if index.matches(identity):
            return False
        meta = index.meta()
        previous = (meta or {}).get("identity", {})
        if previous.get("model") == embedder.name and previous.get("newest"):
            since = datetime.fromisoformat(previous["newest"])
            index.update(stored_vectors.iter_vectors(conn, embedder.name, since), identity)
            return True
        rows = stored_vectors.iter_vectors(conn, embedder.name)
        index.build(rows, embedder.dim, identity, lambda n: progress("vector index", n, count))
    return True


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
        report["vector_index_rebuilt"] = int(
            refresh_vectors(engine, indexes.vectors, embedder, progress)
        )
    return report
