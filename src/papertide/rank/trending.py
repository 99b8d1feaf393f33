"""Trending: community votes with time decay.

    score = (votes + UPSTREAM_WEIGHT x upstream_upvotes) / (age_hours + 2) ** GRAVITY

votes are papertide's own (one per user, hidden users excluded); upstream_upvotes are Hugging
Face's, counted at half weight because they were cast elsewhere and cannot be checked. age_hours
runs from publication (first seen, for undated papers). GRAVITY = 1.5 halves a paper's score in
roughly its first day and keeps a fresh paper with a few votes above an old one with many, as on
Hacker News (gravity 1.8) but gentler, since papers stay relevant longer than links. The +2 hours
keeps brand-new papers from dividing by nearly zero.

Trending ranks the papers published in the last WINDOW; when none was (a library of older papers,
a machine that has not synced for a while), it ranks the WINDOW up to the newest stored paper
and says so, rather than looking empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from papertide.store import queries

GRAVITY = 1.5
UPSTREAM_WEIGHT = 0.5
OFFSET_HOURS = 2.0
WINDOW = timedelta(days=7)
UNDATED = "Trending ranks papers by their publication date, and no stored paper has one."


@dataclass(frozen=True)
class Window:
    since: datetime  # Trending ranks the papers published from here on
    note: str | None = None  # set when it is not the last WINDOW: what the reader is told


def window(conn: Connection, now: datetime, length: timedelta = WINDOW) -> Window:
    """The last LENGTH, or when no paper was published in it, the LENGTH up to the newest
    stored paper."""
    since = now - length
    if queries.papers_in_period(conn, since, None, 0, 1):
        return Window(since)
    newest = queries.newest_day(conn)
    if newest is None:  # no dated paper: say so if there are papers at all
        return Window(since, UNDATED if queries.list_papers(conn, limit=1) else None)
    start = datetime(newest.year, newest.month, newest.day) + timedelta(days=1) - length
    days = length.days
    note = (
        f"No papers from the last {days} days; showing the newest stored papers instead "
        f"({days} days up to {newest:%Y-%m-%d})."
    )
    return Window(start, note)


def score(votes: int, upstream_upvotes: int, age_hours: float) -> float:
    points = votes + UPSTREAM_WEIGHT * upstream_upvotes
    return points / (max(age_hours, 0.0) + OFFSET_HOURS) ** GRAVITY


def rank(papers: Iterable[dict[str, Any]], now: datetime) -> tuple[list[str], list[float]]:
    """Paper ids by trending score, best first (ties: newer first), with their scores."""
    scored = []
    for paper in papers:
        when = paper.get("published_at") or paper.get("first_seen_at") or now
        age_hours = (now - when).total_seconds() / 3600
        value = score(paper.get("votes") or 0, paper.get("upstream_upvotes") or 0, age_hours)
        scored.append((value, when, paper["id"]))
    scored.sort(key=lambda item: (-item[0], -item[1].timestamp(), item[2]))
    return [pid for _, _, pid in scored], [value for value, _, _ in scored]
