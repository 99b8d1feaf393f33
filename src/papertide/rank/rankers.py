"""The list sorts (`?sort=` of the list pages, the JSON API and the feeds): a registry of rankers.

A ranker orders the papers of a period and returns (ids, scores), best first. Adding a sort is
one ranker plus its `register` call; the pages' sort links and the allowed `sort` values follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from papertide.rank import trending
from papertide.store import queries

Rank = Callable[[list[dict[str, Any]], datetime], tuple[list[str], list[float]]]
POOL = 2000  # how many of a period's newest papers a scoring ranker orders


@dataclass(frozen=True)
class Ranker:
    name: str  # the `sort` value
    label: str  # the sort link's text on list pages
    rank: Rank  # (papers of the period, now) -> (ids, scores), best first
    # A ranker scores the period's POOL newest papers; None keeps the store's newest-first
    # order, so a page is read straight from the store however deep it is.
    pool: int | None = POOL


_registered: dict[str, Ranker] = {}


def register(ranker: Ranker) -> Ranker:
    if ranker.name in _registered:
        raise ValueError(f"ranker already registered: {ranker.name}")
    _registered[ranker.name] = ranker
    return ranker


def unregister(name: str) -> None:
    _registered.pop(name)


def get(name: str) -> Ranker:
    """The ranker of sort NAME; KeyError when there is none."""
    return _registered[name]


def all_rankers() -> Iterator[Ranker]:
    return iter(list(_registered.values()))


def ranked_papers(
    conn: Connection,
    ranker: Ranker,
    start: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Papers OFFSET to OFFSET + LIMIT of [start, end) in RANKER's order."""
    skip, take = (offset, limit) if ranker.pool is None else (0, ranker.pool)
    pool = queries.papers_in_period(conn, start, end, skip, take)
    ids, _scores = ranker.rank(pool, now)
    by_id = {row["id"]: row for row in pool}
    return [by_id[i] for i in ids[offset - skip : offset - skip + limit]]


def _newest(papers: list[dict[str, Any]], now: datetime) -> tuple[list[str], list[float]]:
    """The store's order, newest first, scored by publication (or first sighting) time."""
    when = [p.get("published_at") or p.get("first_seen_at") for p in papers]
    return [p["id"] for p in papers], [w.timestamp() if w else 0.0 for w in when]


register(Ranker("publishedAt", "newest", _newest, pool=None))
register(Ranker("trending", "trending", trending.rank))
