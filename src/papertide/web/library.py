"""A reader's library, follows and "For you" page, in HTML forms and the JSON API."""

from __future__ import annotations

import asyncio
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from anyio import to_thread
from fastapi import APIRouter, Body, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Engine
from starlette.datastructures import UploadFile

from papertide.ingest.seed import seed_library
from papertide.limits import MAX_UPLOAD_BYTES
from papertide.links import paper_path
from papertide.store import digests, library, queries
from papertide.web import schemas
from papertide.web.accounts import api_user, back
from papertide.web.auth import check_csrf, current_user, require_user
from papertide.web.deps import papertide
from papertide.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/me", tags=["library"])
ACTIONS = {"save": ("saved", True), "unsave": ("saved", False), "up": ("rating", "up"),
           "down": ("rating", "down"), "clear": ("rating", "none")}  # fmt: skip


def _resolve(request: Request, paper_ref: str) -> str:
    with papertide(request).engine.connect() as conn:
        paper_id = queries.resolve_id(conn, paper_ref)
    if paper_id is None:
        raise HTTPException(404, f"no paper with id {paper_ref!r}")
    return paper_id


def _apply(request: Request, user_id: int, paper_id: str, action: str) -> dict[str, Any]:
    if action not in ACTIONS:
        raise HTTPException(400, f"action is one of {', '.join(ACTIONS)}")
    field, value = ACTIONS[action]
    with papertide(request).engine.begin() as conn:
        if field == "saved":
            library.set_saved(conn, user_id, paper_id, value)  # type: ignore[arg-type]
        else:
            library.set_rating(conn, user_id, paper_id, value)  # type: ignore[arg-type]
        state = library.states(conn, user_id, [paper_id]).get(paper_id, {})
    return {"id": paper_id, "saved": bool(state.get("saved")), "rating": state.get("rating", 0)}


def _follow(request: Request, user_id: int, kind: str, value: str, undo: bool) -> None:
    with papertide(request).engine.begin() as conn:
        if undo:
            library.unfollow(conn, user_id, kind, value)
            return
        try:
            library.follow(conn, user_id, kind, value)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc


# Imports run in this one thread, so a big library file neither holds one of the request
# threads (there may be only one: PAPERTIDE_REQUEST_THREADS) nor blocks the event loop; a
# second upload waits for the first instead of competing with page requests for the CPU.
IMPORT_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="papertide-import")
UPLOAD_ROUTE_LIMIT = MAX_UPLOAD_BYTES + (1 << 20)  # the file plus the form around it


def _spool(upload: BinaryIO, path: Path) -> None:
    """Copy the upload to PATH in chunks (never the whole file in memory), within the limit."""
    size = 0
    with path.open("wb") as out:
        while chunk := upload.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise HTTPException(
                    413, f"a library file may be at most {MAX_UPLOAD_BYTES >> 20} MB"
                )
            out.write(chunk)


def _spool_and_seed(engine: Engine, user_id: int, upload: BinaryIO, suffix: str) -> dict[str, Any]:
    # The readers sniff formats from a file's bytes and name, so the upload is spooled to one.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        _spool(upload, path)
        summary, saved = seed_library(engine, user_id, path)
    return {**summary.as_json(), "saved": saved}


async def _import(request: Request, user_id: int, upload: UploadFile) -> dict[str, Any]:
    suffix = Path(upload.filename or "library.bib").suffix or ".bib"
    job = partial(_spool_and_seed, papertide(request).engine, user_id, upload.file, suffix)
    return await asyncio.get_running_loop().run_in_executor(IMPORT_THREAD, job)


def _picks(request: Request, user_id: int, k: int, days: int) -> list[Any]:
    return papertide(request).recommender.recommend(user_id, k, days=days)


# -- HTML ------------------------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/library")
def library_action(
    request: Request, paper_id: str, action: str = Form(""), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    result = _apply(request, user["id"], _resolve(request, paper_id), action)
    return RedirectResponse(back(request, paper_path(result["id"])), status_code=303)


@router.post("/follow")
def follow_form(
    request: Request,
    kind: str = Form(""),
    value: str = Form(""),
    undo: bool = Form(False),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    _follow(request, user["id"], kind, value, undo)
    return RedirectResponse(back(request, "/for-you"), status_code=303)


@router.get("/for-you")
def for_you(request: Request, days: int = 30) -> Response:
    user = current_user(request)
    if user is None:  # a digest's link, opened signed out
        return RedirectResponse("/login", status_code=303)
    return _for_you_page(request, user, min(max(days, 1), 3650), None)


def _for_you_page(
    request: Request, user: dict[str, Any], days: int, imported: dict[str, Any] | None
) -> Response:
    feed = papertide(request).recommender.feed(user["id"], 30, days)
    with papertide(request).engine.connect() as conn:
        entries = library.entries(conn, user["id"])
        follows = library.followed(conn, user["id"])
        subscription = digests.subscription_of(conn, user["id"])
    return render(
        request,
        "for_you.html",
        feed=feed,
        entries=entries,
        follows=follows,
        days=days,
        imported=imported,
        subscription=subscription,
    )


# The upload routes read their form themselves, after checking who is asking: FastAPI reads a
# declared File parameter before the handler runs, so anyone could make the server spool
# 50 MB to disk per request without an account.
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


async def _import_upload(request: Request, user_id: int, csrf: bool = False) -> dict[str, Any]:
    form = await request.form(max_files=1, max_fields=8)
    try:
        if csrf:
            token = form.get("csrf_token")
            check_csrf(request, token if isinstance(token, str) else None)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "send the library file as the multipart field 'file'")
        return await _import(request, user_id, upload)
    finally:
        await form.close()


@router.post("/library/import", max_body_size=UPLOAD_ROUTE_LIMIT)
async def import_form(request: Request) -> Response:
    user = await to_thread.run_sync(require_user, request)
    imported = await _import_upload(request, user["id"], csrf=True)
    return await to_thread.run_sync(_for_you_page, request, user, 30, imported)


# -- JSON API (API token) --------------------------------------------------------------------


@api_router.get("/library", response_model=list[schemas.LibraryEntry])
def api_library(request: Request) -> list[dict[str, Any]]:
    """Your library: saved and rated papers, newest change first."""
    user = api_user(request)
    with papertide(request).engine.connect() as conn:
        return library.entries(conn, user["id"])


@api_router.post("/library/{paper_id:path}", response_model=schemas.LibraryState)
def api_library_action(
    request: Request, paper_id: str, action: str = Body(..., embed=True)
) -> dict[str, Any]:
    """Save / unsave a paper or rate it: action = save, unsave, up, down or clear."""
    user = api_user(request)
    return _apply(request, user["id"], _resolve(request, paper_id), action)


@api_router.post(
    "/library-import",
    max_body_size=UPLOAD_ROUTE_LIMIT,
    openapi_extra={"requestBody": UPLOAD_BODY},
    response_model=schemas.LibraryImport,
)
async def api_library_import(request: Request) -> dict[str, Any]:
    """Seed your library from a BibTeX / Zotero export (multipart field `file`); unknown papers
    are added from it."""
    user = await to_thread.run_sync(api_user, request)
    return await _import_upload(request, user["id"])


@api_router.get("/follows", response_model=list[schemas.Follow])
def api_follows(request: Request) -> list[dict[str, Any]]:
    """Authors and searches you follow."""
    user = api_user(request)
    with papertide(request).engine.connect() as conn:
        return library.followed(conn, user["id"])


@api_router.post("/follows", response_model=list[schemas.Follow])
def api_follow(
    request: Request,
    kind: str = Body(...),
    value: str = Body(...),
    undo: bool = Body(False),
) -> list[dict[str, Any]]:
    """Follow (or with undo, stop following) an author or a search query."""
    user = api_user(request)
    _follow(request, user["id"], kind, value, undo)
    with papertide(request).engine.connect() as conn:
        return library.followed(conn, user["id"])


@api_router.get("/recommendations", response_model=list[schemas.Pick])
def api_recommendations(request: Request, k: int = 20, days: int = 30) -> list[dict[str, Any]]:
    """Your personal picks from the last DAYS days, each with the reason it was picked."""
    if not 1 <= k <= 500 or not 1 <= days <= 3650:
        raise HTTPException(400, "k is 1-500 and days 1-3650")
    return [p.as_json() for p in _picks(request, api_user(request)["id"], k, days)]
