"""Trending: community votes with time decay.

    score = (votes + UPSTREAM_WEIGHT x upstream_upvotes) / (age_hours + 2) ** GRAVITY

votes are papertide's own (one per user, hidden users excluded); upstream_upvotes are Hugging
Face's, counted at half weight because they were cast elsewhere and cannot be checked. age_hours
runs from publication (first seen, for undated papers). GRAVITY = 1.5 halves a paper's score in
roughly its first day and keeps a fresh paper with a few votes above an old one with many, as on
Hacker News (gravity 1.8) but gentler, since papers stay relevant longer than links. The +2 hours
keeps brand-new papers from dividing by nearly zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

GRAVITY = 1.5
UPSTREAM_WEIGHT = 0.5
OFFSET_HOURS = 2.0


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
