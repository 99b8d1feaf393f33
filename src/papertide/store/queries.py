"""Reading papers back: by id (aliases included), by period, and database statistics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, and_, cast, func, or_, select
from sqlalchemy.engine import Connection

from papertide.periods import AFTER_LATEST, EARLIEST
from papertide.records import normalize_arxiv_id, normalize_doi
from papertide.store.jobs import describe_job
from papertide.store.schema import (
    ingest_runs,
    paper_extracts,
    paper_keys,
    paper_sources,
    papers,
    upvotes,
    users,
)

# SQLite integers are 64-bit: a larger id, offset or limit is "none" or "all", not an overflow.
SQL_INT_MAX = 2**63 - 1


def sql_int(value: int) -> int:
    """VALUE within what SQLite can bind as an offset or a limit."""
    return min(max(value, 0), SQL_INT_MAX)


def resolve_id(conn: Connection, ref: str, include_hidden: bool = False) -> str | None:
    """The paper id for an id, a former id, an arXiv id with version, or a DOI. A paper an
    admin has hidden is found only with INCLUDE_HIDDEN: to everyone else it does not exist
    (no page, no votes, no saves, no similar papers)."""
    paper_id = _find_id(conn, ref.strip())
    if paper_id is None or include_hidden:
        return paper_id
    query = select(papers.c.id).where(papers.c.id == paper_id, papers.c.hidden.is_(False))
    return conn.execute(query).scalar_one_or_none()


def _find_id(conn: Connection, ref: str) -> str | None:
    if conn.execute(select(papers.c.id).where(papers.c.id == ref)).first():
        return ref
    candidates = [f"id:{ref}"]
    arxiv_id = normalize_arxiv_id(ref)
    if arxiv_id:
        candidates.append(f"arxiv:{arxiv_id}")
    doi = normalize_doi(ref.removeprefix("doi:"))
    if doi:
        candidates.append(f"doi:{doi}")
    for key in candidates:
        owner = conn.execute(
            select(paper_keys.c.paper_id).where(paper_keys.c.key == key)
        ).scalar_one_or_none()
        if owner:
            return owner
    return None


def counted_votes() -> Any:
    """Votes that count: those of users whose votes an admin has not hidden."""
    return upvotes.join(users, (users.c.id == upvotes.c.user_id) & users.c.votes_hidden.is_(False))


def get_paper(conn: Connection, ref: str, include_hidden: bool = False) -> dict[str, Any] | None:
    """One paper with its sources, or None (hidden papers too with INCLUDE_HIDDEN)."""
    paper_id = resolve_id(conn, ref, include_hidden)
    if paper_id is None:
        return None
    row = conn.execute(select(papers).where(papers.c.id == paper_id)).mappings().one()
    paper = dict(row)
    sources = conn.execute(
        select(
            paper_sources.c.source,
            paper_sources.c.source_id,
            paper_sources.c.first_seen_at,
            paper_sources.c.last_seen_at,
        )
        .where(paper_sources.c.paper_id == paper_id)
        .order_by(paper_sources.c.first_seen_at, paper_sources.c.id)
    ).mappings()
    paper["sources"] = [dict(s) for s in sources]
    paper["votes"] = conn.execute(
        select(func.count()).select_from(counted_votes()).where(upvotes.c.paper_id == paper_id)
    ).scalar_one()
    return paper


LIST_COLUMNS = (
    papers.c.id,
    papers.c.title,
    papers.c.authors,
    papers.c.published_at,
    papers.c.categories,
    papers.c.abs_url,
    papers.c.code_urls,
    papers.c.upstream_upvotes,
)


def _in_period(query: Select, start: datetime | None, end: datetime | None) -> Select:
    """Visible papers of [start, end) (open ends when None), newest first, undated last."""
    query = query.where(papers.c.hidden.is_(False))
    if start is not None:
        query = query.where(papers.c.published_at >= start)
    if end is not None:
        query = query.where(papers.c.published_at < end)
    return query.order_by(
        papers.c.published_at.is_(None), papers.c.published_at.desc(), papers.c.id
    )


def list_papers(
    conn: Connection,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Visible papers published in [start, end), newest first; undated papers last."""
    query = _in_period(select(*LIST_COLUMNS), start, end)
    if limit is not None:
        query = query.limit(sql_int(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def stats(conn: Connection) -> dict[str, Any]:
    def count(table: Any) -> int:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()

    by_source = conn.execute(
        select(paper_sources.c.source, func.count(func.distinct(paper_sources.c.paper_id)))
        .group_by(paper_sources.c.source)
        .order_by(paper_sources.c.source)
    )
    dates = conn.execute(select(func.min(papers.c.published_at), func.max(papers.c.published_at)))
    oldest, newest = dates.one()
    last_run = (
        conn.execute(
            select(ingest_runs)
            .where(ingest_runs.c.finished_at.is_not(None))
            .order_by(ingest_runs.c.finished_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return {
        "papers": count(papers),
        "sources": count(paper_sources),
        "papers_by_source": {source: n for source, n in by_source},
        "with_abstract": conn.execute(
            select(func.count()).select_from(papers).where(papers.c.abstract != "")
        ).scalar_one(),
        "with_code": conn.execute(
            # as text: PostgreSQL has no json-to-jsonb comparison, and '[]' reads alike in both
            select(func.count()).select_from(papers).where(cast(papers.c.code_urls, Text) != "[]")
        ).scalar_one(),
        "oldest_published": oldest,
        "newest_published": newest,
        "users": count(users),
        "upvotes": count(upvotes),
        "last_import": _last_import(last_run) if last_run else None,
    }


def _last_import(run: Any) -> dict[str, Any]:
    """The newest finished import or sync: its job name (`source`), what that was in words,
    when it finished (UTC) and what it counted."""
    counts = {key: run[key] for key in ("new", "updated", "duplicates", "rejected")}
    return {
        "source": run["source"],
        "what": describe_job(run["source"]),
        "finished_at": run["finished_at"],
        **counts,
    }


PRECISIONS = ("day", "month", "year")  # finest first, as records.py ranks them


def published_precision(conn: Connection, ids: list[str]) -> dict[str, str]:
    """How precisely each paper's publication date is known (day, month or year): the finest
    among its sources' records, as merging picks the date (a BibTeX `year` alone is a year)."""
    record = paper_sources.c.record
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(paper_sources.c.paper_id, record["published_precision"].as_string()).where(
                paper_sources.c.paper_id.in_(ids[start : start + 500]),
                record["published_at"].as_string().is_not(None),
            )
        )
        for paper_id, precision in rows:
            rank = PRECISIONS.index(precision) if precision in PRECISIONS else 0
            if paper_id not in found or rank < PRECISIONS.index(found[paper_id]):
                found[paper_id] = PRECISIONS[rank]
    return found


def paper_published_at(conn: Connection, when: datetime) -> str | None:
    """The id of a paper published at WHEN (to ask how precisely that date is known)."""
    query = select(papers.c.id).where(papers.c.published_at == when).limit(1)
    return conn.execute(query).scalar_one_or_none()


INDEX_COLUMNS = (
    papers.c.id,
    papers.c.title,
    papers.c.abstract,
    papers.c.authors,
    papers.c.categories,
    papers.c.published_at,
    papers.c.hidden,
    papers.c.modified_at,
)


def latest_modification(conn: Connection) -> datetime | None:
    return conn.execute(select(func.max(papers.c.modified_at))).scalar_one()


def modified_since(conn: Connection, watermark: datetime | None) -> Iterator[dict[str, Any]]:
    """Papers changed after WATERMARK (all papers when None), oldest change first, streamed,
    with their derived keywords and summary (store/extracts.py) when they have them."""
    query = (
        select(
            *INDEX_COLUMNS,
            papers.c.keywords,
            paper_extracts.c.keywords.label("derived_keywords"),
            paper_extracts.c.summary,
            paper_extracts.c.summary_kind,
        )
        .select_from(papers.outerjoin(paper_extracts, paper_extracts.c.paper_id == papers.c.id))
        .order_by(papers.c.modified_at, papers.c.id)
    )
    if watermark is not None:
        query = query.where(papers.c.modified_at > watermark)
    for row in conn.execute(query.execution_options(yield_per=2000)).mappings():
        yield dict(row)


def count_modified_since(conn: Connection, watermark: datetime | None) -> int:
    query = select(func.count()).select_from(papers)
    if watermark is not None:
        query = query.where(papers.c.modified_at > watermark)
    return conn.execute(query).scalar_one()


def summaries(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Title and list fields of visible papers among IDS, for showing search results."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        query = select(*LIST_COLUMNS).where(
            papers.c.id.in_(ids[start : start + 900]), papers.c.hidden.is_(False)
        )
        found.update({row["id"]: dict(row) for row in conn.execute(query).mappings()})
    return found


def vote_counts(conn: Connection, ids: list[str]) -> dict[str, int]:
    """papertide votes per paper among IDS (papers without votes are absent)."""
    counts: dict[str, int] = {}
    for start in range(0, len(ids), 900):
        query = (
            select(upvotes.c.paper_id, func.count())
            .select_from(counted_votes())
            .where(upvotes.c.paper_id.in_(ids[start : start + 900]))
            .group_by(upvotes.c.paper_id)
        )
        counts.update({paper_id: n for paper_id, n in conn.execute(query)})
    return counts


def text_of(conn: Connection, paper_id: str) -> tuple[str, str] | None:
    row = conn.execute(
        select(papers.c.title, papers.c.abstract).where(papers.c.id == paper_id)
    ).first()
    return (row[0], row[1]) if row else None


FEED_COLUMNS = (
    *LIST_COLUMNS,
    papers.c.first_seen_at,
    papers.c.abstract,
    papers.c.project_url,
    papers.c.github_stars,
    papers.c.keywords,
)


def papers_in_period(
    conn: Connection,
    start: datetime | None,
    end: datetime | None,
    offset: int = 0,
    limit: int = 50,
    after: tuple[datetime | None, str] | None = None,
) -> list[dict[str, Any]]:
    """Visible papers of [start, end) with their counted votes, newest first; AFTER
    (published_at, id) keeps only those that come after that paper in this order."""
    votes = (
        select(upvotes.c.paper_id, func.count().label("votes"))
        .select_from(counted_votes())
        .group_by(upvotes.c.paper_id)
        .subquery()
    )
    vote_count = func.coalesce(votes.c.votes, 0)
    query = _in_period(
        select(*FEED_COLUMNS, vote_count.label("votes")).select_from(
            papers.outerjoin(votes, votes.c.paper_id == papers.c.id)
        ),
        start,
        end,
    )
    if after is not None:
        query = query.where(_after(*after))
    query = query.offset(sql_int(offset)).limit(sql_int(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def _after(published_at: datetime | None, paper_id: str) -> Any:
    """Papers after (PUBLISHED_AT, PAPER_ID) in `_in_period`'s order: newer dates first, undated
    papers last, ties by id."""
    when = papers.c.published_at
    if published_at is None:
        return and_(when.is_(None), papers.c.id > paper_id)
    return or_(
        when < published_at,
        and_(when == published_at, papers.c.id > paper_id),
        when.is_(None),
    )


def count_in_period(conn: Connection, start: datetime | None, end: datetime | None) -> int:
    """How many visible papers [start, end) holds: the total that list pages count through."""
    query = _in_period(select(func.count()).select_from(papers), start, end).order_by(None)
    return conn.execute(query).scalar_one()


def papers_by_ids(conn: Connection, ids: list[str]) -> list[dict[str, Any]]:
    """Feed fields of visible papers among IDS (any order)."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 900):
        query = select(*FEED_COLUMNS).where(
            papers.c.id.in_(ids[start : start + 900]), papers.c.hidden.is_(False)
        )
        rows.extend(dict(r) for r in conn.execute(query).mappings())
    return rows


def _listable() -> Any:
    """Visible papers dated inside the supported years (periods.py), which list pages and
    feeds link to; a date outside them could only lead to a page that refuses it."""
    return (
        papers.c.hidden.is_(False),
        papers.c.published_at >= EARLIEST,
        papers.c.published_at < AFTER_LATEST,
    )


def neighbour_days(conn: Connection, start: datetime, end: datetime) -> tuple[Any, Any]:
    """The nearest earlier and later publication days that have papers (skipping empty days)."""
    before = conn.execute(
        select(func.max(papers.c.published_at)).where(*_listable(), papers.c.published_at < start)
    ).scalar_one()
    after = conn.execute(
        select(func.min(papers.c.published_at)).where(*_listable(), papers.c.published_at >= end)
    ).scalar_one()
    return (before.date() if before else None, after.date() if after else None)


def newest_day(conn: Connection) -> Any:
    newest = conn.execute(select(func.max(papers.c.published_at)).where(*_listable())).scalar_one()
    return newest.date() if newest else None


def pick_papers(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """List fields and first sighting of visible papers among IDS: a feed's picks."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        query = select(*LIST_COLUMNS, papers.c.first_seen_at).where(
            papers.c.id.in_(ids[start : start + 900]), papers.c.hidden.is_(False)
        )
        found.update({row["id"]: dict(row) for row in conn.execute(query).mappings()})
    return found


def has_papers(conn: Connection, since: datetime | None = None) -> bool:
    """Whether any visible paper is stored (published, or undated and first seen, since SINCE)."""
    query = select(papers.c.id).where(papers.c.hidden.is_(False))
    if since is not None:
        query = query.where(func.coalesce(papers.c.published_at, papers.c.first_seen_at) >= since)
    return conn.execute(query.limit(1)).first() is not None


def summaries_with_abstracts(conn: Connection, ids: list[str]) -> dict[str, tuple[str, str]]:
    """(title, abstract) of visible papers among IDS."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 900):
        query = select(papers.c.id, papers.c.title, papers.c.abstract).where(
            papers.c.id.in_(ids[start : start + 900]), papers.c.hidden.is_(False)
        )
        found.update({pid: (title, abstract or "") for pid, title, abstract in conn.execute(query)})
    return found
