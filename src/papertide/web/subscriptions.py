"""Digest subscription pages: subscribe (double opt-in), confirm, and RFC 8058 one-click
unsubscribe. The signed token in the link is the authority: no login needed."""

from __future__ import annotations

import smtplib

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from papertide.digest import subscribe, tokens
from papertide.store import digests
from papertide.web.auth import check_csrf, current_user
from papertide.web.deps import papertide
from papertide.web.templating import render

router = APIRouter(include_in_schema=False)


def _subscriber_id(request: Request, purpose: str, token: str) -> int:
    with papertide(request).engine.begin() as conn:
        secret = digests.signing_secret(conn)
    subscriber_id = tokens.read(secret, purpose, token)
    if subscriber_id is None:
        raise HTTPException(400, "this link is not valid (damaged or not from this server)")
    return subscriber_id


def _message(request: Request, title: str, text: str, status_code: int = 200) -> HTMLResponse:
    return render(request, "message.html", status_code=status_code, title=title, text=text)


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
    except ValueError as exc:
        return _message(request, "Not subscribed", str(exc), 400)
    except (smtplib.SMTPException, OSError):
        return _message(
            request,
            "Not subscribed yet",
            "The confirmation email could not be sent; try later.",
            503,
        )
    return _message(
        request,
        "Check your inbox",
        f"We sent a confirmation link to {email}. The {period} digest starts once you follow it.",
    )


@router.get("/confirm")
def confirm(request: Request, token: str = "") -> Response:
    subscriber_id = _subscriber_id(request, "confirm", token)
    with papertide(request).engine.begin() as conn:
        digests.confirm(conn, subscriber_id)
        subscriber = digests.by_id(conn, subscriber_id)
    if subscriber is None:
        raise HTTPException(404, "no such subscription")
    return _message(
        request, "Subscribed", f"{subscriber['email']} gets the {subscriber['period']} digest."
    )


@router.get("/unsubscribe")
def unsubscribe_page(request: Request, token: str = "") -> Response:
    """A page with one button: a GET changes nothing, as link scanners open every link."""
    _subscriber_id(request, "unsubscribe", token)
    return render(request, "unsubscribe.html", token=token)


@router.post("/unsubscribe")
def unsubscribe(request: Request, token: str = "") -> Response:
    """One click: the page's button, or a mail client's RFC 8058 POST
    (body `List-Unsubscribe=One-Click`). No CSRF check: the signed token is the authority,
    and a mail client posts without a session."""
    subscriber_id = _subscriber_id(request, "unsubscribe", token)
    with papertide(request).engine.begin() as conn:
        digests.unsubscribe(conn, subscriber_id)
    return _message(request, "Unsubscribed", "You will get no more digests.")
