"""Discussions on paper pages: the forms (session and CSRF) and the JSON API (an API token).

Members post comments and one level of replies, edit and delete their own, and report others';
admins hide comments and read the reports (/admin/reports). Every write checks who is asking
(store/comments.py checks that the comment is theirs) and that the paper is one they may see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection

from papertide.limits import MAX_COMMENT_CHARS
from papertide.links import paper_path
from papertide.store import comments
from papertide.web import schemas
from papertide.web.accounts import api_user
from papertide.web.auth import check_csrf, require_admin, require_user
from papertide.web.deps import papertide
from papertide.web.discussion_view import with_html
from papertide.web.pages import paper_view
from papertide.web.templating import render
from papertide.web.views import viewed_paper, viewer_is_admin

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["discussions"])

# Ids are 64-bit in the store: a larger number is a 422, not a driver's overflow.
MAX_ID = 2**63 - 1
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]
STATUS = {comments.UnknownComment: 404, comments.NotYours: 403, comments.TooManyComments: 429}


def status_of(error: comments.CommentError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


def as_http(error: comments.CommentError) -> HTTPException:
    return HTTPException(status_of(error), str(error))


Done = TypeVar("Done")


def _write(request: Request, action: Callable[[Connection, datetime], Done]) -> Done:
    """Run ACTION(conn, now) in one transaction; the store's refusals become 4xx answers."""
    pt = papertide(request)
    try:
        with pt.engine.begin() as conn:
            return action(conn, pt.clock.now())
    except comments.CommentError as exc:
        raise as_http(exc) from exc


def _comment(request: Request, comment_id: int) -> dict[str, Any]:
    """Comment COMMENT_ID, 404 when it is on a paper this request may not see."""
    try:
        with papertide(request).engine.connect() as conn:
            found = comments.get(conn, comment_id)
    except comments.CommentError as exc:
        raise as_http(exc) from exc
    viewed_paper(request, found["paper_id"])
    return found


def _back_to(paper_id: str, comment_id: int | None = None) -> RedirectResponse:
    anchor = f"#comment-{comment_id}" if comment_id else "#discussion"
    return RedirectResponse(paper_path(paper_id) + anchor, status_code=303)


# -- HTML forms ------------------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/comments")
def post_form(
    request: Request,
    paper_id: str,
    body: str = Form(""),
    parent_id: int | None = Form(None, ge=1, le=MAX_ID),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    paper = viewed_paper(request, paper_id)
    pt = papertide(request)
    try:
        with pt.engine.begin() as conn:
            new_id = comments.post(
                conn,
                paper["id"],
                user["id"],
                body,
                pt.clock.now(),
                pt.settings.comments_per_hour,
                parent_id,
            )
    except comments.CommentError as exc:
        draft = {"body": body[:MAX_COMMENT_CHARS], "parent_id": parent_id}
        return paper_view(request, paper["id"], status_of(exc), comment_error=str(exc), draft=draft)
    return _back_to(paper["id"], new_id)


@router.post("/comments/{comment_id}/edit")
def edit_form(
    request: Request, comment_id: CommentId, body: str = Form(""), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    found = _comment(request, comment_id)
    _write(request, lambda conn, now: comments.edit(conn, comment_id, user["id"], body, now))
    return _back_to(found["paper_id"], comment_id)


@router.post("/comments/{comment_id}/delete")
def delete_form(request: Request, comment_id: CommentId, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    found = _comment(request, comment_id)
    _write(request, lambda conn, now: comments.delete(conn, comment_id, user["id"], now))
    return _back_to(found["paper_id"], found["parent_id"])


@router.post("/comments/{comment_id}/report")
def report_form(
    request: Request, comment_id: CommentId, reason: str = Form(""), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    _comment(request, comment_id)
    _write(request, lambda conn, now: comments.report(conn, comment_id, user["id"], reason, now))
    text = "Thank you: the admins will look at this comment."
    return render(request, "message.html", title="Comment reported", text=text)


@router.post("/admin/comments/{comment_id}/hide")
def hide_form(
    request: Request, comment_id: CommentId, hidden: bool = Form(True), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    require_admin(request)
    found = _comment(request, comment_id)
    _write(request, lambda conn, _now: comments.set_hidden(conn, comment_id, hidden))
    return _back_to(found["paper_id"], comment_id)


@router.get("/admin/reports")
def reports_page(request: Request) -> Response:
    require_admin(request)
    with papertide(request).engine.connect() as conn:
        reported = comments.reports(conn)
    return render(request, "reports.html", reported=reported)


# -- JSON API --------------------------------------------------------------------------------


def _shown(request: Request, comment_id: int) -> dict[str, Any]:
    with papertide(request).engine.connect() as conn:
        return with_html(comments.shown(conn, comment_id, viewer_is_admin(request)), False)


@api_router.get("/papers/{paper_id:path}/comments", response_model=list[schemas.Comment])
def api_thread(request: Request, paper_id: str) -> list[dict[str, Any]]:
    """A paper's discussion: top-level comments oldest first, each with its replies. A deleted
    comment that has replies stays as a placeholder (`deleted`, no author or text)."""
    paper = viewed_paper(request, paper_id)
    with papertide(request).engine.connect() as conn:
        shown = comments.thread(conn, paper["id"], viewer_is_admin(request))
    return [with_html(c, markup=False) for c in shown]


def _post(
    request: Request, user: dict[str, Any], paper_id: str, body: str, parent_id: int | None
) -> dict[str, Any]:
    per_hour = papertide(request).settings.comments_per_hour
    new_id = _write(
        request,
        lambda conn, now: comments.post(conn, paper_id, user["id"], body, now, per_hour, parent_id),
    )
    return _shown(request, new_id)


@api_router.post(
    "/papers/{paper_id:path}/comments", response_model=schemas.Comment, status_code=201
)
def api_post(request: Request, paper_id: str, text: schemas.CommentText) -> dict[str, Any]:
    """Comment on a paper (API token in `Authorization: Bearer`); 429 past the hourly limit."""
    user = api_user(request)
    return _post(request, user, viewed_paper(request, paper_id)["id"], text.body, None)


@api_router.post(
    "/comments/{comment_id}/replies", response_model=schemas.CommentReply, status_code=201
)
def api_reply(request: Request, comment_id: CommentId, text: schemas.CommentText) -> dict[str, Any]:
    """Reply to a top-level comment (replies go one level deep)."""
    user = api_user(request)  # a 401 before anything about the comment is told
    found = _comment(request, comment_id)
    return _post(request, user, found["paper_id"], text.body, comment_id)


@api_router.patch("/comments/{comment_id}", response_model=schemas.CommentReply)
def api_edit(request: Request, comment_id: CommentId, text: schemas.CommentText) -> dict[str, Any]:
    """Change the text of your own comment (it is marked as edited)."""
    user = api_user(request)
    _comment(request, comment_id)
    _write(request, lambda conn, now: comments.edit(conn, comment_id, user["id"], text.body, now))
    return _shown(request, comment_id)


@api_router.delete("/comments/{comment_id}", status_code=204)
def api_delete(request: Request, comment_id: CommentId) -> Response:
    """Delete your own comment (one with replies stays as "[deleted]" above them)."""
    user = api_user(request)
    _comment(request, comment_id)
    _write(request, lambda conn, now: comments.delete(conn, comment_id, user["id"], now))
    return Response(status_code=204)
