"""Members' public profiles (/users/NAME and /api/users/NAME): their claimed papers, their
public collections, and their upvotes when they choose
to show them (a setting on /account, off by default)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from papertide.limits import MAX_NAME_INPUT
from papertide.links import user_path
from papertide.store import accounts, claims, collections, profiles
from papertide.web import schemas
from papertide.web.accounts import api_user
from papertide.web.api import _paper_json
from papertide.web.auth import check_csrf, current_user, require_user
from papertide.web.collections import collection_json
from papertide.web.deps import papertide
from papertide.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["profiles"])
CLAIMED_SHOWN = 200
UPVOTES_SHOWN = 50


def _profile(request: Request, username: str) -> dict[str, Any]:
    """The profile of USERNAME as anyone may see it; 404 for no such member."""
    with papertide(request).engine.connect() as conn:
        member = accounts.user_by_name(conn, username) if len(username) <= MAX_NAME_INPUT else None
        if member is None:
            raise HTTPException(404, f"no member named {username[:MAX_NAME_INPUT]!r}")
        claimed = claims.claimed_papers(conn, member["id"], CLAIMED_SHOWN)
        # votes an admin hid count nowhere, so they are not shown either
        shown = profiles.shows_upvotes(conn, member["id"]) and not member["votes_hidden"]
        upvoted = profiles.upvoted_papers(conn, member["id"], UPVOTES_SHOWN) if shown else None
        public = collections.public_collections(conn, member["id"])
    return {"member": member, "claimed": claimed, "upvotes": upvoted, "collections": public}


@router.get("/users/{username:path}")
def profile_page(request: Request, username: str) -> Response:
    profile = _profile(request, username)
    viewer = current_user(request)
    voted: set[str] = set()
    if viewer is not None:
        shown = [p["id"] for p in [*profile["claimed"], *(profile["upvotes"] or [])]]
        with papertide(request).engine.connect() as conn:
            voted = accounts.voted_papers(conn, viewer["id"], shown)
    return render(request, "profile.html", voted=voted, **profile)


@router.post("/account/profile")
def profile_settings_form(
    request: Request, show_upvotes: bool = Form(False), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    with papertide(request).engine.begin() as conn:
        profiles.set_shows_upvotes(conn, user["id"], show_upvotes)
    return RedirectResponse("/account", status_code=303)


@api_router.get("/users/{username:path}", response_model=schemas.Profile)
def api_profile(request: Request, username: str) -> Any:
    """A member's public profile: approved authorship claims, public collections, and their
    upvotes if they chose to show them (null otherwise)."""
    profile = _profile(request, username)
    upvotes = profile["upvotes"]
    return {
        "username": profile["member"]["username"],
        "path": user_path(profile["member"]["username"]),
        "claimed": [_paper_json(p) for p in profile["claimed"]],
        "collections": [collection_json(c) for c in profile["collections"]],
        "upvotes": None if upvotes is None else [_paper_json(p) for p in upvotes],
    }


@api_router.post("/me/profile", response_model=schemas.ProfileSettings)
def api_profile_settings(request: Request, show_upvotes: bool = Body(..., embed=True)) -> Any:
    """Choose whether your profile shows your upvotes."""
    user = api_user(request)
    with papertide(request).engine.begin() as conn:
        profiles.set_shows_upvotes(conn, user["id"], show_upvotes)
    return {"show_upvotes": show_upvotes}
