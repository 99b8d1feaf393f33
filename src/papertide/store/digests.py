"""Digest subscribers, the outbox of composed messages, and the instance's signing secret."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from papertide.store import dialect
from papertide.store.schema import outbox, settings, subscribers
from papertide.store.writer import utcnow

PERIODS = ("daily", "weekly")


def signing_secret(conn: Connection) -> str:
    """A random secret made on first use and shared by every process using this database."""
    conn.execute(
        dialect.insert_ignoring_conflicts(settings, conn.engine.name),
        [{"key": "signing_secret", "value": secrets.token_urlsafe(32)}],
    )
    return conn.execute(
        select(settings.c.value).where(settings.c.key == "signing_secret")
    ).scalar_one()


def subscribe(
    conn: Connection, email: str, period: str, user_id: int | None = None
) -> dict[str, Any]:
    """Add or renew a subscription (unconfirmed until `confirm`, unless it was confirmed)."""
    if period not in PERIODS:
        raise ValueError(f"period is one of {', '.join(PERIODS)}")
    email = email.strip()
    existing = by_email(conn, email)
    if existing is None:
        conn.execute(
            subscribers.insert().values(
                email=email, user_id=user_id, period=period, created_at=utcnow()
            )
        )
    else:
        values: dict[str, Any] = {"period": period, "unsubscribed_at": None}
        if user_id is not None:
            values["user_id"] = user_id
        conn.execute(update(subscribers).where(subscribers.c.id == existing["id"]).values(values))
    return by_email(conn, email)  # type: ignore[return-value]


def by_email(conn: Connection, email: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(subscribers).where(func.lower(subscribers.c.email) == email.strip().lower())
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def by_id(conn: Connection, subscriber_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).mappings()
    found = row.first()
    return dict(found) if found else None


def subscription_of(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(subscribers).where(subscribers.c.user_id == user_id).order_by(subscribers.c.id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def confirm(conn: Connection, subscriber_id: int) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
    )


def unsubscribe(conn: Connection, subscriber_id: int) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.unsubscribed_at.is_(None))
        .values(unsubscribed_at=utcnow())
    )


def active(conn: Connection, period: str, email: str | None = None) -> list[dict[str, Any]]:
    """Confirmed, still subscribed readers of PERIOD (or only EMAIL's subscription)."""
    query = select(subscribers).where(
        subscribers.c.period == period,
        subscribers.c.confirmed_at.is_not(None),
        subscribers.c.unsubscribed_at.is_(None),
    )
    if email is not None:
        query = query.where(func.lower(subscribers.c.email) == email.strip().lower())
    return [dict(r) for r in conn.execute(query.order_by(subscribers.c.id)).mappings()]


def queued(conn: Connection, period_key: str) -> set[int]:
    """Subscribers whose digest for PERIOD_KEY is already composed (sent or not)."""
    query = select(outbox.c.subscriber_id).where(outbox.c.period_key == period_key)
    return set(conn.execute(query).scalars())


def enqueue(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Composed digests; one per subscriber and period however often this runs."""
    now = utcnow()
    if rows:
        conn.execute(
            dialect.insert_ignoring_conflicts(outbox, conn.engine.name),
            [
                {"status": "pending", "attempts": 0, "next_try_at": now, "created_at": now, **r}
                for r in rows
            ],
        )


def due(conn: Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Pending messages whose next attempt is due, with their recipient, oldest first."""
    query = (
        select(outbox, subscribers.c.email, subscribers.c.unsubscribed_at)
        .select_from(outbox.join(subscribers, subscribers.c.id == outbox.c.subscriber_id))
        .where(outbox.c.status == "pending", outbox.c.next_try_at <= now)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def claim(conn: Connection, message_id: int, now: datetime, until: datetime) -> bool:
    """Take a due message for sending until UNTIL; False when another sender has it. A sender
    that dies holding a claim leaves the message due again once UNTIL passes."""
    result = conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == "pending", outbox.c.next_try_at <= now)
        .values(next_try_at=until)
    )
    return result.rowcount == 1


def mark_sent(conn: Connection, message_id: int) -> None:
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(status="sent", sent_at=utcnow(), attempts=outbox.c.attempts + 1, last_error=None)
    )


def mark_dropped(conn: Connection, message_id: int, reason: str) -> None:
    """Not sent and never will be (the reader unsubscribed after it was composed)."""
    conn.execute(
        update(outbox).where(outbox.c.id == message_id).values(status="dropped", last_error=reason)
    )


def mark_failed(conn: Connection, message_id: int, error: str, retry_at: datetime | None) -> None:
    """One failed attempt: retried at RETRY_AT, or given up for good when None."""
    values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error[:2000]}
    if retry_at is None:
        values["status"] = "failed"
    else:
        values["next_try_at"] = retry_at
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(values))


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    return {status: n for status, n in rows}
