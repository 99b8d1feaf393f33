"""Stored keywords and one-line summaries (table paper_extracts): which papers need them,
saving them, and reading them back for pages, the API and digests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from papertide.store import dialect
from papertide.store.schema import paper_extracts, papers
from papertide.store.writer import utcnow


def pending(
    conn: Connection,
    keyword_method: str,
    summary_model: str | None,
    limit: int,
    after: str | None = None,
) -> list[dict[str, Any]]:
    """Up to LIMIT visible papers, by id from after AFTER, whose extract is missing or made from
    other text, by another keyword method, for another summarizer (SUMMARY_MODEL: the LLM asked,
    None for extractive), or where that LLM failed last time (retried)."""
    stored = paper_extracts.c
    stale = [
        stored.paper_id.is_(None),
        stored.content_hash != papers.c.content_hash,
        stored.keyword_method != keyword_method,
        stored.summary_model.is_distinct_from(summary_model),
    ]
    if summary_model is not None:
        stale.append(stored.summary_error.is_not(None))
    query = (
        select(
            papers.c.id,
            papers.c.title,
            papers.c.abstract,
            papers.c.content_hash,
            stored.keywords.label("stored_keywords"),
            stored.summary.label("stored_summary"),
        )
        .select_from(papers.outerjoin(paper_extracts, stored.paper_id == papers.c.id))
        .where(
            papers.c.hidden.is_(False),
            or_(*stale),
        )
    )
    if after is not None:
        query = query.where(papers.c.id > after)
    return [dict(r) for r in conn.execute(query.order_by(papers.c.id).limit(limit)).mappings()]


def save(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store extracts (dicts with every paper_extracts column but computed_at)."""
    if rows:
        now = utcnow()
        statement = dialect.upsert(paper_extracts, conn.engine.name, ["paper_id"])
        conn.execute(statement, [{**row, "computed_at": now} for row in rows])


def touch(conn: Connection, paper_ids: list[str]) -> None:
    """Mark PAPER_IDS modified, so the keyword index (which indexes keywords) takes them in."""
    for start in range(0, len(paper_ids), 900):
        chunk = paper_ids[start : start + 900]
        conn.execute(update(papers).where(papers.c.id.in_(chunk)).values(modified_at=utcnow()))


def corpus_sample(conn: Connection, limit: int) -> list[str]:
    """Title and abstract of up to LIMIT of the newest visible papers: what word and phrase
    rarity is measured against."""
    query = (
        select(papers.c.title, papers.c.abstract)
        .where(papers.c.hidden.is_(False))
        .order_by(papers.c.published_at.is_(None), papers.c.published_at.desc(), papers.c.id)
        .limit(limit)
    )
    return [f"{title}. {abstract or ''}" for title, abstract in conn.execute(query)]


def of_papers(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored extract of each paper among IDS that has one: keywords, summary,
    summary_kind ("extractive" or "llm") and summary_model."""
    found: dict[str, dict[str, Any]] = {}
    columns = (
        paper_extracts.c.paper_id,
        paper_extracts.c.keywords,
        paper_extracts.c.summary,
        paper_extracts.c.summary_kind,
        paper_extracts.c.summary_model,
    )
    for start in range(0, len(ids), 900):
        query = select(*columns).where(paper_extracts.c.paper_id.in_(ids[start : start + 900]))
        for row in conn.execute(query).mappings():
            found[row["paper_id"]] = dict(row)
    return found

