"""Sign up, log in, log out, votes, API tokens and admin actions."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from papertide.security import WeakPassword, hash_password, new_token, token_hash, verify_password
from papertide.store import accounts, queries
from papertide.web.auth import (
    check_csrf,
    check_login_rate,
    end_session,
    login_key,
    require_admin,
    require_user,
    start_session,
)
from papertide.web.deps import papertide
from papertide.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["votes"])
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")


def back(request: Request, fallback: str = "/") -> str:
    """Where a form post returns to: the page it came from, if it is ours."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    return referer[len(base) - 1 :] if referer.startswith(base) else fallback


@router.get("/signup")
def signup_form(request: Request) -> Response:
    return render(request, "auth.html", mode="signup", error=None, username="")


@router.post("/signup")
def signup(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    username = username.strip()
    error = None
    if not USERNAME.match(username):
        error = "a name has 2-40 letters, digits, dots, dashes or underscores"
    else:
        try:
            with papertide(request).engine.begin() as conn:
                user_id = accounts.create_user(conn, username, hash_password(password))
        except (WeakPassword, accounts.AccountError) as exc:
            error = str(exc)
    if error:
        return render(
            request, "auth.html", status_code=400, mode="signup", error=error, username=username
        )
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, user_id)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return render(request, "auth.html", mode="login", error=None, username="")


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    check_login_rate(request, username)
    engine = papertide(request).engine
    with engine.connect() as conn:
        user = accounts.user_by_name(conn, username.strip())
    if user is None or not verify_password(user["password_hash"], password):
        with engine.begin() as conn:
            accounts.record_login_failure(conn, login_key(request, username))
        return render(
            request,
            "auth.html",
            status_code=400,
            mode="login",
            error="wrong name or password",
            username=username,
        )
    with engine.begin() as conn:
        accounts.clear_login_failures(conn, login_key(request, username))
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, user["id"])
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    response = RedirectResponse("/", status_code=303)
    end_session(request, response)
    return response


def _toggle(request: Request, user: dict[str, Any], paper_ref: str) -> dict[str, Any]:
    engine = papertide(request).engine
    with engine.begin() as conn:
        paper_id = queries.resolve_id(conn, paper_ref)
        if paper_id is None:
            raise HTTPException(404, f"no paper with id {paper_ref!r}")
        voted = accounts.toggle_vote(conn, user["id"], paper_id)
    with engine.connect() as conn:
        votes = queries.vote_counts(conn, [paper_id]).get(paper_id, 0)
    return {"id": paper_id, "voted": voted, "votes": votes}


@router.post("/papers/{paper_id:path}/vote")
def vote(request: Request, paper_id: str, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    result = _toggle(request, user, paper_id)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(result)
    return RedirectResponse(back(request, f"/papers/{result['id']}"), status_code=303)


@router.get("/account")
def account(request: Request) -> Response:
    require_user(request)
    return render(request, "account.html", new_token=None)


@router.post("/account/tokens")
def create_token(request: Request, name: str = Form("api"), csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    token, hashed = new_token()
    with papertide(request).engine.begin() as conn:
        accounts.create_api_token(conn, hashed, user["id"], name or "api")
    return render(request, "account.html", new_token=token)


@router.post("/admin/papers/{paper_id:path}/hide")
def hide_paper(
    request: Request, paper_id: str, hidden: bool = Form(True), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    require_admin(request)
    try:
        with papertide(request).engine.begin() as conn:
            accounts.set_paper_hidden(conn, paper_id, hidden)
    except accounts.AccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse("/", status_code=303)


@router.post("/admin/users/{username}/votes")
def hide_votes(
    request: Request, username: str, hidden: bool = Form(True), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    require_admin(request)
    try:
        with papertide(request).engine.begin() as conn:
            accounts.set_votes_hidden(conn, username, hidden)
    except accounts.AccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse(back(request), status_code=303)


def api_user(request: Request) -> dict[str, Any]:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise HTTPException(401, "send an API token: Authorization: Bearer <token>")
    with papertide(request).engine.begin() as conn:
        user = accounts.api_token_user(conn, token_hash(header[7:].strip()))
    if user is None:
        raise HTTPException(401, "unknown API token")
    return user


@api_router.post("/papers/{paper_id:path}/vote")
def api_vote(request: Request, paper_id: str) -> dict[str, Any]:
    """Toggle your vote on a paper (API token in `Authorization: Bearer`)."""
    return _toggle(request, api_user(request), paper_id)


@api_router.get("/me")
def me(request: Request) -> dict[str, Any]:
    """Who an API token belongs to."""
    user = api_user(request)
    return {"username": user["username"], "role": user["role"]}
