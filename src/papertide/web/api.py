"""The JSON API under /api, including a Hugging Face-compatible /api/daily_papers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from papertide.store import queries
from papertide.web.deps import papertide
from papertide.web.views import period, period_papers, run_search, similar_papers

router = APIRouter(prefix="/api", tags=["api"])
# The sorts are the registered rankers (rank/rankers.py), so they are checked per request.
SORT_HELP = "publishedAt, trending, or another registered ranker's name"


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value else None


def _paper_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "abstract": row.get("abstract", ""),
        "authors": row["authors"],
        "published_at": _iso(row["published_at"]),
        "categories": row["categories"],
        "abs_url": row["abs_url"],
        "code_urls": row["code_urls"],
        "project_url": row.get("project_url"),
        "upstream_upvotes": row["upstream_upvotes"],
        "votes": row.get("votes", 0),
    }


@router.get("/papers")
def list_papers(
    request: Request,
    day: str | None = Query(None, description="YYYY-MM-DD"),
    week: str | None = Query(None, description="ISO week YYYY-Www"),
    month: str | None = Query(None, description="YYYY-MM"),
    sort: str = Query("publishedAt", description=SORT_HELP),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """Papers of a day, week or month (all papers when none is given), newest first or in
    another sort's order."""
    start, end = period(day, week, month)
    rows = period_papers(papertide(request), start, end, sort, offset, limit)
    return [_paper_json(r) for r in rows]


@router.get("/papers/{paper_id:path}/similar")
def similar(request: Request, paper_id: str, k: int = Query(10, ge=1, le=100)) -> list[dict]:
    svc = papertide(request)
    with svc.engine.connect() as conn:
        if queries.resolve_id(conn, paper_id) is None:
            raise HTTPException(404, f"no paper with id {paper_id!r}")
    cache = request.app.state.similar_cache
    return [hit.as_json() for hit in similar_papers(svc, cache, paper_id, k)]


@router.get("/papers/{paper_id:path}")
def get_paper(request: Request, paper_id: str) -> dict[str, Any]:
    with papertide(request).engine.connect() as conn:
        paper = queries.get_paper(conn, paper_id)
    if paper is None:
        raise HTTPException(404, f"no paper with id {paper_id!r}")
    return {
        **_paper_json(paper),
        "updated_at": _iso(paper["updated_at"]),
        "pdf_url": paper["pdf_url"],
        "doi": paper["doi"],
        "arxiv_id": paper["arxiv_id"],
        "sources": [{"source": s["source"], "source_id": s["source_id"]} for s in paper["sources"]],
    }


@router.get("/search")
def search(
    request: Request,
    q: str = "",
    mode: str = "hybrid",
    k: int = Query(10, ge=1, le=100),
    since: str | None = None,
    category: str | None = None,
) -> list[dict[str, Any]]:
    """Keyword, semantic or hybrid search; the same shape as `papertide search --json`."""
    hits, _mode = run_search(papertide(request), q, mode, k, since, category)
    return [hit.as_json() for hit in hits]


@router.get("/daily_papers")
def daily_papers(
    request: Request,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    sort: str = Query("publishedAt", description=SORT_HELP),
    p: int = Query(0, ge=0, description="page number, from 0"),
    limit: int = Query(50, ge=1, le=100),
) -> list[dict[str, Any]]:
    """Items shaped like Hugging Face's `/api/daily_papers`, so its clients work unchanged."""
    start, end = period(date, week, month)
    rows = period_papers(papertide(request), start, end, sort, p * limit, limit)
    items = []
    for row in rows:
        published = _iso(row["published_at"])
        upvotes = (row["upstream_upvotes"] or 0) + row["votes"]
        github = next((u for u in row["code_urls"] if "github.com" in u), None)
        paper = {
            "id": row["id"],
            "authors": [{"name": name} for name in row["authors"]],
            "publishedAt": published,
            "title": row["title"],
            "summary": row["abstract"],
            "upvotes": upvotes,
            "githubRepo": github,
            "githubStars": row["github_stars"],
            "projectPage": row["project_url"],
            "ai_keywords": row["keywords"],
        }
        items.append(
            {
                "paper": paper,
                "publishedAt": published,
                "title": row["title"],
                "summary": row["abstract"],
                "numComments": 0,
            }
        )
    return items
