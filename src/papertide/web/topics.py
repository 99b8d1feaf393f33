"""Topic pages: the list with its map, and each topic's papers."""

from __future__ import annotations

import io
import threading

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from papertide.rank import topic_map
from papertide.rank.topics import draw_map
from papertide.store import queries
from papertide.store import topics as stored
from papertide.web import schemas
from papertide.web.deps import papertide
from papertide.web.paging import Pager, start_of
from papertide.web.params import LIST_PAGE_SIZE, Offset, PageNumber, TopicId
from papertide.web.templating import render
from papertide.xmltext import xml_text

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["topics"])
_map_cache: dict[str, bytes] = {}
_map_lock = threading.Lock()


def _version(request: Request) -> str:
    """Changes whenever topics are rebuilt or gain papers: the map is redrawn only then."""
    with papertide(request).engine.connect() as conn:
        listed = stored.all_topics(conn)
    stamp = max((t["computed_at"] for t in listed), default=None)
    return f"{stamp}|{sum(t['size'] for t in listed)}"


@router.get("/topics")
def topics_page(request: Request) -> HTMLResponse:
    with papertide(request).engine.connect() as conn:
        listed = stored.all_topics(conn)
    return render(
        request,
        "topics.html",
        topics=listed,
        bubbles=topic_map.layout(listed),
        map=topic_map,
        version=_version(request),
    )


@router.get("/topics/map.svg")
def topics_map(request: Request) -> Response:
    version = _version(request)
    with _map_lock:  # matplotlib's pyplot is not thread-safe
        if version not in _map_cache:
            buffer = io.BytesIO()
            draw_map(papertide(request).engine, buffer, "svg")
            _map_cache.clear()
            # SVG is XML: a topic label with a character XML cannot carry would break it.
            _map_cache[version] = xml_text(buffer.getvalue().decode()).encode()
        picture = _map_cache[version]
    return Response(picture, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})


@router.get("/topics/{topic_id}")
def topic_page(
    request: Request, topic_id: TopicId, page: PageNumber = None, offset: Offset = None
) -> HTMLResponse:
    first = start_of(page, offset, LIST_PAGE_SIZE)  # pages as every list does (web/paging.py)
    with papertide(request).engine.connect() as conn:
        topic = stored.get(conn, topic_id)
        if topic is None:
            raise HTTPException(404, f"no topic {topic_id}")
        newest = stored.papers_of(conn, topic_id, first + LIST_PAGE_SIZE + 1)
        ids = newest[first : first + LIST_PAGE_SIZE]
        by_id = {p["id"]: p for p in queries.papers_by_ids(conn, ids)}
    papers = [by_id[i] for i in ids if i in by_id]
    more = len(newest) > first + LIST_PAGE_SIZE
    pager = Pager.of(request, first, LIST_PAGE_SIZE, len(papers), topic["size"], more)
    return render(request, "topic.html", topic=topic, papers=papers, pager=pager, voted=set())


@api_router.get("/topics", response_model=list[schemas.TopicListed])
def api_topics(request: Request) -> list[dict]:
    """Topics, largest first: id, label, terms, size, map position."""
    with papertide(request).engine.connect() as conn:
        return stored.all_topics(conn)


@api_router.get("/topics/{topic_id}", response_model=schemas.TopicDetail)
def api_topic(request: Request, topic_id: TopicId, limit: int = Query(50, ge=1, le=500)) -> dict:
    """One topic with its newest papers."""
    with papertide(request).engine.connect() as conn:
        topic = stored.get(conn, topic_id)
        if topic is None:
            raise HTTPException(404, f"no topic {topic_id}")
        ids = stored.papers_of(conn, topic_id, limit)
        found = queries.summaries(conn, ids)
    return {**topic, "papers": [found[i] for i in ids if i in found]}
