"""Row-aligned files beside the vectors that a reader memory-maps instead of loading.

ids.json and a dict over it take seconds to load at millions of rows (measured 4.6 s at 2.6M:
the JSON and the dict), too long for a cold recommendation. These files answer the recommender's
questions without that: the time of every row (published, else first seen: the date a feed's
window is on), each row's id, and the ids sorted with their rows (an id's row by binary search).
Written by VectorIndex with its other columns (the one index writer), so they are published with
the generation they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np

EPOCH = datetime(1970, 1, 1)
NO_TIME = np.iinfo(np.int64).min
MICROS_PER_DAY = 86_400_000_000
SAMPLE_SIZE = 2000  # background papers of every user's classifier (rank/affinity.py)
FILES = ("when.npy", "id_bytes.npy", "id_sorted.npy", "id_order.npy", "sample.npy")


def micros(value: datetime | None) -> int:
    """VALUE as microseconds since 1970 (exact for every datetime), NO_TIME for None."""
    if value is None:
        return int(NO_TIME)
    delta = value.replace(tzinfo=None) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def write(folder: Path, ids: list[str], when: list[int]) -> None:
    encoded = np.array([i.encode() for i in ids] or [b""], dtype=np.bytes_)[: len(ids)]
    order = np.argsort(encoded, kind="stable").astype(np.int64)
    np.save(folder / "when.npy", np.asarray(when, dtype=np.int64))
    np.save(folder / "id_bytes.npy", encoded)
    np.save(folder / "id_sorted.npy", encoded[order])
    np.save(folder / "id_order.npy", order)


def sample_rows(count: int) -> np.ndarray:
    """The rows of the background sample: the same for every reader of one index state."""
    drawn = np.random.default_rng(0).choice(count, min(count, SAMPLE_SIZE), replace=False)
    return np.sort(drawn)


def write_sample(folder: Path, count: int, dim: int) -> None:
    """The sample's vectors in one small file: read from disk, 2,000 scattered rows of a
    multi-GB file cost seconds (measured 3.9 s at 2.6M), this file milliseconds."""
    if count == 0:  # an index of no vectors: numpy cannot map an empty file
        np.save(folder / "sample.npy", np.zeros((0, dim), dtype=np.float32))
        return
    matrix = np.memmap(folder / "vectors.f32", np.float32, "r", shape=(count, dim))
    np.save(folder / "sample.npy", np.asarray(matrix[sample_rows(count)]))


def present(folder: Path) -> bool:
    return all((folder / name).exists() for name in FILES)


class RowTable:
    """The vectors and row columns of one vector index, memory-mapped (nothing read up front)."""

    def __init__(self, folder: Path, count: int, dim: int) -> None:
        self.count = count
        self.matrix = np.memmap(folder / "vectors.f32", np.float32, "r", shape=(count, dim))
        self.when = np.load(folder / "when.npy", mmap_mode="r")
        self._ids = np.load(folder / "id_bytes.npy", mmap_mode="r")
        self._sorted = np.load(folder / "id_sorted.npy", mmap_mode="r")
        self._order = np.load(folder / "id_order.npy", mmap_mode="r")
        self.sample = np.load(folder / "sample.npy").astype(np.float32)  # of sample_rows

    def rows_of(self, ids: Iterable[str]) -> np.ndarray:
        """Row of each of IDS, -1 for an id not in the index."""
        wanted = [i.encode() for i in ids]
        if not wanted or not self.count:
            return np.full(len(wanted), -1, dtype=np.int64)
        width = self._sorted.dtype.itemsize
        # an id longer than every stored one is in no row (it would be cut to the width)
        queries = np.array(wanted, dtype=f"S{max(width, max(map(len, wanted)))}")
        at = np.minimum(np.searchsorted(self._sorted, queries), self.count - 1)
        found = self._sorted[at] == queries
        return np.where(found, self._order[at], -1).astype(np.int64)

    def ids_at(self, rows: Iterable[int]) -> list[str]:
        rows = np.asarray(list(rows), dtype=np.int64)
        return [i.decode() for i in self._ids[rows]] if len(rows) else []
