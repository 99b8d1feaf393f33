"""Personal picks: papers scored for one user, each with a reason a person understands.

score = affinity (rank/affinity.py: the user's linear classifier over embeddings plus closeness
to their nearest library paper) + FOLLOW_BOOST per followed author or saved search matched
+ RECENCY_WEIGHT x 0.5 ** (age_days / 7). Papers in the library, rated down or already sent in a
digest are never picked. Each `Pick` carries its score and the reason.

Every indexed paper in the window is a candidate, up to the whole corpus: the window is a range
of the vector index's row times (search/row_table.py, memory-mapped), the classifier part is one
matrix-vector product over those rows, chunked so memory stays bounded (over a large window, an
upper bound of it from the index's int8 copy of the vectors: a quarter of the bytes), and the
full score (nearest library paper, thumbs-down, from the float32 vectors) is computed only for
rows whose bound plus the most the rest can add still reaches the K-th best: the same picks as
scoring every row in full, at a fraction of the cost (at 2.6M rows, a few hundred are scored in
full). Only the picks' metadata is read from the database (which also drops
papers hidden since the index run). Followed authors and searches are looked up in the keyword
index, so a paper without a vector can still be picked through them.

`Recommender.feed` is what a reader looks at ("For you", `papertide recommend`): when the window
leaves nothing to pick (no papers published in it, or only ones already in the library), it
widens to every stored paper and says so, and an empty feed says why it is empty.
Digests keep the strict window (`recommend`): they mail what is new, and mark it seen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection, Engine

from papertide.clock import Clock, SystemClock
from papertide.rank.affinity import UserScorer
from papertide.records import clean_text
from papertide.search.background import Background
from papertide.search.generations import Indexes
from papertide.search.keyword import WORDS, Filters
from papertide.search.row_table import MICROS_PER_DAY, NO_TIME, RowTable, micros
from papertide.store import library, queries

FOLLOW_BOOST = 1.0
RECENCY_WEIGHT = 0.1
CHUNK_ROWS = 262_144  # rows per matrix product: 384 MB of 384-d vectors read, 1 MB of scores
KEEP_ROWS = 50_000  # a window this small keeps its vectors in memory (digest batches: 77 MB)
FIRST_EXACT = 256  # rows scored in full before the bound decides which others must be
BOUND_THREADS = min(os.cpu_count() or 1, 4)  # threads of the bound's pass over the int8 copy
FOLLOW_MATCHES = 2_000  # papers looked at per followed author
SEARCH_MATCHES = 200  # and per followed search
EVERYTHING = None  # a window start before every paper
WINDOWS_KEPT = 2  # the reader's window and, when it is empty, every stored paper


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
class Window:
    """The indexed papers of one date window with what every user's scoring needs from them,
    computed once: a digest batch scores thousands of users against the same window."""

    table: RowTable | None
    rows: np.ndarray  # index rows whose time is in the window, ascending
    when: np.ndarray  # their times (microseconds since 1970)
    recency: np.ndarray  # RECENCY_WEIGHT x 0.5 ** (age_days / 7), per row
    matrix: np.ndarray | None  # their vectors, kept when the window is small
    since: datetime | None
    background: Background | None
    background_rows: set[int]

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """Vectors of the window rows at POSITIONS (ascending)."""
        if self.matrix is not None:
            return self.matrix[positions]
        assert self.table is not None
        return self.table.vectors_at(self.rows[positions])

    def map_rows(self, score: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """SCORE over the window's vectors, CHUNK_ROWS at a time (memory stays bounded), one
        result per window row."""
        parts = []
        for start in range(0, len(self.rows), CHUNK_ROWS):
            end = min(start + CHUNK_ROWS, len(self.rows))
            if self.matrix is not None:
                parts.append(score(self.matrix[start:end]))
                continue
            assert self.table is not None
            rows = self.rows[start:end]
            first, last = int(rows[0]), int(rows[-1]) + 1
            if last - first <= 2 * len(rows):  # mostly consecutive: a slice of the map, no copy
                parts.append(score(self.table.matrix[first:last])[rows - first])
            else:
                parts.append(score(np.asarray(self.table.matrix[rows])))
        return np.concatenate(parts) if parts else np.zeros(0)

    def linear_bound(self, weights: np.ndarray) -> np.ndarray:
        """At least the classifier part (WEIGHTS, float32) of every row's score, from the int8
        copy of the vectors: a quarter of their bytes read (RowTable.linear_bound)."""
        table = self.table
        assert table is not None

        def bound(rows: np.ndarray) -> np.ndarray:
            span = int(rows[-1]) + 1 - int(rows[0]) <= 2 * len(rows)  # as map_rows
            return table.linear_bound(weights, rows, span)

        chunks = [self.rows[s : s + CHUNK_ROWS] for s in range(0, len(self.rows), CHUNK_ROWS)]
        # numpy lets go of the GIL in the products: chunks run on the cores in parallel, as
        # the float32 product did through BLAS
        with ThreadPoolExecutor(BOUND_THREADS) as pool:
            parts = list(pool.map(bound, chunks))
        return np.concatenate(parts) if parts else np.zeros(0)


class LibraryRanking:
    """The window's rows ranked by a user's affinity, computed in full only where needed: the
    classifier part (one product over every row) plus the most the other parts can add bounds
    each row's score, and a row whose bound is below the K-th best full score cannot be picked."""

    def __init__(self, window: Window, scorer: UserScorer, excluded: np.ndarray) -> None:
        self.window = window
        self.scorer = scorer
        self.excluded = excluded
        count = len(window.rows)
        self.affinity = np.full(count, np.nan)  # full affinity, where computed
        self.nearest = np.full(count, -1, dtype=np.int64)  # index into the positives
        self.scores = np.full(count, -np.inf)  # affinity + recency where computed, not excluded
        self.bound: np.ndarray | None = None
        if scorer.weights is None or count <= 4 * FIRST_EXACT:
            # without a classifier the score is a product with a few positives: compute it
            every = window.map_rows(lambda m: _full_columns(scorer, m))
            if count:
                self.affinity[:], self.nearest[:] = every[:, 0], every[:, 1].astype(np.int64)
                self.scores = np.where(excluded, -np.inf, self.affinity + window.recency)
        else:
            if window.matrix is not None:  # kept in memory: the classifier part itself
                linear = window.map_rows(lambda m: scorer.linear(m))  # type: ignore[arg-type,return-value]
            else:
                linear = window.linear_bound(scorer.weights.astype(np.float32))
            self.bound = linear + window.recency + scorer.bound_slack
            self.bound[excluded] = -np.inf

    def compute(self, positions: np.ndarray) -> None:
        """Full affinity of the rows at POSITIONS (those not computed yet)."""
        positions = np.sort(positions[np.isnan(self.affinity[positions])])
        for start in range(0, len(positions), CHUNK_ROWS // 4):
            part = positions[start : start + CHUNK_ROWS // 4]
            result = self.scorer.score(self.window.vectors(part))
            self.affinity[part] = result.scores
            self.nearest[part] = result.nearest
            total = result.scores + self.window.recency[part]
            self.scores[part] = np.where(self.excluded[part], -np.inf, total)

    def top(self, need: int) -> np.ndarray:
        """Positions of the NEED best rows that are not excluded (fewer when there are not so
        many), best first: exactly those of ranking every row by its full score."""
        if self.bound is not None:
            self.compute(_top_positions(self.bound, max(need, FIRST_EXACT)))
            known = _top_positions(self.scores, need)
            kth = self.scores[known[-1]] if len(known) == need else -np.inf
            # every row that could still beat the K-th best; the rest cannot
            reachable = (self.bound >= kth) & np.isfinite(self.bound)
            self.compute(np.nonzero(reachable & np.isnan(self.affinity))[0])
        return _top_positions(self.scores, need)


def _full_columns(scorer: UserScorer, matrix: np.ndarray) -> np.ndarray:
    result = scorer.score(matrix)
    return np.column_stack([result.scores, result.nearest]).astype(np.float64)


def _top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the K highest finite SCORES, highest first."""
    finite = np.nonzero(np.isfinite(scores))[0]
    if len(finite) > k:
        finite = finite[np.argpartition(-scores[finite], k - 1)[:k]]
    return finite[np.argsort(-scores[finite], kind="stable")]


@dataclass
class _Candidate:
    id: str
    score: float
    when: int
    reason: str | None = None  # a follow's; None: named after the nearest library paper
    nearest: str = ""


class Recommender:
    """Scores users against windows it keeps per window start (to the hour) and vector index
    state, so a server or a digest batch builds each window once. INDEXES gives the index
    generation to read (the application's, which switches when a newer one is published)."""

    def __init__(
        self, engine: Engine, indexes: Callable[[], Indexes], clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.indexes = indexes
        self.clock = clock or SystemClock()
        self._windows: dict[tuple[datetime | None, str], Window] = {}

    def window(self, since: datetime | None, now: datetime, indexes: Indexes) -> Window:
        if since is not None:
            since = since.replace(minute=0, second=0, microsecond=0)
        identity = (indexes.vectors.meta() or {}).get("identity")
        key = (since, indexes.generation + json.dumps(identity))
        if key not in self._windows:
            background = next(
                (w for (_, state), w in self._windows.items() if state == key[1]), None
            )
            while len(self._windows) >= WINDOWS_KEPT:  # older windows are not asked for again
                self._windows.pop(next(iter(self._windows)))
            self._windows[key] = _build_window(indexes.vectors.rows(), since, now, background)
        return self._windows[key]

    def recommend(
        self, user_id: int, k: int = 20, days: float = 30, now: datetime | None = None
    ) -> list[Pick]:
        """The user's K best papers published (or first seen) in the last DAYS days."""
        now = now or self.clock.now()
        indexes = self.indexes()  # one generation for the whole answer
        window = self.window(now - timedelta(days=days), now, indexes)
        return self._pick(indexes, window, *self._signals(user_id), k, now)

    def feed(
        self, user_id: int, k: int = 20, days: float = 30, now: datetime | None = None
    ) -> Feed:
        """The user's K best papers of the last DAYS days, or of every stored paper when that
        window leaves nothing to pick, with a note saying which and why."""
        now = now or self.clock.now()
        indexes = self.indexes()
        signals, titles = self._signals(user_id)
        if not (signals.positive or signals.authors or signals.queries):
            return Feed([], days, note=NO_SIGNALS)
        since = now - timedelta(days=days)
        window = self.window(since, now, indexes)
        picks = self._pick(indexes, window, signals, titles, k, now)
        if picks:
            return Feed(picks, days)
        with self.engine.connect() as conn:
            if not queries.has_papers(conn):
                return Feed([], days, note=NO_PAPERS)
            held = len(window.rows) > 0 or queries.has_papers(conn, window.since)
        everything = self.window(EVERYTHING, now, indexes)
        picks = self._pick(indexes, everything, signals, titles, k, now)
        if not picks:  # widening found nothing either: say what stands in the way
            return Feed([], days, note=_why_empty(everything.table, signals))
        window_word = "Nothing new for you" if held else "No papers"
        note = (
            f"{window_word} from the last {days:g} days; showing the newest stored papers instead."
        )
        return Feed(picks, days, widened=True, note=note)

    def _signals(self, user_id: int) -> tuple[library.Signals, dict[str, str]]:
        """The user's signals, and their library's titles (the reasons name them)."""
        with self.engine.connect() as conn:
            signals = library.signals(conn, user_id)
            titles = {
                pid: p["title"] for pid, p in queries.summaries(conn, signals.positive).items()
            }
        return signals, titles

    def _pick(
        self,
        indexes: Indexes,
        window: Window,
        signals: library.Signals,
        titles: dict[str, str],
        k: int,
        now: datetime,
    ) -> list[Pick]:
        """The K best papers of WINDOW for a user with SIGNALS (TITLES: their library's)."""
        if not (signals.positive or signals.authors or signals.queries):
            return []
        taken = {*signals.positive, *signals.negative, *signals.seen}
        with self.engine.connect() as conn:
            follows, papers = _follow_candidates(conn, indexes, window, signals, taken, now)
            excluded = _positions(window, [*taken, *follows])
            ranking, positives = _library_ranking(window, signals, excluded)
            if ranking is not None:  # a followed paper with a vector keeps its affinity too
                _add_affinity(window, ranking, positives, follows)
            need = k
            while True:
                ranked = [*follows.values()]
                top = ranking.top(need) if ranking is not None else np.zeros(0, np.int64)
                if ranking is not None and window.table is not None:
                    ids = window.table.ids_at(window.rows[top])
                    scores = ranking.affinity[top] + window.recency[top]
                    ranked += [
                        _Candidate(i, float(s), int(w), None, positives[n])
                        for i, s, w, n in zip(
                            ids, scores, window.when[top], ranking.nearest[top], strict=True
                        )
                    ]
                ranked.sort(key=lambda c: (-c.score, -c.when, c.id))
                missing = [c.id for c in ranked if c.id not in papers]
                papers.update(queries.pick_papers(conn, missing))
                # a paper hidden since the index run, or now dated outside the window, is gone
                kept = [c for c in ranked if c.id in papers and _inside(papers[c.id], window)]
                exhausted = len(top) < need
                cut = -np.inf if exhausted else ranking.affinity[top[-1]] + window.recency[top[-1]]
                sure = [c for c in kept if c.score >= cut]
                if len(sure) >= k or exhausted:
                    break
                need *= 4
        return [_as_pick(c, papers[c.id], titles) for c in sure[:k]]


def _as_pick(candidate: _Candidate, paper: dict[str, Any], titles: dict[str, str]) -> Pick:
    reason = candidate.reason
    if reason is None:
        reason = f"close to “{titles.get(candidate.nearest, candidate.nearest)}” in your library"
    return Pick(candidate.id, candidate.score, reason, paper, candidate.reason is not None)


def _build_window(
    table: RowTable | None, since: datetime | None, now: datetime, background: Window | None
) -> Window:
    if table is None:
        empty = np.zeros(0, dtype=np.int64)
        return Window(None, empty, empty, np.zeros(0), None, since, None, set())
    when = np.asarray(table.when)
    inside = when != NO_TIME
    if since is not None:
        inside &= when >= micros(since)
    if inside.all():  # the whole corpus: no gather
        rows, when = np.arange(len(when)), np.array(when)
    else:
        rows = np.nonzero(inside)[0]
        when = when[rows]
    ages = (micros(now) - when) // MICROS_PER_DAY  # whole days, as timedelta.days counts them
    if background is not None:  # the same generation: the same sample
        sample, rows_drawn = background.background, background.background_rows
    else:
        sample, rows_drawn = table.background, set(table.sample_rows.tolist())
    return Window(
        table=table,
        rows=rows,
        when=when,
        recency=_recency(np.maximum(ages, 0)),
        matrix=np.asarray(table.matrix[rows]) if len(rows) <= KEEP_ROWS else None,
        since=since,
        background=sample,
        background_rows=rows_drawn,
    )


def _recency(ages: np.ndarray) -> np.ndarray:
    """RECENCY_WEIGHT x 0.5 ** (age / 7) of whole-day AGES (>= 0), looked up in a table of the
    few thousand days it is not 0 for: the same values as computing it per row, which took a
    tenth of a cold whole-corpus call at 2.6M rows."""
    horizon = 7 * 1100  # 2 ** -1100 is below the smallest float64: 0, as for every older age
    table = RECENCY_WEIGHT * np.exp2(np.arange(horizon + 1) / -7)
    return table[np.minimum(ages, horizon)]


def _positions(window: Window, ids: list[str]) -> np.ndarray:
    """A mask over the window's rows: true for those of IDS."""
    mask = np.zeros(len(window.rows), dtype=bool)
    if window.table is None or not len(window.rows) or not ids:
        return mask
    rows = window.table.rows_of(ids)
    at = np.minimum(np.searchsorted(window.rows, rows), len(window.rows) - 1)
    mask[at[window.rows[at] == rows]] = True
    return mask


def _library_ranking(
    window: Window, signals: library.Signals, excluded: np.ndarray
) -> tuple[LibraryRanking | None, list[str]]:
    """The window ranked by the user's library, and the indexed positives (which `nearest`
    indexes); no ranking when none of the library is indexed."""
    table = window.table
    if table is None or not len(window.rows):
        return None, []
    rows = table.rows_of(signals.positive)
    positives = [pid for pid, row in zip(signals.positive, rows, strict=True) if row >= 0]
    if not positives:
        return None, []
    positive_rows = rows[rows >= 0]
    negative_rows = table.rows_of(signals.negative)
    negative_rows = negative_rows[negative_rows >= 0]
    drawn = [r for r in positive_rows.tolist() if r in window.background_rows]
    scorer = UserScorer.of(
        table.vectors_at(positive_rows),
        table.vectors_at(negative_rows),
        window.background,
        table.vectors_at(drawn) if drawn else None,
    )
    return LibraryRanking(window, scorer, excluded), positives


def _add_affinity(
    window: Window, ranking: LibraryRanking, positives: list[str], follows: dict[str, _Candidate]
) -> None:
    """Followed papers score their affinity (when positive) on top of the follow boosts."""
    if not follows or window.table is None:
        return
    ids = list(follows)
    rows = window.table.rows_of(ids)
    at = np.minimum(np.searchsorted(window.rows, rows), len(window.rows) - 1)
    inside = window.rows[at] == rows
    ranking.compute(at[inside])
    for paper_id, position in zip(np.asarray(ids)[inside], at[inside], strict=True):
        candidate = follows[str(paper_id)]
        candidate.score += max(float(ranking.affinity[position]), 0.0)


def _follow_candidates(
    conn: Connection,
    indexes: Indexes,
    window: Window,
    signals: library.Signals,
    taken: set[str],
    now: datetime,
) -> tuple[dict[str, _Candidate], dict[str, dict[str, Any]]]:
    """Papers of the window by a followed author or matching a followed search (scored by their
    boosts and recency; affinity is added later), and the metadata read for them."""
    followed = {_name_key(a): a for a in signals.authors}
    found: dict[str, list[str]] = {}
    dated = Filters(since=window.since)
    for key, name in followed.items():
        # dated papers through the date filter; undated ones (new by first sighting) need the
        # unfiltered search, as the keyword index only knows publication dates
        for filters in (Filters(author=name, since=window.since), Filters(author=name)):
            for hit in indexes.keyword.matching_ids(filters, FOLLOW_MATCHES):
                found.setdefault(hit, []).append(f"author:{key}")
    for query in signals.queries:
        hits = [
            *indexes.keyword.saved_search(query, SEARCH_MATCHES, dated),
            *indexes.keyword.saved_search(query, SEARCH_MATCHES),
        ]
        for hit in dict.fromkeys(h.id for h in hits):
            found.setdefault(hit, []).append(f"query:{query}")
    papers = queries.pick_papers(conn, [pid for pid in found if pid not in taken])
    follows: dict[str, _Candidate] = {}
    for paper_id, paper in papers.items():
        if not _inside(paper, window):
            continue
        when = paper["published_at"] or paper["first_seen_at"]
        age = max((now - when).days, 0)
        candidate = _Candidate(paper_id, RECENCY_WEIGHT * 0.5 ** (age / 7), micros(when))
        matched = {_name_key(a) for a in paper["authors"] or []} & followed.keys()
        if matched:  # one boost for the authors, as many as the searches it matches
            candidate.score += FOLLOW_BOOST
            candidate.reason = f"by {followed[min(matched)]}, an author you follow"
        for query in dict.fromkeys(f[6:] for f in found[paper_id] if f.startswith("query:")):
            candidate.score += FOLLOW_BOOST
            candidate.reason = f"matches your saved search “{query}”"
        if candidate.reason is not None:
            follows[paper_id] = candidate
    return follows, papers


def _inside(paper: dict[str, Any], window: Window) -> bool:
    when = paper["published_at"] or paper["first_seen_at"]
    return window.since is None or when >= window.since


def _why_empty(table: RowTable | None, signals: library.Signals) -> str:
    """Why a reader with signals and stored papers gets no picks at all."""
    indexed = table is not None and bool((table.rows_of(signals.positive) >= 0).any())
    if signals.positive and not indexed:
        return NOT_INDEXED
    if not signals.positive:
        return NO_FOLLOW_MATCH
    return ALL_TAKEN


def _name_key(name: str) -> str:
    """A followed author matches however the name's accents were written (Muller, Müller),
    the same folding the keyword index applies to authors."""
    return " ".join(WORDS.analyze(clean_text(name)))
