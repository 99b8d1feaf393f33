"""Similar-paper lists kept at index time: exact on build, equal to a fresh build after updates."""

from __future__ import annotations

import numpy as np

from papertide.search.neighbors import K, NeighborLists
from papertide.search.vectors import VectorIndex


def unit_rows(count: int, seed: int, prefix: str = "p") -> list[tuple]:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(count, 16)).astype("<f4")
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return [(f"{prefix}{i:05d}", matrix[i].tobytes(), None, []) for i in range(count)]


def brute_force(rows: list[tuple], paper_id: str, k: int) -> list[str]:
    ids = [r[0] for r in rows]
    matrix = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])
    scores = matrix @ matrix[ids.index(paper_id)]
    order = [ids[i] for i in np.argsort(-scores, kind="stable") if ids[i] != paper_id]
    return order[:k]


def test_lists_match_brute_force_and_updates_match_a_rebuild(tmp_path):
    rows = unit_rows(3000, seed=1)
    vectors = VectorIndex(tmp_path / "vectors")
    vectors.build(rows, 16, {"n": 1})
    lists = NeighborLists(tmp_path / "neighbors")
    assert lists.lookup(vectors, "p00007", 5) is None  # nothing computed yet
    assert lists.refresh(vectors, None) == 3000
    for pid in ("p00000", "p01234", "p02999"):
        got = [p for p, _ in lists.lookup(vectors, pid, K)]
        assert got == brute_force(rows, pid, K)

    # new papers arrive, one paper's text (so vector) changes
    added = unit_rows(40, seed=2, prefix="n")
    near = np.frombuffer(added[0][1], dtype="<f4") + np.frombuffer(added[1][1], dtype="<f4") / 20
    near = (near / np.linalg.norm(near)).astype("<f4")
    moved = (rows[10][0], near.tobytes(), None, [])  # p00010 moves next to n00000
    written = vectors.update([*added, moved], {"n": 2})
    assert lists.lookup(vectors, "p00000", 5) is None  # stale lists are not served
    refreshed = lists.refresh(vectors, written)
    assert 41 <= refreshed < 200  # the changed papers and those that listed the moved one
    current = [moved if r[0] == moved[0] else r for r in rows] + added

    fresh = NeighborLists(tmp_path / "fresh")
    fresh.refresh(vectors, None)
    for pid in [r[0] for r in current]:
        incremental = [p for p, _ in lists.lookup(vectors, pid, K)]
        assert incremental == [p for p, _ in fresh.lookup(vectors, pid, K)], pid
    # the moved paper's own list and the new papers' lists are exact
    for pid in (moved[0], "n00000", "n00039"):
        assert [p for p, _ in lists.lookup(vectors, pid, K)] == brute_force(current, pid, K)
    # n00000 and the moved paper are now nearly the same vector: each is the other's nearest
    assert lists.lookup(vectors, "n00000", 1)[0][0] == moved[0]


def test_rebuilt_vector_index_forces_full_lists(tmp_path):
    rows = unit_rows(500, seed=3)
    vectors = VectorIndex(tmp_path / "vectors")
    vectors.build(rows, 16, {"n": 1})
    lists = NeighborLists(tmp_path / "neighbors")
    lists.refresh(vectors, None)
    # a rebuild renumbers rows (here: fewer papers), so the row-aligned lists start over
    vectors.build(rows[::2], 16, {"n": 2})
    assert lists.refresh(vectors, []) == 250
    got = [p for p, _ in lists.lookup(vectors, "p00002", K)]
    assert got == brute_force(rows[::2], "p00002", K)
