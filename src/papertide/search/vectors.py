"""The vector index beside the database: a memory-mapped float32 matrix plus filter columns.

Search is exact (one matrix-vector product): at 100k papers that takes a few milliseconds and
needs no index maintenance (../shared/notes/engines.md). The database's embeddings table stays
the source of truth; these files are rebuilt from it whenever they disagree with it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

EPOCH = datetime(1970, 1, 1)
UNDATED = np.iinfo(np.int32).min


@dataclass
class VectorFilter:
    """Filters the vector side applies itself: published day range and category."""

    since: datetime | None = None
    until: datetime | None = None
    category: str | None = None
    allowed_ids: set[str] | None = None  # from the keyword index, for filters not kept here


def _day(value: datetime | None) -> int:
    return UNDATED if value is None else (value - EPOCH).days


class VectorIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta_path = directory / "meta.json"
        self._loaded: dict[str, Any] | None = None

    def meta(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None

    def matches(self, identity: dict[str, Any]) -> bool:
        """True when the files on disk were built from exactly this database state."""
        meta = self.meta()
        return meta is not None and meta.get("identity") == identity and self._files_ok(meta)

    def _files_ok(self, meta: dict[str, Any]) -> bool:
        expected = meta["count"] * meta["dim"] * 4
        try:
            return (self.directory / "vectors.f32").stat().st_size == expected
        except OSError:
            return False

    def build(
        self,
        rows: Iterable[tuple[str, bytes, datetime | None, list[str] | None]],
        dim: int,
        identity: dict[str, Any],
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write the index from ROWS into a fresh folder, then swap it in atomically."""
        staging = self.directory.with_name(self.directory.name + ".building")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        ids: list[str] = []
        days: list[int] = []
        category_names: dict[str, int] = {}
        category_rows: list[list[int]] = []
        with (staging / "vectors.f32").open("wb") as out:
            for paper_id, vector, published, categories in rows:
                out.write(vector)
                ids.append(paper_id)
                days.append(_day(published))
                category_rows.append(
                    [category_names.setdefault(c, len(category_names)) for c in categories or []]
                )
                if on_progress and len(ids) % 10_000 == 0:
                    on_progress(len(ids))
        np.save(staging / "days.npy", np.asarray(days, dtype=np.int32))
        indptr = np.cumsum([0, *(len(r) for r in category_rows)]).astype(np.int64)
        flat = [c for r in category_rows for c in r]
        np.save(staging / "cat_indptr.npy", indptr)
        np.save(staging / "cat_codes.npy", np.asarray(flat, dtype=np.int32))
        (staging / "ids.json").write_text(json.dumps(ids))
        (staging / "categories.json").write_text(json.dumps(category_names))
        meta = {"count": len(ids), "dim": dim, "identity": identity}
        (staging / "meta.json").write_text(json.dumps(meta))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(staging, self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self._loaded = None
        return len(ids)

    def _load(self) -> dict[str, Any]:
        if self._loaded is None:
            meta = self.meta() or {"count": 0, "dim": 0}
            count, dim = meta["count"], meta["dim"]
            matrix = (
                np.memmap(
                    self.directory / "vectors.f32", dtype=np.float32, mode="r", shape=(count, dim)
                )
                if count
                else np.zeros((0, max(dim, 1)), dtype=np.float32)
            )
            ids = json.loads((self.directory / "ids.json").read_text()) if count else []
            self._loaded = {
                "matrix": matrix,
                "ids": ids,
                "row_of": {pid: i for i, pid in enumerate(ids)},
                "days": np.load(self.directory / "days.npy") if count else np.zeros(0, np.int32),
                "indptr": np.load(self.directory / "cat_indptr.npy") if count else None,
                "codes": np.load(self.directory / "cat_codes.npy") if count else None,
                "categories": json.loads((self.directory / "categories.json").read_text())
                if count
                else {},
            }
        return self._loaded

    def vector(self, paper_id: str) -> np.ndarray | None:
        data = self._load()
        row = data["row_of"].get(paper_id)
        return None if row is None else np.asarray(data["matrix"][row])

    def _mask(self, filters: VectorFilter) -> np.ndarray | None:
        data = self._load()
        count = len(data["ids"])
        mask = None
        if filters.since or filters.until:
            days = data["days"]
            mask = days != UNDATED
            if filters.since:
                mask &= days >= _day(filters.since)
            if filters.until:
                mask &= days < _day(filters.until)
        if filters.category:
            code = data["categories"].get(filters.category)
            has = np.zeros(count, dtype=bool)
            if code is not None:
                hits = data["codes"] == code
                rows = np.searchsorted(data["indptr"], np.nonzero(hits)[0], side="right") - 1
                has[rows] = True
            mask = has if mask is None else mask & has
        if filters.allowed_ids is not None:
            allowed = np.zeros(count, dtype=bool)
            rows = [data["row_of"][i] for i in filters.allowed_ids if i in data["row_of"]]
            allowed[rows] = True
            mask = allowed if mask is None else mask & allowed
        return mask

    def search(
        self,
        query: np.ndarray,
        k: int,
        filters: VectorFilter | None = None,
        exclude: str | None = None,
    ) -> tuple[list[str], list[float]]:
        """Ids and cosine scores of the K nearest papers, best first."""
        data = self._load()
        if not data["ids"]:
            return [], []
        scores = np.asarray(data["matrix"] @ query.astype(np.float32), dtype=np.float32)
        mask = self._mask(filters) if filters else None
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        if exclude is not None and exclude in data["row_of"]:
            scores[data["row_of"][exclude]] = -np.inf
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = [i for i in top if np.isfinite(scores[i])]
        return [data["ids"][i] for i in top], [float(scores[i]) for i in top]
