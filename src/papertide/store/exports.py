"""The stored fields an export writes (export/), for papers in a given order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from papertide.store.queries import published_precision
from papertide.store.schema import papers

EXPORT_COLUMNS = (
    papers.c.id,
    papers.c.title,
    papers.c.authors,
    papers.c.published_at,
    papers.c.arxiv_id,
    papers.c.doi,
    papers.c.abs_url,
    papers.c.abstract,
    papers.c.categories,
    papers.c.keywords,
)


def papers_for_export(conn: Connection, ids: list[str]) -> list[dict[str, Any]]:
    """Visible papers among IDS in IDS' order, each with how precisely its date is known."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        query = select(*EXPORT_COLUMNS).where(
            papers.c.id.in_(ids[start : start + 900]), papers.c.hidden.is_(False)
        )
        found.update({row["id"]: dict(row) for row in conn.execute(query).mappings()})
    precision = published_precision(conn, list(found))
    return [
        {**found[pid], "published_precision": precision.get(pid, "day")}
        for pid in dict.fromkeys(ids)
        if pid in found
    ]
