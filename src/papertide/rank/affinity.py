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

MIN_POSITIVES = 3
RIDGE = 0.05
# Weight of nearest-library-paper similarity next to the classifier. bench/recommend.py (200
# simulated users, nDCG@10): classifier alone 0.859, with this term at 0.2 0.860, at 1.0 0.823,
# the term alone 0.515. Kept small: it breaks ties toward papers close to one library paper
# (a second interest a linear model averages away) and it names the reason.
KNN_WEIGHT = 0.2


@dataclass
class Background:
    """Normal-equation terms of a background sample (label -1), averaged over the sample."""

    gram: np.ndarray  # (d+1, d+1): mean of x~ x~^T with x~ = [x, 1]
    mean: np.ndarray  # (d+1,): mean of x~
    count: int

    @classmethod
    def of(cls, sample: np.ndarray) -> Background:
        augmented = _augment(sample)
        return cls(augmented.T @ augmented / len(sample), augmented.mean(axis=0), len(sample))

    def without(self, rows: np.ndarray) -> Background:
        """The sample less ROWS (a user's own positives drawn into it: in a small database
        they would otherwise teach the model that the user dislikes their library)."""
        if len(rows) == 0 or len(rows) >= self.count:
            return self
        augmented = _augment(rows)
        remaining = self.count - len(rows)
        gram = (self.gram * self.count - augmented.T @ augmented) / remaining
        mean = (self.mean * self.count - augmented.sum(axis=0)) / remaining
        return Background(gram, mean, remaining)


@dataclass
class Affinity:
    scores: np.ndarray  # (n_candidates,), higher is better
    nearest: np.ndarray  # index into the positives of each candidate's closest one
    nearest_similarity: np.ndarray
    used_classifier: bool


def _augment(matrix: np.ndarray) -> np.ndarray:
    return np.hstack([matrix, np.ones((len(matrix), 1), dtype=matrix.dtype)])


def user_model(positives: np.ndarray, negatives: np.ndarray, background: Background) -> np.ndarray:
    """Weights (d+1,) of the user's linear classifier; each class (positives, thumbs-down,
    background) weighs the same in total, however many papers it holds."""
    pos = _augment(positives)
    gram = pos.T @ pos / len(pos) + background.gram
    rhs = pos.mean(axis=0) - background.mean
    if len(negatives):
        neg = _augment(negatives)
        gram += neg.T @ neg / len(neg)
        rhs -= neg.mean(axis=0)
    gram[np.diag_indices_from(gram)] += RIDGE
    return np.linalg.solve(gram, rhs)


def affinity(
    candidates: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
    background: Background | None,
) -> Affinity:
    """Scores of CANDIDATES (rows, unit vectors) for a user with these POSITIVES/NEGATIVES."""
    similarity = candidates @ positives.T  # (candidates, positives)
    nearest = similarity.argmax(axis=1)
    nearest_similarity = similarity[np.arange(len(candidates)), nearest]
    scores = KNN_WEIGHT * nearest_similarity
    used = background is not None and len(positives) >= MIN_POSITIVES
    if used:
        weights = user_model(positives, negatives, background)
        scores = scores + _augment(candidates) @ weights
    if len(negatives):  # a paper close to a thumbs-down one is pushed down, whatever the model
        scores = scores - 0.5 * np.clip((candidates @ negatives.T).max(axis=1) - 0.5, 0, None)
    return Affinity(scores, nearest, nearest_similarity, used)
