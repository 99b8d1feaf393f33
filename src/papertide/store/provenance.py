"""Papers by the source they came from."""

from __future__ import annotations

from sqlalchemy import exists, select, update
from sqlalchemy.engine import Connection

from papertide.store.schema import paper_sources, papers
from papertide.store.writer import utcnow


def papers_from(conn: Connection, source: str) -> dict[str, str]:
    """source id -> paper id of every paper that SOURCE's records were merged into."""
    query = select(paper_sources.c.source_id, paper_sources.c.paper_id).where(
        paper_sources.c.source == source
    )
    return {source_id: paper_id for source_id, paper_id in conn.execute(query)}


def shows_papers_from(conn: Connection, source: str) -> bool:
    """Whether any paper that everyone can see came (also) from SOURCE."""
    query = select(
        exists().where(
            paper_sources.c.source == source,
            paper_sources.c.paper_id == papers.c.id,
            papers.c.hidden.is_(False),
        )
    )
    return bool(conn.execute(query).scalar())


def set_hidden(conn: Connection, paper_ids: list[str], hidden: bool) -> int:
    """Hide or show PAPER_IDS; bumps modified_at so the indexes drop or restore them."""
    changed = 0
    for start in range(0, len(paper_ids), 900):
        chunk = paper_ids[start : start + 900]
        result = conn.execute(
            update(papers)
            .where(papers.c.id.in_(chunk), papers.c.hidden.is_not(hidden))
            .values(hidden=hidden, modified_at=utcnow())
        )
        changed += result.rowcount
    return changed
