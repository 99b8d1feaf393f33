"""Papers submitted to the daily lists: the rules for members' submissions, admins' removals,
and reading the submitted lists back (with each paper's submitter, time and comment).

Sources' own submissions (Hugging Face's community) are filed by the writer as papers arrive
(store/writer.py); here they are read like members' ones.
"""

from __future__ import annotations

import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from papertide.limits import MAX_SUBMISSION_COMMENT
from papertide.periods import AFTER_LATEST, EARLIEST
from papertide.store.queries import FEED_COLUMNS, counted_votes, sql_int
from papertide.store.schema import papers, submissions, upvotes, users

MEMBER = "member"  # origin of a member's submission; a source's is the source's name ("hf")
ORIGIN_NAMES = {MEMBER: "papertide", "hf": "Hugging Face"}


class SubmissionError(ValueError):
    """A submission that cannot be made (or removed); the message is for the member.
    STATUS is the HTTP status it answers with (web) and says which rule refused it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Rules:
    """The instance's submission rules (Settings: submission_max_age_days, _daily_quota)."""

    max_age_days: int
    daily_quota: int


def clean_comment(text: str | None) -> str | None:
    """A comment as stored: plain text of at most MAX_SUBMISSION_COMMENT characters, without
    control or bidi-override characters (newlines become spaces); None when empty. It is shown
    escaped like any text, so markup in it stays text."""
    if text is None:
        return None
    if len(text) > MAX_SUBMISSION_COMMENT:
        raise SubmissionError(f"a comment has at most {MAX_SUBMISSION_COMMENT} characters")
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in unicodedata.normalize("NFC", text)
        if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return " ".join(kept.split()) or None


def submission_of(conn: Connection, paper_id: str) -> dict[str, Any] | None:
    """The submission of PAPER_ID (removed or not), or None."""
    row = conn.execute(select(submissions).where(submissions.c.paper_id == paper_id)).mappings()
    found = row.first()
    return dict(found) if found else None


def _taken_message(existing: dict[str, Any]) -> str:
    if existing["removed_at"] is not None:
        return "this paper was submitted before and an admin removed it from the submitted list"
    where = "" if existing["origin"] == MEMBER else f" on {ORIGIN_NAMES.get(existing['origin'])}"
    return (
        f"already submitted by {existing['submitter']}{where} "
        f"on {existing['submitted_at']:%Y-%m-%d %H:%M} UTC"
    )


def submit(
    conn: Connection,
    user: dict[str, Any],
    paper_id: str,
    comment: str | None,
    now: datetime,
    rules: Rules,
) -> dict[str, Any]:
    """USER submits the stored, visible paper PAPER_ID, inside the caller's transaction; the
    new submission, or SubmissionError: the paper is too old or undated (409), someone already
    submitted it (409, naming them), USER reached the daily quota (429)."""
    comment = clean_comment(comment)
    paper = conn.execute(
        select(papers.c.id, papers.c.published_at, papers.c.hidden).where(papers.c.id == paper_id)
    ).first()
    if paper is None or paper.hidden:
        raise SubmissionError(f"no paper {paper_id!r}", 404)
    existing = submission_of(conn, paper_id)
    if existing is not None:
        raise SubmissionError(_taken_message(existing), 409)
    check_age(paper.published_at, now, rules)
    if conn.engine.dialect.name == "postgresql":
        # one member's submissions one at a time, so two at once cannot both pass the quota
        # (SQLite writes one transaction at a time anyway: the insert below takes its lock)
        conn.execute(select(users.c.id).where(users.c.id == user["id"]).with_for_update())
    values = {
        "paper_id": paper_id,
        "origin": MEMBER,
        "user_id": user["id"],
        "submitter": user["username"],
        "comment": comment,
        "submitted_at": now,
    }
    # A failed insert aborts a PostgreSQL transaction unless inside a savepoint; on SQLite it
    # aborts the statement only, and a savepoint there would be the outermost one, whose release
    # commits (and the quota check below could no longer take the insert back).
    postgresql = conn.engine.dialect.name == "postgresql"
    try:
        with conn.begin_nested() if postgresql else nullcontext():
            conn.execute(submissions.insert().values(**values))
    except IntegrityError:  # submitted by someone else in the meantime
        existing = submission_of(conn, paper_id)
        raise SubmissionError(_taken_message(existing) if existing else "try again", 409) from None
    # counted after the insert, which is counted too: the caller's rollback undoes it
    check_quota(conn, user["id"], now, rules, made_now=1)
    return values


def check_quota(
    conn: Connection, user_id: int, now: datetime, rules: Rules, made_now: int
) -> None:
    """SubmissionError (429) when the member has made more than the daily quota allows, the
    MADE_NOW submissions of this transaction included (their UTC day, removed ones too)."""
    today = datetime(now.year, now.month, now.day)
    made = conn.execute(
        select(func.count())
        .select_from(submissions)
        .where(submissions.c.user_id == user_id, submissions.c.submitted_at >= today)
    ).scalar_one()
    if made - made_now >= rules.daily_quota:
        raise SubmissionError(
            f"you have submitted {rules.daily_quota} papers today, the most a member may "
            "submit in a day (UTC): try again tomorrow",
            429,
        )


def check_age(published_at: datetime | None, now: datetime, rules: Rules) -> None:
    """SubmissionError (409) unless a paper published at PUBLISHED_AT may be submitted NOW."""
    if published_at is None:
        raise SubmissionError("its publication date is unknown, so it cannot be submitted", 409)
    if published_at < now - timedelta(days=rules.max_age_days):
        raise SubmissionError(
            f"this paper was published on {published_at:%Y-%m-%d}: only papers of the last "
            f"{rules.max_age_days} days can be submitted",
            409,
        )


def remove(
    conn: Connection, paper_id: str, admin: dict[str, Any] | None, now: datetime
) -> None:
    """An admin (None: the operator, from the command line) takes PAPER_ID off the submitted
    lists; the row is kept as removed (see schema.py)."""
    result = conn.execute(
        update(submissions)
        .where(submissions.c.paper_id == paper_id, submissions.c.removed_at.is_(None))
        .values(removed_at=now, removed_by=admin["id"] if admin else None)
    )
    if result.rowcount == 0:
        raise SubmissionError(f"paper {paper_id!r} has no submission to remove", 404)


SUBMISSION_COLUMNS = (
    submissions.c.origin,
    submissions.c.submitter,
    submissions.c.submitter_fullname,
    submissions.c.comment,
    submissions.c.submitted_at,
)


def _listed(query: Select, start: datetime | None, end: datetime | None) -> Select:
    """Standing submissions of visible papers, submitted in [start, end)."""
    query = query.where(submissions.c.removed_at.is_(None), papers.c.hidden.is_(False))
    if start is not None:
        query = query.where(submissions.c.submitted_at >= start)
    if end is not None:
        query = query.where(submissions.c.submitted_at < end)
    return query


def _by_submitter(query: Select, submitter: str | None) -> Select:
    if submitter:
        return query.where(func.lower(submissions.c.submitter) == submitter.strip().lower())
    return query


def submitted_papers(
    conn: Connection,
    start: datetime | None,
    end: datetime | None,
    offset: int = 0,
    limit: int = 50,
    submitter: str | None = None,
) -> list[dict[str, Any]]:
    """Papers submitted in [start, end), newest submission first, with their counted votes and
    the submission's fields (the rows of queries.papers_in_period, plus `submission`)."""
    votes = (
        select(upvotes.c.paper_id, func.count().label("votes"))
        .select_from(counted_votes())
        .group_by(upvotes.c.paper_id)
        .subquery()
    )
    query = select(
        *FEED_COLUMNS, func.coalesce(votes.c.votes, 0).label("votes"), *SUBMISSION_COLUMNS
    ).select_from(
        submissions.join(papers, papers.c.id == submissions.c.paper_id).outerjoin(
            votes, votes.c.paper_id == papers.c.id
        )
    )
    query = _by_submitter(_listed(query, start, end), submitter)
    query = query.order_by(submissions.c.submitted_at.desc(), submissions.c.id.desc())
    query = query.offset(sql_int(offset)).limit(sql_int(limit))
    return [_with_submission(dict(row)) for row in conn.execute(query).mappings()]


def count_submitted(
    conn: Connection, start: datetime | None, end: datetime | None, submitter: str | None = None
) -> int:
    query = select(func.count()).select_from(
        submissions.join(papers, papers.c.id == submissions.c.paper_id)
    )
    return conn.execute(_by_submitter(_listed(query, start, end), submitter)).scalar_one()


def _submission_day(conn: Connection, which: Any, *where: Any) -> Any:
    """The day of the MIN or MAX (WHICH) standing submission time inside the supported years
    (periods.py: list pages refuse other days), under WHERE; None when there is none."""
    query = _listed(
        select(which(submissions.c.submitted_at)).select_from(
            submissions.join(papers, papers.c.id == submissions.c.paper_id)
        ),
        EARLIEST,
        AFTER_LATEST,
    ).where(*where)
    found = conn.execute(query).scalar_one()
    return found.date() if found else None


def newest_submission_day(conn: Connection) -> Any:
    return _submission_day(conn, func.max)


def neighbour_submission_days(conn: Connection, start: datetime, end: datetime) -> tuple[Any, Any]:
    """The nearest earlier and later days with submissions (queries.neighbour_days' twin)."""
    return (
        _submission_day(conn, func.max, submissions.c.submitted_at < start),
        _submission_day(conn, func.min, submissions.c.submitted_at >= end),
    )


def submissions_of(conn: Connection, paper_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The standing submissions of PAPER_IDS, by paper id (for cards in the All view)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(paper_ids), 900):
        query = select(submissions.c.paper_id, *SUBMISSION_COLUMNS).where(
            submissions.c.paper_id.in_(paper_ids[start : start + 900]),
            submissions.c.removed_at.is_(None),
        )
        for row in conn.execute(query).mappings():
            found[row["paper_id"]] = _submission_fields(dict(row))
    return found


def all_submissions(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Every submission, removed ones included, newest first (the admin's list)."""
    query = (
        select(submissions, papers.c.title)
        .select_from(submissions.join(papers, papers.c.id == submissions.c.paper_id))
        .order_by(submissions.c.submitted_at.desc(), submissions.c.id.desc())
        .limit(sql_int(limit))
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _submission_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "origin": row["origin"],
        "origin_name": ORIGIN_NAMES.get(row["origin"], row["origin"]),
        "submitter": row["submitter"],
        "submitter_fullname": row["submitter_fullname"],
        "comment": row["comment"],
        "submitted_at": row["submitted_at"],
    }


def _with_submission(row: dict[str, Any]) -> dict[str, Any]:
    row["submission"] = _submission_fields(row)
    for name in ("origin", "submitter", "submitter_fullname", "comment", "submitted_at"):
        del row[name]
    return row
