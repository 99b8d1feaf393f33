"""Stored topics: their labels, centroids and map positions, and which paper is in which."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from papertide.store.queries import SQL_INT_MAX, sql_int
from papertide.store.schema import paper_topics, papers, topics

TOPIC_COLUMNS = (topics.c.id, topics.c.label, topics.c.terms, topics.c.size, topics.c.x, topics.c.y)


def replace_all(
    conn: Connection, rows: list[dict[str, Any]], members: list[dict[str, Any]]
) -> None:
    """Swap in a new topic model (inside the caller's transaction: readers see old or new)."""
    conn.execute(delete(paper_topics))
    conn.execute(delete(topics))
    if rows:
        conn.execute(topics.insert(), rows)
    for start in range(0, len(members), 5000):
        conn.execute(paper_topics.insert(), members[start : start + 5000])


def add_members(conn: Connection, members: list[dict[str, Any]]) -> None:
    if not members:
        return
    conn.execute(paper_topics.insert(), members)
    sizes = {}
    for member in members:
        sizes[member["topic_id"]] = sizes.get(member["topic_id"], 0) + 1
    for topic_id, added in sizes.items():
        conn.execute(
            topics.update().where(topics.c.id == topic_id).values(size=topics.c.size + added)
        )


def centroids(conn: Connection) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    rows = [dict(r) for r in conn.execute(select(*TOPIC_COLUMNS, topics.c.centroid)).mappings()]
    if not rows:
        return [], None
    matrix = np.stack([np.frombuffer(r.pop("centroid"), dtype="<f4") for r in rows])
    return rows, matrix


def unassigned(conn: Connection) -> list[str]:
    """Visible papers in no topic yet."""
    query = (
        select(papers.c.id)
        .select_from(papers.outerjoin(paper_topics, paper_topics.c.paper_id == papers.c.id))
        .where(papers.c.hidden.is_(False), paper_topics.c.paper_id.is_(None))
    )
    return list(conn.execute(query).scalars())


def all_topics(conn: Connection) -> list[dict[str, Any]]:
    # id breaks ties: PostgreSQL and SQLite return equal sizes in different orders
    query = select(*TOPIC_COLUMNS, topics.c.computed_at).order_by(topics.c.size.desc(), topics.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def get(conn: Connection, topic_id: int) -> dict[str, Any] | None:
    if not 0 <= topic_id <= SQL_INT_MAX:
        return None  # no topic has an id SQLite cannot even hold
    row = conn.execute(select(*TOPIC_COLUMNS).where(topics.c.id == topic_id)).mappings().first()
    return dict(row) if row else None


def papers_of(conn: Connection, topic_id: int, limit: int = 100) -> list[str]:
    """Ids of a topic's visible papers, newest first."""
    query = (
        select(papers.c.id)
        .select_from(paper_topics.join(papers, papers.c.id == paper_topics.c.paper_id))
        .where(paper_topics.c.topic_id == topic_id, papers.c.hidden.is_(False))
        .order_by(papers.c.published_at.is_(None), papers.c.published_at.desc(), papers.c.id)
        .limit(sql_int(limit))
    )
    return list(conn.execute(query).scalars())


def map_points(conn: Connection, limit: int) -> list[tuple[float, float, int]]:
    """(x, y, topic) of up to LIMIT papers, an even spread over the table."""
    total = conn.execute(select(func.count()).select_from(paper_topics)).scalar_one()
    step = max(1, total // max(limit, 1))
    query = select(paper_topics.c.x, paper_topics.c.y, paper_topics.c.topic_id).order_by(
        paper_topics.c.paper_id
    )
    return [tuple(r) for i, r in enumerate(conn.execute(query)) if i % step == 0][:limit]
