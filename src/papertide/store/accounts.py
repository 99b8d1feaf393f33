"""Users, sessions, API tokens, login failures and votes; the rule for user names."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from anyascii import anyascii
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from papertide.limits import MAX_NAME_INPUT, MAX_TOKEN_NAME
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
USERNAME_RULE = (
    "2-32 characters: letters a-z, digits, '.', '_' or '-', starting and ending with a letter "
    "or digit (capitals count as small letters)"
)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,30}[a-z0-9]")
TOKEN_ID_LENGTH = 16  # hex digits of the token's hash: a public handle for listing and revoking


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user."""


def username_key(name: str) -> str:
    """The form in which names are compared: NFKC, case-folded and transliterated to ASCII, so
    'Alice', 'ALICE', a full-width 'alice' and one with a Cyrillic 'a' are one name. New names are
    plain ASCII (their key is themselves); names from before the rule, which may hold other
    scripts, meet new names in this form, so no new name can imitate them."""
    return anyascii(unicodedata.normalize("NFKC", name.strip()).casefold()).casefold()


def valid_username(name: str) -> str:
    """NAME as a new account stores it (NFKC, case-folded), or AccountError with the rule.

    The one rule for names, used by every way of creating an account (web, API, CLI)."""
    folded = unicodedata.normalize("NFKC", name.strip()[:MAX_NAME_INPUT]).casefold()
    if not _USERNAME.fullmatch(folded):
        raise AccountError(f"a name has {USERNAME_RULE}")
    return folded


def create_user(
    conn: Connection,
    username: str,
    password_hash: str,
    role: str = "user",
    email: str | None = None,
) -> int:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    name = valid_username(username)
    try:
        with conn.begin_nested():
            result = conn.execute(
                users.insert().values(
                    username=name,
                    username_key=username_key(name),
                    email=email,
                    password_hash=password_hash,
                    role=role,
                    created_at=utcnow(),
                    votes_hidden=False,
                )
            )
    except IntegrityError as exc:
        raise AccountError(f"the name {name!r} is taken") from exc
    return result.inserted_primary_key[0]


def user_by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    """The account USERNAME names: the one stored under exactly that name (names from before
    the rule may differ only in case), else the one whose key it shares ('ALICE' is 'alice')."""
    username = username.strip()
    if not username or len(username) > MAX_NAME_INPUT:
        return None
    row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if row is None:
        key = username_key(username)
        row = conn.execute(select(users).where(users.c.username_key == key)).mappings().first()
    return dict(row) if row else None


def user_by_id(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def set_password(
    conn: Connection, user_id: int, password_hash: str, revoke_tokens: bool = False
) -> dict[str, int]:
    """A new password ends every session of the user (a thief's included); with
    REVOKE_TOKENS their API tokens stop working too. Says how many of each ended."""
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
    ended = conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount
    revoked = 0
    if revoke_tokens:
        revoked = conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id)).rowcount
    return {"sessions_revoked": ended, "tokens_revoked": revoked}


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


def valid_token_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME:
        raise AccountError(f"a token name has 1-{MAX_TOKEN_NAME} characters")
    return name


def create_api_token(conn: Connection, token_hash: str, user_id: int, name: str) -> str:
    """Store a token under its hash; returns its public id (for listing and revoking)."""
    conn.execute(
        api_tokens.insert().values(
            token_hash=token_hash,
            user_id=user_id,
            name=valid_token_name(name),
            created_at=utcnow(),
        )
    )
    return token_hash[:TOKEN_ID_LENGTH]


def api_tokens_of(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's API tokens, newest first, by public id (never the hash itself)."""
    rows = conn.execute(
        select(api_tokens)
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.created_at.desc(), api_tokens.c.token_hash)
    ).mappings()
    return [
        {
            "id": r["token_hash"][:TOKEN_ID_LENGTH],
            "name": r["name"],
            "created_at": r["created_at"],
            "last_used_at": r["last_used_at"],
        }
        for r in rows
    ]


def revoke_api_token(conn: Connection, user_id: int, token_id: str) -> None:
    """Revoke one of the user's tokens by its public id; AccountError when they have none so."""
    if not re.fullmatch(f"[0-9a-f]{{{TOKEN_ID_LENGTH}}}", token_id):
        raise AccountError(f"a token id is {TOKEN_ID_LENGTH} hex digits")
    result = conn.execute(
        delete(api_tokens).where(
            api_tokens.c.user_id == user_id,
            func.substr(api_tokens.c.token_hash, 1, TOKEN_ID_LENGTH) == token_id,
        )
    )
    if result.rowcount == 0:
        raise AccountError(f"no API token {token_id!r}")


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


def record_login_failure(conn: Connection, key: str, at: datetime) -> int:
    """Record a login attempt under KEY at AT; its id, to forget it by."""
    inserted = conn.execute(login_failures.insert().values(key=key[:400], at=at))
    return inserted.inserted_primary_key[0]


def forget_login_failure(conn: Connection, failure_id: int) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.id == failure_id))


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
    Each toggle flips the vote once, as in some serial order: under PostgreSQL's READ COMMITTED
    another toggle may delete the row this one found, and then this one inserts it again.
    """
    while True:
        inserted = conn.execute(
            dialect.insert_ignoring_conflicts(upvotes, conn.engine.name),
            [{"user_id": user_id, "paper_id": paper_id, "created_at": utcnow()}],
        )
        if inserted.rowcount:
            return True
        deleted = conn.execute(
            delete(upvotes).where(upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)
        )
        if deleted.rowcount:
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
    user = user_by_name(conn, username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    conn.execute(update(users).where(users.c.id == user["id"]).values(votes_hidden=hidden))


def set_paper_hidden(conn: Connection, paper_id: str, hidden: bool) -> None:
    """Hide or show a paper; bumps modified_at so the indexes drop or restore it."""
    result = conn.execute(
        update(papers).where(papers.c.id == paper_id).values(hidden=hidden, modified_at=utcnow())
    )
    if result.rowcount == 0:
        raise AccountError(f"no paper {paper_id!r}")
