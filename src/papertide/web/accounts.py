"""Sign up, log in, log out, votes, API tokens, password changes and admin actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from papertide.limits import MAX_NAME_INPUT, MAX_PASSWORD
from papertide.links import local_path, paper_path
from papertide.security import (
    WeakPassword,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from papertide.store import accounts, profiles, queries
from papertide.web import schemas
from papertide.web.auth import (
    check_csrf,
    count_login_attempt,
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


def back(request: Request, fallback: str = "/") -> str:
    """Where a form post returns to: the page it came from, if it is ours (same scheme and
    host, and a path that stays on this site)."""
    referer = request.headers.get("referer", "")
    try:
        parts = urlsplit(referer)
    except ValueError:  # e.g. an unbalanced '[' in the host
        return fallback
    ours = urlsplit(str(request.base_url))
    if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
        return fallback
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return local_path(path) or fallback


def _account_error(
    request: Request, mode: str, username: str, error: str, status_code: int = 400
) -> Response:
    return render(
        request,
        "auth.html",
        status_code=status_code,
        mode=mode,
        error=error,
        username=username[:MAX_NAME_INPUT],
    )


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
    try:
        name = accounts.valid_username(username)  # before hashing: a bad name costs nothing
        with papertide(request).engine.begin() as conn:
            user_id = accounts.create_user(conn, name, hash_password(password))
    except (WeakPassword, accounts.AccountError) as exc:
        return _account_error(request, "signup", username, str(exc))
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
    if len(username) > MAX_NAME_INPUT:
        return _account_error(request, "login", username, "wrong name or password")
    count_login_attempt(request, username)
    engine = papertide(request).engine
    with engine.connect() as conn:
        user = accounts.user_by_name(conn, username)
    if user is None or not verify_password(user["password_hash"], password):
        return _account_error(request, "login", username, "wrong name or password")
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
    return RedirectResponse(back(request, paper_path(result["id"])), status_code=303)


def _account_page(
    request: Request,
    user: dict[str, Any],
    status_code: int = 200,
    new_token: str | None = None,
    error: str | None = None,
    note: str | None = None,
) -> Response:
    with papertide(request).engine.connect() as conn:
        tokens = accounts.api_tokens_of(conn, user["id"])
        shows_upvotes = profiles.shows_upvotes(conn, user["id"])
    return render(
        request,
        "account.html",
        status_code=status_code,
        shows_upvotes=shows_upvotes,
        new_token=new_token,
        tokens=tokens,
        error=error,
        note=note,
    )


@router.get("/account")
def account(request: Request) -> Response:
    return _account_page(request, require_user(request))


@router.post("/account/tokens")
def create_token(request: Request, name: str = Form("api"), csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    token, hashed = new_token()
    try:
        with papertide(request).engine.begin() as conn:
            accounts.create_api_token(conn, hashed, user["id"], name)
    except accounts.AccountError as exc:
        return _account_page(request, user, 400, error=str(exc))
    return _account_page(request, user, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    try:
        with papertide(request).engine.begin() as conn:
            accounts.revoke_api_token(conn, user["id"], token_id)
    except accounts.AccountError as exc:
        return _account_page(request, user, 404, error=str(exc))
    return RedirectResponse("/account", status_code=303)


def change_password(
    request: Request, user: dict[str, Any], current: str, new: str, revoke_tokens: bool
) -> dict[str, int]:
    """Set USER's password to NEW once CURRENT is proven (wrong guesses count towards the
    login rate limit), signing them out of every session; with REVOKE_TOKENS, their API tokens
    stop working too. HTTPException (400/429) when it cannot be done."""
    count_login_attempt(request, user["username"])
    engine = papertide(request).engine
    if not verify_password(user["password_hash"], current):
        raise HTTPException(400, "the current password is wrong")
    with engine.begin() as conn:
        accounts.clear_login_failures(conn, login_key(request, user["username"]))
    try:
        hashed = hash_password(new)
    except WeakPassword as exc:
        raise HTTPException(400, str(exc)) from exc
    with engine.begin() as conn:
        return accounts.set_password(conn, user["id"], hashed, revoke_tokens)


@router.post("/account/password")
def password_form(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    revoke_tokens: bool = Form(False),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    try:
        revoked = change_password(request, user, current_password, new_password, revoke_tokens)
    except HTTPException as exc:
        return _account_page(request, user, exc.status_code, error=exc.detail)
    note = f"Password changed: {revoked['sessions_revoked']} session(s) ended, this one included"
    if revoke_tokens:
        note += f"; {revoked['tokens_revoked']} API token(s) revoked"
    response = _account_page(request, user, note=note + ". This browser is signed in again.")
    start_session(request, response, user["id"])  # a fresh session replaces the ended one
    return response


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


@api_router.post("/papers/{paper_id:path}/vote", response_model=schemas.Vote)
def api_vote(request: Request, paper_id: str) -> dict[str, Any]:
    """Toggle your vote on a paper (API token in `Authorization: Bearer`)."""
    return _toggle(request, api_user(request), paper_id)


@api_router.get("/me", response_model=schemas.Me)
def me(request: Request) -> dict[str, Any]:
    """Who an API token belongs to."""
    user = api_user(request)
    return {"username": user["username"], "role": user["role"]}


@api_router.get("/me/tokens", response_model=list[schemas.ApiToken])
def api_tokens(request: Request) -> list[dict[str, Any]]:
    """Your API tokens: id (to revoke it), name, created_at, last_used_at (never the token)."""
    user = api_user(request)
    with papertide(request).engine.connect() as conn:
        return accounts.api_tokens_of(conn, user["id"])


@api_router.delete("/me/tokens/{token_id}", status_code=204)
def api_revoke_token(request: Request, token_id: str) -> Response:
    """Revoke one of your API tokens (the one making the request too, if you name it)."""
    user = api_user(request)
    try:
        with papertide(request).engine.begin() as conn:
            accounts.revoke_api_token(conn, user["id"], token_id)
    except accounts.AccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)


@api_router.post("/me/password", response_model=schemas.PasswordChanged)
def api_change_password(
    request: Request,
    current_password: str = Body(..., max_length=MAX_PASSWORD),
    new_password: str = Body(..., max_length=MAX_PASSWORD),
    revoke_tokens: bool = Body(False),
) -> dict[str, int]:
    """Change your password (the current one is required). Every session is signed out; API
    tokens keep working unless `revoke_tokens` is true."""
    user = api_user(request)
    return change_password(request, user, current_password, new_password, revoke_tokens)
