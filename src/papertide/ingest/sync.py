"""Harvest jobs against live sources, each resumable from its checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from papertide.config import Settings
from papertide.ingest import arxiv_atom, hf, oai
from papertide.ingest.http import PoliteClient
from papertide.ingest.runner import ImportSummary, run_batches
from papertide.store import jobs

if TYPE_CHECKING:
    from papertide.application import Papertide

Progress = Callable[[ImportSummary], None] | None
Scheduled = dict[str, Callable[[], ImportSummary]]


def _client(settings: Settings, min_interval: float) -> PoliteClient:
    # Mirrors and local test servers may allow a faster pace; live sources get what they ask for.
    interval = settings.http_min_interval
    return PoliteClient(
        min_interval if interval is None else interval, backoff=settings.http_backoff
    )


RECENT_DAYS = 3
MAX_CATCH_UP_DAYS = 30


def default_since(engine: Engine, category: str, today: date) -> date:
    """Three days back, or further back to the last successful sync of CATEGORY (a day of
    overlap, for late announcements) when that was longer ago: a machine that was off for a week
    catches up by itself. At most 30 days; older back-fills are for `--via oai`."""
    with engine.connect() as conn:
        finished = jobs.last_finished(conn, f"sync:arxiv:{category}:")
    since = today - timedelta(days=RECENT_DAYS)
    if finished is not None:
        since = min(since, finished.date() - timedelta(days=1))
    return max(since, today - timedelta(days=MAX_CATCH_UP_DAYS))


def sync_arxiv(
    engine: Engine,
    settings: Settings,
    category: str,
    since: date,
    until: date,
    on_batch: Progress = None,
) -> ImportSummary:
    job = f"sync:arxiv:{category}:{since.isoformat()}"
    with engine.connect() as conn:
        state = jobs.load_checkpoint(conn, job) or {}
    until = date.fromisoformat(state.get("until", until.isoformat()))
    summary = ImportSummary(resumed_jobs=1 if state else 0)
    query = arxiv_atom.search_query(category, since, until)
    with _client(settings, arxiv_atom.MIN_INTERVAL) as client:
        pages = arxiv_atom.fetch_pages(
            client,
            settings.arxiv_api_url or arxiv_atom.API_URL,
            query,
            start=int(state.get("start", 0)),
        )
        stamped = ((items, {**s, "until": until.isoformat()}) for items, s in pages)
        run_batches(engine, job, stamped, summary, on_batch)
    return summary


def oai_set_for(category: str) -> str:
    """arXiv OAI set names: 'cs' for a whole archive, 'cs:cs:LG' for one category."""
    if "." not in category:
        return category
    archive = category.split(".", 1)[0]
    return f"{archive}:{archive}:{category.split('.', 1)[1]}"


def sync_oai(
    engine: Engine,
    settings: Settings,
    category: str,
    since: date | None,
    until: date | None,
    prefix: str = "arXiv",
    on_batch: Progress = None,
) -> ImportSummary:
    params = {"metadataPrefix": prefix, "set": oai_set_for(category)}
    if since:
        params["from"] = since.isoformat()
    if until:
        params["until"] = until.isoformat()
    job = "sync:oai:" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    with engine.connect() as conn:
        state = jobs.load_checkpoint(conn, job) or {}
    summary = ImportSummary(resumed_jobs=1 if state.get("token") else 0)
    with _client(settings, oai.MIN_INTERVAL) as client:
        pages = oai.fetch_pages(client, settings.oai_url or oai.API_URL, params, state.get("token"))
        run_batches(engine, job, pages, summary, on_batch)
    return summary


def sync_hf(
    engine: Engine, settings: Settings, period: dict[str, str], on_batch: Progress = None
) -> ImportSummary:
    """PERIOD is one of {"date": D}, {"week": W} or {"month": M}, as the API takes it."""
    job = "sync:hf:" + "&".join(f"{k}={v}" for k, v in period.items())
    with engine.connect() as conn:
        state = jobs.load_checkpoint(conn, job) or {}
    summary = ImportSummary(resumed_jobs=1 if state else 0)
    with _client(settings, hf.MIN_INTERVAL) as client:
        endpoint = settings.hf_api_url or hf.API_URL
        pages = hf.fetch_pages(client, endpoint, period, int(state.get("page", 0)))
        run_batches(engine, job, pages, summary, on_batch)
    return summary


def scheduled_arxiv(pt: Papertide, categories: Sequence[str]) -> Scheduled:
    """The scheduler's arXiv syncs: each category from its own default start to today."""
    engine, settings, today = pt.engine, pt.settings, pt.clock.now().date()
    return {
        f"arxiv {category}": lambda c=category: sync_arxiv(
            engine, settings, c, default_since(engine, c, today), today
        )
        for category in categories
    }


def scheduled_hf(pt: Papertide, categories: Sequence[str]) -> Scheduled:
    """The scheduler's Hugging Face sync: today's papers, whatever the categories."""
    today = pt.clock.now().date().isoformat()
    return {"hf": lambda: sync_hf(pt.engine, pt.settings, {"date": today})}
