"""How much a user should like each candidate paper, from paper embeddings (pure numpy).

A linear classifier per user, as arxiv-sanity-lite and Scholar Inbox do: the user's positives
(saved, thumbs up) against their thumbs-down plus a sample of background papers. It is a ridge
(regularized least-squares) classifier solved in closed form rather than an SVM: the background
part of its normal equations is the same for every user and computed once, so a user's model
costs one 385 x 385 solve (~1 ms), which is what lets 10,000 digests be built in seconds.
With few positives a classifier has nothing to learn from; then (and always, blended in) the
score is the similarity to the nearest library paper, which also names the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from papertide.search.background import Background, augment

MIN_POSITIVES = 3
RIDGE = 0.05
# Weight of nearest-library-paper similarity next to the classifier. bench/recommend.py (200
# simulated users, nDCG@10): classifier alone 0.859, with this term at 0.2 0.860, at 1.0 0.823,
# the term alone 0.515. Kept small: it breaks ties toward papers close to one library paper
# (a second interest a linear model averages away) and it names the reason.
KNN_WEIGHT = 0.2


@dataclass
class Affinity:
    scores: np.ndarray  # (n_candidates,), higher is better
    nearest: np.ndarray  # index into the positives of each candidate's closest one
    nearest_similarity: np.ndarray
    used_classifier: bool


def user_model(
    positives: np.ndarray,
    negatives: np.ndarray,
    background: Background,
    drawn: np.ndarray | None = None,
) -> np.ndarray:
    """Weights (d+1,) of the user's linear classifier; each class (positives, thumbs-down,
    background) weighs the same in total, however many papers it holds. DRAWN are the user's
    own papers that the background sample happens to hold: they leave the background (in a
    small database they would otherwise teach the model that the user dislikes their library).
    """
    drawn = drawn if drawn is not None and len(drawn) < background.count else positives[:0]
    scale = background.count / (background.count - len(drawn))
    parts = [(augment(positives), 1.0 / len(positives))]
    if len(negatives):
        parts.append((augment(negatives), 1.0 / len(negatives)))
    if len(drawn):
        parts.append((augment(drawn), -scale / background.count))
    low_rank = np.vstack([rows for rows, _ in parts]).astype(np.float64).T  # (d+1, m)
    weights = np.concatenate([np.full(len(rows), w) for rows, w in parts])
    background_mean = scale * (
        background.mean - low_rank[:, len(weights) - len(drawn) :].sum(axis=1) / background.count
    )
    rhs = parts[0][0].mean(axis=0) - background_mean
    if len(negatives):
        rhs = rhs - parts[1][0].mean(axis=0)
    # Woodbury: (A0 + U C U^T)^-1 b = A0^-1 b - A0^-1 U (C^-1 + U^T A0^-1 U)^-1 U^T A0^-1 b
    solved_rhs = background.solve_scaled(scale, RIDGE, rhs)
    solved_u = background.solve_scaled(scale, RIDGE, low_rank)
    inner = np.diag(1.0 / weights) + low_rank.T @ solved_u
    return solved_rhs - solved_u @ np.linalg.solve(inner, low_rank.T @ solved_rhs)


@dataclass
class UserScorer:
    """One user's scoring, usable in pieces: `linear` (the classifier alone) is an upper bound of
    the score once BOUND_SLACK is added, so a caller with millions of candidates computes it for
    all of them (one matrix-vector product) and the full `score` only for those that can reach
    the top (recommend.py)."""

    positives: np.ndarray
    negatives: np.ndarray
    weights: np.ndarray | None  # the classifier, None with too few positives

    @classmethod
    def of(
        cls,
        positives: np.ndarray,
        negatives: np.ndarray,
        background: Background | None,
        drawn: np.ndarray | None = None,
    ) -> UserScorer:
        used = background is not None and len(positives) >= MIN_POSITIVES
        weights = user_model(positives, negatives, background, drawn) if used else None
        return cls(positives, negatives, weights)

    @property
    def bound_slack(self) -> float:
        """Most the nearest-paper term can add: candidates are unit vectors (the embedder
        normalizes), so a similarity is at most the longest positive's norm; with a margin for
        float32 rounding. The thumbs-down term only ever lowers a score."""
        longest = float(np.linalg.norm(self.positives, axis=1).max()) if len(self.positives) else 0
        return KNN_WEIGHT * longest * (1 + 1e-3) + 1e-4

    def linear(self, candidates: np.ndarray) -> np.ndarray | None:
        if self.weights is None:
            return None
        weights = self.weights.astype(candidates.dtype)
        return candidates @ weights[:-1] + weights[-1]

    def score(self, candidates: np.ndarray) -> Affinity:
        """Scores of CANDIDATES (rows, unit vectors)."""
        similarity = candidates @ self.positives.T  # (candidates, positives)
        nearest = similarity.argmax(axis=1)
        nearest_similarity = similarity[np.arange(len(candidates)), nearest]
        scores = KNN_WEIGHT * nearest_similarity
        linear = self.linear(candidates)
        if linear is not None:
            scores = scores + linear
        if len(self.negatives):  # a paper close to a thumbs-down one is pushed down, whatever
            penalty = np.clip((candidates @ self.negatives.T).max(axis=1) - 0.5, 0, None)
            scores = scores - 0.5 * penalty
        return Affinity(scores, nearest, nearest_similarity, linear is not None)


def affinity(
    candidates: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
    background: Background | None,
    drawn: np.ndarray | None = None,
) -> Affinity:
    """Scores of CANDIDATES (rows, unit vectors) for a user with these POSITIVES/NEGATIVES."""
    return UserScorer.of(positives, negatives, background, drawn).score(candidates)
