"""The per-user classifier: the fast solve equals the textbook one, and it ranks sensibly."""

import numpy as np

from papertide.rank.affinity import RIDGE, affinity, user_model
from papertide.search.background import Background


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def augment(rows: np.ndarray) -> np.ndarray:
    return np.hstack([rows, np.ones((len(rows), 1))]).astype(np.float64)


def direct(positives, negatives, sample, drawn):
    """Normal equations written out: ridge least squares, +1 positives, -1 the rest, each class
    weighing the same; the background is SAMPLE without DRAWN (same rows, so by index)."""
    kept = augment(sample[len(drawn) :])
    pos, neg = augment(positives), augment(negatives)
    gram = pos.T @ pos / len(pos) + neg.T @ neg / len(neg) + kept.T @ kept / len(kept)
    rhs = pos.mean(axis=0) - neg.mean(axis=0) - kept.mean(axis=0)
    return np.linalg.solve(gram + RIDGE * np.eye(len(gram)), rhs)


def test_woodbury_solve_matches_the_normal_equations():
    rng = np.random.default_rng(0)
    sample = unit(rng.normal(size=(300, 24)))
    positives = np.vstack([sample[:4], unit(rng.normal(size=(6, 24)))])  # 4 drawn into it
    negatives = unit(rng.normal(size=(3, 24)))
    fast = user_model(positives, negatives, Background.of(sample), drawn=sample[:4])
    assert np.allclose(fast, direct(positives, negatives, sample, sample[:4]), atol=1e-8)


def test_candidates_near_the_library_rank_first_and_name_their_neighbour():
    rng = np.random.default_rng(1)
    topic_a, topic_b = rng.normal(size=(2, 32))
    library = unit(topic_a + 0.6 * rng.normal(size=(8, 32)))
    near = unit(topic_a + 0.6 * rng.normal(size=(20, 32)))
    far = unit(topic_b + 0.6 * rng.normal(size=(20, 32)))
    background = Background.of(unit(rng.normal(size=(500, 32))))
    result = affinity(np.vstack([near, far]), library, library[:0], background)
    assert result.used_classifier
    top = np.argsort(-result.scores)[:20]
    assert (top < 20).mean() >= 0.9
    assert all(0 <= n < len(library) for n in result.nearest)
    few = affinity(np.vstack([near, far]), library[:2], library[:0], background)
    assert not few.used_classifier  # too few papers to learn from: nearest-paper similarity
