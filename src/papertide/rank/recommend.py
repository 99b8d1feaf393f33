"""Personal picks: recent papers scored for one user, each with a reason a person understands.

score = affinity (rank/affinity.py: the user's linear classifier over embeddings plus closeness
to their nearest library paper) + FOLLOW_BOOST per followed author or saved search matched
+ RECENCY_WEIGHT x 0.5 ** (age_days / 7). Papers in the library, rated down or already sent in a
digest are never picked. Like every ranker here, `rank` returns (ids, scores); `Pick` adds the
reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from papertide.rank.affinity import Background, affinity
from papertide.records import clean_text
from papertide.search.keyword import Filters
from papertide.search.refresh import Indexes
from papertide.store import library, queries

FOLLOW_BOOST = 1.0
RECENCY_WEIGHT = 0.1
BACKGROUND_SAMPLE = 2000
CANDIDATE_LIMIT = 20_000


@dataclass
class Pick:
    id: str
    score: float
    reason: str
    paper: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        paper = self.paper
        return {
            "id": self.id,
            "score": round(self.score, 4),
            "reason": self.reason,
            "title": paper.get("title"),
            "authors": paper.get("authors") or [],
            "published_at": paper["published_at"].isoformat()
            if paper.get("published_at")
            else None,
        }


@dataclass
class CandidatePool:
    """Recent papers, their vectors and the background sample: shared by every user scored
    in one run (a digest batch scores thousands of users against the same pool)."""

    papers: list[dict[str, Any]]
    rows: np.ndarray  # vector-index row of each paper, -1 when it has no vector yet
    background: Background | None
    background_rows: set[int]
    now: datetime
    since: datetime


class Recommender:
    """Scores users against candidate pools it keeps per window start (to the hour) and vector
    index state, so a server or a digest batch builds each pool once."""

    def __init__(self, engine: Engine, indexes: Indexes) -> None:
        self.engine = engine
        self.indexes = indexes
        self._pools: dict[tuple[datetime, str], CandidatePool] = {}

    def pool(self, since: datetime, now: datetime) -> CandidatePool:
        since = since.replace(minute=0, second=0, microsecond=0)
        key = (since, json.dumps((self.indexes.vectors.meta() or {}).get("identity")))
        if key not in self._pools:
            self._pools.clear()  # an older window or index state is not asked for again
            with self.engine.connect() as conn:
                papers = queries.recent_papers(conn, since, CANDIDATE_LIMIT)
            vectors = self.indexes.vectors
            rows = np.array([_row(vectors.row_of(p["id"])) for p in papers], dtype=np.int64)
            matrix = vectors.matrix()
            background, picked = None, np.zeros(0, dtype=np.int64)
            if len(matrix):
                picked = np.sort(
                    np.random.default_rng(0).choice(
                        len(matrix), min(len(matrix), BACKGROUND_SAMPLE), replace=False
                    )
                )
                background = Background.of(np.asarray(matrix[picked]))
            self._pools[key] = CandidatePool(
                papers, rows, background, set(picked.tolist()), now, since
            )
        return self._pools[key]

    def recommend(
        self, user_id: int, k: int = 20, days: float = 30, now: datetime | None = None
    ) -> list[Pick]:
        """The user's K best papers published (or first seen) in the last DAYS days."""
        now = now or datetime.now()
        pool = self.pool(now - timedelta(days=days), now)
        with self.engine.connect() as conn:
            signals = library.signals(conn, user_id)
            titles = {
                pid: p["title"] for pid, p in queries.summaries(conn, signals.positive).items()
            }
        return pick(self.indexes, pool, signals, titles, k)


def _row(row: int | None) -> int:
    return -1 if row is None else row


def pick(
    indexes: Indexes,
    pool: CandidatePool,
    signals: library.Signals,
    titles: dict[str, str],
    k: int,
) -> list[Pick]:
    """The K best papers of POOL for a user with SIGNALS (TITLES: their library's titles)."""
    excluded = set(signals.positive) | set(signals.negative) | signals.seen
    keep = [i for i, p in enumerate(pool.papers) if p["id"] not in excluded]
    if not keep or not (signals.positive or signals.authors or signals.queries):
        return []
    scores = np.zeros(len(keep))
    reasons: list[str | None] = [None] * len(keep)
    has_vector = pool.rows[keep] >= 0
    _score_by_library(indexes, pool, signals, titles, keep, has_vector, scores, reasons)
    _score_by_follows(indexes, pool, signals, keep, scores, reasons)
    for j, i in enumerate(keep):
        published = pool.papers[i]["published_at"] or pool.papers[i]["first_seen_at"]
        scores[j] += RECENCY_WEIGHT * 0.5 ** ((pool.now - published).days / 7)
    order = [j for j in np.argsort(-scores, kind="stable") if reasons[j] is not None][:k]
    return [
        Pick(pool.papers[keep[j]]["id"], float(scores[j]), reasons[j] or "", pool.papers[keep[j]])
        for j in order
    ]


def _score_by_library(
    indexes: Indexes,
    pool: CandidatePool,
    signals: library.Signals,
    titles: dict[str, str],
    keep: list[int],
    has_vector: np.ndarray,
    scores: np.ndarray,
    reasons: list[str | None],
) -> None:
    vectors = indexes.vectors
    positives = [pid for pid in signals.positive if vectors.row_of(pid) is not None]
    if not positives or not has_vector.any():
        return
    matrix = vectors.matrix()
    negatives = [r for r in map(vectors.row_of, signals.negative) if r is not None]
    scored = np.nonzero(has_vector)[0]
    positive_rows = [vectors.row_of(pid) for pid in positives]
    background = pool.background
    if background is not None:
        drawn = [r for r in positive_rows if r in pool.background_rows]
        background = background.without(np.asarray(matrix[drawn]))
    result = affinity(
        np.asarray(matrix[pool.rows[keep][scored]]),
        np.asarray(matrix[positive_rows]),
        np.asarray(matrix[negatives]) if negatives else np.zeros((0, matrix.shape[1]), "f4"),
        background,
    )
    # papers with no vector yet can only be picked through a follow
    scores[~has_vector] = -np.inf
    scores[scored] = result.scores
    for j, nearest in zip(scored, result.nearest, strict=True):
        reasons[j] = (
            f"close to “{titles.get(positives[nearest], positives[nearest])}” in your library"
        )


def _score_by_follows(
    indexes: Indexes,
    pool: CandidatePool,
    signals: library.Signals,
    keep: list[int],
    scores: np.ndarray,
    reasons: list[str | None],
) -> None:
    position = {pool.papers[i]["id"]: j for j, i in enumerate(keep)}
    followed = {_name_key(a): a for a in signals.authors}
    for j, i in enumerate(keep):
        for author in pool.papers[i]["authors"] or []:
            name = followed.get(_name_key(author))
            if name:
                scores[j] = max(scores[j], 0.0) + FOLLOW_BOOST
                reasons[j] = f"by {name}, an author you follow"
                break
    for query in signals.queries:
        # dated papers through the date filter; undated ones (new by first sighting) need the
        # unfiltered search, as the keyword index only knows publication dates
        hits = [
            *indexes.keyword.search(query, 200, Filters(since=pool.since), snippets=False),
            *indexes.keyword.search(query, 200, snippets=False),
        ]
        for hit in hits:
            j = position.get(hit.id)
            if j is not None:
                scores[j] = max(scores[j], 0.0) + FOLLOW_BOOST
                reasons[j] = f"matches your saved search “{query}”"


def _name_key(name: str) -> str:
    return clean_text(name).casefold()


def rank(
    recommender: Recommender, user_id: int, k: int = 20, days: float = 30
) -> tuple[list[str], list[float]]:
    picks = recommender.recommend(user_id, k, days)
    return [p.id for p in picks], [p.score for p in picks]
