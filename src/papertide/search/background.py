"""The background sample's statistics, written by the index writer and read by every user's
classifier (rank/affinity.py). They live beside the index, not in the ranker, because the
index writer computes them once per index state: data flows from indexes to rankers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def augment(matrix: np.ndarray) -> np.ndarray:
    """MATRIX with a column of ones: a linear model's bias becomes one more weight."""
    return np.hstack([matrix, np.ones((len(matrix), 1), dtype=matrix.dtype)])


@dataclass
class Background:
    """Normal-equation terms of a background sample (label -1), averaged over the sample, with
    the eigen-decomposition of its Gram matrix: every user's system is this matrix (scaled) plus
    a low-rank part from their own papers, solved through the Woodbury identity in
    O(d^2 x library size) instead of O(d^3) (measured 10x faster for 10,000 digests)."""

    gram: np.ndarray  # (d+1, d+1): mean of x~ x~^T with x~ = [x, 1]
    mean: np.ndarray  # (d+1,): mean of x~
    count: int
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray

    @classmethod
    def of(cls, sample: np.ndarray) -> Background:
        augmented = augment(sample).astype(np.float64)
        gram = augmented.T @ augmented / len(sample)
        values, vectors = np.linalg.eigh(gram)
        return cls(gram, augmented.mean(axis=0), len(sample), values, vectors)

    def solve_scaled(self, scale: float, ridge: float, rhs: np.ndarray) -> np.ndarray:
        """(scale x gram + ridge x I)^-1 rhs, for a vector or the columns of a matrix."""
        inverse = 1.0 / (scale * self.eigenvalues + ridge)
        projected = self.eigenvectors.T @ rhs
        scaled = projected * (inverse[:, None] if projected.ndim == 2 else inverse)
        return self.eigenvectors @ scaled
