"""Keyword, semantic and hybrid search, and similar papers: one entry point for CLI, web and API.

Hybrid ranking is reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over sides of
weight / (RRF_K + rank(d)), with rank from 1. RRF_K = 60 is the value of the original paper and
of most engines since; it keeps one side's top hit from drowning the other side's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from sqlalchemy.engine import Engine

from papertide.limits import MAX_QUERY_CHARS  # one limit for the web, the API and the CLI
from papertide.search.embedder import QUERY_MAX_TOKENS, Embedder, document_text
from papertide.search.generations import Indexes
from papertide.search.keyword import Filters
from papertide.search.vectors import VectorFilter, VectorIndex
from papertide.store import queries

Mode = Literal["keyword", "semantic", "hybrid"]
MODES: tuple[Mode, ...] = ("keyword", "semantic", "hybrid")
RRF_K = 60
# How deep each side is read before fusing: fusion can only reorder what the sides return.
CANDIDATES = 100
# A query's semantic side keeps only papers at least this close (cosine, default MiniLM-L6
# model): without a floor every paper is somebody's nearest, so nonsense ("xqzvw plorb")
# returned the whole index "via semantic". Chosen by bench/quality.py (bench/RESULTS.md):
# random letter strings reach at most ~0.29, a title against its own abstract at least ~0.3.
SEMANTIC_FLOOR = 0.20


@dataclass(frozen=True)
class Boosts:
    """Optional nudges on top of relevance, multiplicative so relevance stays first:

    score x (1 + recency x 0.5 ** (age_days / half_life_days))
          x (1 + votes x log(1 + v) / log(1 + 100)),
    where v is papertide votes plus upstream (Hugging Face) upvotes: a paper published today
    gets up to +recency, one with 100 votes +votes. Only papers that matched are reordered.
    """

    recency: float = 0.0
    half_life_days: float = 30.0
    votes: float = 0.0

    def active(self) -> bool:
        return self.recency > 0 or self.votes > 0

    def factor(self, paper: dict, votes: int, today: datetime) -> float:
        factor = 1.0
        published = paper.get("published_at")
        if self.recency and published is not None:
            age = max((today - published).days, 0)
            factor *= 1 + self.recency * 0.5 ** (age / self.half_life_days)
        total = votes + (paper.get("upstream_upvotes") or 0)
        if self.votes and total > 0:
            factor *= 1 + self.votes * math.log1p(total) / math.log1p(100)
        return factor


class SearchError(ValueError):
    """A search that cannot run as asked; the message is meant for the user."""


@dataclass
class Hit:
    id: str
    score: float
    why: str  # which side(s) found it: "keyword", "semantic" or "keyword+semantic"
    snippet: str = ""
    paper: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.paper.get("title", ""),
            "score": round(self.score, 6),
            "why": self.why,
            "snippet": self.snippet,
            "published_at": self.paper.get("published_at"),
            "authors": self.paper.get("authors", []),
        }


def usable_mode(mode: str, has_embedder: bool) -> Mode:
    """MODE as it can run: hybrid falls back to keyword without an embedding model.
    Unknown modes are a SearchError; semantic without a model is left to the caller to refuse."""
    if mode not in MODES:
        raise SearchError(f"unknown mode {mode!r}: use keyword, semantic or hybrid")
    return "keyword" if mode == "hybrid" and not has_embedder else mode  # type: ignore[return-value]


def rrf(rankings: dict[str, list[str]], weights: dict[str, float] | None = None) -> list[Hit]:
    """Fuse ranked id lists by reciprocal rank; ties keep the order of first appearance."""
    scores: dict[str, float] = {}
    found_by: dict[str, list[str]] = {}
    for side, ids in rankings.items():
        weight = (weights or {}).get(side, 1.0)
        for rank, paper_id in enumerate(ids, start=1):
            scores[paper_id] = scores.get(paper_id, 0.0) + weight / (RRF_K + rank)
            found_by.setdefault(paper_id, []).append(side)
    ordered = sorted(scores, key=lambda pid: -scores[pid])
    return [Hit(id=pid, score=scores[pid], why="+".join(sorted(found_by[pid]))) for pid in ordered]


def semantic_ids(
    vectors: VectorIndex,
    query: np.ndarray,
    depth: int,
    filters: VectorFilter | None = None,
    floor: float | None = None,
) -> list[str]:
    """The DEPTH papers nearest to a query vector, dropping those below FLOOR (by default
    SEMANTIC_FLOOR)."""
    floor = SEMANTIC_FLOOR if floor is None else floor
    ids, scores = vectors.search(query, depth, filters)
    return [paper_id for paper_id, score in zip(ids, scores, strict=True) if score >= floor]


def _vector_filter(indexes: Indexes, filters: Filters) -> VectorFilter | None:
    if not filters.active():
        return None
    allowed = None
    if filters.author:  # the vector files keep no authors: ask the keyword index who matches
        allowed = indexes.keyword.matching_ids(Filters(author=filters.author), limit=100_000)
    return VectorFilter(filters.since, filters.until, filters.category, allowed)


def search(
    engine: Engine,
    indexes: Indexes,
    text: str,
    mode: Mode = "hybrid",
    k: int = 10,
    filters: Filters | None = None,
    embedder: Embedder | None = None,
    boosts: Boosts | None = None,
    now: datetime | None = None,
) -> list[Hit]:
    """The K best papers for TEXT. Empty text with filters lists the filtered papers."""
    if mode not in MODES:
        raise SearchError(f"unknown mode {mode!r}: use keyword, semantic or hybrid")
    if k < 1:
        raise SearchError("k must be at least 1")
    filters = filters or Filters()
    text = " ".join(text.split())[:MAX_QUERY_CHARS]
    if not text and not filters.active():
        raise SearchError("empty query: type some words, or give a filter")
    if mode != "keyword" and embedder is None:
        raise SearchError(
            "semantic search needs the embedding model: run `papertide model prepare`"
        )

    rankings: dict[str, list[str]] = {}
    snippets: dict[str, str] = {}
    depth = max(CANDIDATES, k) if mode == "hybrid" else k
    if mode in ("keyword", "hybrid"):
        keyword_hits = indexes.keyword.search(text, depth, filters)
        rankings["keyword"] = [h.id for h in keyword_hits]
        snippets = {h.id: h.snippet for h in keyword_hits}
    if mode in ("semantic", "hybrid") and text and embedder is not None:
        query = embedder.embed([text], max_tokens=QUERY_MAX_TOKENS)[0]
        vector_filter = _vector_filter(indexes, filters)
        rankings["semantic"] = semantic_ids(indexes.vectors, query, depth, vector_filter)
    hits = rrf(rankings) if len(rankings) > 1 else _single(rankings)
    if boosts is not None and boosts.active():
        return _hydrate(engine, hits, snippets, len(hits), boosts, now)[:k]
    return _hydrate(engine, hits, snippets, k)


def _single(rankings: dict[str, list[str]]) -> list[Hit]:
    """One side only: keep its own order; scores are the fused scale for comparability."""
    if not rankings:
        return []
    ((side, ids),) = rankings.items()
    return [Hit(id=pid, score=1.0 / (RRF_K + rank), why=side) for rank, pid in enumerate(ids, 1)]


def similar(
    engine: Engine,
    indexes: Indexes,
    paper_ref: str,
    k: int = 10,
    mode: Mode = "hybrid",
    embedder: Embedder | None = None,
) -> list[Hit]:
    """Papers closest to one paper: its vector's neighbours fused with a keyword search by its
    own title and abstract."""
    with engine.connect() as conn:
        paper_id = queries.resolve_id(conn, paper_ref)
        text = queries.text_of(conn, paper_id) if paper_id else None
    if paper_id is None or text is None:
        raise SearchError(f"no paper with id {paper_ref!r}")
    if mode != "keyword" and embedder is None:
        raise SearchError("similar papers need the embedding model: run `papertide model prepare`")
    depth = max(CANDIDATES, k + 1)
    rankings: dict[str, list[str]] = {}
    if mode in ("keyword", "hybrid"):
        hits = indexes.keyword.search(document_text(*text), depth + 1, snippets=False)
        rankings["keyword"] = [h.id for h in hits if h.id != paper_id][:depth]
    if mode in ("semantic", "hybrid") and embedder is not None:
        vector = indexes.vectors.vector(paper_id)
        if vector is None:
            vector = embedder.embed([document_text(*text)])[0]
        ids, _ = indexes.vectors.search(np.asarray(vector), depth, exclude=paper_id)
        rankings["semantic"] = ids
    hits = rrf(rankings) if len(rankings) > 1 else _single(rankings)
    return _hydrate(engine, hits, {}, k)


def stored_similar(engine: Engine, indexes: Indexes, paper_id: str, k: int) -> list[Hit] | None:
    """Similar papers from the lists computed at index time (neighbors.py): nearest by
    embedding. None when no list is kept for this paper (pages then call `similar`)."""
    found = indexes.neighbors.lookup(indexes.vectors, paper_id, k + 5)
    if found is None:
        return None
    hits = [Hit(id=pid, score=score, why="semantic") for pid, score in found]
    return _hydrate(engine, hits, {}, k)


def _hydrate(
    engine: Engine,
    hits: list[Hit],
    snippets: dict[str, str],
    k: int,
    boosts: Boosts | None = None,
    now: datetime | None = None,
) -> list[Hit]:
    """Attach stored paper fields; drop ids the database no longer shows (hidden, renamed).
    With BOOSTS, rescore and reorder all of HITS."""
    with engine.connect() as conn:
        papers = queries.summaries(conn, [h.id for h in hits[: k * 2 + 10]])
        votes = queries.vote_counts(conn, list(papers)) if boosts else {}
    if boosts:
        today = now or datetime.now(UTC).replace(tzinfo=None)
        for hit in hits:
            if hit.id in papers:
                hit.score *= boosts.factor(papers[hit.id], votes.get(hit.id, 0), today)
        hits = sorted(hits, key=lambda h: -h.score)
    kept = []
    for hit in hits:
        if hit.id in papers:
            hit.paper = papers[hit.id]
            hit.snippet = snippets.get(hit.id, "")
            kept.append(hit)
        if len(kept) == k:
            break
    return kept
