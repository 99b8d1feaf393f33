"""RSS 2.0 and Atom feeds: the newest day, trending papers and any search (feedgen)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from papertide.periods import day_range
from papertide.store import queries
from papertide.web.deps import papertide
from papertide.web.views import period_papers, run_search

router = APIRouter(prefix="/feeds", tags=["feeds"])
FORMATS = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
FEED_SIZE = 50


def _feed(
    request: Request, kind: str, title: str, path: str, papers: list[dict[str, Any]], fmt: str
) -> Response:
    if fmt not in FORMATS:
        raise HTTPException(404, "feeds end in .rss or .atom")
    base = str(request.base_url).rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}/feeds/{kind}")
    feed.title(title)
    feed.link(href=f"{base}{path}", rel="alternate")
    feed.link(href=str(request.url), rel="self")
    feed.description(f"{title} — papertide")
    feed.language("en")
    newest = None
    for paper in reversed(papers):  # feedgen prepends: add oldest first, newest ends on top
        entry = feed.add_entry()
        url = f"{base}/papers/{paper['id']}"
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(paper["title"])
        entry.link(href=url)
        entry.description(paper.get("abstract") or paper["title"])
        for name in paper["authors"][:20]:
            entry.author(name=name)
        when = paper.get("published_at") or paper.get("first_seen_at")
        if when is not None:
            stamp = when.replace(tzinfo=UTC)
            entry.published(stamp)
            entry.updated(stamp)
            newest = max(newest, stamp) if newest else stamp
    feed.updated(newest or papertide(request).clock.now().replace(tzinfo=UTC))
    body = feed.rss_str(pretty=True) if fmt == "rss" else feed.atom_str(pretty=True)
    return Response(body, media_type=FORMATS[fmt])


@router.get("/daily.{fmt}")
def daily(request: Request, fmt: str, date: str | None = None) -> Response:
    svc = papertide(request)
    if date is None:
        with svc.engine.connect() as conn:
            newest = queries.newest_day(conn)
        date = newest.isoformat() if newest else svc.clock.now().date().isoformat()
    try:
        start, end = day_range(date, svc.clock.now().date())
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    papers = period_papers(svc, start, end, "publishedAt", 0, FEED_SIZE)
    return _feed(request, f"daily/{date}", f"Papers of {date}", f"/day/{date}", papers, fmt)


@router.get("/trending.{fmt}")
def trending(request: Request, fmt: str) -> Response:
    since = papertide(request).clock.now() - timedelta(days=7)
    papers = period_papers(papertide(request), since, None, "trending", 0, FEED_SIZE)
    return _feed(request, "trending", "Trending papers", "/trending", papers, fmt)


@router.get("/search.{fmt}")
def search(request: Request, fmt: str, q: str, mode: str = "hybrid") -> Response:
    hits, _ = run_search(papertide(request), q, mode, FEED_SIZE, None, None)
    with papertide(request).engine.connect() as conn:
        full = {p["id"]: p for p in queries.papers_by_ids(conn, [h.id for h in hits])}
    papers = [full[h.id] for h in hits if h.id in full]
    return _feed(request, f"search/{q}", f"papertide search: {q}", f"/search?q={q}", papers, fmt)
