"""Authorship claims: a member says they wrote a paper; an admin approves or rejects it, or it
is approved at once through a confirmed address in a trusted domain (web/claims.py decides)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from papertide.store import dialect
from papertide.store.queries import FEED_COLUMNS, sql_int
from papertide.store.schema import claims, papers, subscribers, users
from papertide.store.writer import utcnow

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class ClaimError(ValueError):
    """A claim that cannot be made or decided; the message is for the user."""


def confirmed_addresses(conn: Connection, user_id: int) -> list[str]:
    """Addresses proven to be the member's: a digest subscription for their account whose
    confirmation link (mailed to the address, naming the account) was followed. Nothing else
    papertide stores about a member's address is proven."""
    query = select(subscribers.c.email).where(
        subscribers.c.user_id == user_id, subscribers.c.confirmed_at.is_not(None)
    )
    return sorted(conn.execute(query).scalars())


def in_domains(address: str, domains: tuple[str, ...]) -> bool:
    """Whether ADDRESS is at one of DOMAINS or a subdomain of one ('cs.example.edu' is under
    'example.edu'; 'badexample.edu' is not)."""
    host = address.rpartition("@")[2].lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def of(conn: Connection, user_id: int, paper_id: str) -> dict[str, Any] | None:
    query = select(claims).where(claims.c.user_id == user_id, claims.c.paper_id == paper_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def of_user(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """Every claim of the member, newest first."""
    query = (
        select(claims)
        .where(claims.c.user_id == user_id)
        .order_by(claims.c.created_at.desc(), claims.c.id.desc())
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def make(conn: Connection, user_id: int, paper_id: str, approved: bool) -> dict[str, Any]:
    """The member's claim on the paper: made now (APPROVED: at once, by their address), or the
    one they made before. A claim an admin rejected stays so: ClaimError."""
    now = utcnow()
    row = {"user_id": user_id, "paper_id": paper_id, "created_at": now, "status": PENDING}
    if approved:
        row.update(status=APPROVED, how="email", decided_at=now)
    conn.execute(dialect.insert_ignoring_conflicts(claims, conn.engine.name), [row])
    claim = of(conn, user_id, paper_id)
    assert claim is not None  # inserted, or there already
    if claim["status"] == REJECTED:
        raise ClaimError("an admin has rejected your claim on this paper")
    return claim


def withdraw(conn: Connection, user_id: int, paper_id: str) -> bool:
    """Take back the member's own pending or approved claim (a rejected one stays)."""
    result = conn.execute(
        delete(claims).where(
            claims.c.user_id == user_id,
            claims.c.paper_id == paper_id,
            claims.c.status != REJECTED,
        )
    )
    return result.rowcount > 0


def decide(conn: Connection, claim_id: int, admin_id: int, approve: bool) -> dict[str, Any]:
    """An admin's decision on a pending claim; ClaimError when there is no such claim pending."""
    result = conn.execute(
        update(claims)
        .where(claims.c.id == claim_id, claims.c.status == PENDING)
        .values(
            status=APPROVED if approve else REJECTED,
            how="admin",
            decided_by=admin_id,
            decided_at=utcnow(),
        )
    )
    if result.rowcount == 0:
        raise ClaimError(f"no pending claim {claim_id}")
    row = conn.execute(select(claims).where(claims.c.id == claim_id)).mappings().one()
    return dict(row)


def pending(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Pending claims, oldest first, with who made them and the paper's title."""
    query = (
        select(claims, users.c.username, papers.c.title)
        .join(users, users.c.id == claims.c.user_id)
        .join(papers, papers.c.id == claims.c.paper_id)
        .where(claims.c.status == PENDING)
        .order_by(claims.c.created_at, claims.c.id)
        .limit(sql_int(limit))
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def claimants(conn: Connection, paper_id: str) -> list[str]:
    """User names of the members whose claim on the paper is approved, in claim order."""
    query = (
        select(users.c.username)
        .join(claims, and_(claims.c.user_id == users.c.id, claims.c.status == APPROVED))
        .where(claims.c.paper_id == paper_id)
        .order_by(claims.c.created_at, claims.c.id)
    )
    return list(conn.execute(query).scalars())


def claimed_papers(conn: Connection, user_id: int, limit: int) -> list[dict[str, Any]]:
    """The visible papers of the member's approved claims, newest first."""
    query = (
        select(*FEED_COLUMNS)
        .join(claims, claims.c.paper_id == papers.c.id)
        .where(
            claims.c.user_id == user_id,
            claims.c.status == APPROVED,
            papers.c.hidden.is_(False),
        )
        .order_by(papers.c.published_at.is_(None), papers.c.published_at.desc(), papers.c.id)
        .limit(sql_int(limit))
    )
    return [dict(r) for r in conn.execute(query).mappings()]
