"""Running an ingest job: batches into transactions, checkpoints, counts and rejects."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from papertide.ingest import sources
from papertide.ingest.allocation import fewer_collections
from papertide.ingest.base import Item, looks_binary
from papertide.ingest.compressed import Input, content_name, open_input
from papertide.ingest.formats import detect
from papertide.ingest.pipeline import ProcessReader
from papertide.records import Notice, PaperRecord, Reject
from papertide.store import dialect, jobs, writer
from papertide.store.prepared import Prepared
from papertide.store.writer import BatchResult, save_batch

BATCH_SIZE = 2000
WHOLE_BATCH_RETRIES = 3  # a batch that lost a race with another import (see _store_batch)
# Bulk batches are larger: fewer commits and lookups per record (bench/ingest.py).
BULK_BATCH_SIZE = 10_000
# A bulk import of a file this large parses it in a second process; a smaller one is done
# before that process would have started (about a second: it imports papertide).
READ_IN_PROCESS_BYTES = 32 << 20
BINARY_SAMPLE = 8192
# A garbage file can yield millions of rejects; the count stays exact, the list is capped.
MAX_LISTED_REJECTS = 10_000

Batch = tuple[list[Item], dict[str, Any]]


@dataclass
class ImportSummary:
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    rejected: list[Reject] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    resumed_jobs: int = 0
    # Papers first seen from now on are this run's own (new, not updated; store/writer.py).
    started_at: datetime = field(default_factory=lambda: writer.utcnow(), repr=False)

    @property
    def accepted(self) -> int:
        return self.new + self.updated + self.duplicates

    def reject(self, item: Reject) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_LISTED_REJECTS:
            self.rejected.append(item)

    def add(self, batch: BatchResult) -> None:
        self.new += batch.new
        self.updated += batch.updated
        self.duplicates += batch.duplicates

    def as_json(self) -> dict[str, Any]:
        """The documented `--json` shape of import and sync (see README)."""
        return {
            "new": self.new,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "rejected_count": self.rejected_count,
            "rejected": [r.model_dump() for r in self.rejected],
            "warnings": [w.model_dump() for w in self.warnings],
            "resumed_jobs": self.resumed_jobs,
        }


def run_batches(
    engine: Engine,
    job: str,
    batches: Iterable[Batch],
    summary: ImportSummary,
    on_batch: Callable[[ImportSummary], None] | None = None,
    bulk: bool = False,
) -> None:
    """Store each batch in one transaction together with its checkpoint; clear it when done.
    BULK writes new papers by the driver's fast route (the same rows; see store/bulk.py)."""
    with engine.begin() as conn:
        run_id = jobs.start_run(conn, job)
    before = (summary.new, summary.updated, summary.duplicates, summary.rejected_count)
    for items, state in batches:
        records: list[PaperRecord | Prepared] = []
        for item in items:
            if isinstance(item, Reject):
                summary.reject(item)
            elif isinstance(item, Notice):
                summary.warnings.append(item)
            else:
                records.append(item)
                summary.warnings.extend(
                    Notice(where=item.source_id, reason=w) for w in item.warnings
                )
        summary.add(_store_batch(engine, job, records, state, bulk, summary.started_at))
        if on_batch:
            on_batch(summary)
    with engine.begin() as conn:
        jobs.clear_checkpoint(conn, job)
        after = (summary.new, summary.updated, summary.duplicates, summary.rejected_count)
        new, updated, duplicates, rejected = (a - b for a, b in zip(after, before, strict=True))
        jobs.finish_run(
            conn, run_id, new=new, updated=updated, duplicates=duplicates, rejected=rejected
        )


def _store_batch(
    engine: Engine,
    job: str,
    records: list[PaperRecord | Prepared],
    state: dict[str, Any],
    bulk: bool,
    run_started: datetime,
) -> BatchResult:
    """RECORDS and the checkpoint STATE in one transaction. Another import may store some of
    the same papers between this batch's reads and its writes: on SQLite the reads come before
    the transaction (the driver begins it at the first write), so the batch then fails on a
    unique key, and is done again in a new transaction, which reads and merges into them."""
    for attempt in range(WHOLE_BATCH_RETRIES + 1):
        try:
            with engine.begin() as conn:
                result = save_batch(conn, records, bulk, run_started)
                jobs.save_checkpoint(conn, job, state)
            return result
        except IntegrityError:
            if attempt == WHOLE_BATCH_RETRIES:
                raise
    raise AssertionError("unreachable")


def file_job(path: Path, fmt: str) -> str:
    """A job name that changes when the file does, so a checkpoint never applies to new content."""
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
    size = path.stat().st_size
    # A file name need not be UTF-8 (Python keeps its bad bytes as lone surrogates, which the
    # database refuses): the name is written with those bytes escaped.
    location = os.fsencode(path.resolve()).decode("utf-8", "backslashreplace")
    return f"import:{fmt}:{location}:{size}:{digest.hexdigest()[:16]}"


def _file_batches(
    items: Iterator[Item],
    skip: int,
    on_item: Callable[[], None] | None,
    summary: ImportSummary,
    size: int = BATCH_SIZE,
) -> Iterator[Batch]:
    """Group items into batches; the first SKIP items were stored by an interrupted run."""
    batch: list[Item] = []
    done = 0
    for item in items:
        done += 1
        if on_item:
            on_item()
        if done <= skip:
            if isinstance(item, Reject):
                summary.reject(item)  # stored runs report their rejects again, records are not
            elif isinstance(item, Notice):
                summary.warnings.append(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch, {"done": done}
            batch = []
    if batch:
        yield batch, {"done": done}


def guarded(items: Iterator[Item], origin: str) -> Iterator[Item]:
    """ITEMS, ended by one Reject if the reader fails: what it yielded before is kept, and a
    reader's bug on some input is reported like bad input instead of a traceback."""
    try:
        yield from items
    except Exception as exc:  # any reader failure ends that file, not the import
        yield Reject(where=origin, reason=f"unreadable from here on: {type(exc).__name__}: {exc}")


def detected_format(path: Path) -> str:
    """The format of PATH's content, read from its own handle (a decompressing stream cannot
    go back to its start)."""
    with open_input(path).content as probe:
        return detect(probe, content_name(path.name))


def unreadable(path: Path, handle: BinaryIO) -> Reject | None:
    """Why the open file at PATH is not worth handing to a reader, or None if it is."""
    if path.stat().st_size == 0:
        return Reject(where=str(path), reason="empty file")
    if looks_binary(handle.peek(BINARY_SAMPLE)[:BINARY_SAMPLE]):
        return Reject(where=str(path), reason="binary file, not text")
    return None


def import_file(
    engine: Engine,
    path: Path,
    fmt: str = "auto",
    summary: ImportSummary | None = None,
    on_progress: Callable[[int], None] | None = None,
    bulk: bool = True,
) -> ImportSummary:
    """Import one file; resumes from the checkpoint an interrupted import of it left. FMT is
    "auto" or the name (or alias) of a source with a reader. BULK (the default) reads and
    stores by the fast routes, whose stored papers are the same as the plain ones'."""
    summary = summary or ImportSummary()
    try:
        opened = open_input(path)
    except OSError as exc:
        summary.reject(Reject(where=str(path), reason=f"cannot open: {exc.strerror or exc}"))
        return summary
    raw, handle = opened.file, opened.content
    with handle:
        refused = unreadable(path, handle)
        if refused:
            summary.reject(refused)
            return summary
        # An alias names the same job as its source, so either resumes the other's import.
        fmt = detected_format(path) if fmt == "auto" else sources.get(fmt).name
        job = file_job(path, fmt)
        with engine.connect() as conn:
            state = jobs.load_checkpoint(conn, job) or {}
        skip = int(state.get("done", 0))
        summary.resumed_jobs += 1 if skip else 0
        size = path.stat().st_size

        if bulk and size >= READ_IN_PROCESS_BYTES and _built_in(fmt):
            # the same items, parsed on the other core (ingest/pipeline.py)
            beside = ProcessReader(path, fmt, engine.dialect.name)
            items: Generator[Item, None, None] = iter(beside)

            def tick() -> None:
                if on_progress:
                    on_progress(beside.position)
        else:
            items = _reporting_damage(
                guarded(sources.reader(fmt)(handle, str(path)), str(path)), opened, path
            )

            def tick() -> None:
                # A reader's text wrapper closes the handle when it is done with it. Progress
                # is in the file's bytes, compressed or not.
                if on_progress:
                    on_progress(size if raw.closed else raw.tell())

        # closing: a reader stopped by an error or Ctrl-C cleans up now (a reader process and
        # its pipe), not when the garbage collector finds it, possibly at interpreter exit
        with (
            fewer_collections() if bulk else nullcontext(),
            dialect.bulk_writing(engine) if bulk else nullcontext(),
            closing(items),
        ):
            run_batches(
                engine,
                job,
                _file_batches(
                    items,
                    skip,
                    tick,
                    summary,
                    BULK_BATCH_SIZE if bulk else BATCH_SIZE,
                ),
                summary,
                bulk=bulk,
            )
    return summary


def _built_in(fmt: str) -> bool:
    """Whether FMT's reader is one a fresh process has: one registered at run time (a plugin,
    a test) is read in this process."""
    from papertide.ingest import builtin  # loaded by the registry's first lookup already

    return fmt in {source.name for source in builtin.SOURCES}


class FileItems:
    """The items FMT's reader makes of PATH (as import_file reads them), and `position()`: how
    many bytes of the file were read by then (what a reader process sends back; asked once
    per chunk, as telling the position costs a system call)."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.opened: Input | None = None

    def __iter__(self) -> Iterator[Item]:
        path = self.path
        try:
            self.opened = opened = open_input(path)
        except OSError as exc:
            yield Reject(where=str(path), reason=f"cannot open: {exc.strerror or exc}")
            return
        with opened.content as handle:
            items = guarded(sources.reader(self.fmt)(handle, str(path)), str(path))
            yield from _reporting_damage(items, opened, path)

    def position(self) -> int:
        if self.opened is None:
            return 0
        if self.opened.file.closed:
            return self.path.stat().st_size
        return self.opened.file.tell()


def _reporting_damage(
    items: Iterator[Item], opened: Input, path: Path
) -> Generator[Item, None, None]:
    """ITEMS, then a Reject if the compressed file ended in damage (the records before it are
    kept; the reader saw the damage as the end of the file)."""
    yield from items
    if opened.damage:
        yield Reject(
            where=str(path), reason=f"damaged compressed data, read up to it: {opened.damage}"
        )
