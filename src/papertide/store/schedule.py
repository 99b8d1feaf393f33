"""Claims on scheduled job runs, one per job and time slot, shared by every scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Connection

from papertide.store import dialect
from papertide.store.schema import scheduled_runs

KEEP = timedelta(days=90)  # claims older than this only take room


def claim(conn: Connection, job: str, slot: str, holder: str, now: datetime) -> bool:
    """Whether this scheduler (HOLDER) runs JOB for SLOT: True for the first claim only."""
    conn.execute(delete(scheduled_runs).where(scheduled_runs.c.claimed_at < now - KEEP))
    statement = dialect.insert_ignoring_conflicts(scheduled_runs, conn.engine.name)
    result = conn.execute(
        statement, [{"job": job, "slot": slot, "holder": holder, "claimed_at": now}]
    )
    return result.rowcount == 1


def finish(conn: Connection, job: str, slot: str, now: datetime) -> None:
    conn.execute(
        update(scheduled_runs)
        .where(scheduled_runs.c.job == job, scheduled_runs.c.slot == slot)
        .values(finished_at=now)
    )
