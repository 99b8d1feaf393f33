"""Downloads of papers as BibTeX, CSL-JSON or RIS (export/): one paper, a collection (the
library is the collection "library"), or a search's results.

The pages' buttons and API clients use the same routes, `/export/...`: the session or an API
token decides which private collections you may export (your own). Every answer is a
download: the format's Content-Type and `Content-Disposition: attachment` with a file name
made of safe characters only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from papertide import export
from papertide.store import collections as store
from papertide.store.exports import papers_for_export
from papertide.web.auth import current_user
from papertide.web.collections import _token_viewer, viewable
from papertide.web.deps import papertide
from papertide.web.params import MAX_SEARCH_DEPTH, Category, Day, Mode, SearchText
from papertide.web.views import run_search, viewed_paper

# Downloads, not JSON: documented in OpenAPI with the formats' media types, outside /api/.
router = APIRouter(
    prefix="/export",
    tags=["export"],
    responses={200: {"content": {f.media_type: {} for f in map(export.get, export.FORMAT_NAMES)}}},
)
ExportName = Annotated[
    str,
    Query(
        alias="format",
        description="bibtex, csl-json (Zotero) or ris",
        json_schema_extra={"enum": list(export.FORMAT_NAMES)},
    ),
]


def chosen_format(fmt: str) -> export.ExportFormat:
    try:
        return export.get(fmt)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc


def download(request: Request, ids: list[str], fmt: str, stem: str) -> Response:
    chosen = chosen_format(fmt)
    with papertide(request).engine.connect() as conn:
        rows = papers_for_export(conn, ids)
    name = export.filename(stem, fmt)
    return Response(
        chosen.write([export.Reference.of(row) for row in rows]),
        media_type=chosen.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _viewer(request: Request) -> int | None:
    """Who asks: an API token's member when one is sent (an unknown token is a 401), else the
    session's, else nobody."""
    viewer = _token_viewer(request)
    if viewer is None and (user := current_user(request)) is not None:
        viewer = user["id"]
    return viewer


def _collection(request: Request, ref: str, viewer_id: int | None, fmt: str) -> Response:
    shown = viewable(request, ref, viewer_id)
    with papertide(request).engine.connect() as conn:
        ids = store.paper_ids(conn, shown)
    stem = f"{shown['owner']}-library" if shown["default"] else f"collection-{shown['id']}"
    return download(request, ids, fmt, stem)


def _search(request: Request, q: str, mode: str, since: Any, category: Any, fmt: str) -> Response:
    chosen_format(fmt)  # before the search it would be wasted on
    hits, _ = run_search(papertide(request), q, mode, MAX_SEARCH_DEPTH, since, category)
    return download(request, [hit.id for hit in hits], fmt, f"search-{q}")


@router.get("/papers/{paper_id:path}", response_class=Response)
def paper_download(request: Request, paper_id: str, fmt: ExportName = "bibtex") -> Response:
    """One paper as a reference file."""
    paper = viewed_paper(request, paper_id)
    return download(request, [paper["id"]], fmt, paper["id"])


@router.get("/collections/{ref}", response_class=Response)
def collection_download(request: Request, ref: str, fmt: ExportName = "bibtex") -> Response:
    """A public collection; one of yours with your session or API token ("library": your saved
    papers)."""
    return _collection(request, ref, _viewer(request), fmt)


@router.get("/search", response_class=Response)
def search_download(
    request: Request,
    q: SearchText = "",
    mode: Mode = "hybrid",
    since: Day = None,
    category: Category = None,
    fmt: ExportName = "bibtex",
) -> Response:
    """A search's best results (up to 200), in their order."""
    return _search(request, q, mode, since, category, fmt)
