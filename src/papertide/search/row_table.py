"""Row-aligned files beside the vectors that a reader memory-maps instead of loading.

ids.json and a dict over it take seconds to load at millions of rows (measured 4.6 s at 2.6M:
the JSON and the dict), too long for a cold recommendation. These files answer the recommender's
questions without that: the time of every row (published, else first seen: the date a feed's
window is on), each row's id, and the ids sorted with their rows (an id's row by binary search).
Written by VectorIndex with its other columns (the one index writer), so they are published with
the generation they belong to.

Beside the float32 vectors, an int8 copy (a quarter of the bytes: 1 GB at 2.6M x 384, where the
float32 file is 4 GB) for the recommender's pass over every row: row r is about SCALE[r] x
CODES[r], and ROOM[r] is the most that is off, as a length (rounding of the products included):
for any weights w, w . vector <= SCALE[r] x (w . CODES[r]) + |w| x ROOM[r] (Cauchy-Schwarz), so
a bound computed from the copy is still a true upper bound (RowTable.linear_bound).
"""

from __future__ import annotations

import mmap
import os
import weakref
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from papertide.search.background import Background

EPOCH = datetime(1970, 1, 1)
NO_TIME = np.iinfo(np.int64).min
MICROS_PER_DAY = 86_400_000_000
SAMPLE_SIZE = 2000  # background papers of every user's classifier (rank/affinity.py)
FILES = (
    "when.npy",
    "id_bytes.npy",
    "id_sorted.npy",
    "id_order.npy",
    "background.npz",
    "vectors.i8",
    "i8_scale.npy",
    "i8_room.npy",
)
CODE_BLOCK = 4096  # rows of one block of the int8 copy (Codes)
CODE_CHUNK = 49_152  # rows quantized at a time: 150 MB of float64 working memory at 384-d


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
    """The background sample's rows and what every user's classifier needs of it (Background:
    its normal-equation terms, decomposed) in one small file. A reader once gathered the rows
    (2,000 scattered rows of a multi-GB file: 3.9 s from disk at 2.6M) and decomposed them
    (0.07 s, 0.4-0.7 s when BLAS's threads compete with another process for the cores)."""
    rows = sample_rows(count)
    terms: dict[str, Any] = {}
    if count:  # an index of no vectors has no sample (and numpy cannot map an empty file)
        matrix = np.memmap(folder / "vectors.f32", np.float32, "r", shape=(count, dim))
        terms = asdict(Background.of(np.asarray(matrix[rows])))
    with (folder / "background.npz").open("wb") as out:
        np.savez(out, rows=rows, **terms)


def write_codes(folder: Path, count: int, dim: int, changed: Iterable[int] | None = None) -> None:
    """The int8 copy of vectors.f32 (Codes): of every row, or only of the rows CHANGED since it
    was last written (rows past its end are added)."""
    path = folder / "vectors.i8"
    if changed is None:
        rows = np.arange(count)
        scales, room = np.zeros(count, np.float32), np.zeros(count, np.float32)
        path.write_bytes(b"")
    else:
        rows = np.unique(np.fromiter(changed, dtype=np.int64))
        scales = _resized(np.load(folder / "i8_scale.npy"), count)
        room = _resized(np.load(folder / "i8_room.npy"), count)
    blocks = -(-count // CODE_BLOCK)
    os.truncate(path, blocks * dim * CODE_BLOCK)
    if len(rows):
        vectors = np.memmap(folder / "vectors.f32", np.float32, "r", shape=(count, dim))
        codes = np.memmap(path, np.int8, "r+", shape=(blocks, dim, CODE_BLOCK))
        # both products (of the codes, of the float32 vectors) are float32 sums of DIM terms:
        # each is off by at most DIM x 2^-24 (relative, to first order) of |w| x |vector|
        rounding = 2.0 * dim * 2.0**-24 / (1 - dim * 2.0**-24)
        for start in range(0, len(rows), CODE_CHUNK):
            part = rows[start : start + CODE_CHUNK]
            block = np.asarray(vectors[part])
            scale = np.maximum(block.max(axis=1), -block.min(axis=1)) / np.float32(127)
            quantized = np.clip(np.rint(block / np.where(scale > 0, scale, 1)[:, None]), -127, 127)
            # the error of the codes as they are, in float64 (the scale is any float32 number)
            exact = block.astype(np.float64)
            residual = exact - scale[:, None].astype(np.float64) * quantized
            error = np.sqrt(np.einsum("ij,ij->i", residual, residual))
            length = np.sqrt(np.einsum("ij,ij->i", exact, exact))
            margin = error + rounding * (length + error)
            codes[part // CODE_BLOCK, :, part % CODE_BLOCK] = quantized.astype(np.int8)
            scales[part] = scale
            room[part] = np.nextafter(margin.astype(np.float32), np.float32(np.inf))  # rounded up
        codes.flush()
        del codes
    np.save(folder / "i8_scale.npy", scales)
    np.save(folder / "i8_room.npy", room)


def _resized(values: np.ndarray, count: int) -> np.ndarray:
    grown = np.zeros(count, dtype=values.dtype)
    grown[: min(count, len(values))] = values[:count]
    return grown


class Codes:
    """The int8 copy of the vectors in blocks of CODE_BLOCK rows, each stored dimension by
    dimension: a product with weights then runs along contiguous rows, which numpy does 1.8x
    faster than row by row (measured at 2.6M x 384, no float32 copy of the codes made)."""

    def __init__(self, path: Path, count: int, dim: int) -> None:
        shape = (-(-count // CODE_BLOCK), dim, CODE_BLOCK)
        self.blocks = _mapped(path, np.int8, shape, mmap.MADV_SEQUENTIAL)  # read whole, in order

    def dots(self, weights: np.ndarray, first: int, last: int) -> np.ndarray:
        """WEIGHTS (float32) . codes of rows FIRST..LAST-1, summed in float32."""
        low, high = first // CODE_BLOCK, -(-last // CODE_BLOCK)
        products = np.einsum(
            "kji,j->ki", self.blocks[low:high], weights, dtype=np.float32, casting="unsafe"
        )
        return products.ravel()[first - low * CODE_BLOCK : last - low * CODE_BLOCK]

    def dots_at(self, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """WEIGHTS . codes of ROWS (any order), summed in float32."""
        gathered = self.blocks[rows // CODE_BLOCK, :, rows % CODE_BLOCK]
        return np.einsum("ij,j->i", gathered, weights, dtype=np.float32, casting="unsafe")


def present(folder: Path) -> bool:
    return all((folder / name).exists() for name in FILES)


class RowTable:
    """The vectors and row columns of one vector index, memory-mapped (nothing read up front)."""

    def __init__(self, folder: Path, count: int, dim: int) -> None:
        self.count = count
        self.dim = dim
        self.matrix = np.memmap(folder / "vectors.f32", np.float32, "r", shape=(count, dim))
        # scattered rows are read through their own descriptor, told not to read ahead
        self._file = os.open(folder / "vectors.f32", os.O_RDONLY)
        os.posix_fadvise(self._file, 0, 0, os.POSIX_FADV_RANDOM)
        weakref.finalize(self, os.close, self._file)
        self.codes = Codes(folder / "vectors.i8", count, dim)
        self.scales = np.load(folder / "i8_scale.npy", mmap_mode="r")
        self.room = np.load(folder / "i8_room.npy", mmap_mode="r")
        self.when = np.load(folder / "when.npy", mmap_mode="r")
        self._ids = np.load(folder / "id_bytes.npy", mmap_mode="r")
        self._sorted = np.load(folder / "id_sorted.npy", mmap_mode="r")
        self._order = np.load(folder / "id_order.npy", mmap_mode="r")
        with np.load(folder / "background.npz") as saved:
            self.sample_rows = saved["rows"]
            fields = {name: saved[name] for name in ("gram", "mean", "eigenvalues", "eigenvectors")}
            self.background = Background(count=int(saved["count"]), **fields)

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

    def vectors_at(self, rows: np.ndarray | list[int]) -> np.ndarray:
        """The float32 vectors of ROWS, read one by one: from disk, faulting them in through
        the map reads 128 kB around each 1.5 kB row (a cold whole-corpus recommendation at
        2.6M, a few hundred rows scored in full, measured 3.2 s that way, 1.6 s this way)."""
        found = np.empty((len(rows), self.dim), dtype=np.float32)
        size = self.dim * 4
        for at, row in enumerate(np.asarray(rows, dtype=np.int64).tolist()):
            os.preadv(self._file, [memoryview(found[at])], row * size)
        return found

    def linear_bound(self, weights: np.ndarray, rows: np.ndarray, span: bool) -> np.ndarray:
        """At least vector . WEIGHTS[:-1] + WEIGHTS[-1] (float32, as the float32 vectors give it)
        for each of ROWS (ascending), from the int8 copy; SPAN: compute over the whole range
        ROWS spans, cheaper than gathering them when they are most of it."""
        first, last = int(rows[0]), int(rows[-1]) + 1
        if span:
            dots = self.codes.dots(weights[:-1], first, last)[rows - first]
        else:
            dots = self.codes.dots_at(weights[:-1], rows)
        length = float(np.linalg.norm(weights[:-1].astype(np.float64)))
        return dots * self.scales[rows].astype(np.float64) + length * self.room[rows] + weights[-1]

    def ids_at(self, rows: Iterable[int]) -> list[str]:
        rows = np.asarray(list(rows), dtype=np.int64)
        return [i.decode() for i in self._ids[rows]] if len(rows) else []


def _mapped(path: Path, dtype: type, shape: tuple[int, int], advice: int) -> np.ndarray:
    """PATH memory-mapped read-only as an array of SHAPE, with the kernel told how it is read."""
    with path.open("rb") as handle:
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    mapping.madvise(advice)
    return np.ndarray(shape, dtype, buffer=mapping)
