"""Digest subscribers, the outbox of composed messages, and the instance's signing secret."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Change:
    """What a confirmation link asks an address's owner to agree to: the subscription (at the
    generation it had when asked) becomes PERIOD's digest, for USER_ID's picks or none."""

    subscriber_id: int
    generation: int
    period: str
    user_id: int | None


def normalise_email(email: str) -> str:
    """The stored form of an address: one row per address however its letters are cased."""
    return email.strip().lower()


def subscribe(
    conn: Connection, email: str, period: str, user_id: int | None = None
) -> Change | None:
    """Ask for EMAIL to get PERIOD's digest (with USER_ID's picks). Nothing changes until the
    address's owner confirms the returned Change (`confirm`): an existing subscription keeps
    its owner, period and state, so nobody can take over, redirect or revive another's. None
    when the subscription already is exactly that."""
    if period not in PERIODS:
        raise ValueError(f"period is one of {', '.join(PERIODS)}")
    email = normalise_email(email)
    conn.execute(
        dialect.insert_ignoring_conflicts(subscribers, conn.engine.name),
        [{"email": email, "user_id": user_id, "period": period, "created_at": utcnow()}],
    )
    found = by_email(conn, email)
    assert found is not None  # inserted, or there already
    wanted = (period, user_id)
    if _is_active(found) and (found["period"], found["user_id"]) == wanted:
        return None
    return Change(found["id"], found["generation"], period, user_id)


def _is_active(subscriber: dict[str, Any]) -> bool:
    return subscriber["confirmed_at"] is not None and subscriber["unsubscribed_at"] is None


def by_email(conn: Connection, email: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(subscribers).where(subscribers.c.email == normalise_email(email)))
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


def is_current(conn: Connection, subscriber_id: int, generation: int) -> bool:
    """Whether a link made for GENERATION of the subscription still holds."""
    found = by_id(conn, subscriber_id)
    return found is not None and found["generation"] == generation


def confirm(conn: Connection, change: Change) -> dict[str, Any] | None:
    """Apply CHANGE, the owner having confirmed it: the subscription becomes active with its
    period and user, and moves to the next generation (so the link works once). None when the
    subscription was confirmed again since the link was made."""
    result = conn.execute(
        update(subscribers)
        .where(
            subscribers.c.id == change.subscriber_id,
            subscribers.c.generation == change.generation,
        )
        .values(
            period=change.period,
            user_id=change.user_id,
            confirmed_at=utcnow(),
            unsubscribed_at=None,
            generation=subscribers.c.generation + 1,
        )
    )
    return by_id(conn, change.subscriber_id) if result.rowcount else None


def unsubscribe(conn: Connection, subscriber_id: int, generation: int | None = None) -> bool:
    """Stop the subscription, from a link made for GENERATION (False when the subscription has
    been confirmed again since) or by the operator (None). Unsubscribing twice is harmless."""
    query = update(subscribers).where(subscribers.c.id == subscriber_id)
    if generation is not None:
        query = query.where(subscribers.c.generation == generation)
    result = conn.execute(
        query.values(unsubscribed_at=func.coalesce(subscribers.c.unsubscribed_at, utcnow()))
    )
    return result.rowcount == 1


def active(conn: Connection, period: str, email: str | None = None) -> list[dict[str, Any]]:
    """Confirmed, still subscribed readers of PERIOD (or only EMAIL's subscription)."""
    query = select(subscribers).where(
        subscribers.c.period == period,
        subscribers.c.confirmed_at.is_not(None),
        subscribers.c.unsubscribed_at.is_(None),
    )
    if email is not None:
        query = query.where(subscribers.c.email == normalise_email(email))
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
        select(
            outbox,
            subscribers.c.email,
            subscribers.c.unsubscribed_at,
            subscribers.c.confirmed_at,
        )
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
    """Not sent and never will be (the reader unsubscribed, or confirmed a changed
    subscription, after it was composed)."""
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
