"""Server-rendered HTML pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from papertide import __version__
from papertide.periods import neighbour_months, neighbour_weeks, supported
from papertide.rank import rankers, trending
from papertide.store import accounts, collections, library, queries, submissions
from papertide.web import discussion_view
from papertide.web.auth import current_user
from papertide.web.claims import paper_claims
from papertide.web.deps import papertide
from papertide.web.hf import with_extracts
from papertide.web.paging import Pager, start_of
from papertide.web.params import (
    LIST_PAGE_SIZE,
    MAX_SEARCH_DEPTH,
    SEARCH_PAGE_SIZE,
    Category,
    Day,
    Mode,
    Offset,
    PageNumber,
    SearchText,
    Sort,
)
from papertide.web.submissions import (
    SUBMITTED,
    View,
    chosen_view,
    default_view,
    submitted_papers,
    with_submissions,
)
from papertide.web.templating import render
from papertide.web.views import (
    period,
    period_papers,
    period_total,
    run_search,
    similar_papers,
    viewed_paper,
)

router = APIRouter(include_in_schema=False)
TRENDING_WINDOW = timedelta(days=7)
FAVICON = Path(__file__).parent / "static/favicon.ico"


@router.get("/")
def home(request: Request) -> Response:
    with papertide(request).engine.connect() as conn:
        newest = queries.newest_day(conn)
        if default_view(papertide(request)) == SUBMITTED:  # the newest day members submitted on
            newest = submissions.newest_submission_day(conn) or newest
    if newest is None:
        return render(request, "list.html", heading="No papers yet", papers=[], voted=set())
    return RedirectResponse(f"/day/{newest.isoformat()}", status_code=307)


@dataclass(frozen=True)
class Period:
    """A day, week or month list: its kind, URL and date range, and its neighbours' URLs."""

    kind: str  # day, week or month
    url: str
    start: datetime
    end: datetime
    previous_url: str | None
    next_url: str | None


def _list_page(
    request: Request,
    heading: str,
    shown: Period | None,
    start: Any,
    sort: str,
    page: int | None,
    offset: int | None,
    note: str | None = None,
    view: str | None = None,
) -> HTMLResponse:
    pt = papertide(request)
    first = start_of(page, offset, LIST_PAGE_SIZE)
    end = shown.end if shown else None
    shown_view = chosen_view(pt, view) if shown else None  # trending has one view
    if shown_view == SUBMITTED:
        rows, total = submitted_papers(pt, start, end, sort, first, LIST_PAGE_SIZE)
    else:
        rows = with_submissions(pt, period_papers(pt, start, end, sort, first, LIST_PAGE_SIZE))
        total = period_total(pt, start, end, sort)
    rows = with_extracts(pt, rows)
    pager = Pager.of(request, first, LIST_PAGE_SIZE, len(rows), total, first + len(rows) < total)
    return render(
        request,
        "list.html",
        heading=heading,
        papers=rows,
        pager=pager,
        period=shown,
        sort=sort,
        sorts=list(rankers.all_rankers()) if shown else [],
        voted=_voted(request, rows),
        note=note,
        view=shown_view,
        keep_view=bool(view),  # links to other days and sorts keep a view the request chose
    )


def _voted(request: Request, rows: list[dict[str, Any]]) -> set[str]:
    user = current_user(request)
    if user is None:
        return set()
    with papertide(request).engine.connect() as conn:
        return accounts.voted_papers(conn, user["id"], [r["id"] for r in rows])


@router.get("/trending")
def trending_page(request: Request, page: PageNumber = None, offset: Offset = None) -> HTMLResponse:
    pt = papertide(request)
    with pt.engine.connect() as conn:  # an empty week widens to the newest papers, saying so
        window = trending.window(conn, pt.clock.now(), TRENDING_WINDOW)
    heading = "Trending this week" if window.note is None else "Trending"
    return _list_page(
        request, heading, None, window.since, "trending", page, offset, note=window.note
    )


def _period(request: Request, kind: str, value: str, view: str | None = None) -> Period:
    pt = papertide(request)
    start, end = period(pt, *(value if k == kind else None for k in ("day", "week", "month")))
    if kind == "day":
        with pt.engine.connect() as conn:
            if chosen_view(pt, view) == SUBMITTED:  # days without submissions are skipped
                days = submissions.neighbour_submission_days(conn, start, end)
            else:
                days = queries.neighbour_days(conn, start, end)  # empty days are skipped
        neighbours = tuple(d.isoformat() if d and supported(d) else None for d in days)
    else:
        neighbours = (neighbour_weeks if kind == "week" else neighbour_months)(start)
    before, after = (f"/{kind}/{quote(n)}" if n else None for n in neighbours)
    return Period(kind, f"/{kind}/{quote(value)}", start, end, before, after)


@router.get("/day/{day}")
def day_page(
    request: Request,
    day: str,
    sort: Sort = "publishedAt",
    page: PageNumber = None,
    offset: Offset = None,
    view: View = None,
) -> HTMLResponse:
    shown = _period(request, "day", day, view)
    heading = f"Papers of {shown.start:%A %d %B %Y}"
    return _list_page(request, heading, shown, shown.start, sort, page, offset, view=view)


@router.get("/week/{week}")
def week_page(
    request: Request,
    week: str,
    sort: Sort = "publishedAt",
    page: PageNumber = None,
    offset: Offset = None,
    view: View = None,
) -> HTMLResponse:
    shown = _period(request, "week", week)
    iso_year, iso_week, _ = shown.start.isocalendar()
    heading = f"Week {iso_week} of {iso_year}"
    return _list_page(request, heading, shown, shown.start, sort, page, offset, view=view)


@router.get("/month/{month}")
def month_page(
    request: Request,
    month: str,
    sort: Sort = "publishedAt",
    page: PageNumber = None,
    offset: Offset = None,
    view: View = None,
) -> HTMLResponse:
    shown = _period(request, "month", month)
    heading = f"{shown.start:%B %Y}"
    return _list_page(request, heading, shown, shown.start, sort, page, offset, view=view)


# The date pickers' forms (a plain GET, no JavaScript) land here: the list of the day, or of
# the week or month holding the date picked; without a date, today's.
@router.get("/day")
def pick_day(request: Request, date: Day = None, view: View = None) -> RedirectResponse:
    day = _picked(request, date).isoformat()
    return RedirectResponse(f"/day/{day}{_view_query(request, view)}", status_code=307)


@router.get("/week")
def pick_week(request: Request, date: Day = None, view: View = None) -> RedirectResponse:
    week = f"{_picked(request, date):%G-W%V}"
    return RedirectResponse(f"/week/{week}{_view_query(request, view)}", status_code=307)


@router.get("/month")
def pick_month(request: Request, date: Day = None, view: View = None) -> RedirectResponse:
    month = f"{_picked(request, date):%Y-%m}"
    return RedirectResponse(f"/month/{month}{_view_query(request, view)}", status_code=307)


def _view_query(request: Request, view: str | None) -> str:
    """`?view=...` for a view the picker's form carried (checked), else nothing."""
    return f"?view={chosen_view(papertide(request), view)}" if view else ""


def _picked(request: Request, date: str | None) -> Any:
    """The day DATE names (today when not given), checked as every period is."""
    start, _end = period(papertide(request), date or "today", None, None)
    return start.date()


@router.get("/papers/{paper_id:path}")
def paper_page(request: Request, paper_id: str) -> HTMLResponse:
    return paper_view(request, paper_id)


def paper_view(
    request: Request, paper_id: str, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    """The paper page; EXTRA for its template (a comment form's error and draft)."""
    svc = papertide(request)
    paper = with_submissions(svc, with_extracts(svc, [viewed_paper(request, paper_id)]))[0]
    related = similar_papers(svc, request.app.state.similar_cache, paper["id"], 8)
    user = current_user(request)
    states, held = {}, set()
    if user is not None:
        with svc.engine.connect() as conn:
            states = library.states(conn, user["id"], [paper["id"]])
            held = collections.holding(conn, user["id"], [paper["id"]]).get(paper["id"], set())
    return render(
        request,
        "paper.html",
        status_code=status_code,
        paper=paper,
        similar=with_extracts(svc, [hit.paper for hit in related]),
        voted=_voted(request, [paper]),
        states=states,
        held=held,
        **discussion_view.page_context(request, paper["id"]),
        **extra,
        **paper_claims(request, paper["id"]),
    )


@router.get("/search")
def search_page(
    request: Request,
    q: SearchText = "",
    mode: Mode = "hybrid",
    since: Day = None,
    category: Category = None,
    page: PageNumber = None,
    offset: Offset = None,
) -> HTMLResponse:
    first = start_of(page, offset, SEARCH_PAGE_SIZE)
    hits, used_mode = [], mode
    error, status, found = None, 200, 0
    if (q.strip() or category or since) and first < MAX_SEARCH_DEPTH:
        try:  # one past the depth says whether more papers match
            hits, used_mode = run_search(
                papertide(request), q, mode, MAX_SEARCH_DEPTH + 1, since, category
            )
        except HTTPException as exc:  # shown on the page, with the status it would have had
            error, status = exc.detail, exc.status_code
        found = len(hits)
        hits = hits[first : min(first + SEARCH_PAGE_SIZE, MAX_SEARCH_DEPTH)]
    # counted up to the depth; past it, only "more than" is known and the pages stop there
    total = found if found <= MAX_SEARCH_DEPTH else None
    more = found > first + len(hits) and first + len(hits) < MAX_SEARCH_DEPTH
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
        pager=Pager.of(request, first, SEARCH_PAGE_SIZE, len(hits), total, more, MAX_SEARCH_DEPTH),
        error=error,
    )


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page says (pages link favicon.svg)."""
    return FileResponse(
        FAVICON, media_type="image/x-icon", headers={"Cache-Control": "max-age=86400"}
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
