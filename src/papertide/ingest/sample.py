"""The bundled sample: made-up papers in eight themes, written for papertide and dated relative
to the day they are loaded, so that an offline first run shows the daily lists, Trending,
search, similar papers, topics and "For you" working. Pages say it is sample data while any of
it is shown; `remove` hides it again.

The papers are fictional on purpose: real papers with invented dates or votes would be false.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from importlib import resources

from pydantic import ValidationError
from sqlalchemy.engine import Engine

from papertide.ingest.runner import ImportSummary, run_batches
from papertide.records import PaperRecord, Reject
from papertide.security import hash_password
from papertide.store import accounts, library, provenance

SOURCE = "sample"
READER = "sample-reader"
# What the sample reader has done: saved a few diffusion and audio papers, liked one, turned
# one down, and followed an author, so that "For you" has something to learn from.
READER_SAVES = ("sample-001", "sample-003", "sample-005", "sample-018", "sample-020")
READER_LIKES = ("sample-001",)
READER_DISLIKES = ("sample-052",)
READER_FOLLOWS_AUTHOR = "Lena Müller"


def _lines() -> Iterator[str]:
    with resources.files("papertide.ingest").joinpath("sample_papers.jsonl").open() as handle:
        yield from handle


def sample_records(today: datetime) -> Iterator[PaperRecord | Reject]:
    """The sample papers as records, each published its `days_ago` before TODAY."""
    midnight = datetime.combine(today.date(), time())
    for number, line in enumerate(_lines(), 1):
        where = f"sample_papers.jsonl:{number}"
        try:
            item = json.loads(line)
            yield PaperRecord(
                source=SOURCE,
                source_id=item["id"],
                title=item["title"],
                abstract=item["abstract"],
                authors=item["authors"],
                categories=item["categories"],
                published_at=midnight - timedelta(days=item["days_ago"]),
                upstream_upvotes=item.get("upvotes"),
                code_urls=[item["code_url"]] if item.get("code_url") else [],
            )
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            yield Reject(where=where, reason=f"bad sample record: {exc}")


@dataclass
class Loaded:
    summary: ImportSummary
    reader: str
    password: str | None  # set when the reader account was created by this load


def load(engine: Engine, now: datetime) -> Loaded:
    """Store the sample papers (again: dates move to NOW's day), show them if they were
    removed, and set up the sample reader the first time."""
    summary = ImportSummary()
    job = f"{SOURCE}:{now.date().isoformat()}"
    run_batches(engine, job, [(list(sample_records(now)), {})], summary)
    password = None
    with engine.begin() as conn:
        paper_of = provenance.papers_from(conn, SOURCE)
        provenance.set_hidden(conn, list(paper_of.values()), False)
        if accounts.user_by_name(conn, READER) is None:
            password = secrets.token_urlsafe(12)
            user_id = accounts.create_user(conn, READER, hash_password(password))
            for source_id in READER_SAVES:
                library.set_saved(conn, user_id, paper_of[source_id], True)
            for source_id in READER_LIKES:
                library.set_rating(conn, user_id, paper_of[source_id], "up")
            for source_id in READER_DISLIKES:
                library.set_rating(conn, user_id, paper_of[source_id], "down")
            library.follow(conn, user_id, "author", READER_FOLLOWS_AUTHOR)
    return Loaded(summary, READER, password)


def remove(engine: Engine) -> int:
    """Hide every sample paper from everyone (admins still see them, marked hidden); returns
    how many were shown."""
    with engine.begin() as conn:
        sample_papers = list(provenance.papers_from(conn, SOURCE).values())
        return provenance.set_hidden(conn, sample_papers, True)


def shown(engine: Engine) -> bool:
    """Whether pages show sample papers (and must say so)."""
    with engine.connect() as conn:
        return provenance.shows_papers_from(conn, SOURCE)
