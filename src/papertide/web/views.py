"""Shared request helpers: parsing periods and filters, reading results for pages and API."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request

from papertide.application import Papertide
from papertide.limits import MAX_QUERY_CHARS
from papertide.periods import PeriodError, parse_day, period_range
from papertide.rank import rankers
from papertide.search.hybrid import (
    Hit,
    SearchError,
    search,
    similar,
    stored_similar,
    usable_mode,
)
from papertide.search.keyword import Filters
from papertide.store import queries
from papertide.web.accounts import api_user
from papertide.web.auth import current_user
from papertide.web.deps import papertide

SIMILAR_CACHE = 20_000


class SimilarCache:
    """Similar papers computed on demand, kept per index generation: they change only when a
    new generation is published (a paper page computes them on every view otherwise)."""

    def __init__(self, size: int = SIMILAR_CACHE) -> None:
        self.size = size
        self._answers: OrderedDict[str, list[Any]] = OrderedDict()
        self._generation = ""
        self._lock = threading.Lock()

    def get(self, generation: str, key: str, compute: Callable[[], list[Any]]) -> list[Any]:
        with self._lock:
            if generation != self._generation:
                self._answers.clear()
                self._generation = generation
            hit = self._answers.get(key)
        if hit is None:
            hit = compute()
            with self._lock:
                if generation == self._generation:
                    self._answers[key] = hit
                    while len(self._answers) > self.size:
                        self._answers.popitem(last=False)
        return hit


def period(pt: Papertide, day: str | None, week: str | None, month: str | None) -> tuple[Any, Any]:
    """(start, end) of the one period given ('today' by the application's clock); 400 for
    unreadable, unsupported or conflicting ones."""
    try:
        return period_range(day, week, month, pt.clock.now().date())
    except PeriodError as exc:
        raise HTTPException(400, str(exc)) from exc


def ranker_named(sort: str) -> rankers.Ranker:
    """The ranker named SORT; 400, naming the sorts there are, for a sort no ranker has."""
    try:
        return rankers.get(sort)
    except KeyError:
        allowed = ", ".join(r.name for r in rankers.all_rankers())
        raise HTTPException(400, f"sort is one of: {allowed}") from None


def period_papers(
    pt: Papertide, start: Any, end: Any, sort: str, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Papers of a period in the order of the ranker named SORT (rank/rankers.py); 400 for a
    sort no ranker has."""
    ranker = ranker_named(sort)
    with pt.engine.connect() as conn:
        return rankers.ranked_papers(conn, ranker, start, end, offset, limit, pt.clock.now())


def period_total(pt: Papertide, start: Any, end: Any, sort: str) -> int:
    """How many papers the list of a period in SORT's order holds: all of the period's, or as
    many of its newest as a scoring ranker orders (rank/rankers.py)."""
    with pt.engine.connect() as conn:
        total = queries.count_in_period(conn, start, end)
    pool = rankers.get(sort).pool  # period_papers has refused a SORT no ranker has
    return total if pool is None else min(total, pool)


def day_start(pt: Papertide, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_day(value, pt.clock.now().date())
    except PeriodError as exc:
        raise HTTPException(400, str(exc)) from exc
    return datetime(parsed.year, parsed.month, parsed.day)


# Control characters mean nothing in a search and XML cannot carry most of them (feeds repeat
# the query in their titles): they become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def search_text(text: str) -> str:
    """Free text as it is searched (and repeated in feed titles): no control characters."""
    return _CONTROL.sub(" ", text[:MAX_QUERY_CHARS])


def run_search(
    pt: Papertide, q: str, mode: str, k: int, since: str | None, category: str | None
) -> tuple[list[Hit], str]:
    """Search as the CLI does; hybrid falls back to keyword when no model is prepared."""
    try:
        usable_mode(mode, has_embedder=True)
    except SearchError as exc:
        raise HTTPException(400, str(exc)) from exc
    embedder = pt.embedder() if mode != "keyword" else None
    used = usable_mode(mode, embedder is not None)
    if embedder is None and used == "semantic":
        raise HTTPException(503, "semantic search needs the embedding model")
    filters = Filters(since=day_start(pt, since), category=category or None)
    try:
        now = pt.clock.now()
        hits = search(pt.engine, pt.indexes(), search_text(q), used, k, filters, embedder, now=now)
        return hits, used
    except SearchError as exc:
        raise HTTPException(400, str(exc)) from exc


def similar_papers(pt: Papertide, cache: SimilarCache, paper_id: str, k: int) -> list[Hit]:
    """Stored lists when `papertide index` computed them, else computed here and cached."""
    embedder = pt.embedder()
    indexes = pt.indexes()  # one generation for the whole answer
    stored = stored_similar(pt.engine, indexes, paper_id, k)
    if stored is not None:
        return stored

    def compute() -> list[Hit]:
        mode = "hybrid" if embedder else "keyword"
        try:
            return similar(pt.engine, indexes, paper_id, k, mode, embedder)
        except SearchError:
            return []

    return cache.get(indexes.generation, f"{paper_id}|{k}", compute)


def viewer_is_admin(request: Request) -> bool:
    """True for an admin's session or API token. Public reads need no token, so a stale or
    unknown one only means: not an admin."""
    user = current_user(request)
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        try:
            user = api_user(request)
        except HTTPException:
            user = None
    return user is not None and user["role"] == "admin"


def viewed_paper(request: Request, ref: str) -> dict[str, Any]:
    """The paper REF as this request may see it: a hidden paper exists for admins only and is
    a 404 to everyone else, exactly like an unknown id."""
    with papertide(request).engine.connect() as conn:
        paper = queries.get_paper(conn, ref, include_hidden=True)
    if paper is None or (paper["hidden"] and not viewer_is_admin(request)):
        raise HTTPException(404, f"no paper with id {ref!r}")
    return paper
