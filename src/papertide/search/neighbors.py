"""Each paper's nearest papers, computed when the index is refreshed, read by a paper page.

Computing similar papers per page view costs a pass over every vector (measured: 59 paper
pages/s at 100k papers); looking up a stored list costs nothing. Lists are computed in batches
(one matrix product per 4,096 papers: ~60 s for 100k papers on one core) and kept up to date
incrementally: new or changed papers get their own lists, and every other paper's list takes in
a new paper that beats its weakest entry. Above the exact-search size (vectors.ANN_THRESHOLD)
the first full pass would take hours on a small machine, so lists are not kept there and pages
compute neighbours on demand.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from papertide.search.vectors import ANN_THRESHOLD, VectorIndex

K = 20  # neighbours kept per paper; pages show fewer
BATCH = 4096


class NeighborLists:
    """K nearest papers per vector row, as two memory-mapped arrays beside the vector index."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta_path = directory / "meta.json"
        self._cache: tuple[dict[str, Any], np.ndarray, np.ndarray] | None = None

    def meta(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None

    def lookup(self, vectors: VectorIndex, paper_id: str, k: int) -> list[tuple[str, float]] | None:
        """Stored neighbours of PAPER_ID as (id, cosine), best first; None when none are kept
        for the vector index as it is now."""
        ids = vectors.row_ids()
        meta = self.meta()
        if meta is None or meta.get("identity") != (vectors.meta() or {}).get("identity"):
            return None
        if self._cache is None or self._cache[0] != meta:
            self._cache = (meta, *self._open(meta["count"], "r"))
        row = vectors.row_of(paper_id)
        if row is None or row >= meta["count"]:
            return None
        _, rows, scores = self._cache
        return [(ids[r], float(s)) for r, s in zip(rows[row], scores[row], strict=True) if r >= 0][
            :k
        ]

    def _open(self, count: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
        rows = np.memmap(self.directory / "rows.i32", np.int32, mode, shape=(count, K))
        scores = np.memmap(self.directory / "scores.f32", np.float32, mode, shape=(count, K))
        return rows, scores

    def refresh(
        self,
        vectors: VectorIndex,
        changed_rows: list[int] | None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Bring the lists in step with VECTORS: fresh lists for CHANGED_ROWS (the rows added
        or replaced since the lists were computed), or for every row when None. Returns how
        many papers got fresh lists."""
        meta = vectors.meta()
        if meta is None or meta["count"] == 0 or meta["count"] >= ANN_THRESHOLD:
            shutil.rmtree(self.directory, ignore_errors=True)
            self._cache = None
            return 0
        mine = self.meta()
        if mine is not None and mine.get("identity") == meta["identity"]:
            return 0
        matrix = vectors.matrix()
        incremental = (
            mine is not None
            and changed_rows is not None
            and len(changed_rows) <= len(matrix) // 4  # more: a full pass is as quick
            and mine.get("generation") == meta.get("generation")
            and mine["count"] <= meta["count"]
        )
        if incremental:
            done = self._update(matrix, mine["count"], np.asarray(sorted(changed_rows)))
        else:
            done = self._build(matrix, progress)
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "count": len(matrix),
                    "identity": meta["identity"],
                    "generation": meta.get("generation"),
                }
            )
        )
        os.replace(tmp, self.meta_path)
        self._cache = None
        return done

    def _build(self, matrix: np.ndarray, progress: Callable[[int, int], None] | None) -> int:
        self.meta_path.unlink(missing_ok=True)  # lists are unusable until meta is rewritten
        self.directory.mkdir(parents=True, exist_ok=True)
        for name in ("rows.i32", "scores.f32"):
            (self.directory / name).unlink(missing_ok=True)
        rows, scores = self._open(len(matrix), "w+")
        index = _flat(matrix)
        for start in range(0, len(matrix), BATCH):
            stop = min(start + BATCH, len(matrix))
            rows[start:stop], scores[start:stop] = _nearest(index, matrix, start, stop)
            if progress:
                progress(stop, len(matrix))
        rows.flush()
        scores.flush()
        return len(matrix)

    def _update(self, matrix: np.ndarray, old_count: int, changed: np.ndarray) -> int:
        """Fresh lists for CHANGED rows and for rows that listed a changed paper (its old
        score means nothing now); every other list takes in changed papers that beat its
        weakest entry. The result equals a full pass, ties aside."""
        count = len(matrix)
        for name, dtype in (("rows.i32", np.int32), ("scores.f32", np.float32)):
            with (self.directory / name).open("ab") as out:
                out.truncate(count * K * np.dtype(dtype).itemsize)
        rows, scores = self._open(count, "r+")
        if len(changed) == 0:
            return 0
        replaced = changed[changed < old_count]
        listing = np.nonzero(np.isin(rows[:old_count], replaced).any(axis=1))[0]
        recompute = np.union1d(changed, listing)
        index = _flat(matrix)
        for start in range(0, len(recompute), BATCH):
            block = recompute[start : start + BATCH]
            rows[block], scores[block] = _nearest(index, matrix, block=block)
        fresh = np.ascontiguousarray(matrix[changed])
        done = np.zeros(count, dtype=bool)
        done[recompute] = True
        step = max(1, (1 << 24) // len(changed))  # keeps each score block near 64 MB
        for start in range(0, count, step):
            others = np.arange(start, min(start + step, count))
            others = others[~done[others]]
            if len(others) == 0:
                continue
            against = np.asarray(matrix[others]) @ fresh.T  # (others, changed)
            beats = against.max(axis=1) > scores[others].min(axis=1)
            for row, cand in zip(others[beats], against[beats], strict=True):
                best = np.argsort(-cand)[:K]
                _merge(rows, scores, int(row), changed[best], cand[best])
        rows.flush()
        scores.flush()
        return len(recompute)


def _flat(matrix: np.ndarray) -> Any:
    import faiss

    index = faiss.IndexFlatIP(matrix.shape[1])
    index.add(np.ascontiguousarray(matrix))
    return index


def _nearest(
    index: Any,
    matrix: np.ndarray,
    start: int = 0,
    stop: int = 0,
    block: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The K nearest rows of a block of rows, each without itself."""
    wanted = np.arange(start, stop) if block is None else block
    found_scores, found = index.search(np.ascontiguousarray(matrix[wanted]), K + 1)
    rows = np.full((len(wanted), K), -1, dtype=np.int32)
    scores = np.full((len(wanted), K), -np.inf, dtype=np.float32)
    for i, row in enumerate(wanted):
        keep = (found[i] != row) & (found[i] >= 0)
        picked, picked_scores = found[i][keep][:K], found_scores[i][keep][:K]
        rows[i, : len(picked)] = picked
        scores[i, : len(picked)] = picked_scores
    return rows, scores


def _merge(
    rows: np.ndarray, scores: np.ndarray, row: int, cand_rows: np.ndarray, cand: np.ndarray
) -> None:
    """Row ROW's list with candidates CAND_ROWS (scores CAND) taken in; best K kept."""
    listed = {int(r): float(s) for r, s in zip(rows[row], scores[row], strict=True) if r >= 0}
    for r, s in zip(cand_rows, cand, strict=True):
        if int(r) != row:
            listed[int(r)] = float(s)
    best = sorted(listed.items(), key=lambda item: -item[1])[:K]
    rows[row] = -1
    scores[row] = -np.inf
    rows[row, : len(best)] = [r for r, _ in best]
    scores[row, : len(best)] = [s for _, s in best]
