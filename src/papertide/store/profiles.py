"""What a member shows on their public profile (/users/NAME)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from papertide.store import dialect
from papertide.store.queries import FEED_COLUMNS, sql_int
from papertide.store.schema import papers, profiles, upvotes
from papertide.store.writer import utcnow


def shows_upvotes(conn: Connection, user_id: int) -> bool:
    """Whether the member chose to show their upvotes (off until they do)."""
    query = select(profiles.c.show_upvotes).where(profiles.c.user_id == user_id)
    return bool(conn.execute(query).scalar_one_or_none())


def set_shows_upvotes(conn: Connection, user_id: int, shown: bool) -> None:
    statement = dialect.upsert(profiles, conn.engine.name, ["user_id"])
    conn.execute(statement, [{"user_id": user_id, "show_upvotes": shown, "updated_at": utcnow()}])


def upvoted_papers(conn: Connection, user_id: int, limit: int) -> list[dict[str, Any]]:
    """The visible papers the member upvoted, newest vote first."""
    query = (
        select(*FEED_COLUMNS)
        .join(upvotes, upvotes.c.paper_id == papers.c.id)
        .where(upvotes.c.user_id == user_id, papers.c.hidden.is_(False))
        .order_by(upvotes.c.created_at.desc(), papers.c.id)
        .limit(sql_int(limit))
    )
    return [dict(r) for r in conn.execute(query).mappings()]
