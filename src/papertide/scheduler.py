"""The daily routine on a schedule (APScheduler): fetch new papers, index them, send digests.

Each job logs and swallows its own failure (a source offline, a mail server down) so the
scheduler keeps running; every job is idempotent and resumable, so a missed or repeated run is
harmless. The cron alternative runs the same commands (README, "Scheduling").
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from papertide.application import Papertide
from papertide.digest.run import send_digests
from papertide.ingest import sources
from papertide.ingest.http import FetchError, SourceUnreachable
from papertide.rank import topics
from papertide.search.generations import IndexBusy
from papertide.store import schedule
from papertide.store.engine import database_failure

log = logging.getLogger("papertide.scheduler")


@dataclass
class Plan:
    categories: list[str] = field(default_factory=lambda: ["cs.LG"])
    sync_minutes: int = 180
    digest_time: str = "07:00"  # local time of the daily digest
    weekly_day: str = "mon"


def fetch_and_index(pt: Papertide, categories: list[str], fetch: bool = True) -> dict[str, Any]:
    """Run every source's scheduled syncs (arXiv: each category; Hugging Face: today) unless
    FETCH is false (another scheduler fetched in this slot), then bring this host's indexes up
    to date: every host keeps its own, from the shared database."""
    report: dict[str, Any] = {}
    engine = pt.engine
    syncs: dict[str, Callable[[], Any]] = {}
    for source in sources.all_sources():
        if source.scheduled and fetch:
            syncs.update(source.scheduled(pt, categories))
    if not fetch:
        report["fetch"] = "skipped: another scheduler fetched in this slot"
    for name, job in syncs.items():
        try:
            report[name] = job().as_json()["new"]
        except (SourceUnreachable, FetchError) as exc:
            log.warning("sync %s failed, next run retries: %s", name, exc)
            report[name] = f"failed: {exc}"
    try:
        report["index"] = pt.update_indexes()
    except IndexBusy as exc:  # a manual `papertide index` is doing it right now
        log.warning("index skipped: %s", exc)
        report["index"] = f"skipped: {exc}"
    report["topics_assigned"] = topics.assign_new(engine, pt.indexes())
    log.info("fetched and indexed: %s", report)
    return report


def rebuild_topics(pt: Papertide) -> int:
    made = topics.build(pt.engine, pt.indexes())
    log.info("topics rebuilt: %d", made)
    return made


def digest(pt: Papertide, period: str) -> dict[str, Any]:
    try:
        result = send_digests(pt.engine, pt.recommender, period, pt.mail, pt.clock)
    except Exception:  # one bad run must not stop the scheduler; the outbox resumes it
        log.exception("%s digest failed", period)
        return {"error": True}
    log.info("%s digest: %s", period, result)
    return result


# Who claims a slot: a host may run one scheduler per database, and a test several.
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def slots(plan: Plan, now: datetime) -> dict[str, str]:
    """The time slot of each job at NOW: two schedulers firing a job in the same slot (however
    their timers are offset) run it once between them."""
    minutes = int(now.replace(tzinfo=UTC).timestamp() // 60) // plan.sync_minutes
    start = datetime.fromtimestamp(minutes * plan.sync_minutes * 60, UTC)
    year, week, _ = now.isocalendar()
    return {
        "fetch_and_index": start.strftime("%Y-%m-%dT%H:%M"),
        "topics": now.date().isoformat(),
        "daily_digest": now.date().isoformat(),
        "weekly_digest": f"{year}-W{week:02d}",
    }


def claim_slot(pt: Papertide, plan: Plan, job: str) -> tuple[str, bool]:
    """JOB's current slot, and whether this scheduler is the first to claim it."""
    now = pt.clock.now()
    slot = slots(plan, now)[job]
    with pt.engine.begin() as conn:
        mine = schedule.claim(conn, job, slot, HOLDER, now)
    if not mine:
        log.info("%s skipped: already claimed for %s by another scheduler", job, slot)
    return slot, mine


def once_per_slot(pt: Papertide, plan: Plan, job: str, run: Callable[[], Any]) -> Any:
    """RUN, unless another scheduler has already claimed JOB's current slot."""
    slot, mine = claim_slot(pt, plan, job)
    if not mine:
        return f"skipped: another scheduler ran it in this slot ({slot})"
    result = run()
    with pt.engine.begin() as conn:
        schedule.finish(conn, job, slot, pt.clock.now())
    return result


def surviving_database_outages(name: str, job: Callable[[], Any]) -> Callable[[], Any]:
    """JOB, logging one line instead of a traceback when the database cannot do its part
    (down, full, read-only): the next tick simply tries again. Other errors still surface."""

    def run() -> Any:
        try:
            return job()
        except Exception as exc:
            kind = database_failure(exc)
            if kind is None:
                raise
            log.warning("%s skipped: the database is %s; the next run retries", name, kind)
            return None

    return run


def build(pt: Papertide, plan: Plan) -> BlockingScheduler:
    hour, minute = (int(part) for part in plan.digest_time.split(":"))
    scheduler = BlockingScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    )
    jobs = {name: surviving_database_outages(name, job) for name, job in _jobs(pt, plan).items()}
    scheduler.add_job(
        jobs["fetch_and_index"],
        IntervalTrigger(minutes=plan.sync_minutes),
        id="fetch_and_index",
        next_run_time=datetime.now(),  # once at start, then on the interval
    )
    # nightly: new papers join their nearest topic between rebuilds
    scheduler.add_job(jobs["topics"], CronTrigger(hour=3), id="topics")
    scheduler.add_job(
        jobs["daily_digest"], CronTrigger(hour=hour, minute=minute), id="daily_digest"
    )
    scheduler.add_job(
        jobs["weekly_digest"],
        CronTrigger(day_of_week=plan.weekly_day, hour=hour, minute=minute),
        id="weekly_digest",
    )
    return scheduler


def _jobs(pt: Papertide, plan: Plan) -> dict[str, Callable[[], Any]]:
    """Each job, run at most once per slot across every scheduler on the database (the index
    update, which is each host's, excepted)."""
    shared: dict[str, Callable[[], Any]] = {
        "topics": lambda: rebuild_topics(pt),
        "daily_digest": lambda: digest(pt, "daily"),
        "weekly_digest": lambda: digest(pt, "weekly"),
    }

    def fetch_then_index() -> dict[str, Any]:
        # Fetching is the site's, once per slot; indexing is each host's own.
        _slot, fetch = claim_slot(pt, plan, "fetch_and_index")
        return fetch_and_index(pt, plan.categories, fetch)

    return {
        "fetch_and_index": fetch_then_index,
        **{
            name: (lambda name=name, run=run: once_per_slot(pt, plan, name, run))
            for name, run in shared.items()
        },
    }


def run_once(pt: Papertide, plan: Plan) -> dict[str, Any]:
    """Every job once, now, in order (for cron, or to check the set-up); a job another
    scheduler already ran in its current slot is skipped."""
    return {name: job() for name, job in _jobs(pt, plan).items()}
