"""Checkpoints of resumable jobs and the log of ingest runs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from papertide.store import dialect
from papertide.store.schema import checkpoints, ingest_runs
from papertide.store.writer import utcnow


def load_checkpoint(conn: Connection, job: str) -> dict[str, Any] | None:
    return conn.execute(
        select(checkpoints.c.state).where(checkpoints.c.job == job)
    ).scalar_one_or_none()


def save_checkpoint(conn: Connection, job: str, state: dict[str, Any]) -> None:
    """Record a job's position; call inside the transaction of the batch it covers."""
    now = utcnow()
    inserted = conn.execute(
        dialect.insert_ignoring_conflicts(checkpoints, conn.engine.name),
        [{"job": job, "state": state, "updated_at": now}],
    )
    if inserted.rowcount == 0:
        conn.execute(
            update(checkpoints).where(checkpoints.c.job == job).values(state=state, updated_at=now)
        )


def clear_checkpoint(conn: Connection, job: str) -> None:
    conn.execute(delete(checkpoints).where(checkpoints.c.job == job))


def last_finished(conn: Connection, job_prefix: str) -> datetime | None:
    """When the newest completed run of a job whose name starts with JOB_PREFIX finished."""
    return conn.execute(
        select(func.max(ingest_runs.c.finished_at)).where(
            ingest_runs.c.source.startswith(job_prefix, autoescape=True),
            ingest_runs.c.finished_at.is_not(None),
        )
    ).scalar_one()


def start_run(conn: Connection, source: str) -> int:
    result = conn.execute(ingest_runs.insert().values(source=source[:200], started_at=utcnow()))
    return result.inserted_primary_key[0]


def finish_run(
    conn: Connection, run_id: int, *, new: int, updated: int, duplicates: int, rejected: int
) -> None:
    conn.execute(
        update(ingest_runs)
        .where(ingest_runs.c.id == run_id)
        .values(
            finished_at=utcnow(),
            new=new,
            updated=updated,
            duplicates=duplicates,
            rejected=rejected,
        )
    )


SYNC_NAMES = {"oai": "arXiv OAI-PMH harvest", "hf": "Hugging Face sync"}


def describe_job(job: str) -> str:
    """What a job name (made by ingest/runner.py and ingest/sync.py) means to a person, e.g.
    `import of /data/papers.bib (bibtex)` or `arXiv sync of cs.LG from 2026-11-19`."""
    kind, _, rest = job.partition(":")
    if kind == "import":  # import:FORMAT:PATH:SIZE:DIGEST (cut at 200 characters when stored)
        fmt, _, where = rest.partition(":")
        whole = re.fullmatch(r"(.*):\d+:[0-9a-f]+", where)
        return f"import of {whole.group(1) if whole else where + '...'} ({fmt})"
    source, _, params = rest.partition(":")
    if kind != "sync" or not source:
        return job
    if source == "arxiv":  # sync:arxiv:CATEGORY:SINCE
        category, _, since = params.partition(":")
        return f"arXiv sync of {category} from {since}"
    named = {"oai": "arXiv OAI-PMH harvest", "hf": "Hugging Face sync"}.get(
        source, f"{source} sync"
    )
    return f"{named} of {params.replace('&', ', ').replace('=', ' ')}"
