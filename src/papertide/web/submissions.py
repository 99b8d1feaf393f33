"""Submitting papers to the daily lists, the lists' two views (Submitted, All new), and the
admins' removals.

A member submits an arXiv id or link (arxiv_ref.py reads it strictly). A paper papertide does
not have yet is fetched from arXiv first, once and within PAPERTIDE_SUBMISSION_FETCH_TIMEOUT;
when arXiv cannot be reached the member is told so (503) and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from papertide.application import Papertide
from papertide.arxiv_ref import NotAnArxivRef, parse_arxiv_ref
from papertide.ingest import arxiv_one
from papertide.ingest.http import FetchError
from papertide.limits import MAX_ARXIV_REF_CHARS, MAX_NAME_INPUT, MAX_SUBMISSION_COMMENT
from papertide.store import queries
from papertide.store import submissions as store
from papertide.web.accounts import back
from papertide.web.auth import check_csrf, require_admin, require_user
from papertide.web.deps import papertide
from papertide.web.templating import render
from papertide.web.views import ranker_named

router = APIRouter(include_in_schema=False)

SUBMITTED, ALL = "submitted", "all"
VIEW_NAMES = {"submitted": SUBMITTED, "curated": SUBMITTED, "all": ALL}
View = Annotated[
    str | None,
    Query(
        max_length=20,
        description="submitted (what members and Hugging Face submitted) or all (every new "
        "paper); default: the instance's PAPERTIDE_DEFAULT_VIEW",
        json_schema_extra={"enum": sorted(VIEW_NAMES)},
    ),
]
Submitter = Annotated[
    str | None,
    Query(max_length=MAX_NAME_INPUT, description="only papers this member (or HF user) submitted"),
]


def default_view(pt: Papertide) -> str:
    return SUBMITTED if pt.settings.default_view == "curated" else ALL


def chosen_view(pt: Papertide, asked: str | None) -> str:
    """The view a request asks for (`?view=`), else the instance's; 400 for an unknown one."""
    if not asked:
        return default_view(pt)
    try:
        return VIEW_NAMES[asked.strip().lower()]
    except KeyError:
        raise HTTPException(400, "view is submitted or all") from None


def rules(pt: Papertide) -> store.Rules:
    return store.Rules(pt.settings.submission_max_age_days, pt.settings.submission_daily_quota)


def submitted_papers(
    pt: Papertide,
    start: datetime | None,
    end: datetime | None,
    sort: str,
    offset: int,
    limit: int,
    submitter: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Page OFFSET..OFFSET+LIMIT of the papers submitted in [start, end) in SORT's order
    (newest submission first for the default sort), and how many the list holds."""
    ranker = ranker_named(sort)
    with pt.engine.connect() as conn:
        total = store.count_submitted(conn, start, end, submitter)
        if ranker.pool is None:
            return store.submitted_papers(conn, start, end, offset, limit, submitter), total
        pool = store.submitted_papers(conn, start, end, 0, ranker.pool, submitter)
    ids, _scores = ranker.rank(pool, pt.clock.now())
    by_id = {row["id"]: row for row in pool}
    return [by_id[i] for i in ids[offset : offset + limit]], min(total, ranker.pool)


def with_submissions(pt: Papertide, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ROWS (papers of the All view) with the submission of each submitted one."""
    with pt.engine.connect() as conn:
        found = store.submissions_of(conn, [r["id"] for r in rows])
    return [{**row, "submission": found.get(row["id"])} for row in rows]


# -- submitting ----------------------------------------------------------------------------------


def submit_paper(request: Request, user: dict[str, Any], ref: str, comment: str) -> str:
    """USER submits the paper REF names, fetched from arXiv when it is not stored; its id, or
    HTTPException with the reason (400 unreadable, 404 unknown, 409 refused by a rule, 429
    quota, 503 arXiv unreachable)."""
    pt = papertide(request)
    now = pt.clock.now()
    try:
        arxiv_id = parse_arxiv_ref(ref)
        store.clean_comment(comment)  # before anything is fetched
    except (NotAnArxivRef, store.SubmissionError) as exc:
        raise HTTPException(400, str(exc)) from exc
    try:
        with pt.engine.connect() as conn:
            # a member at the quota makes no request to arXiv
            store.check_quota(conn, user["id"], now, rules(pt), made_now=0)
            paper_id = queries.resolve_id(conn, arxiv_id, include_hidden=True)
        if paper_id is None:
            paper_id = _fetched(pt, arxiv_id, now)
        with pt.engine.begin() as conn:
            store.submit(conn, user, paper_id, comment, now, rules(pt))
    except store.SubmissionError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return paper_id


def _fetched(pt: Papertide, arxiv_id: str, now: datetime) -> str:
    """ARXIV_ID fetched from arXiv and stored, if the rules would let it be submitted."""
    try:
        record = arxiv_one.fetch_record(pt.settings, arxiv_id)
    except FetchError as exc:
        raise HTTPException(
            503,
            f"{arxiv_id} is not stored here yet and arXiv cannot be reached right now "
            f"({exc}): try again later",
        ) from exc
    if record is None:
        raise HTTPException(404, f"arXiv has no paper {arxiv_id}")
    store.check_age(record.published_at, now, rules(pt))  # an old paper is not stored for it
    return arxiv_one.store_record(pt.engine, record)


def _form(
    request: Request, status_code: int = 200, error: str | None = None, **values: str
) -> Response:
    pt = papertide(request)
    return render(
        request,
        "submit.html",
        status_code=status_code,
        error=error,
        paper=values.get("paper", "")[:MAX_ARXIV_REF_CHARS],
        comment=values.get("comment", "")[:MAX_SUBMISSION_COMMENT],
        max_age=pt.settings.submission_max_age_days,
        quota=pt.settings.submission_daily_quota,
    )


@router.get("/submit")
def submit_form(
    request: Request, paper: str = Query("", max_length=MAX_ARXIV_REF_CHARS)
) -> Response:
    return _form(request, paper=paper)


@router.post("/submit")
def submit(
    request: Request,
    paper: str = Form(""),
    comment: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    try:
        submit_paper(request, user, paper, comment)
    except HTTPException as exc:
        return _form(request, exc.status_code, str(exc.detail), paper=paper, comment=comment)
    day = papertide(request).clock.now().date().isoformat()
    return RedirectResponse(f"/day/{day}?view=submitted", status_code=303)


@router.post("/admin/papers/{paper_id:path}/submission/remove")
def remove_submission(request: Request, paper_id: str, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    admin = require_admin(request)
    pt = papertide(request)
    try:
        with pt.engine.begin() as conn:
            store.remove(conn, paper_id, admin, pt.clock.now())
    except store.SubmissionError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return RedirectResponse(back(request), status_code=303)
