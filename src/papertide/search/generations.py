"""The search indexes of one database as numbered generations: one writer, many readers.

    papertide.index/
      CURRENT          name of the published generation (replaced atomically)
      writer.lock      held (flock) by the one process updating the indexes
      gen-000007/      keyword/ (tantivy), vectors/, neighbors/

A writer takes the lock, clones the published generation into a new folder, brings the clone
up to date and publishes it by replacing CURRENT; a crash at any point leaves the published
generation untouched, and the next writer removes the half-built folder. Readers (web workers,
`search`, `similar`, the recommender) never write: they open the published generation and
switch to a newer one when CURRENT changes, so an index run during traffic never shows a
reader files that belong to different states (row ids of one generation, neighbour lists of
another), and a busy writer never blocks or fails a reader.

The previous generation is kept after a publish so a reader still on it finishes its request;
older ones are deleted (a reader holding memory-mapped files of one keeps them until it
switches: on Linux an unlinked file stays readable while open).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from papertide.search.keyword import KeywordIndex
from papertide.search.neighbors import NeighborLists
from papertide.search.vectors import VectorIndex

_GENERATION = re.compile(r"gen-(\d{6,})")
_PARTS = ("keyword", "vectors", "neighbors")


class IndexBusy(Exception):
    """Another process is updating the indexes right now."""


@dataclass
class Indexes:
    """One generation's indexes, read together (ids, vectors and lists of the same state)."""

    keyword: KeywordIndex
    vectors: VectorIndex
    neighbors: NeighborLists
    generation: str = ""

    @classmethod
    def at(cls, directory: Path, generation: str = "", read_only: bool = False) -> Indexes:
        return cls(
            KeywordIndex(directory / "keyword", read_only=read_only),
            VectorIndex(directory / "vectors"),
            NeighborLists(directory / "neighbors"),
            generation,
        )


class IndexStore:
    """The generations folder of one database's indexes."""

    def __init__(self, root: Path, check_seconds: float = 0.0) -> None:
        self.root = root
        self.check_seconds = check_seconds
        self._current: Indexes | None = None
        self._checked_at = float("-inf")
        self._switch = threading.Lock()

    # -- reading ---------------------------------------------------------------------------------

    def published(self) -> str | None:
        """The name of the published generation, or None before the first index run."""
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except OSError:
            return None
        return name if _GENERATION.fullmatch(name) else None

    def current(self) -> Indexes:
        """The published generation for reading (looked up again at most every check_seconds).
        Before any index run: empty indexes that find nothing."""
        now = time.monotonic()
        if self._current is not None and now - self._checked_at < self.check_seconds:
            return self._current
        name = self.published() or ""
        with self._switch:
            if self._current is None or self._current.generation != name:
                folder = self.root / name if name else self.root / "gen-none"
                self._current = Indexes.at(folder, name, read_only=True)
            self._checked_at = now
            return self._current

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def lock(self, wait: bool = True) -> Iterator[None]:
        """The writer lock, across processes; IndexBusy when WAIT is false and it is held."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "writer.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as exc:
                raise IndexBusy("another `papertide index` run is updating the indexes") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def new_generation(self, rebuild: bool = False) -> Iterator[Draft]:
        """A writable copy of the published generation (empty when REBUILD); published when
        the block ends without error and the draft was marked changed, discarded otherwise.
        The caller holds the lock."""
        published = self.published()
        self._remove_unpublished(keep=published)
        number = 1 + max((_number(p.name) for p in self._generations()), default=0)
        name = f"gen-{number:06d}"
        folder = self.root / name
        if not rebuild:
            source = self.root / published if published else self._legacy()
            if source is not None:
                _clone(source, folder)
        folder.mkdir(parents=True, exist_ok=True)
        draft = Draft(Indexes.at(folder, name))
        try:
            yield draft
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if not draft.changed and published is not None:
            shutil.rmtree(folder, ignore_errors=True)
            return
        _fsync_tree(folder)
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(name)
        os.replace(tmp, self.root / "CURRENT")  # the switch: readers see old or new, never half
        self._checked_at = float("-inf")  # this process reads what it just published
        self._remove_unpublished(keep=name, previous=published)
        for part in _PARTS:  # the layout before generations, now copied into one
            shutil.rmtree(self.root / part, ignore_errors=True)

    def _generations(self) -> list[Path]:
        if not self.root.exists():
            return []
        return [p for p in self.root.iterdir() if p.is_dir() and _GENERATION.fullmatch(p.name)]

    def _remove_unpublished(self, keep: str | None, previous: str | None = None) -> None:
        """Delete generations other than KEEP and PREVIOUS (left by a killed writer, or two
        publishes old)."""
        for folder in self._generations():
            if folder.name not in (keep, previous):
                shutil.rmtree(folder, ignore_errors=True)

    def _legacy(self) -> Path | None:
        """Indexes written before generations existed (keyword/ etc. directly in the root)."""
        return self.root if (self.root / "keyword").is_dir() else None


@dataclass
class Draft:
    indexes: Indexes
    changed: bool = False


def _number(name: str) -> int:
    match = _GENERATION.fullmatch(name)
    return int(match.group(1)) if match else 0


def _clone(source: Path, target: Path) -> None:
    """Copy the index files of SOURCE into TARGET. tantivy never changes a file it has
    written (segments are immutable, its meta files are replaced by rename), so its files are
    hard-linked; the vector and neighbour files are updated in place, so they are copied."""
    target.mkdir(parents=True)
    for part in _PARTS:
        origin = source / part
        if not origin.is_dir():
            continue
        if part == "keyword":
            (target / part).mkdir()
            for item in origin.iterdir():
                if item.is_file() and not item.name.endswith(".lock"):
                    _link_or_copy(item, target / part / item.name)
        else:
            shutil.copytree(origin, target / part)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _fsync_tree(folder: Path) -> None:
    """Make the new generation durable before CURRENT points at it."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
