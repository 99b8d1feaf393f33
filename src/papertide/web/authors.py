"""Author pages (/authors/NAME) and their JSON (/api/authors/NAME): the author's papers newest
first, paged, their co-authors, and a follow button (the follows of web/library.py).

Which spellings land on one page is the rule of names.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from papertide import names
from papertide.limits import MAX_AUTHOR_NAME
from papertide.links import author_path
from papertide.store import accounts, library
from papertide.store import authors as store
from papertide.web import schemas
from papertide.web.api import _paper_json
from papertide.web.auth import current_user
from papertide.web.deps import papertide
from papertide.web.paging import Pager, start_of
from papertide.web.params import LIST_PAGE_SIZE, Offset, PageNumber
from papertide.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["authors"])
CO_AUTHORS_SHOWN = 20


@dataclass
class AuthorView:
    name: str  # the spelling most used
    keys: tuple[str, ...]
    variants: list[str]
    papers: list[dict[str, Any]]
    total: int
    co_authors: list[dict[str, Any]]


def _co_authors(conn: Any, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """The most frequent co-authors, each spelling of one co-author counted on one entry."""
    found = store.co_authors(conn, keys, CO_AUTHORS_SHOWN * 3)
    parsed = {key: names.parse(key) for key, _n in found}
    stored = store.keys_with_signatures(
        conn, sorted({p.signature for p in parsed.values() if p is not None})
    )
    together: dict[str, int] = {}
    for key, count in found:
        name = parsed[key]
        if name is None:  # cannot happen for a stored key; skipped rather than trusted
            continue
        canonical = names.group(name, stored.get(name.signature, [])).key
        if canonical not in keys:
            together[canonical] = together.get(canonical, 0) + count
    shown = store.spellings(conn, list(together))
    entries = [
        {"name": shown[key][0], "papers": n, "path": author_path(shown[key][0])}
        for key, n in together.items()
        if shown.get(key)
    ]
    entries.sort(key=lambda e: (-e["papers"], e["name"]))
    return entries[:CO_AUTHORS_SHOWN]


def _author(request: Request, name: str, offset: int, limit: int) -> AuthorView | str:
    """The author NAME leads to, or the path of the page it should be shown on (a spelling
    that the rule puts on another name's page)."""
    missing = HTTPException(404, f"no author named {name[:MAX_AUTHOR_NAME]!r}")
    if len(name) > MAX_AUTHOR_NAME:
        raise missing
    with papertide(request).engine.connect() as conn:
        author = store.author_of(conn, name)
        if author is None:
            raise missing
        spellings = store.spellings(conn, author.keys)
        shown = spellings[author.key][0]
        asked = names.parse(name)
        if asked is not None and asked.key != author.key:
            return author_path(shown)
        total = store.count_papers(conn, author.keys)
        if total == 0:  # only on papers an admin hid
            raise missing
        rows = store.papers_of(conn, author.keys, offset, limit)
        variants = sorted({s for key in author.keys for s in spellings.get(key, [])})
        co_authors = _co_authors(conn, author.keys)
    return AuthorView(shown, author.keys, variants, rows, total, co_authors)


def _followed_value(request: Request, keys: tuple[str, ...]) -> str | None:
    """The member's follow of this author, as stored (any spelling grouped onto it)."""
    user = current_user(request)
    if user is None:
        return None
    with papertide(request).engine.connect() as conn:
        follows = library.followed(conn, user["id"])
    for follow in follows:
        parsed = names.parse(follow["value"]) if follow["kind"] == "author" else None
        if parsed is not None and parsed.key in keys:
            return follow["value"]
    return None


def _redirect(request: Request, path: str) -> RedirectResponse:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=307)


@router.get("/authors/{name:path}")
def author_page(
    request: Request, name: str, page: PageNumber = None, offset: Offset = None
) -> Response:
    first = start_of(page, offset, LIST_PAGE_SIZE)
    view = _author(request, name, first, LIST_PAGE_SIZE)
    if isinstance(view, str):
        return _redirect(request, view)
    more = first + len(view.papers) < view.total
    # Pager.of would take the decoded path, whose spaces no link may carry: the encoded one
    here = author_path(name) + (f"?{request.url.query}" if request.url.query else "")
    pager = Pager(here, first, LIST_PAGE_SIZE, len(view.papers), view.total, more)
    user = current_user(request)
    voted: set[str] = set()
    if user is not None:
        with papertide(request).engine.connect() as conn:
            voted = accounts.voted_papers(conn, user["id"], [p["id"] for p in view.papers])
    return render(
        request,
        "author.html",
        author=view,
        pager=pager,
        voted=voted,
        followed=_followed_value(request, view.keys),
    )


@api_router.get("/authors/{name:path}", response_model=schemas.Author)
def api_author(
    request: Request, name: str, page: PageNumber = None, offset: Offset = None
) -> Any:
    """An author's papers (newest first, 100 a page), co-authors and every spelling of the
    name grouped onto them; a spelling grouped onto another name redirects (307) there."""
    first = start_of(page, offset, LIST_PAGE_SIZE)
    view = _author(request, name, first, LIST_PAGE_SIZE)
    if isinstance(view, str):
        return _redirect(request, "/api" + view)
    return {
        "name": view.name,
        "path": author_path(view.name),
        "variants": view.variants,
        "total": view.total,
        "offset": first,
        "limit": LIST_PAGE_SIZE,
        "papers": [_paper_json(p) for p in view.papers],
        "co_authors": view.co_authors,
    }
