"""RSS 2.0 and Atom feeds: the newest day, trending papers and any search (feedgen).

Every text goes through `xml_text` (one stored title with a character XML cannot carry would
otherwise break the whole feed), and abstracts are plain text: RSS readers render a
`<description>` as HTML, so it carries the abstract HTML-escaped; Atom says `type="text"`.
"""

from __future__ import annotations

import html
from datetime import UTC, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from papertide.links import paper_path
from papertide.store import queries, submissions
from papertide.web.deps import papertide
from papertide.web.params import Day, Mode, SearchText
from papertide.web.submissions import SUBMITTED, default_view, submitted_papers
from papertide.web.views import period, period_papers, run_search
from papertide.xmltext import xml_text

FORMATS = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
FEED_SIZE = 50
MAX_AUTHORS = 20
router = APIRouter(
    prefix="/feeds",
    tags=["feeds"],
    responses={200: {"content": {media: {} for media in FORMATS.values()}}},
)
Format = Annotated[str, Path(description="rss or atom", json_schema_extra={"enum": list(FORMATS)})]


def _feed(
    request: Request, kind: str, title: str, path: str, papers: list[dict[str, Any]], fmt: str
) -> Response:
    if fmt not in FORMATS:
        raise HTTPException(404, "feeds end in .rss or .atom")
    base = str(request.base_url).rstrip("/")
    feed = FeedGenerator()
    feed.id(xml_text(f"{base}/feeds/{kind}"))
    feed.title(xml_text(title))
    feed.link(href=f"{base}{path}", rel="alternate")
    feed.link(href=str(request.url), rel="self")
    feed.description(xml_text(f"{title} — papertide"))
    feed.language("en")
    newest = None
    for paper in reversed(papers):  # feedgen prepends: add oldest first, newest ends on top
        entry = feed.add_entry()
        url = base + paper_path(paper["id"])
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(xml_text(paper["title"]))
        entry.link(href=url)
        summary = xml_text(paper.get("abstract") or paper["title"])
        if fmt == "rss":
            entry.description(html.escape(summary, quote=False))
        else:
            entry.summary(summary, type="text")
        for name in paper["authors"][:MAX_AUTHORS]:
            entry.author(name=xml_text(name))
        when = paper.get("published_at") or paper.get("first_seen_at")
        if when is not None:
            stamp = when.replace(tzinfo=UTC)
            entry.published(stamp)
            entry.updated(stamp)
            newest = max(newest, stamp) if newest else stamp
    feed.updated(newest or papertide(request).clock.now().replace(tzinfo=UTC))
    body = feed.rss_str(pretty=True) if fmt == "rss" else feed.atom_str(pretty=True)
    return Response(body, media_type=FORMATS[fmt])


@router.get("/daily.{fmt}", response_class=Response)
def daily(request: Request, fmt: Format, date: Day = None) -> Response:
    """The papers of one day (default: the newest day with papers)."""
    svc = papertide(request)
    curated = default_view(svc) == SUBMITTED  # the instance's default view of the lists
    if not date:  # as for every period parameter, empty means not given
        with svc.engine.connect() as conn:
            newest = queries.newest_day(conn)
            if curated:
                newest = submissions.newest_submission_day(conn) or newest
        date = newest.isoformat() if newest else svc.clock.now().date().isoformat()
    start, end = period(svc, date, None, None)
    if curated:
        papers, _total = submitted_papers(svc, start, end, "publishedAt", 0, FEED_SIZE)
    else:
        papers = period_papers(svc, start, end, "publishedAt", 0, FEED_SIZE)
    day = f"{start:%Y-%m-%d}"
    return _feed(request, f"daily/{day}", f"Papers of {day}", f"/day/{day}", papers, fmt)


@router.get("/trending.{fmt}", response_class=Response)
def trending(request: Request, fmt: Format) -> Response:
    """The most voted papers of the last seven days."""
    since = papertide(request).clock.now() - timedelta(days=7)
    papers = period_papers(papertide(request), since, None, "trending", 0, FEED_SIZE)
    return _feed(request, "trending", "Trending papers", "/trending", papers, fmt)


@router.get("/search.{fmt}", response_class=Response)
def search(request: Request, fmt: Format, q: SearchText, mode: Mode = "hybrid") -> Response:
    """The best matches of a search, as a feed to subscribe to."""
    hits, _ = run_search(papertide(request), q, mode, FEED_SIZE, None, None)
    with papertide(request).engine.connect() as conn:
        full = {p["id"]: p for p in queries.papers_by_ids(conn, [h.id for h in hits])}
    papers = [full[h.id] for h in hits if h.id in full]
    link = f"/search?q={quote(q)}"
    return _feed(request, f"search/{quote(q)}", f"papertide search: {q}", link, papers, fmt)
