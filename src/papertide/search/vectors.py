"""The vector index beside the database: float32 vectors, filter columns and, when large, an ANN.

Below ANN_THRESHOLD vectors, search is exact (one matrix-vector product over a memory-mapped
matrix: a few milliseconds at 100k, no index to maintain). Above it, a faiss IVF index with 8-bit
scalar quantization answers: measured here at 1M x 384 it builds in ~44 CPU-s, takes 377 MB,
memory-maps in 1 ms and reaches recall@10 >= 0.95 (../shared/notes/engines.md); graph indexes
(hnswlib) need ~27x the build time for it. The database's embeddings table stays the source of
truth: these files are updated incrementally and rebuilt whenever they disagree with it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from papertide.search import row_table
from papertide.search.row_table import RowTable

EPOCH = datetime(1970, 1, 1)
UNDATED = np.iinfo(np.int32).min
ANN_THRESHOLD = 200_000
ANN_TRAIN_SAMPLE = 100_000
# Below this many allowed rows a filtered search is exact over just those rows. Above it the IVF
# index searches with the filter inside (measured at 1M, a filter passing 3%: recall@10 0.993
# at the usual nprobe, 6 ms), probing more lists only when too few results come back. Exact
# search over tens of thousands of scattered rows reads most of the memory-mapped matrix:
# measured slower, and several times the memory.
EXACT_FILTER_ROWS = 5_000
MASK_CACHE = 16

# (id, vector, published, categories, first seen): the last is the date of an undated paper
Row = tuple[str, bytes, datetime | None, list[str] | None, datetime | None]


@dataclass
class VectorFilter:
    """Filters the vector side applies itself: published day range and category."""

    since: datetime | None = None
    until: datetime | None = None
    category: str | None = None
    allowed_ids: set[str] | None = None  # from the keyword index, for filters not kept here


def _day(value: datetime | None) -> int:
    return UNDATED if value is None else (value - EPOCH).days


def ann_settings(count: int) -> dict[str, int]:
    """IVF list count about 2 sqrt(N) (a power of two), probing an eighth of the lists: recall
    >= 0.95 in the measurements behind this choice (bench/search.py reports it)."""
    nlist = 2 ** round(math.log2(max(2 * math.sqrt(count), 64)))
    return {"nlist": nlist, "nprobe": max(nlist // 8, 8)}


class _Columns:
    """Per-row metadata kept beside the vectors: ids, published days, categories and times
    (row_table.py: published, else first seen)."""

    def __init__(
        self, ids: list[str], days: list[int], categories: list[list[str]], when: list[int]
    ) -> None:
        self.ids = ids
        self.days = days
        self.categories = categories
        self.when = when

    def append(self, paper_id: str, published: datetime | None, categories: Any, seen: Any) -> None:
        self.ids.append(paper_id)
        self.days.append(_day(published))
        self.categories.append(list(categories or []))
        self.when.append(row_table.micros(published or seen))

    @classmethod
    def read(cls, folder: Path) -> _Columns:
        ids = json.loads((folder / "ids.json").read_text())
        days = np.load(folder / "days.npy").tolist()
        names = json.loads((folder / "categories.json").read_text())
        codes = np.load(folder / "cat_codes.npy")
        indptr = np.load(folder / "cat_indptr.npy")
        lookup = {code: name for name, code in names.items()}
        categories = [
            [lookup[c] for c in codes[indptr[i] : indptr[i + 1]]] for i in range(len(ids))
        ]
        # written before row times were kept: the published day (updates rebuild such indexes)
        when = (
            np.load(folder / "when.npy").tolist()
            if (folder / "when.npy").exists()
            else [row_table.NO_TIME if d == UNDATED else d * row_table.MICROS_PER_DAY for d in days]
        )
        return cls(ids, days, categories, when)

    def write(self, folder: Path) -> None:
        names: dict[str, int] = {}
        coded = [[names.setdefault(c, len(names)) for c in row] for row in self.categories]
        indptr = np.cumsum([0, *(len(r) for r in coded)]).astype(np.int64)
        np.save(folder / "days.npy", np.asarray(self.days, dtype=np.int32))
        np.save(folder / "cat_indptr.npy", indptr)
        np.save(folder / "cat_codes.npy", np.asarray([c for r in coded for c in r], np.int32))
        (folder / "ids.json").write_text(json.dumps(self.ids))
        (folder / "categories.json").write_text(json.dumps(names))
        row_table.write(folder, self.ids, self.when)


class VectorIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta_path = directory / "meta.json"
        self._loaded: dict[str, Any] | None = None
        self._table: RowTable | None = None

    def meta(self) -> dict[str, Any] | None:
        try:
            meta = json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None
        return meta if self._files_ok(meta) else None

    def _files_ok(self, meta: dict[str, Any]) -> bool:
        expected = meta["count"] * meta["dim"] * 4
        try:
            if (self.directory / "vectors.f32").stat().st_size != expected:
                return False
            return not meta.get("ann") or (self.directory / "ann.faiss").exists()
        except OSError:
            return False

    def matches(self, identity: dict[str, Any]) -> bool:
        """True when the files on disk were built from exactly this database state."""
        meta = self.meta()
        return meta is not None and meta.get("identity") == identity

    # -- writing -------------------------------------------------------------------------------

    def build(
        self,
        rows: Iterable[Row],
        dim: int,
        identity: dict[str, Any],
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write the whole index from ROWS into a fresh folder, then swap it in."""
        staging = self.directory.with_name(self.directory.name + ".building")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        columns = _Columns([], [], [], [])
        with (staging / "vectors.f32").open("wb") as out:
            for paper_id, vector, published, categories, *seen in rows:
                out.write(vector)
                columns.append(paper_id, published, categories, seen[0] if seen else None)
                if on_progress and len(columns.ids) % 10_000 == 0:
                    on_progress(len(columns.ids))
        columns.write(staging)
        count = len(columns.ids)
        row_table.write_sample(staging, count, dim)
        row_table.write_codes(staging, count, dim)
        ann = None
        if count >= ANN_THRESHOLD:
            ann = ann_settings(count)
            matrix = np.memmap(staging / "vectors.f32", np.float32, "r", shape=(count, dim))
            _write_ann(staging / "ann.faiss", matrix, ann["nlist"])
        # Rows are renumbered by a build, kept by updates: row-aligned files (neighbors.py)
        # tell the two apart by this.
        generation = os.urandom(8).hex()
        meta = {
            "count": count,
            "dim": dim,
            "identity": identity,
            "ann": ann,
            "generation": generation,
        }
        (staging / "meta.json").write_text(json.dumps(meta))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(staging, self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self._loaded = self._table = None
        return count

    def update(self, rows: Iterable[Row], identity: dict[str, Any]) -> list[int]:
        """Add new papers' vectors and replace changed ones in place; returns the rows written.

        meta.json is rewritten last: a crash before that leaves a vector file whose size no
        longer matches the metadata, which `meta()` rejects, so the next refresh rebuilds.
        """
        meta = self.meta()
        if meta is None:
            raise ValueError("no index to update")
        columns = _Columns.read(self.directory)
        row_of = {pid: i for i, pid in enumerate(columns.ids)}
        dim = meta["dim"]
        replaced: dict[int, bytes] = {}
        added: list[bytes] = []
        for paper_id, vector, published, categories, *seen in rows:
            row = row_of.get(paper_id)
            first_seen = seen[0] if seen else None
            if row is None:
                row_of[paper_id] = len(columns.ids)
                columns.append(paper_id, published, categories, first_seen)
                added.append(vector)
            else:
                replaced[row] = vector
                columns.days[row] = _day(published)
                columns.categories[row] = list(categories or [])
                columns.when[row] = row_table.micros(published or first_seen)
        if not replaced and not added:
            return []
        self._loaded = self._table = None
        path = self.directory / "vectors.f32"
        if replaced:
            matrix = np.memmap(path, np.float32, "r+", shape=(meta["count"], dim))
            for row, vector in replaced.items():
                matrix[row] = np.frombuffer(vector, dtype="<f4")
            matrix.flush()
            del matrix
        with path.open("ab") as out:
            for vector in added:
                out.write(vector)
        columns.write(self.directory)
        count = len(columns.ids)
        row_table.write_sample(self.directory, count, dim)
        row_table.write_codes(
            self.directory, count, dim, [*replaced, *range(count - len(added), count)]
        )
        if meta.get("ann"):
            _update_ann(
                self.directory / "ann.faiss", path, count, dim, sorted(replaced), meta["count"]
            )
        elif count >= ANN_THRESHOLD:
            meta["ann"] = ann_settings(count)
            matrix = np.memmap(path, np.float32, "r", shape=(count, dim))
            _write_ann(self.directory / "ann.faiss", matrix, meta["ann"]["nlist"])
        meta.update(count=count, identity=identity)
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        tmp.replace(self.meta_path)
        return sorted(replaced) + list(range(count - len(added), count))

    # -- reading -------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if self._loaded is not None:
            return self._loaded
        meta = self.meta()
        if meta is None or meta["count"] == 0:
            self._loaded = {"ids": [], "row_of": {}}
            return self._loaded
        count, dim = meta["count"], meta["dim"]
        folder = self.directory
        names = json.loads((folder / "categories.json").read_text())
        ids = json.loads((folder / "ids.json").read_text())
        self._loaded = {
            "matrix": np.memmap(folder / "vectors.f32", np.float32, "r", shape=(count, dim)),
            "ids": ids,
            "row_of": {pid: i for i, pid in enumerate(ids)},
            "days": np.load(folder / "days.npy"),
            "indptr": np.load(folder / "cat_indptr.npy"),
            "codes": np.load(folder / "cat_codes.npy"),
            "categories": names,
            "ann": _read_ann(folder / "ann.faiss") if meta.get("ann") else None,
            "nprobe": (meta.get("ann") or {}).get("nprobe", 0),
            "nlist": (meta.get("ann") or {}).get("nlist", 0),
            "masks": {},
        }
        return self._loaded

    def has_row_table(self) -> bool:
        return row_table.present(self.directory)

    def rows(self) -> RowTable | None:
        """Vectors, row times and ids memory-mapped, without loading ids.json (None when there
        is no index, or one written before the row table existed)."""
        if self._table is None:
            meta = self.meta()
            if meta is None or not meta["count"] or not self.has_row_table():
                return None
            self._table = RowTable(self.directory, meta["count"], meta["dim"])
        return self._table

    def row_ids(self) -> list[str]:
        return self._load()["ids"]

    def row_of(self, paper_id: str) -> int | None:
        return self._load()["row_of"].get(paper_id)

    def matrix(self) -> np.ndarray:
        """All vectors, one row per paper (memory-mapped; empty when there is no index)."""
        data = self._load()
        return data["matrix"] if data["ids"] else np.zeros((0, 0), dtype=np.float32)

    def vector(self, paper_id: str) -> np.ndarray | None:
        data = self._load()
        row = data["row_of"].get(paper_id)
        return None if row is None else np.array(data["matrix"][row])

    def _mask(self, filters: VectorFilter) -> np.ndarray | None:
        """Rows passing FILTERS; the last few date/category masks are kept, as a server sees the
        same filters again and again (3.5 ms each at 1M rows)."""
        data = self._load()
        key = None
        if filters.allowed_ids is None:
            key = (filters.since, filters.until, filters.category)
            cached = data["masks"].get(key)
            if cached is not None:
                return cached
        mask = self._compute_mask(data, filters)
        if key is not None and mask is not None:
            if len(data["masks"]) >= MASK_CACHE:
                data["masks"].pop(next(iter(data["masks"])))
            data["masks"][key] = mask
        return mask

    def _compute_mask(self, data: dict[str, Any], filters: VectorFilter) -> np.ndarray | None:
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
                hits = np.nonzero(data["codes"] == code)[0]
                has[np.searchsorted(data["indptr"], hits, side="right") - 1] = True
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
        exact: bool = False,
    ) -> tuple[list[str], list[float]]:
        """Ids and cosine scores of the K nearest papers, best first."""
        data = self._load()
        if not data["ids"]:
            return [], []
        query = np.ascontiguousarray(query, dtype=np.float32)
        mask = self._mask(filters) if filters else None
        # An excluded paper (the one whose neighbours are wanted) is dropped from one extra
        # result rather than masked: a mask would send every search down the filtered path.
        skip = data["row_of"].get(exclude) if exclude is not None else None
        if skip is not None:
            k += 1
        allowed = None if mask is None else int(mask.sum())
        if (
            data["ann"] is not None
            and not exact
            and (allowed is None or allowed > EXACT_FILTER_ROWS)
        ):
            nprobe = data["nprobe"]
            wanted = min(k, allowed if allowed is not None else k)
            rows, scores = _ann_search(data["ann"], query, k, mask, nprobe)
            while len(rows) < wanted and nprobe < data["nlist"]:
                nprobe = min(nprobe * 4, data["nlist"])
                rows, scores = _ann_search(data["ann"], query, k, mask, nprobe)
        elif mask is None or allowed > len(mask) // 4:
            all_scores = np.asarray(data["matrix"] @ query)
            if mask is not None:  # most rows pass: scoring all beats copying the passing ones
                all_scores = np.where(mask, all_scores, -np.inf)
            rows, scores = _top_k(all_scores, k)
        else:
            candidates = np.nonzero(mask)[0]
            if len(candidates) == 0:
                return [], []
            local, scores = _top_k(np.asarray(data["matrix"][candidates] @ query), k)
            rows = candidates[local]
        kept = [(i, s) for i, s in zip(rows, scores, strict=True) if i != skip and np.isfinite(s)]
        kept = kept[: k - 1] if skip is not None else kept
        return [data["ids"][i] for i, _ in kept], [float(s) for _, s in kept]


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top, scores[top]


def _write_ann(path: Path, matrix: np.ndarray, nlist: int) -> None:
    import faiss

    count, dim = matrix.shape
    index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(count, min(count, ANN_TRAIN_SAMPLE), replace=False)
    index.train(np.ascontiguousarray(matrix[np.sort(sample)]))
    for start in range(0, count, 50_000):
        block = np.ascontiguousarray(matrix[start : start + 50_000])
        index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
    tmp = path.with_suffix(".tmp")
    faiss.write_index(index, str(tmp))
    tmp.replace(path)


def _update_ann(
    path: Path, vectors: Path, count: int, dim: int, replaced: list[int], old_count: int
) -> None:
    import faiss

    index = faiss.read_index(str(path))
    matrix = np.memmap(vectors, np.float32, "r", shape=(count, dim))
    if replaced:
        rows = np.asarray(replaced, dtype=np.int64)
        index.remove_ids(rows)
        index.add_with_ids(np.ascontiguousarray(matrix[rows]), rows)
    if count > old_count:
        index.add_with_ids(
            np.ascontiguousarray(matrix[old_count:count]),
            np.arange(old_count, count, dtype=np.int64),
        )
    tmp = path.with_suffix(".tmp")
    faiss.write_index(index, str(tmp))
    tmp.replace(path)


def _read_ann(path: Path) -> Any:
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)


def _ann_search(
    index: Any, query: np.ndarray, k: int, mask: np.ndarray | None, nprobe: int
) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    selector = None
    if mask is not None:
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
    params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
    scores, rows = index.search(query[None, :], k, params=params)
    keep = rows[0] >= 0
    return rows[0][keep], scores[0][keep]
