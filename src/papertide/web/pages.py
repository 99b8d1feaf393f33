"""Server-rendered HTML pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from papertide import __version__
from papertide.periods import neighbour_months, neighbour_weeks, supported
from papertide.rank import rankers, trending
from papertide.store import accounts, library, queries
from papertide.web.auth import current_user
from papertide.web.deps import papertide
from papertide.web.params import Category, Day, Mode, SearchText, Sort
from papertide.web.templating import render
from papertide.web.views import period, period_papers, run_search, similar_papers, viewed_paper

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
TRENDING_WINDOW = timedelta(days=7)


@router.get("/")
def home(request: Request) -> Response:
    with papertide(request).engine.connect() as conn:
        newest = queries.newest_day(conn)
    if newest is None:
        return render(
            request,
            "list.html",
            heading="No papers yet",
            papers=[],
            sort="",
            previous=None,
            following=None,
            base="",
            voted=set(),
        )
    return RedirectResponse(f"/day/{newest.isoformat()}", status_code=307)


def _list_page(
    request: Request,
    heading: str,
    base: str,
    start: Any,
    end: Any,
    sort: str,
    neighbours: tuple[Any, Any] = (None, None),
) -> HTMLResponse:
    rows = period_papers(papertide(request), start, end, sort, 0, PAGE_SIZE)
    previous, following = neighbours
    return render(
        request,
        "list.html",
        heading=heading,
        papers=rows,
        sort=sort,
        sorts=list(rankers.all_rankers()),
        base=base,
        previous=previous,
        following=following,
        voted=_voted(request, rows),
    )


def _voted(request: Request, rows: list[dict[str, Any]]) -> set[str]:
    user = current_user(request)
    if user is None:
        return set()
    with papertide(request).engine.connect() as conn:
        return accounts.voted_papers(conn, user["id"], [r["id"] for r in rows])


@router.get("/trending")
def trending_page(request: Request) -> HTMLResponse:
    pt = papertide(request)
    with pt.engine.connect() as conn:  # an empty week widens to the newest papers, saying so
        window = trending.window(conn, pt.clock.now(), TRENDING_WINDOW)
    rows = period_papers(pt, window.since, None, "trending", 0, PAGE_SIZE)
    return render(
        request,
        "list.html",
        heading="Trending this week" if window.note is None else "Trending",
        note=window.note,
        papers=rows,
        sort="",
        base="",
        previous=None,
        following=None,
        voted=_voted(request, rows),
    )


def _links(kind: str, neighbours: tuple[Any, Any]) -> tuple[str | None, str | None]:
    return tuple(f"/{kind}/{n}" if n else None for n in neighbours)  # type: ignore[return-value]


@router.get("/day/{day}")
def day_page(request: Request, day: str, sort: Sort = "publishedAt") -> HTMLResponse:
    start, end = period(papertide(request), day, None, None)
    with papertide(request).engine.connect() as conn:
        before, after = queries.neighbour_days(conn, start, end)
    neighbours = _links(
        "day", tuple(d.isoformat() if d and supported(d) else None for d in (before, after))
    )
    return _list_page(
        request, f"Papers of {start:%A %d %B %Y}", f"/day/{day}", start, end, sort, neighbours
    )


@router.get("/week/{week}")
def week_page(request: Request, week: str, sort: Sort = "publishedAt") -> HTMLResponse:
    start, end = period(papertide(request), None, week, None)
    iso_year, iso_week, _ = start.isocalendar()
    neighbours = _links("week", neighbour_weeks(start))
    return _list_page(
        request, f"Week {iso_week} of {iso_year}", f"/week/{week}", start, end, sort, neighbours
    )


@router.get("/month/{month}")
def month_page(request: Request, month: str, sort: Sort = "publishedAt") -> HTMLResponse:
    start, end = period(papertide(request), None, None, month)
    neighbours = _links("month", neighbour_months(start))
    return _list_page(request, f"{start:%B %Y}", f"/month/{month}", start, end, sort, neighbours)


@router.get("/week")
def this_week(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/week/{papertide(request).clock.now():%G-W%V}", status_code=307)


@router.get("/month")
def this_month(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/month/{papertide(request).clock.now():%Y-%m}", status_code=307)


@router.get("/papers/{paper_id:path}")
def paper_page(request: Request, paper_id: str) -> HTMLResponse:
    svc = papertide(request)
    paper = viewed_paper(request, paper_id)
    related = similar_papers(svc, request.app.state.similar_cache, paper["id"], 8)
    user = current_user(request)
    states = {}
    if user is not None:
        with svc.engine.connect() as conn:
            states = library.states(conn, user["id"], [paper["id"]])
    return render(
        request,
        "paper.html",
        paper=paper,
        similar=related,
        voted=_voted(request, [paper]),
        states=states,
    )


@router.get("/search")
def search_page(
    request: Request,
    q: SearchText = "",
    mode: Mode = "hybrid",
    since: Day = None,
    category: Category = None,
) -> HTMLResponse:
    hits, used_mode = [], mode
    error, status = None, 200
    if q.strip() or category or since:
        try:
            hits, used_mode = run_search(papertide(request), q, mode, 20, since, category)
        except HTTPException as exc:  # shown on the page, with the status it would have had
            error, status = exc.detail, exc.status_code
    return render(
        request,
        "search.html",
        status_code=status,
        q=q,
        mode=mode,
        used_mode=used_mode,
        since=since or "",
        category=category or "",
        hits=hits,
        error=error,
    )


@router.get("/about")
def about(request: Request) -> HTMLResponse:
    with papertide(request).engine.connect() as conn:
        figures = queries.stats(conn)
    svc = papertide(request)
    embedder = svc.embedder()
    return render(
        request,
        "about.html",
        stats=figures,
        version=__version__,
        model=embedder.name if embedder else None,
        today=svc.clock.now().date(),
    )
