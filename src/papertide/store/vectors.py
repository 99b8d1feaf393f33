"""Stored embeddings: which papers need one, saving them, and reading them back in bulk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.engine import Connection

from papertide.store import dialect
from papertide.store.schema import embeddings, papers
from papertide.store.writer import utcnow


def _needing_vectors(model: str, *columns: Any) -> Select:
    """Visible papers with no vector for MODEL, or one computed from older text."""
    return (
        select(*columns)
        .select_from(papers.outerjoin(embeddings, embeddings.c.paper_id == papers.c.id))
        .where(
            papers.c.hidden.is_(False),
            or_(
                embeddings.c.paper_id.is_(None),
                embeddings.c.model != model,
                embeddings.c.content_hash != papers.c.content_hash,
            ),
        )
    )


def pending(
    conn: Connection, model: str, limit: int, after: str | None = None
) -> list[dict[str, Any]]:
    """Up to LIMIT papers without a current vector of MODEL, by id, from after AFTER."""
    query = _needing_vectors(
        model, papers.c.id, papers.c.title, papers.c.abstract, papers.c.content_hash
    )
    if after is not None:
        query = query.where(papers.c.id > after)
    return [dict(r) for r in conn.execute(query.order_by(papers.c.id).limit(limit)).mappings()]


def count_pending(conn: Connection, model: str) -> int:
    return conn.execute(_needing_vectors(model, func.count())).scalar_one()


def save(conn: Connection, model: str, rows: list[tuple[str, str, bytes]]) -> None:
    """Store (paper_id, content_hash, float32 bytes) rows for MODEL, replacing older vectors."""
    now = utcnow()
    conn.execute(
        dialect.upsert(embeddings, conn.engine.name, ["paper_id"]),
        [
            {"paper_id": pid, "model": model, "content_hash": h, "vector": v, "updated_at": now}
            for pid, h, v in rows
        ],
    )


def state(conn: Connection, model: str) -> tuple[int, datetime | None]:
    """How many current vectors MODEL has and when the newest was written: an index's identity."""
    count, newest = conn.execute(
        select(func.count(), func.max(embeddings.c.updated_at)).where(embeddings.c.model == model)
    ).one()
    return count, newest


def iter_vectors(
    conn: Connection, model: str, since: datetime | None = None
) -> Iterator[tuple[str, bytes, Any, Any, Any]]:
    """(paper_id, vector, published_at, categories, first_seen_at) of visible papers with a
    current vector, only those written after SINCE when given."""
    query = (
        select(
            embeddings.c.paper_id,
            embeddings.c.vector,
            papers.c.published_at,
            papers.c.categories,
            papers.c.first_seen_at,
        )
        .select_from(embeddings.join(papers, papers.c.id == embeddings.c.paper_id))
        .where(
            and_(
                embeddings.c.model == model,
                embeddings.c.content_hash == papers.c.content_hash,
                papers.c.hidden.is_(False),
            )
        )
        .order_by(embeddings.c.paper_id)
        .execution_options(yield_per=5000)
    )
    if since is not None:
        query = query.where(embeddings.c.updated_at > since)
    yield from conn.execute(query)
