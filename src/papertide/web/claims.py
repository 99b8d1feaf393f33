"""Authorship claims: a member claims a paper (a button on its page, or the API); an admin
approves or rejects it on /admin/claims, unless it is approved at once because one of the
member's confirmed addresses is in PAPERTIDE_CLAIM_EMAIL_DOMAINS.

The only member addresses papertide has proven are digest subscriptions confirmed through the
emailed link, which names the account (store/claims.confirmed_addresses); users.email is set by
no route and is never trusted here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from papertide.links import paper_path
from papertide.store import claims
from papertide.store.queries import SQL_INT_MAX
from papertide.web import schemas
from papertide.web.accounts import api_user, back
from papertide.web.auth import check_csrf, current_user, require_admin, require_user
from papertide.web.deps import papertide
from papertide.web.library import _resolve
from papertide.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["claims"])
Decision = Literal["approve", "reject"]
ClaimId = Annotated[int, Path(ge=1, le=SQL_INT_MAX)]


def paper_claims(request: Request, paper_id: str) -> dict[str, Any]:
    """What a paper page shows of claims: who has an approved claim, and the viewer's own."""
    user = current_user(request)
    with papertide(request).engine.connect() as conn:
        claimants = claims.claimants(conn, paper_id)
        mine = claims.of(conn, user["id"], paper_id) if user else None
    return {"claimants": claimants, "my_claim": mine}


def _claim(request: Request, user: dict[str, Any], paper_ref: str) -> dict[str, Any]:
    paper_id = _resolve(request, paper_ref)
    domains = papertide(request).settings.claim_domains
    with papertide(request).engine.begin() as conn:
        trusted = any(
            claims.in_domains(address, domains)
            for address in claims.confirmed_addresses(conn, user["id"])
        )
        try:
            return claims.make(conn, user["id"], paper_id, approved=trusted)
        except claims.ClaimError as exc:
            raise HTTPException(409, str(exc)) from exc


def _withdraw(request: Request, user: dict[str, Any], paper_ref: str) -> None:
    paper_id = _resolve(request, paper_ref)
    with papertide(request).engine.begin() as conn:
        if not claims.withdraw(conn, user["id"], paper_id):
            raise HTTPException(404, "you have no claim on this paper to withdraw")


def _decide(request: Request, admin: dict[str, Any], claim_id: int, decision: str) -> Any:
    if decision not in ("approve", "reject"):
        raise HTTPException(400, "decision is approve or reject")
    with papertide(request).engine.begin() as conn:
        try:
            return claims.decide(conn, claim_id, admin["id"], decision == "approve")
        except claims.ClaimError as exc:
            raise HTTPException(404, str(exc)) from exc


# -- HTML ------------------------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/claim")
def claim_form(
    request: Request, paper_id: str, undo: bool = Form(False), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    if undo:
        _withdraw(request, user, paper_id)
        target = _resolve(request, paper_id)
    else:
        target = _claim(request, user, paper_id)["paper_id"]
    return RedirectResponse(back(request, paper_path(target)), status_code=303)


@router.get("/admin/claims")
def claims_page(request: Request) -> Response:
    require_admin(request)
    with papertide(request).engine.connect() as conn:
        waiting = claims.pending(conn)
    return render(request, "claims.html", claims=waiting)


@router.post("/admin/claims/{claim_id}")
def decide_form(
    request: Request, claim_id: ClaimId, decision: str = Form(""), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    admin = require_admin(request)
    _decide(request, admin, claim_id, decision)
    return RedirectResponse("/admin/claims", status_code=303)


# -- JSON API (API token) --------------------------------------------------------------------


@api_router.post("/papers/{paper_id:path}/claim", response_model=schemas.Claim)
def api_claim(request: Request, paper_id: str) -> Any:
    """Claim to be an author of a paper: pending until an admin decides, or approved at once
    when one of your confirmed digest addresses is in a domain the site trusts."""
    return _claim(request, api_user(request), paper_id)


@api_router.delete("/papers/{paper_id:path}/claim", status_code=204)
def api_withdraw(request: Request, paper_id: str) -> Response:
    """Withdraw your pending or approved claim on a paper (a rejected one stays)."""
    _withdraw(request, api_user(request), paper_id)
    return Response(status_code=204)


@api_router.get("/me/claims", response_model=list[schemas.Claim])
def api_my_claims(request: Request) -> Any:
    """Your claims, newest first, whatever their status."""
    user = api_user(request)
    with papertide(request).engine.connect() as conn:
        return claims.of_user(conn, user["id"])


@api_router.get("/admin/claims", response_model=list[schemas.PendingClaim])
def api_pending(request: Request) -> Any:
    """Claims waiting for an admin, oldest first (admins only)."""
    if api_user(request)["role"] != "admin":
        raise HTTPException(403, "admins only")
    with papertide(request).engine.connect() as conn:
        return claims.pending(conn)


@api_router.post("/admin/claims/{claim_id}", response_model=schemas.Claim)
def api_decide(
    request: Request, claim_id: ClaimId, decision: Decision = Body(..., embed=True)
) -> Any:
    """Approve or reject a pending claim (admins only)."""
    admin = api_user(request)
    if admin["role"] != "admin":
        raise HTTPException(403, "admins only")
    return _decide(request, admin, claim_id, decision)
