"""Per-user library (saved papers, thumbs up/down), follows and papers already sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, not_, or_, select
from sqlalchemy.engine import Connection

from papertide.limits import MAX_FOLLOW_CHARS, MAX_FOLLOWS
from papertide.store import dialect
from papertide.store.schema import follows, library, paper_sources, papers, seen
from papertide.store.writer import utcnow

FOLLOW_KINDS = ("author", "query")
RATINGS = {"up": 1, "none": 0, "down": -1}


@dataclass
class Signals:
    """What the recommender learns from for one user."""

    positive: list[str] = field(default_factory=list)  # saved or thumbs up
    negative: list[str] = field(default_factory=list)  # thumbs down
    authors: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def set_saved(conn: Connection, user_id: int, paper_id: str, saved: bool) -> None:
    _upsert(conn, user_id, paper_id, {"saved": saved})


def set_rating(conn: Connection, user_id: int, paper_id: str, rating: str) -> None:
    if rating not in RATINGS:
        raise ValueError(f"rating is one of {', '.join(RATINGS)}")
    _upsert(conn, user_id, paper_id, {"rating": RATINGS[rating]})


def _upsert(conn: Connection, user_id: int, paper_id: str, values: dict[str, Any]) -> None:
    """Set VALUES of the user's row for the paper (made if missing), leaving its other columns:
    a save and a rating of one paper at once both stay."""
    row = {"user_id": user_id, "paper_id": paper_id, "saved": False, "rating": 0}
    row.update(values, updated_at=utcnow())
    statement = dialect.upsert(
        library, conn.engine.name, ["user_id", "paper_id"], columns=[*values, "updated_at"]
    )
    conn.execute(statement, [row])


def save_many(conn: Connection, user_id: int, paper_ids: list[str]) -> int:
    """Mark PAPER_IDS saved (a library seeded from a file); returns how many were new."""
    have = set(
        conn.execute(
            select(library.c.paper_id).where(library.c.user_id == user_id, library.c.saved)
        ).scalars()
    )
    fresh = [pid for pid in dict.fromkeys(paper_ids) if pid not in have]
    for paper_id in fresh:
        set_saved(conn, user_id, paper_id, True)
    return len(fresh)


def entries(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's library with paper titles, newest change first."""
    query = (
        select(library.c.paper_id, library.c.saved, library.c.rating, papers.c.title)
        .select_from(library.join(papers, papers.c.id == library.c.paper_id))
        .where(library.c.user_id == user_id, (library.c.saved) | (library.c.rating != 0))
        .where(papers.c.hidden.is_(False))  # a paper an admin hid is gone for its readers too
        .order_by(library.c.updated_at.desc())
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def states(conn: Connection, user_id: int, paper_ids: list[str]) -> dict[str, dict[str, Any]]:
    """saved/rating of PAPER_IDS for the user (absent: not in the library)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(paper_ids), 900):
        query = select(library.c.paper_id, library.c.saved, library.c.rating).where(
            library.c.user_id == user_id, library.c.paper_id.in_(paper_ids[start : start + 900])
        )
        found.update(
            {r.paper_id: {"saved": r.saved, "rating": r.rating} for r in conn.execute(query)}
        )
    return found


def follow(conn: Connection, user_id: int, kind: str, value: str) -> None:
    """Raises ValueError, with a message for the user, on a value or count out of bounds."""
    value = " ".join(value.split())
    if kind not in FOLLOW_KINDS or not value:
        raise ValueError(f"follow an author or a query, with a non-empty value ({kind!r})")
    if len(value) > MAX_FOLLOW_CHARS:
        raise ValueError(f"a followed {kind} is at most {MAX_FOLLOW_CHARS} characters")
    others = and_(
        follows.c.user_id == user_id, not_(and_(follows.c.kind == kind, follows.c.value == value))
    )
    if conn.execute(select(func.count()).where(others)).scalar_one() >= MAX_FOLLOWS:
        raise ValueError(f"at most {MAX_FOLLOWS} follows: unfollow one first")
    conn.execute(
        dialect.insert_ignoring_conflicts(follows, conn.engine.name),
        [{"user_id": user_id, "kind": kind, "value": value, "created_at": utcnow()}],
    )


def unfollow(conn: Connection, user_id: int, kind: str, value: str) -> None:
    conn.execute(
        delete(follows).where(
            and_(follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == value)
        )
    )


def followed(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    query = (
        select(follows.c.kind, follows.c.value)
        .where(follows.c.user_id == user_id)
        .order_by(follows.c.kind, follows.c.value)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def mark_seen(conn: Connection, user_id: int, paper_ids: list[str]) -> None:
    now = utcnow()
    if paper_ids:
        conn.execute(
            dialect.insert_ignoring_conflicts(seen, conn.engine.name),
            [{"user_id": user_id, "paper_id": pid, "seen_at": now} for pid in paper_ids],
        )


def signals(conn: Connection, user_id: int) -> Signals:
    out = Signals()
    for row in conn.execute(
        select(library.c.paper_id, library.c.saved, library.c.rating)
        .where(library.c.user_id == user_id)
        .order_by(library.c.updated_at)
    ):
        if row.rating < 0:
            out.negative.append(row.paper_id)
        elif row.saved or row.rating > 0:
            out.positive.append(row.paper_id)
    for item in followed(conn, user_id):
        (out.authors if item["kind"] == "author" else out.queries).append(item["value"])
    out.seen = set(conn.execute(select(seen.c.paper_id).where(seen.c.user_id == user_id)).scalars())
    return out


def papers_for_sources(conn: Connection, refs: list[tuple[str, str]]) -> list[str]:
    """Paper ids that stored source records (source, source_id) were merged into, in order."""
    owners: dict[tuple[str, str], str] = {}
    for start in range(0, len(refs), 400):
        chunk = refs[start : start + 400]
        condition = or_(
            *(
                and_(paper_sources.c.source == source, paper_sources.c.source_id == source_id)
                for source, source_id in chunk
            )
        )
        query = select(paper_sources.c.source, paper_sources.c.source_id, paper_sources.c.paper_id)
        owners.update({(s, sid): pid for s, sid, pid in conn.execute(query.where(condition))})
    return list(dict.fromkeys(owners[ref] for ref in refs if ref in owners))
