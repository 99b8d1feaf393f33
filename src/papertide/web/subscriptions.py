"""Digest subscription pages: subscribe (a form anyone may use; double opt-in), confirm, and
RFC 8058 one-click unsubscribe. The signed token in the link is the authority: no login
needed. A GET never changes anything (mail scanners open every link): it shows a page whose
button POSTs."""

from __future__ import annotations

import smtplib

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from papertide.digest import subscribe, tokens
from papertide.limits import MAX_EMAIL
from papertide.store import accounts, digests
from papertide.store.digests import PERIODS
from papertide.web.auth import check_csrf, current_user
from papertide.web.deps import papertide
from papertide.web.templating import render

router = APIRouter(include_in_schema=False)
INVALID_LINK = "this link is not valid (damaged or not from this server)"
STALE_LINK = "this link has been used or replaced: the subscription changed since it was sent"


def _secret(request: Request) -> str:
    with papertide(request).engine.begin() as conn:
        return digests.signing_secret(conn)


def _message(request: Request, title: str, text: str, status_code: int = 200) -> HTMLResponse:
    return render(request, "message.html", status_code=status_code, title=title, text=text)


def _subscribe_page(
    request: Request, email: str, period: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "subscribe.html",
        status_code=status_code,
        email=email,
        period=period,
        periods=PERIODS,
        max_email=MAX_EMAIL,
        error=error,
    )


@router.get("/subscribe")
def subscribe_page(request: Request) -> HTMLResponse:
    """The form: an address and how often. A member's address is filled in."""
    user = current_user(request)
    return _subscribe_page(request, (user or {}).get("email") or "", "daily")


@router.post("/subscribe")
def subscribe_form(
    request: Request,
    email: str = Form(""),
    period: str = Form("daily"),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    user = current_user(request)
    try:
        subscribe.request(
            papertide(request).engine,
            papertide(request).mail,
            email,
            period,
            user["id"] if user else None,
        )
    except ValueError as exc:  # the form again, with what was typed and what is wrong
        return _subscribe_page(request, email, period, str(exc), 400)
    except (smtplib.SMTPException, OSError):
        return _message(
            request,
            "Not subscribed yet",
            "The confirmation email could not be sent; try later.",
            503,
        )
    # The same words whether or not a mail went out, so the page tells nobody what another
    # address is subscribed to.
    return _message(
        request,
        "Check your inbox",
        f"Unless {email.strip()} already gets the {period} digest, we sent it a confirmation "
        "link. Nothing changes until that link is followed.",
    )


def _change(request: Request, token: str) -> digests.Change:
    change = tokens.read_confirm(_secret(request), token)
    if change is None:
        raise HTTPException(400, INVALID_LINK)
    with papertide(request).engine.connect() as conn:
        if not digests.is_current(conn, change.subscriber_id, change.generation):
            raise HTTPException(400, STALE_LINK)
    return change


@router.get("/confirm")
def confirm_page(request: Request, token: str = "") -> Response:
    """What the link would confirm, and a button to confirm it."""
    change = _change(request, token)
    with papertide(request).engine.connect() as conn:
        subscriber = digests.by_id(conn, change.subscriber_id)
        account = accounts.user_by_id(conn, change.user_id) if change.user_id is not None else None
    return render(
        request, "confirm.html", token=token, change=change, subscriber=subscriber, account=account
    )


@router.post("/confirm")
def confirm(request: Request, token: str = "") -> Response:
    """No CSRF check: the signed token is the authority, and it works once."""
    change = _change(request, token)
    with papertide(request).engine.begin() as conn:
        subscriber = digests.confirm(conn, change)
    if subscriber is None:  # confirmed by another request in between
        raise HTTPException(400, STALE_LINK)
    return _message(
        request, "Subscribed", f"{subscriber['email']} gets the {subscriber['period']} digest."
    )


def _unsubscribe_target(request: Request, token: str) -> tuple[int, int]:
    target = tokens.read_unsubscribe(_secret(request), token)
    if target is None:
        raise HTTPException(400, INVALID_LINK)
    with papertide(request).engine.connect() as conn:
        if not digests.is_current(conn, *target):
            raise HTTPException(400, STALE_LINK)
    return target


@router.get("/unsubscribe")
def unsubscribe_page(request: Request, token: str = "") -> Response:
    """A page with one button: a GET changes nothing, as link scanners open every link."""
    _unsubscribe_target(request, token)
    return render(request, "unsubscribe.html", token=token)


@router.post("/unsubscribe")
def unsubscribe(request: Request, token: str = "") -> Response:
    """One click: the page's button, or a mail client's RFC 8058 POST
    (body `List-Unsubscribe=One-Click`). No CSRF check: the signed token is the authority,
    and a mail client posts without a session."""
    subscriber_id, generation = _unsubscribe_target(request, token)
    with papertide(request).engine.begin() as conn:
        if not digests.unsubscribe(conn, subscriber_id, generation):
            raise HTTPException(400, STALE_LINK)
    return _message(request, "Unsubscribed", "You will get no more digests.")
