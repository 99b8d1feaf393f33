"""Sessions, CSRF protection and login rate limiting for the web app.

CSRF uses the double-submit pattern: a random `pt_csrf` cookie (SameSite=Strict) whose value
every state-changing form repeats in a hidden field (or a fetch in the X-CSRF-Token header);
a cross-site page can neither read the cookie nor make the browser send it, so it cannot
forge a matching pair.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, Request, Response

from papertide.limits import MAX_NAME_INPUT
from papertide.security import new_token, token_hash
from papertide.store import accounts
from papertide.store.writer import utcnow
from papertide.web.deps import papertide

SESSION_COOKIE = "pt_session"
CSRF_COOKIE = "pt_csrf"
SESSION_DAYS = 30
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_ATTEMPTS = 5


def secure_cookies(request: Request) -> bool:
    """Secure when served over HTTPS (or told so); plain http on localhost must still work."""
    forced = papertide(request).settings.secure_cookies
    if forced is not None:
        return forced
    return request.url.scheme == "https"


def current_user(request: Request) -> dict[str, Any] | None:
    if not hasattr(request.state, "user"):
        token = request.cookies.get(SESSION_COOKIE)
        user = None
        if token:
            with papertide(request).engine.connect() as conn:
                user = accounts.session_user(conn, token_hash(token))
        request.state.user = user
    return request.state.user


def require_user(request: Request) -> dict[str, Any]:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "log in first")
    return user


def require_admin(request: Request) -> dict[str, Any]:
    user = require_user(request)
    if user["role"] != "admin":
        raise HTTPException(403, "admins only")
    return user


def start_session(request: Request, response: Response, user_id: int) -> None:
    token, hashed = new_token()
    with papertide(request).engine.begin() as conn:
        accounts.create_session(conn, hashed, user_id, utcnow() + timedelta(days=SESSION_DAYS))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with papertide(request).engine.begin() as conn:
            accounts.delete_session(conn, token_hash(token))
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: Request) -> str:
    """The token forms must repeat; created on first use, set on the response by the caller."""
    if not hasattr(request.state, "csrf"):
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    return request.state.csrf


def set_csrf_cookie(request: Request, response: Response) -> None:
    if request.cookies.get(CSRF_COOKIE) != csrf_token(request):
        response.set_cookie(
            CSRF_COOKIE,
            csrf_token(request),
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request),
            path="/",
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    submitted = submitted or request.headers.get("X-CSRF-Token")
    if (
        not cookie
        or not submitted
        or not secrets.compare_digest(
            cookie.encode("utf-8", "surrogatepass"), submitted.encode("utf-8", "surrogatepass")
        )
    ):
        raise HTTPException(403, "missing or invalid CSRF token: reload the page and retry")


def login_key(request: Request, username: str) -> str:
    """The rate-limit bucket: the canonical name (every spelling of one account shares it) and
    the client's address (the socket's peer, or a configured proxy's X-Forwarded-For)."""
    client = request.client.host if request.client else "unknown"
    return f"{accounts.username_key(username[:MAX_NAME_INPUT])}|{client}"


def count_login_attempt(request: Request, username: str) -> None:
    """Count a password guess before it is checked (a right one clears the count), 429 past
    the limit: counted only after a wrong guess, attempts made at once (several instances,
    or threads) all passed a count none of them had added to yet. A refused attempt checks no
    password, so it is forgotten: retrying while locked out does not prolong the lockout."""
    key = login_key(request, username)
    pt = papertide(request)
    now = pt.clock.now()
    with pt.engine.begin() as conn:
        attempt = accounts.record_login_failure(conn, key, now)
    with pt.engine.connect() as conn:  # after the commit: sees every attempt committed before
        failures = accounts.login_failures_since(conn, key, now - LOGIN_WINDOW)
    if failures > LOGIN_ATTEMPTS:
        with pt.engine.begin() as conn:
            accounts.forget_login_failure(conn, attempt)
        raise HTTPException(429, "too many failed logins: wait 15 minutes")
