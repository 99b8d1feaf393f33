"""The JSON API under /api, including a Hugging Face-compatible /api/daily_papers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from papertide.store import accounts
from papertide.web.accounts import api_user
from papertide.web.deps import papertide
from papertide.web.params import (
    MAX_OFFSET,
    MAX_PAGE,
    Category,
    Day,
    Mode,
    Month,
    SearchText,
    Sort,
    Week,
)
from papertide.web.views import period, period_papers, run_search, similar_papers, viewed_paper

router = APIRouter(prefix="/api", tags=["api"])


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
    day: Day = None,
    week: Week = None,
    month: Month = None,
    sort: Sort = "publishedAt",
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """Papers of a day, week or month (all papers when none is given), newest first or in
    another sort's order."""
    pt = papertide(request)
    start, end = period(pt, day, week, month)
    rows = period_papers(pt, start, end, sort, offset, limit)
    return [_paper_json(r) for r in rows]


@router.get("/papers/{paper_id:path}/similar")
def similar(request: Request, paper_id: str, k: int = Query(10, ge=1, le=100)) -> list[dict]:
    paper = viewed_paper(request, paper_id)
    cache = request.app.state.similar_cache
    return [hit.as_json() for hit in similar_papers(papertide(request), cache, paper["id"], k)]


class Visibility(BaseModel):
    hidden: bool


@router.put("/papers/{paper_id:path}/hidden")
def set_hidden(request: Request, paper_id: str, visibility: Visibility) -> dict[str, Any]:
    """Hide a paper from everyone but admins, or show it again (admins only)."""
    if api_user(request)["role"] != "admin":
        raise HTTPException(403, "admins only")
    paper = viewed_paper(request, paper_id)
    with papertide(request).engine.begin() as conn:
        accounts.set_paper_hidden(conn, paper["id"], visibility.hidden)
    return {"id": paper["id"], "hidden": visibility.hidden}


@router.get("/papers/{paper_id:path}")
def get_paper(request: Request, paper_id: str) -> dict[str, Any]:
    """One paper with its links and sources. A hidden paper is a 404 except for admins."""
    paper = viewed_paper(request, paper_id)
    return {
        **_paper_json(paper),
        "hidden": paper["hidden"],
        "updated_at": _iso(paper["updated_at"]),
        "pdf_url": paper["pdf_url"],
        "doi": paper["doi"],
        "arxiv_id": paper["arxiv_id"],
        "sources": [{"source": s["source"], "source_id": s["source_id"]} for s in paper["sources"]],
    }


@router.get("/search")
def search(
    request: Request,
    q: SearchText = "",
    mode: Mode = "hybrid",
    k: int = Query(10, ge=1, le=100),
    since: Day = None,
    category: Category = None,
) -> list[dict[str, Any]]:
    """Keyword, semantic or hybrid search; the same shape as `papertide search --json`."""
    hits, _mode = run_search(papertide(request), q, mode, k, since, category)
    return [hit.as_json() for hit in hits]


@router.get("/daily_papers")
def daily_papers(
    request: Request,
    date: Day = None,
    week: Week = None,
    month: Month = None,
    sort: Sort = "publishedAt",
    p: int = Query(0, ge=0, le=MAX_PAGE, description="page number, from 0"),
    limit: int = Query(50, ge=1, le=100),
) -> list[dict[str, Any]]:
    """Items shaped like Hugging Face's `/api/daily_papers`, so its clients work unchanged."""
    pt = papertide(request)
    start, end = period(pt, date, week, month)
    rows = period_papers(pt, start, end, sort, p * limit, limit)
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
