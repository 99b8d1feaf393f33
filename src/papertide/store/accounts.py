"""Users, sessions, API tokens, login failures and votes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from papertide.store import dialect
from papertide.store.schema import (
    api_tokens,
    login_failures,
    papers,
    sessions,
    upvotes,
    users,
)
from papertide.store.writer import utcnow

ROLES = ("user", "admin")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user."""


def create_user(
    conn: Connection,
    username: str,
    password_hash: str,
    role: str = "user",
    email: str | None = None,
) -> int:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    try:
        with conn.begin_nested():
            result = conn.execute(
                users.insert().values(
                    username=username,
                    email=email,
                    password_hash=password_hash,
                    role=role,
                    created_at=utcnow(),
                    votes_hidden=False,
                )
            )
    except IntegrityError as exc:
        raise AccountError(f"the name {username!r} is taken") from exc
    return result.inserted_primary_key[0]


def user_by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row else None


def create_session(conn: Connection, token_hash: str, user_id: int, expires: datetime) -> None:
    conn.execute(
        sessions.insert().values(
            token_hash=token_hash, user_id=user_id, created_at=utcnow(), expires_at=expires
        )
    )


def session_user(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(users)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > utcnow())
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))


def create_api_token(conn: Connection, token_hash: str, user_id: int, name: str) -> None:
    conn.execute(
        api_tokens.insert().values(
            token_hash=token_hash, user_id=user_id, name=name[:100], created_at=utcnow()
        )
    )


def api_token_user(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == token_hash)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_hash == token_hash)
        .values(last_used_at=utcnow())
    )
    return dict(row)


def record_login_failure(conn: Connection, key: str) -> None:
    conn.execute(login_failures.insert().values(key=key[:400], at=utcnow()))


def login_failures_since(conn: Connection, key: str, since: datetime) -> int:
    return conn.execute(
        select(func.count())
        .select_from(login_failures)
        .where(login_failures.c.key == key[:400], login_failures.c.at >= since)
    ).scalar_one()


def clear_login_failures(conn: Connection, key: str) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.key == key[:400]))


def toggle_vote(conn: Connection, user_id: int, paper_id: str) -> bool:
    """Add the user's vote, or take it back if there was one; True when the vote now stands.

    One row per (user, paper) under a primary key, so concurrent toggles can never count twice.
    """
    inserted = conn.execute(
        dialect.insert_ignoring_conflicts(upvotes, conn.engine.name),
        [{"user_id": user_id, "paper_id": paper_id, "created_at": utcnow()}],
    )
    if inserted.rowcount:
        return True
    conn.execute(
        delete(upvotes).where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
    )
    return False


def voted_papers(conn: Connection, user_id: int, paper_ids: list[str]) -> set[str]:
    if not paper_ids:
        return set()
    rows = conn.execute(
        select(upvotes.c.paper_id).where(
            upvotes.c.user_id == user_id, upvotes.c.paper_id.in_(paper_ids[:900])
        )
    )
    return {r[0] for r in rows}


def set_votes_hidden(conn: Connection, username: str, hidden: bool) -> None:
    result = conn.execute(
        update(users).where(users.c.username == username).values(votes_hidden=hidden)
    )
    if result.rowcount == 0:
        raise AccountError(f"no user {username!r}")


def set_paper_hidden(conn: Connection, paper_id: str, hidden: bool) -> None:
    """Hide or show a paper; bumps modified_at so the indexes drop or restore it."""
    result = conn.execute(
        update(papers).where(papers.c.id == paper_id).values(hidden=hidden, modified_at=utcnow())
    )
    if result.rowcount == 0:
        raise AccountError(f"no paper {paper_id!r}")
