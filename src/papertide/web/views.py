"""Shared request helpers: parsing periods and filters, reading results for pages and API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import HTTPException, Request

from papertide.periods import PeriodError, period_range
from papertide.rank import trending
from papertide.search.hybrid import (
    Hit,
    SearchError,
    search,
    similar,
    stored_similar,
    usable_mode,
)
from papertide.search.keyword import Filters
from papertide.store import queries
from papertide.web.app import Services


def services(request: Request) -> Services:
    return request.app.state.services


def period(day: str | None, week: str | None, month: str | None) -> tuple[Any, Any]:
    """(start, end) of the one period given; 400 for unreadable or conflicting ones."""
    try:
        return period_range(day, week, month)
    except PeriodError as exc:
        raise HTTPException(400, str(exc)) from exc


TRENDING_POOL = 2000


def period_papers(
    svc: Services, start: Any, end: Any, sort: str, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Papers of a period by date, or by trending score (rank.trending) over its newest
    TRENDING_POOL papers."""
    if sort not in ("publishedAt", "trending"):
        raise HTTPException(400, "sort is publishedAt or trending")
    with svc.engine.connect() as conn:
        if sort == "publishedAt":
            return queries.papers_in_period(conn, start, end, offset, limit)
        pool = queries.papers_in_period(conn, start, end, 0, TRENDING_POOL)
    ids, _scores = trending.rank(pool, datetime.now(UTC).replace(tzinfo=None))
    by_id = {row["id"]: row for row in pool}
    return [by_id[i] for i in ids[offset : offset + limit]]


def day_start(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(400, f"not a day (YYYY-MM-DD): {value!r}") from exc
    return datetime(parsed.year, parsed.month, parsed.day)


def run_search(
    svc: Services, q: str, mode: str, k: int, since: str | None, category: str | None
) -> tuple[list[Hit], str]:
    """Search as the CLI does; hybrid falls back to keyword when no model is prepared."""
    try:
        usable_mode(mode, has_embedder=True)
    except SearchError as exc:
        raise HTTPException(400, str(exc)) from exc
    embedder = svc.embedder() if mode != "keyword" else None
    mode = usable_mode(mode, embedder is not None)
    if embedder is None and mode == "semantic":
        raise HTTPException(503, "semantic search needs the embedding model")
    svc.refresh_indexes()
    filters = Filters(since=day_start(since), category=category or None)
    try:
        return search(svc.engine, svc.indexes, q, mode, k, filters, embedder), mode  # type: ignore[arg-type]
    except SearchError as exc:
        raise HTTPException(400, str(exc)) from exc


def similar_papers(svc: Services, paper_id: str, k: int) -> list[Hit]:
    """Stored lists when `papertide index` computed them, else computed here and cached."""
    embedder = svc.embedder()
    svc.refresh_indexes()
    stored = stored_similar(svc.engine, svc.indexes, paper_id, k)
    if stored is not None:
        return stored

    def compute() -> list[Hit]:
        mode = "hybrid" if embedder else "keyword"
        try:
            return similar(svc.engine, svc.indexes, paper_id, k, mode, embedder)
        except SearchError:
            return []

    return svc.cached_similar(f"{paper_id}|{k}", compute)
