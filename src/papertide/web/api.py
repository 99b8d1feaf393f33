"""The JSON API under /api, including a Hugging Face-compatible /api/daily_papers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from papertide.store import accounts, queries
from papertide.web import hf, schemas
from papertide.web.accounts import api_user
from papertide.web.cursors import MAX_CURSOR_CHARS, decode_cursor, encode_cursor
from papertide.web.deps import papertide
from papertide.web.paging import start_of
from papertide.web.params import (
    MAX_PAGE,
    MAX_SEARCH_DEPTH,
    Category,
    Day,
    Mode,
    Month,
    Offset,
    PageNumber,
    SearchOffset,
    SearchText,
    Sort,
    Week,
)
from papertide.web.submissions import (
    SUBMITTED,
    Submitter,
    default_view,
    submitted_papers,
    with_submissions,
)
from papertide.web.views import (
    period,
    period_papers,
    period_total,
    run_search,
    similar_papers,
    viewed_paper,
)

router = APIRouter(prefix="/api", tags=["api"])


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value else None


def _paper_json(row: dict[str, Any], num_comments: int = 0) -> dict[str, Any]:
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
        "num_comments": num_comments,
    }


PAGING_PARAMS = ["page", "offset", "p"]


def _paged(
    request: Request,
    response: Response,
    at: Callable[[int], dict[str, int]],
    offset: int,
    limit: int,
    total: int | None,
    more: bool,
) -> None:
    """Paging in the headers, so the documented list answers keep their shape: the number of
    items the list holds as `X-Total-Count` (when it is counted), the neighbouring pages as an
    RFC 8288 `Link` (rel="prev", rel="next"); AT gives the query parameters of an offset."""
    if total is not None:
        response.headers["X-Total-Count"] = str(total)
    links = []
    if offset > 0:
        last_page = max(0, (total - 1) // limit * limit) if total is not None else offset
        links.append((min(max(0, offset - limit), last_page), "prev"))
    if more:
        links.append((offset + limit, "next"))
    base = request.url.remove_query_params(PAGING_PARAMS)
    if links:
        response.headers["Link"] = ", ".join(
            f'<{base.include_query_params(**at(where))}>; rel="{rel}"' for where, rel in links
        )


@router.get("/papers", response_model=list[schemas.Paper])
def list_papers(
    request: Request,
    response: Response,
    day: Day = None,
    week: Week = None,
    month: Month = None,
    sort: Sort = "publishedAt",
    offset: Offset = None,
    page: PageNumber = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(
        None,
        max_length=MAX_CURSOR_CHARS,
        description="cursor paging (newest first): empty for the first page, then the "
        "`cursor` of the `Link` rel=\"next\" URL; instead of page or offset",
    ),
) -> list[dict[str, Any]]:
    """Papers of a day, week or month (all papers when none is given), newest first or in
    another sort's order; `page` or `offset` with `limit` pages through them. The answer's
    `X-Total-Count` header is the number of papers in the list, `Link` the pages around.
    With `cursor` (newest first only) each page starts where the last one ended however
    papers arrive meanwhile, and costs the same however deep: the `Link` rel="next" URL
    carries the next cursor (no `X-Total-Count`), as Hugging Face's lists page."""
    pt = papertide(request)
    start, end = period(pt, day, week, month)
    if cursor is not None:
        if page is not None or offset is not None:
            raise HTTPException(400, "give cursor, or page or offset, not both")
        if sort != "publishedAt":
            raise HTTPException(400, "cursor paging is for sort=publishedAt")
        return _cursor_page(request, response, start, end, cursor, limit)
    first = start_of(page, offset, limit)
    rows = period_papers(pt, start, end, sort, first, limit)
    total = period_total(pt, start, end, sort)
    more = first + len(rows) < total
    _paged(request, response, lambda at: {"offset": at}, first, limit, total, more)
    counts = hf.comment_counts(papertide(request), [r["id"] for r in rows])
    return [_paper_json(r, counts.get(r["id"], 0)) for r in rows]


def _cursor_page(
    request: Request, response: Response, start: Any, end: Any, cursor: str, limit: int
) -> list[dict[str, Any]]:
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError:
        raise HTTPException(400, "cursor is not one this API gave") from None
    with papertide(request).engine.connect() as conn:
        rows = queries.papers_in_period(conn, start, end, 0, limit + 1, after=after)
    if len(rows) > limit:  # one more than asked says whether a next page exists
        rows = rows[:limit]
        last = rows[-1]
        following = request.url.include_query_params(
            cursor=encode_cursor(last["published_at"], last["id"])
        )
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [_paper_json(r) for r in rows]


@router.get("/papers/{paper_id:path}/similar", response_model=list[schemas.SearchHit])
def similar(request: Request, paper_id: str, k: int = Query(10, ge=1, le=100)) -> list[dict]:
    paper = viewed_paper(request, paper_id)
    cache = request.app.state.similar_cache
    return [hit.as_json() for hit in similar_papers(papertide(request), cache, paper["id"], k)]


@router.put("/papers/{paper_id:path}/hidden", response_model=schemas.PaperVisibility)
def set_hidden(request: Request, paper_id: str, visibility: schemas.Visibility) -> dict[str, Any]:
    """Hide a paper from everyone but admins, or show it again (admins only)."""
    if api_user(request)["role"] != "admin":
        raise HTTPException(403, "admins only")
    paper = viewed_paper(request, paper_id)
    with papertide(request).engine.begin() as conn:
        accounts.set_paper_hidden(conn, paper["id"], visibility.hidden)
    return {"id": paper["id"], "hidden": visibility.hidden}


@router.get("/papers/{paper_id:path}", response_model=schemas.PaperDetail)
def get_paper(request: Request, paper_id: str) -> dict[str, Any]:
    """One paper with its links and sources, and Hugging Face's fields (`authors` as
    `[{name}]`, the names as `author_names`). A hidden paper is a 404 except for admins."""
    pt = papertide(request)
    paper = hf.with_extracts(pt, [viewed_paper(request, paper_id)])[0]
    comments = hf.comment_counts(pt, [paper["id"]])[paper["id"]]
    return {
        **_paper_json(paper, comments),
        "hidden": paper["hidden"],
        "updated_at": _iso(paper["updated_at"]),
        "pdf_url": paper["pdf_url"],
        "doi": paper["doi"],
        "arxiv_id": paper["arxiv_id"],
        "sources": [{"source": s["source"], "source_id": s["source_id"]} for s in paper["sources"]],
        **hf.hf_fields(paper, comments),
        "author_names": paper["authors"],
    }


@router.get("/search", response_model=list[schemas.SearchHit])
def search(
    request: Request,
    response: Response,
    q: SearchText = "",
    mode: Mode = "hybrid",
    k: int = Query(10, ge=1, le=100, description="results per page"),
    since: Day = None,
    category: Category = None,
    offset: SearchOffset = None,
    page: PageNumber = None,
) -> list[dict[str, Any]]:
    """Keyword, semantic or hybrid search; the same shape as `papertide search --json`.
    `page` or `offset` reads on past the first K results, as deep as the best 200 (every page
    is cut from that one ranking); `Link` points at the next page while there is one."""
    first = start_of(page, offset, k)
    hits = []
    if first < MAX_SEARCH_DEPTH:  # one past the depth says whether more papers match
        hits, _mode = run_search(papertide(request), q, mode, MAX_SEARCH_DEPTH + 1, since, category)
    shown = hits[first : min(first + k, MAX_SEARCH_DEPTH)]
    more = len(hits) > first + len(shown) and first + len(shown) < MAX_SEARCH_DEPTH
    _paged(request, response, lambda at: {"offset": at}, first, k, None, more)
    return [hit.as_json() for hit in shown]


@router.get("/daily_papers", response_model=list[schemas.HfDailyPaper])
def daily_papers(
    request: Request,
    response: Response,
    date: Day = None,
    week: Week = None,
    month: Month = None,
    sort: Sort = "publishedAt",
    p: int = Query(0, ge=0, le=MAX_PAGE, description="page number, from 0"),
    limit: int = Query(50, ge=1, le=100),
    submitter: Submitter = None,
) -> list[dict[str, Any]]:
    """Items shaped like Hugging Face's `/api/daily_papers`, so its clients work unchanged:
    page `p` (from 0) of `limit` items; `X-Total-Count` and `Link` headers as /api/papers.
    An instance whose default view is the curated one (PAPERTIDE_DEFAULT_VIEW) lists the
    submitted papers, by submission time, as Hugging Face does; `submitter` lists only one
    member's (or Hugging Face user's) submissions. Each item says who submitted it and when
    (`submittedBy`, `submittedOnDailyAt`), null for a paper nobody submitted."""
    pt = papertide(request)
    start, end = period(pt, date, week, month)
    curated = submitter is not None or default_view(pt) == SUBMITTED
    if curated:
        rows, total = submitted_papers(pt, start, end, sort, p * limit, limit, submitter)
    else:
        rows = with_submissions(pt, period_papers(pt, start, end, sort, p * limit, limit))
        total = period_total(pt, start, end, sort)
    more = p * limit + len(rows) < total
    _paged(request, response, lambda at: {"p": at // limit}, p * limit, limit, total, more)
    return hf.daily_items(pt, rows, curated)
