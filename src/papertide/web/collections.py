"""Members' collections: their pages and forms, feeds of public ones, and the JSON API.

Pages: `/collections` (yours, and a form for a new one), `/collections/{id}` (one collection:
public ones for everyone, private ones for their owner only; `/collections/library` is your
saved papers). Forms post to `/collections`, `/collections/{id}/edit`, `/collections/{id}/delete`
and `/collections/papers` (add or remove a paper, from any paper page or list card). Feeds:
`/feeds/collections/{id}.rss|atom`. API: `/api/me/collections...` (token) and the public
`/api/collections/{id}`, `/api/users/{name}/collections`.

Someone else's private collection answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from papertide.store import accounts, queries
from papertide.store import collections as store
from papertide.web import schemas
from papertide.web.accounts import api_user, back
from papertide.web.api import _paper_json
from papertide.web.auth import check_csrf, current_user, require_user
from papertide.web.deps import papertide
from papertide.web.feeds import FORMATS, Format, _feed
from papertide.web.templating import render
from papertide.web.views import viewer_is_admin

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["collections"])
FEED_SIZE = 50


@contextmanager
def answers() -> Iterator[None]:
    """Store errors as HTTP answers: NotFound is a 404, a refused change a 400."""
    try:
        yield
    except store.NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except store.CollectionError as exc:
        raise HTTPException(400, str(exc)) from exc


def collection_url(collection: dict[str, Any]) -> str:
    return f"/collections/{collection['id']}"


def viewable(request: Request, ref: str, viewer_id: int | None) -> dict[str, Any]:
    """Collection REF as VIEWER_ID may see it (404 otherwise)."""
    with answers(), papertide(request).engine.connect() as conn:
        return store.visible(conn, store.collection_ref(ref), viewer_id)


def collection_papers(request: Request, collection: dict[str, Any]) -> list[dict[str, Any]]:
    """The collection's visible papers as list rows, most recently added first."""
    with papertide(request).engine.connect() as conn:
        ids = store.paper_ids(conn, collection)
        rows = {row["id"]: row for row in queries.papers_by_ids(conn, ids)}
        votes = queries.vote_counts(conn, list(rows))
    return [{**rows[pid], "votes": votes.get(pid, 0)} for pid in ids if pid in rows]


def _paper_id(request: Request, ref: str) -> str:
    """A stored paper's id from any of its ids; a hidden one is a 404 but for admins."""
    with papertide(request).engine.connect() as conn:
        paper_id = queries.resolve_id(conn, ref, include_hidden=viewer_is_admin(request))
    if paper_id is None:
        raise HTTPException(404, f"no paper with id {ref[:200]!r}")
    return paper_id


def collection_json(collection: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "description", "public", "default", "owner", "papers")
    return {**{k: collection[k] for k in keys}, "url": collection_url(collection)}


def _detail(request: Request, collection: dict[str, Any]) -> dict[str, Any]:
    items = [_paper_json(row) for row in collection_papers(request, collection)]
    return {**collection_json(collection), "items": items}


def _membership(
    request: Request, user_id: int, ref: str, paper_ref: str, member: bool
) -> dict[str, Any]:
    paper_id = _paper_id(request, paper_ref)
    with answers(), papertide(request).engine.begin() as conn:
        target = store.collection_ref(ref)
        change = store.add_paper if member else store.remove_paper
        changed = change(conn, user_id, target, paper_id)
    return {"collection": target, "paper": paper_id, "member": member, "changed": changed}


# -- HTML ------------------------------------------------------------------------------------


@router.get("/collections")
def my_collections(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return _collections_page(request, user, None)


def _collections_page(
    request: Request, user: dict[str, Any], error: str | None, status_code: int = 200
) -> Response:
    with papertide(request).engine.connect() as conn:
        mine = store.of_user(conn, user["id"])
    return render(
        request, "collections.html", status_code=status_code, collections=mine, error=error
    )


class CollectionForm(BaseModel):
    """The fields of the new-collection and edit forms."""

    name: str = ""
    description: str = ""
    public: bool = False
    csrf_token: str = ""


@router.post("/collections")
def create_form(request: Request, form: Annotated[CollectionForm, Form()]) -> Response:
    check_csrf(request, form.csrf_token)
    user = require_user(request)
    try:
        with papertide(request).engine.begin() as conn:
            made = store.create(conn, user["id"], form.name, form.description, form.public)
    except store.CollectionError as exc:  # shown on the page, with the form to fix it
        return _collections_page(request, user, str(exc), status_code=400)
    return RedirectResponse(collection_url(made), status_code=303)


@router.post("/collections/papers")
def membership_form(
    request: Request,
    collection: str = Form(""),
    paper_id: str = Form(""),
    action: str = Form("add"),
    csrf_token: str = Form(""),
) -> Response:
    """Add a paper to one of your collections, or take it out (action add or remove)."""
    check_csrf(request, csrf_token)
    user = require_user(request)
    if action not in ("add", "remove"):
        raise HTTPException(400, "action is add or remove")
    done = _membership(request, user["id"], collection, paper_id, action == "add")
    fallback = f"/collections/{done['collection']}"  # a number or "library", checked
    return RedirectResponse(back(request, fallback), status_code=303)


@router.get("/collections/{ref}")
def collection_page(request: Request, ref: str) -> Response:
    user = current_user(request)
    shown = viewable(request, ref, user["id"] if user else None)
    rows = collection_papers(request, shown)
    voted: set[str] = set()
    if user is not None:
        with papertide(request).engine.connect() as conn:
            voted = accounts.voted_papers(conn, user["id"], [r["id"] for r in rows])
    mine = user is not None and shown["user_id"] == user["id"]
    return render(
        request, "collection.html", collection=shown, papers=rows, voted=voted, mine=mine
    )


@router.post("/collections/{ref}/edit")
def edit_form(request: Request, ref: str, form: Annotated[CollectionForm, Form()]) -> Response:
    check_csrf(request, form.csrf_token)
    user = require_user(request)
    with answers(), papertide(request).engine.begin() as conn:
        changed = store.edit(
            conn, user["id"], store.collection_ref(ref), form.name, form.description, form.public
        )
    return RedirectResponse(collection_url(changed), status_code=303)


@router.post("/collections/{ref}/delete")
def delete_form(request: Request, ref: str, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    with answers(), papertide(request).engine.begin() as conn:
        store.remove(conn, user["id"], store.collection_ref(ref))
    return RedirectResponse("/collections", status_code=303)


# -- feeds -----------------------------------------------------------------------------------


feed_router = APIRouter(
    prefix="/feeds",
    tags=["feeds"],
    responses={200: {"content": {media: {} for media in FORMATS.values()}}},
)


@feed_router.get("/collections/{ref}.{fmt}", response_class=Response)
def collection_feed(request: Request, ref: str, fmt: Format) -> Response:
    """A public collection's papers, the most recently added first."""
    shown = viewable(request, ref, None)  # feed readers have no session: public ones only
    papers = collection_papers(request, shown)[:FEED_SIZE]
    title = f"{shown['name']} — a collection by {shown['owner']}"
    return _feed(request, f"collections/{shown['id']}", title, collection_url(shown), papers, fmt)


# -- JSON API --------------------------------------------------------------------------------


def _token_viewer(request: Request) -> int | None:
    """The API token's user when one is sent (an unknown token is a 401), else nobody."""
    if request.headers.get("authorization"):
        return api_user(request)["id"]
    return None


@api_router.get("/me/collections", response_model=list[schemas.Collection])
def api_list(request: Request) -> list[dict[str, Any]]:
    """Your collections: your library ("library", your saved papers) first, then by name."""
    user = api_user(request)
    with papertide(request).engine.connect() as conn:
        return [collection_json(c) for c in store.of_user(conn, user["id"])]


@api_router.post("/me/collections", response_model=schemas.Collection)
def api_create(request: Request, new: schemas.NewCollection) -> dict[str, Any]:
    """Create a collection (private unless `public`)."""
    user = api_user(request)
    with answers(), papertide(request).engine.begin() as conn:
        created = store.create(conn, user["id"], new.name, new.description, new.public)
        return collection_json(created)


@api_router.get("/me/collections/{ref}", response_model=schemas.CollectionDetail)
def api_get_own(request: Request, ref: str) -> dict[str, Any]:
    """One of your collections with its papers."""
    user = api_user(request)
    with answers(), papertide(request).engine.connect() as conn:
        mine = store.owned(conn, user["id"], store.collection_ref(ref))
    return _detail(request, mine)


@api_router.patch("/me/collections/{ref}", response_model=schemas.Collection)
def api_edit(request: Request, ref: str, change: schemas.CollectionChange) -> dict[str, Any]:
    """Rename a collection, change its description or make it public or private."""
    user = api_user(request)
    with answers(), papertide(request).engine.begin() as conn:
        target = store.collection_ref(ref)
        edited = store.edit(
            conn, user["id"], target, change.name, change.description, change.public
        )
        return collection_json(edited)


@api_router.delete("/me/collections/{ref}", status_code=204, response_class=Response)
def api_delete(request: Request, ref: str) -> Response:
    """Delete a collection (its papers stay in papertide)."""
    user = api_user(request)
    with answers(), papertide(request).engine.begin() as conn:
        store.remove(conn, user["id"], store.collection_ref(ref))
    return Response(status_code=204)


@api_router.put(
    "/me/collections/{ref}/papers/{paper_id:path}", response_model=schemas.CollectionMembership
)
def api_add(request: Request, ref: str, paper_id: str) -> dict[str, Any]:
    """Add a paper (any of its ids) to your collection; to "library", it saves it."""
    return _membership(request, api_user(request)["id"], ref, paper_id, True)


@api_router.delete(
    "/me/collections/{ref}/papers/{paper_id:path}", response_model=schemas.CollectionMembership
)
def api_remove(request: Request, ref: str, paper_id: str) -> dict[str, Any]:
    """Take a paper out of your collection; out of "library", it unsaves it."""
    return _membership(request, api_user(request)["id"], ref, paper_id, False)


@api_router.get("/collections/{ref}", response_model=schemas.CollectionDetail)
def api_get(request: Request, ref: str) -> dict[str, Any]:
    """A public collection with its papers (your own private ones too, with your token)."""
    return _detail(request, viewable(request, ref, _token_viewer(request)))


@api_router.get("/users/{username}/collections", response_model=list[schemas.Collection])
def api_public_list(request: Request, username: str) -> list[dict[str, Any]]:
    """A member's public collections, the most recently changed first."""
    with papertide(request).engine.connect() as conn:
        owner = accounts.user_by_name(conn, username[:200])
        if owner is None:
            raise HTTPException(404, f"no member {username[:200]!r}")
        return [collection_json(c) for c in store.public_collections(conn, owner["id"])]
