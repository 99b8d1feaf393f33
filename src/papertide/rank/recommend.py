"""Personal picks: recent papers scored for one user, each with a reason a person understands.

score = affinity (rank/affinity.py: the user's linear classifier over embeddings plus closeness
to their nearest library paper) + FOLLOW_BOOST per followed author or saved search matched
+ RECENCY_WEIGHT x 0.5 ** (age_days / 7). Papers in the library, rated down or already sent in a
digest are never picked. Each `Pick` carries its score and the reason.

`Recommender.feed` is what a reader looks at ("For you", `papertide recommend`): when the window
leaves nothing to pick (no papers published in it, or only ones already in the library), it
widens to the newest stored papers and says so, and an empty feed says why it is empty.
Digests keep the strict window (`recommend`): they mail what is new, and mark it seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from papertide.clock import Clock, SystemClock
from papertide.rank.affinity import Background, affinity
from papertide.records import clean_text
from papertide.search.generations import Indexes
from papertide.search.keyword import WORDS, Filters
from papertide.store import library, queries

FOLLOW_BOOST = 1.0
RECENCY_WEIGHT = 0.1
BACKGROUND_SAMPLE = 2000
CANDIDATE_LIMIT = 20_000
NEWEST_STORED = datetime.min  # a window start before every paper: the newest CANDIDATE_LIMIT
POOLS_KEPT = 2  # the reader's window and, when it is empty, the newest stored papers


@dataclass
class Pick:
    id: str
    score: float
    reason: str
    paper: dict[str, Any] = field(default_factory=dict)
    followed: bool = False  # picked through a followed author or search, not the library

    def as_json(self) -> dict[str, Any]:
        paper = self.paper
        return {
            "id": self.id,
            "score": round(self.score, 4),
            "reason": self.reason,
            "followed": self.followed,
            "title": paper.get("title"),
            "authors": paper.get("authors") or [],
            "published_at": paper["published_at"].isoformat()
            if paper.get("published_at")
            else None,
        }


NO_SIGNALS = "No picks yet: save or rate papers, or follow an author or a search."
NO_PAPERS = "No papers stored yet: import or sync some (papertide sync hf)."
NOT_INDEXED = "Your library's papers are not indexed yet: run papertide index."
NO_FOLLOW_MATCH = "No stored paper matches the authors or searches you follow yet."
ALL_TAKEN = "Every stored paper is already in your library, rated down or sent to you."


@dataclass
class Feed:
    """A reader's picks and, when they are not simply the window's best, why."""

    picks: list[Pick]
    days: float
    widened: bool = False  # the window was empty for this reader: picks are older papers
    note: str | None = None  # what the reader is told: the widening, or why there are none


@dataclass
class CandidatePool:
    """Recent papers with what every user's scoring needs from them, computed once: a digest
    batch scores thousands of users against the same pool."""

    papers: list[dict[str, Any]]
    position: dict[str, int]  # paper id -> index in papers
    with_vector: np.ndarray  # indexes of papers that have a vector
    vector_slot: np.ndarray  # per paper, its row in matrix (-1: no vector)
    matrix: np.ndarray  # their vectors, one row each
    recency: np.ndarray  # RECENCY_WEIGHT x 0.5 ** (age_days / 7), per paper
    author_keys: list[set[str]]
    background: Background | None
    background_rows: set[int]
    since: datetime


class Recommender:
    """Scores users against candidate pools it keeps per window start (to the hour) and vector
    index state, so a server or a digest batch builds each pool once. INDEXES gives the index
    generation to read (the application's, which switches when a newer one is published)."""

    def __init__(
        self, engine: Engine, indexes: Callable[[], Indexes], clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.indexes = indexes
        self.clock = clock or SystemClock()
        self._pools: dict[tuple[datetime, str], CandidatePool] = {}

    def pool(self, since: datetime, now: datetime, indexes: Indexes) -> CandidatePool:
        since = since.replace(minute=0, second=0, microsecond=0)
        identity = (indexes.vectors.meta() or {}).get("identity")
        key = (since, indexes.generation + json.dumps(identity))
        if key not in self._pools:
            while len(self._pools) >= POOLS_KEPT:  # older windows are not asked for again
                self._pools.pop(next(iter(self._pools)))
            self._pools[key] = self._build_pool(since, now, indexes)
        return self._pools[key]

    def _build_pool(self, since: datetime, now: datetime, indexes: Indexes) -> CandidatePool:
        with self.engine.connect() as conn:
            papers = queries.recent_papers(conn, since, CANDIDATE_LIMIT)
        vectors = indexes.vectors
        rows = np.array([_row(vectors.row_of(p["id"])) for p in papers], dtype=np.int64)
        with_vector = np.nonzero(rows >= 0)[0]
        matrix = vectors.matrix()
        background, picked = None, np.zeros(0, dtype=np.int64)
        if len(matrix):
            picked = np.sort(
                np.random.default_rng(0).choice(
                    len(matrix), min(len(matrix), BACKGROUND_SAMPLE), replace=False
                )
            )
            background = Background.of(np.asarray(matrix[picked]))
        ages = np.array(
            [(now - (p["published_at"] or p["first_seen_at"])).days for p in papers], dtype=float
        )
        vector_slot = np.full(len(papers), -1, dtype=np.int64)
        vector_slot[with_vector] = np.arange(len(with_vector))
        return CandidatePool(
            papers=papers,
            position={p["id"]: i for i, p in enumerate(papers)},
            with_vector=with_vector,
            vector_slot=vector_slot,
            matrix=np.asarray(matrix[rows[with_vector]]) if len(with_vector) else matrix[:0],
            recency=RECENCY_WEIGHT * 0.5 ** (np.maximum(ages, 0) / 7),
            author_keys=[{_name_key(a) for a in p["authors"] or []} for p in papers],
            background=background,
            background_rows=set(picked.tolist()),
            # the oldest paper's time: a followed search filters by it (NEWEST_STORED is no date)
            since=min((p["published_at"] or p["first_seen_at"] for p in papers), default=since),
        )

    def recommend(
        self, user_id: int, k: int = 20, days: float = 30, now: datetime | None = None
    ) -> list[Pick]:
        """The user's K best papers published (or first seen) in the last DAYS days."""
        now = now or self.clock.now()
        indexes = self.indexes()  # one generation for the whole answer
        pool = self.pool(now - timedelta(days=days), now, indexes)
        return pick(indexes, pool, *self._signals(user_id), k)

    def feed(
        self, user_id: int, k: int = 20, days: float = 30, now: datetime | None = None
    ) -> Feed:
        """The user's K best papers of the last DAYS days, or of the newest stored papers when
        that window leaves nothing to pick, with a note saying which and why."""
        now = now or self.clock.now()
        indexes = self.indexes()
        signals, titles = self._signals(user_id)
        if not (signals.positive or signals.authors or signals.queries):
            return Feed([], days, note=NO_SIGNALS)
        pool = self.pool(now - timedelta(days=days), now, indexes)
        picks = pick(indexes, pool, signals, titles, k)
        if picks:
            return Feed(picks, days)
        newest = self.pool(NEWEST_STORED, now, indexes)
        if not newest.papers:
            return Feed([], days, note=NO_PAPERS)
        picks = (
            []
            if len(newest.papers) == len(pool.papers)
            else pick(indexes, newest, signals, titles, k)
        )
        if not picks:  # widening found nothing either: say what stands in the way
            return Feed([], days, note=_why_empty(indexes, signals))
        window = "No papers" if not pool.papers else "Nothing new for you"
        note = f"{window} from the last {days:g} days; showing the newest stored papers instead."
        return Feed(picks, days, widened=True, note=note)

    def _signals(self, user_id: int) -> tuple[library.Signals, dict[str, str]]:
        """The user's signals, and their library's titles (the reasons name them)."""
        with self.engine.connect() as conn:
            signals = library.signals(conn, user_id)
            titles = {
                pid: p["title"] for pid, p in queries.summaries(conn, signals.positive).items()
            }
        return signals, titles


def _why_empty(indexes: Indexes, signals: library.Signals) -> str:
    """Why a reader with signals and stored papers gets no picks at all."""
    indexed = [pid for pid in signals.positive if indexes.vectors.row_of(pid) is not None]
    if signals.positive and not indexed:
        return NOT_INDEXED
    if not signals.positive:
        return NO_FOLLOW_MATCH
    return ALL_TAKEN


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
    if not pool.papers or not (signals.positive or signals.authors or signals.queries):
        return []
    scores = np.full(len(pool.papers), -np.inf)
    follow_reasons: dict[int, str] = {}
    liked = _score_by_library(indexes, pool, signals, scores)
    _score_by_follows(indexes, pool, signals, scores, follow_reasons)
    scores += pool.recency
    for paper_id in {*signals.positive, *signals.negative, *signals.seen}:
        index = pool.position.get(paper_id)
        if index is not None:
            scores[index] = -np.inf
    picked = []
    for index in np.argsort(-scores, kind="stable"):
        if len(picked) == k or not np.isfinite(scores[index]):
            break
        reason = follow_reasons.get(int(index))
        followed = reason is not None
        if reason is None:
            nearest = liked(int(index))
            reason = f"close to “{titles.get(nearest, nearest)}” in your library"
        paper = pool.papers[index]
        picked.append(Pick(paper["id"], float(scores[index]), reason, paper, followed))
    return picked


def _score_by_library(
    indexes: Indexes, pool: CandidatePool, signals: library.Signals, scores: np.ndarray
) -> Callable[[int], str]:
    """Affinity scores into SCORES; returns a function giving, for a pool paper with a
    score, the id of its nearest library paper (the reason named with it)."""
    vectors = indexes.vectors
    positives = [pid for pid in signals.positive if vectors.row_of(pid) is not None]
    if not positives or not len(pool.with_vector):
        return lambda index: ""
    matrix = vectors.matrix()
    positive_rows = [vectors.row_of(pid) for pid in positives]
    negatives = [r for r in map(vectors.row_of, signals.negative) if r is not None]
    drawn = [r for r in positive_rows if r in pool.background_rows]
    result = affinity(
        pool.matrix,
        np.asarray(matrix[positive_rows]),
        np.asarray(matrix[negatives]) if negatives else np.zeros((0, matrix.shape[1]), "f4"),
        pool.background,
        np.asarray(matrix[drawn]) if drawn else None,
    )
    scores[pool.with_vector] = result.scores
    return lambda index: positives[result.nearest[pool.vector_slot[index]]]


def _score_by_follows(
    indexes: Indexes,
    pool: CandidatePool,
    signals: library.Signals,
    scores: np.ndarray,
    reasons: dict[int, str],
) -> None:
    followed = {_name_key(a): a for a in signals.authors}
    if followed:
        for index, keys in enumerate(pool.author_keys):
            matched = keys & followed.keys()
            if matched:
                scores[index] = max(scores[index], 0.0) + FOLLOW_BOOST
                reasons[index] = f"by {followed[min(matched)]}, an author you follow"
    for query in signals.queries:
        # dated papers through the date filter; undated ones (new by first sighting) need the
        # unfiltered search, as the keyword index only knows publication dates
        hits = [
            *indexes.keyword.saved_search(query, 200, Filters(since=pool.since)),
            *indexes.keyword.saved_search(query, 200),
        ]
        for hit in dict.fromkeys(h.id for h in hits):
            index = pool.position.get(hit)
            if index is not None:
                scores[index] = max(scores[index], 0.0) + FOLLOW_BOOST
                reasons[index] = f"matches your saved search “{query}”"


def _name_key(name: str) -> str:
    """A followed author matches however the name's accents were written (Muller, Müller),
    the same folding the keyword index applies to authors."""
    return " ".join(WORDS.analyze(clean_text(name)))
