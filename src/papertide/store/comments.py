"""Discussions on papers: comments, one level of replies, reports, and what digests mail.

Every write names the member making it and checks that the comment is theirs (edit, delete) or
that they may act on it; the web layer only maps the errors below to answers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, union, update
from sqlalchemy.engine import Connection

from papertide.comment_markup import clean_body
from papertide.limits import MAX_COMMENT_CHARS, MAX_REPORT_REASON
from papertide.records import clean_text
from papertide.store import dialect
from papertide.store.schema import comment_reports, comments, papers, reply_digests, users

RATE_WINDOW = timedelta(hours=1)


class CommentError(ValueError):
    """A comment request that cannot be done; the message is for the member."""


class UnknownComment(CommentError):
    """No such comment (or none this member may see)."""


class NotYours(CommentError):
    """Another member's comment."""


class TooManyComments(CommentError):
    """The member's hourly allowance is used up."""


def valid_body(text: str) -> str:
    """TEXT as stored, or CommentError: not empty, at most MAX_COMMENT_CHARS."""
    if len(text) > MAX_COMMENT_CHARS * 2:  # not worth cleaning to find out
        raise CommentError(f"a comment has at most {MAX_COMMENT_CHARS:,} characters")
    body = clean_body(text)
    if not body.strip():
        raise CommentError("write something first")
    if len(body) > MAX_COMMENT_CHARS:
        raise CommentError(f"a comment has at most {MAX_COMMENT_CHARS:,} characters")
    return body


def get(conn: Connection, comment_id: int) -> dict[str, Any]:
    """The stored comment COMMENT_ID, or UnknownComment."""
    found = conn.execute(select(comments).where(comments.c.id == comment_id)).mappings().first()
    if found is None:
        raise UnknownComment(f"no comment {comment_id}")
    return dict(found)


def post(
    conn: Connection,
    paper_id: str,
    user_id: int,
    text: str,
    now: datetime,
    per_hour: int,
    parent_id: int | None = None,
) -> int:
    """A new comment on PAPER_ID (a reply to PARENT_ID, a top-level comment of the same paper
    that is neither deleted nor hidden); its id. TooManyComments once the member has written
    PER_HOUR comments in the hour before NOW (deleted ones count: deleting is no way round it).
    """
    body = valid_body(text)
    if parent_id is not None:
        parent = get(conn, parent_id)
        if parent["paper_id"] != paper_id or parent["deleted_at"] or parent["hidden"]:
            raise UnknownComment(f"no comment {parent_id} to reply to on this paper")
        if parent["parent_id"] is not None:
            raise CommentError("replies go one level deep: reply to the comment it answers")
    recent = conn.execute(
        select(func.count())
        .select_from(comments)
        .where(comments.c.user_id == user_id, comments.c.created_at > now - RATE_WINDOW)
    ).scalar_one()
    if recent >= per_hour:
        raise TooManyComments(f"at most {per_hour} comments an hour: try again later")
    result = conn.execute(
        comments.insert().values(
            paper_id=paper_id,
            user_id=user_id,
            parent_id=parent_id,
            body=body,
            created_at=now,
            hidden=False,
        )
    )
    return int(result.inserted_primary_key[0])


def _own(conn: Connection, comment_id: int, user_id: int) -> dict[str, Any]:
    found = get(conn, comment_id)
    if found["deleted_at"] is not None:
        raise UnknownComment(f"comment {comment_id} is deleted")
    if found["user_id"] != user_id:
        raise NotYours("only its author can change a comment")
    return found


def edit(conn: Connection, comment_id: int, user_id: int, text: str, now: datetime) -> None:
    """USER_ID's new text for their comment COMMENT_ID, marked as edited at NOW."""
    body = valid_body(text)
    _own(conn, comment_id, user_id)
    conn.execute(
        update(comments).where(comments.c.id == comment_id).values(body=body, edited_at=now)
    )


def delete(conn: Connection, comment_id: int, user_id: int, now: datetime) -> None:
    """USER_ID deletes their comment: its text goes; the row stays for its replies."""
    _own(conn, comment_id, user_id)
    conn.execute(
        update(comments).where(comments.c.id == comment_id).values(body="", deleted_at=now)
    )


def set_hidden(conn: Connection, comment_id: int, hidden: bool) -> None:
    """Hide a comment from everyone but admins, or show it again (an admin's action)."""
    get(conn, comment_id)
    conn.execute(update(comments).where(comments.c.id == comment_id).values(hidden=hidden))


def report(conn: Connection, comment_id: int, user_id: int, reason: str, now: datetime) -> None:
    """USER_ID reports another member's comment to the admins (once: a second report from
    them changes nothing)."""
    found = get(conn, comment_id)
    if found["deleted_at"] is not None or found["hidden"]:
        raise UnknownComment(f"no comment {comment_id} to report")
    if found["user_id"] == user_id:
        raise CommentError("that is your own comment: edit or delete it instead")
    conn.execute(
        dialect.insert_ignoring_conflicts(comment_reports, conn.engine.name),
        [
            {
                "comment_id": comment_id,
                "user_id": user_id,
                "reason": clean_text(reason)[:MAX_REPORT_REASON],
                "created_at": now,
            }
        ],
    )


def reports(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Reported comments, most recently reported first: the comment (author, paper, text,
    state) with how many members reported it, when last, and their reasons."""
    reporter = users.alias("reporter")
    author = users.alias("author")
    rows = conn.execute(
        select(
            comment_reports.c.comment_id,
            comment_reports.c.reason,
            comment_reports.c.created_at.label("reported_at"),
            reporter.c.username.label("reporter"),
            comments.c.paper_id,
            comments.c.body,
            comments.c.hidden,
            comments.c.deleted_at,
            author.c.username.label("author"),
            papers.c.title,
        )
        .select_from(
            comment_reports.join(comments, comments.c.id == comment_reports.c.comment_id)
            .join(reporter, reporter.c.id == comment_reports.c.user_id)
            .join(author, author.c.id == comments.c.user_id)
            .join(papers, papers.c.id == comments.c.paper_id)
        )
        .order_by(comment_reports.c.created_at.desc(), comment_reports.c.id.desc())
    ).mappings()
    grouped: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = grouped.setdefault(
            row["comment_id"],
            {
                "comment_id": row["comment_id"],
                "paper_id": row["paper_id"],
                "title": row["title"],
                "author": row["author"],
                "body": row["body"],
                "hidden": row["hidden"],
                "deleted": row["deleted_at"] is not None,
                "last_reported_at": row["reported_at"],
                "reports": [],
            },
        )
        entry["reports"].append({"reporter": row["reporter"], "reason": row["reason"]})
    return list(grouped.values())[:limit]


def thread(conn: Connection, paper_id: str, admin: bool = False) -> list[dict[str, Any]]:
    """PAPER_ID's discussion as a reader sees it: top-level comments oldest first, each with
    its replies. Deleted comments, and hidden ones for all but ADMIN, drop out, or stay as an
    empty placeholder ("[deleted]", "[hidden]") while replies hang under them."""
    rows = conn.execute(
        select(comments, users.c.username)
        .select_from(comments.join(users, users.c.id == comments.c.user_id))
        .where(comments.c.paper_id == paper_id)
        .order_by(comments.c.id)
    ).mappings()
    replies: dict[int, list[dict[str, Any]]] = defaultdict(list)
    top: list[dict[str, Any]] = []
    for row in rows:
        shown = _as_shown(dict(row), admin)
        if row["parent_id"] is None:
            top.append(shown)
        elif not shown["deleted"] and (admin or not shown["hidden"]):
            replies[row["parent_id"]].append(shown)
    out = []
    for comment in top:
        comment["replies"] = replies.get(comment["id"], [])
        gone = comment["deleted"] or (comment["hidden"] and not admin)
        if not gone or comment["replies"]:
            out.append(comment)
    return out


def shown(conn: Connection, comment_id: int, admin: bool = False) -> dict[str, Any]:
    """One comment as `thread` shows it (without its replies), or UnknownComment."""
    row = (
        conn.execute(
            select(comments, users.c.username)
            .select_from(comments.join(users, users.c.id == comments.c.user_id))
            .where(comments.c.id == comment_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise UnknownComment(f"no comment {comment_id}")
    return _as_shown(dict(row), admin)


def _as_shown(row: dict[str, Any], admin: bool) -> dict[str, Any]:
    deleted = row["deleted_at"] is not None
    withheld = deleted or (row["hidden"] and not admin)
    return {
        "id": row["id"],
        "paper_id": row["paper_id"],
        "parent_id": row["parent_id"],
        "user_id": None if withheld else row["user_id"],
        "author": None if withheld else row["username"],
        "body": "" if withheld else row["body"],
        "created_at": row["created_at"],
        "edited_at": None if withheld else row["edited_at"],
        "deleted": deleted,
        "hidden": row["hidden"],
        "replies": [],
    }


def _visible() -> Any:
    return and_(comments.c.deleted_at.is_(None), comments.c.hidden.is_(False))


def comment_counts(conn: Connection, paper_ids: list[str]) -> dict[str, int]:
    """Visible comments (replies included; deleted and hidden ones not) per paper among
    PAPER_IDS; papers without any are absent."""
    counts: dict[str, int] = {}
    for start in range(0, len(paper_ids), 900):
        query = (
            select(comments.c.paper_id, func.count())
            .where(comments.c.paper_id.in_(paper_ids[start : start + 900]), _visible())
            .group_by(comments.c.paper_id)
        )
        counts.update({paper_id: n for paper_id, n in conn.execute(query)})
    return counts


def replies_mailed_until(conn: Connection, user_id: int) -> datetime | None:
    """Up to when replies to USER_ID's threads have been in a digest of theirs."""
    return conn.execute(
        select(reply_digests.c.replies_until).where(reply_digests.c.user_id == user_id)
    ).scalar_one_or_none()


def mark_replies_mailed(conn: Connection, user_id: int, until: datetime) -> None:
    """Replies created up to UNTIL are in a digest of USER_ID's (the mark never moves back, so
    a digest composed for an earlier day cannot mail them again)."""
    conn.execute(
        dialect.insert_ignoring_conflicts(reply_digests, conn.engine.name),
        [{"user_id": user_id, "replies_until": until}],
    )
    conn.execute(
        update(reply_digests)
        .where(reply_digests.c.user_id == user_id, reply_digests.c.replies_until < until)
        .values(replies_until=until)
    )


def new_replies(
    conn: Connection, user_id: int, since: datetime, until: datetime, limit: int
) -> list[dict[str, Any]]:
    """Others' visible replies created in (SINCE, UNTIL] to threads USER_ID took part in (they
    wrote the comment or a reply to it), on papers that are not hidden; oldest first."""
    took_part = union(
        select(comments.c.id).where(comments.c.user_id == user_id, comments.c.parent_id.is_(None)),
        select(comments.c.parent_id).where(
            comments.c.user_id == user_id, comments.c.parent_id.is_not(None)
        ),
    ).subquery()
    query = (
        select(
            comments.c.id,
            comments.c.paper_id,
            comments.c.body,
            comments.c.created_at,
            users.c.username.label("author"),
            papers.c.title,
        )
        .select_from(
            comments.join(users, users.c.id == comments.c.user_id).join(
                papers, papers.c.id == comments.c.paper_id
            )
        )
        .where(
            comments.c.parent_id.in_(select(took_part.c.id)),
            comments.c.user_id != user_id,
            _visible(),
            papers.c.hidden.is_(False),
            comments.c.created_at > since,
            comments.c.created_at <= until,
        )
        .order_by(comments.c.created_at, comments.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
