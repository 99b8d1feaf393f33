"""Saving batches of source records: identity resolution, merging, and the counts a run reports.

One batch is one transaction (the caller's `engine.begin()` block), so a crash leaves either the
whole batch or none of it, together with the checkpoint that says how far a job got.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from papertide.ingest import sources
from papertide.records import PaperRecord, merge_records
from papertide.store import author_rows, dialect
from papertide.store import bulk as bulk_rows
from papertide.store.prepared import MERGED_COLUMNS, Prepared
from papertide.store.schema import (
    embeddings,
    metadata,
    paper_authors,
    paper_keys,
    paper_sources,
    papers,
    submissions,
)

# Every column that refers to a paper (but embeddings', dropped on a rename): a paper given a
# better id takes its rows along, whichever table a feature added (votes, comments, claims...).
_REFERRING_COLUMNS = tuple(
    fk.parent
    for table in metadata.sorted_tables
    if table is not embeddings
    for fk in table.foreign_keys
    if fk.column is papers.c.id
)

# What the writer is given: records, or records prepared for the bulk route by their reader.
Incoming = PaperRecord | Prepared


@dataclass
class BatchResult:
    new: int = 0
    updated: int = 0
    duplicates: int = 0


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Cluster:
    """All records of one paper in this batch, plus what the store already had for it."""

    paper_id: str | None  # existing paper id, None for a paper new in this batch
    row: dict[str, Any] | None = None
    sources: dict[tuple[str, str], PaperRecord] = field(default_factory=dict)
    incoming: list[Incoming] = field(default_factory=list)

    def strong_ids(self) -> tuple[set[str], set[str]]:
        records = [*self.sources.values(), *self.incoming]
        return ({r.arxiv_id for r in records if r.arxiv_id}, {r.doi for r in records if r.doi})


def _conflicts(cluster: _Cluster, record: Incoming, key: str) -> bool:
    """Whether a match on KEY must be refused because stronger identifiers disagree.

    An arXiv id match is final. A DOI match is refused when the arXiv ids differ; a title match
    when the arXiv ids or the DOIs differ: same title, different identifiers, two papers.
    """
    kind = key.split(":", 1)[0]
    if kind == "arxiv":
        return False
    arxiv_ids, dois = cluster.strong_ids()
    if record.arxiv_id and arxiv_ids and record.arxiv_id not in arxiv_ids:
        return True
    return kind == "title" and bool(record.doi and dois and record.doi not in dois)


class _Resolver:
    """Maps incoming records to existing papers or to new ones, loading what it needs in bulk."""

    def __init__(self, conn: Connection, records: list[Incoming]) -> None:
        self.conn = conn
        self.limit = dialect.max_bind_params(conn.engine.name)
        all_keys = sorted({k for r in records for k in r.match_keys})
        # Keys looked up and not found are not stored: a new paper's own keys need no
        # conflict check when they are written.
        self.looked_up = set(all_keys)
        self.key_owner: dict[str, str] = {}
        for chunk in _chunks(all_keys, self.limit):
            rows = conn.execute(
                select(paper_keys.c.key, paper_keys.c.paper_id).where(paper_keys.c.key.in_(chunk))
            )
            self.key_owner.update({key: owner for key, owner in rows})
        source_refs = {(r.source, r.source_id) for r in records}
        self.source_owner = self._source_owners(source_refs)
        self.clusters: dict[str, _Cluster] = {}
        self._load_clusters({*self.key_owner.values(), *self.source_owner.values()})
        self.pending_key_owner: dict[str, _Cluster] = {}
        # Stable ids the batch may create, checked in bulk so new papers need no lookup each.
        self.checked_ids = {r.paper_id for r in records}
        self.existing_ids: set[str] = set()
        for chunk in _chunks(sorted(self.checked_ids), self.limit):
            rows = conn.execute(select(papers.c.id).where(papers.c.id.in_(chunk)))
            self.existing_ids.update(rows.scalars())

    def _source_owners(self, refs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        owners: dict[tuple[str, str], str] = {}
        by_source: dict[str, list[str]] = {}
        for source, source_id in refs:
            by_source.setdefault(source, []).append(source_id)
        for source, ids in by_source.items():
            for chunk in _chunks(sorted(ids), self.limit):
                rows = self.conn.execute(
                    select(paper_sources.c.source_id, paper_sources.c.paper_id).where(
                        paper_sources.c.source == source, paper_sources.c.source_id.in_(chunk)
                    )
                )
                owners.update({(source, sid): pid for sid, pid in rows})
        return owners

    def _load_clusters(self, paper_ids: set[str]) -> None:
        for chunk in _chunks(sorted(paper_ids), self.limit):
            for row in self.conn.execute(select(papers).where(papers.c.id.in_(chunk))).mappings():
                self.clusters[row["id"]] = _Cluster(paper_id=row["id"], row=dict(row))
            rows = self.conn.execute(
                select(paper_sources.c.paper_id, paper_sources.c.record).where(
                    paper_sources.c.paper_id.in_(chunk)
                )
            )
            for paper_id, stored in rows:
                record = PaperRecord.model_validate(stored)
                self.clusters[paper_id].sources[(record.source, record.source_id)] = record

    def cluster_for(self, record: Incoming) -> tuple[_Cluster, bool]:
        """The cluster this record joins, and whether that cluster was created for it."""
        owner = self.source_owner.get((record.source, record.source_id))
        if owner in self.clusters:
            return self.clusters[owner], False
        for key in record.match_keys:
            cluster = self.pending_key_owner.get(key)
            if cluster is None and key in self.key_owner:
                cluster = self.clusters.get(self.key_owner[key])
            if cluster is not None and not _conflicts(cluster, record, key):
                return cluster, False
        return _Cluster(paper_id=None), True

    def claim_keys(self, cluster: _Cluster, record: Incoming) -> None:
        for key in record.match_keys:
            if key not in self.key_owner and key not in self.pending_key_owner:
                self.pending_key_owner[key] = cluster


def save_batch(
    conn: Connection,
    records: list[Incoming],
    bulk: bool = False,
    run_started: datetime | None = None,
) -> BatchResult:
    """Merge RECORDS into the store inside the caller's transaction. BULK writes new rows by
    the driver's fast route (store/bulk.py: the same values, for large imports). A paper first
    seen at or after RUN_STARTED was created by the same run (an import of several batches or
    files): a change to it counts as a duplicate, since the run counted it as new already. (So
    does a paper another process stored meanwhile, and a clock set back would miscount: only the
    counts depend on it, never what is stored.)

    Another writer (an import beside a scheduled sync, another app instance) may store one of
    the batch's papers between the batch's reads and its writes; the batch then fails on a
    unique key. Where the dialect allows, it is rolled back to its savepoint and done again: it
    then reads that paper and merges into it."""
    retries = dialect.conflict_retries(conn.engine.name)
    for attempt in range(retries + 1):
        try:
            with conn.begin_nested() if retries else nullcontext():
                return _merge_batch(conn, records, bulk, run_started)
        except IntegrityError:
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


def _merge_batch(
    conn: Connection, records: list[Incoming], bulk: bool, run_started: datetime | None
) -> BatchResult:
    result = BatchResult()
    if not records:
        return result
    now = utcnow()
    resolver = _Resolver(conn, records)
    touched: list[_Cluster] = []
    statuses: list[tuple[_Cluster, bool]] = []
    for record in records:
        cluster, created = resolver.cluster_for(record)
        if not cluster.incoming:  # first record of this cluster in the batch
            touched.append(cluster)
        cluster.incoming.append(record)
        resolver.claim_keys(cluster, record)
        statuses.append((cluster, created))

    writer = _Writes(conn, now, bulk)
    changed_clusters = set()
    for cluster in touched:
        if writer.apply(cluster, resolver):
            changed_clusters.add(id(cluster))
    for cluster, created in statuses:
        if created:
            result.new += 1
        elif id(cluster) in changed_clusters and not _created_since(cluster, run_started):
            result.updated += 1
            changed_clusters.discard(id(cluster))  # count a paper once, extra records duplicate
        else:
            result.duplicates += 1
    writer.flush()
    return result


def _created_since(cluster: _Cluster, run_started: datetime | None) -> bool:
    """Whether CLUSTER is a paper stored at or after RUN_STARTED (or new in this batch)."""
    if cluster.row is None:
        return True
    return run_started is not None and cluster.row["first_seen_at"] >= run_started


# Per table of prepared rows: the columns _apply_prepared gives, the columns the batch adds,
# and their values at the batch's time.
_COMPLETED_BY_BATCH: dict[str, tuple[tuple[str, ...], tuple[str, ...], Callable[..., tuple]]] = {
    "papers": (
        ("id", *MERGED_COLUMNS),
        ("hidden", "first_seen_at", "modified_at"),
        lambda now: (False, now, now),
    ),
    "paper_sources": (
        ("paper_id", "source", "source_id", "record"),
        ("first_seen_at", "last_seen_at"),
        lambda now: (now, now),
    ),
}


_AUTHOR_ROW = ("paper_id", *author_rows.COLUMNS)


class _Writes:
    """Collects inserts and updates so each kind is one executemany per batch."""

    def __init__(self, conn: Connection, now: datetime, bulk: bool = False) -> None:
        self.conn = conn
        self.now = now
        self.bulk = bulk
        self.engine_name = conn.engine.name
        self.new_papers: list[dict[str, Any]] = []
        self.changed_papers: list[dict[str, Any]] = []
        self.new_keys: list[dict[str, Any]] = []  # may be stored already: conflicts ignored
        self.unstored_keys: list[tuple[str, str]] = []  # (key, paper id), looked up, not found
        self.new_sources: list[dict[str, Any]] = []
        # rows of new papers from records prepared by their reader (store/prepared.py)
        self.prepared_papers: list[tuple[Any, ...]] = []
        self.prepared_sources: list[tuple[Any, ...]] = []
        self.seen_sources: list[dict[str, Any]] = []
        # sources' own daily-list submissions (Hugging Face's): the first one of a paper stays
        self.upstream_submissions: list[dict[str, Any]] = []
        self.new_authors: list[dict[str, Any]] = []  # paper_authors rows
        self.prepared_authors: list[tuple[Any, ...]] = []  # (paper id, *author_values)
        self.stale_authors: list[str] = []  # papers whose author rows are written again

    def apply(self, cluster: _Cluster, resolver: _Resolver) -> bool:
        """Queue the writes for one cluster; True when the paper is new or its fields changed."""
        if self.bulk and cluster.row is None and _one_prepared_record(cluster.incoming):
            return self._apply_prepared(cluster, cluster.incoming[-1], resolver)
        fresh: dict[tuple[str, str], PaperRecord] = {}
        for record in cluster.incoming:
            fresh[(record.source, record.source_id)] = (
                record.record() if isinstance(record, Prepared) else record
            )
        all_sources = {**cluster.sources, **fresh}
        merged = merge_records(list(all_sources.values()), sources.priority)
        stable_id = merged.pop("id")
        values = {name: merged[name] for name in MERGED_COLUMNS}

        if cluster.row is None:
            cluster.paper_id = self._free_id(stable_id, resolver)
            resolver.existing_ids.add(cluster.paper_id)
            self.new_papers.append(
                {
                    "id": cluster.paper_id,
                    **values,
                    "hidden": False,
                    "first_seen_at": self.now,
                    "modified_at": self.now,
                }
            )
            self.new_authors += author_rows.rows_for(cluster.paper_id, values["authors"])
            changed = True
        else:
            renamed = stable_id != cluster.paper_id and not self._exists(stable_id, resolver)
            if renamed:
                self._rename(cluster, stable_id, resolver)
            old = {name: cluster.row[name] for name in MERGED_COLUMNS}
            changed = renamed or old != values
            if changed:
                self.changed_papers.append(
                    {"_id": cluster.paper_id, **values, "modified_at": self.now}
                )
            if old["authors"] != values["authors"]:
                self.stale_authors.append(cluster.paper_id)
                self.new_authors += author_rows.rows_for(cluster.paper_id, values["authors"])

        assert cluster.paper_id is not None
        for key in {k for r in all_sources.values() for k in r.match_keys}:
            owner = resolver.key_owner.get(key)
            if owner is None:
                resolver.key_owner[key] = cluster.paper_id
                if self.bulk and key in resolver.looked_up:
                    self.unstored_keys.append((key, cluster.paper_id))
                else:
                    self.new_keys.append({"key": key, "paper_id": cluster.paper_id})
        for ref, record in fresh.items():
            if record.submitted_by:
                self.upstream_submissions.append(
                    {
                        "paper_id": cluster.paper_id,
                        "origin": record.source,
                        "submitter": record.submitted_by,
                        "submitter_fullname": record.submitted_by_fullname,
                        "submitted_at": record.submitted_at or self.now,
                    }
                )
            stored = record.model_dump(mode="json")
            previous = cluster.sources.get(ref)
            if previous is None:
                self.new_sources.append(
                    {
                        "paper_id": cluster.paper_id,
                        "source": ref[0],
                        "source_id": ref[1],
                        "first_seen_at": self.now,
                        "last_seen_at": self.now,
                        "record": stored,
                    }
                )
            else:
                self.seen_sources.append(
                    {
                        "_source": ref[0],
                        "_source_id": ref[1],
                        "last_seen_at": self.now,
                        "record": stored,
                    }
                )
        return changed

    def _apply_prepared(self, cluster: _Cluster, record: Prepared, resolver: _Resolver) -> bool:
        """apply() for a new paper of one record, from the rows its reader prepared."""
        cluster.paper_id = self._free_id(record.paper_id, resolver)
        resolver.existing_ids.add(cluster.paper_id)
        self.prepared_papers.append((cluster.paper_id, *record.values))
        for key in record.match_keys:
            if key not in resolver.key_owner:
                resolver.key_owner[key] = cluster.paper_id
                if key in resolver.looked_up:
                    self.unstored_keys.append((key, cluster.paper_id))
                else:
                    self.new_keys.append({"key": key, "paper_id": cluster.paper_id})
        self.prepared_sources.append(
            (cluster.paper_id, record.source, record.source_id, record.stored)
        )
        self.prepared_authors += [(cluster.paper_id, *values) for values in record.authors]
        return True

    def _free_id(self, wanted: str, resolver: _Resolver) -> str:
        candidate, n = wanted, 1
        while self._exists(candidate, resolver):
            n += 1
            candidate = f"{wanted}~{n}"
        return candidate

    def _exists(self, paper_id: str, resolver: _Resolver) -> bool:
        if paper_id in resolver.existing_ids:
            return True
        if paper_id in resolver.checked_ids:
            return False
        found = self.conn.execute(select(papers.c.id).where(papers.c.id == paper_id)).first()
        return found is not None

    def _rename(self, cluster: _Cluster, new_id: str, resolver: _Resolver) -> None:
        """Give a paper its better stable id; the old id stays resolvable as an alias."""
        old_id = cluster.paper_id
        self.flush()
        row = self.conn.execute(select(papers).where(papers.c.id == old_id)).mappings().one()
        self.conn.execute(papers.insert(), [{**row, "id": new_id}])
        for column in _REFERRING_COLUMNS:
            self.conn.execute(
                update(column.table).where(column == old_id).values({column.name: new_id})
            )
        # Dropped, not moved: the paper is embedded again under its new id, which is what the
        # incremental vector index picks up (it follows embeddings by write time).
        self.conn.execute(delete(embeddings).where(embeddings.c.paper_id == old_id))
        self.conn.execute(delete(papers).where(papers.c.id == old_id))
        self.new_keys.append({"key": f"id:{old_id}", "paper_id": new_id})
        resolver.existing_ids.add(new_id)
        cluster.paper_id = new_id

    def flush(self) -> None:
        conn = self.conn
        insert = bulk_rows.insert_rows if self.bulk else _core_insert
        insert(conn, papers, self.new_papers)
        self._insert_prepared(papers, self.prepared_papers)
        if self.changed_papers:
            conn.execute(
                update(papers).where(papers.c.id == bindparam("_id")),
                self.changed_papers,
            )
        # the author-name table follows the papers' author lists (store/author_rows.py)
        author_rows.forget(conn, self.stale_authors)
        insert(conn, paper_authors, self.new_authors)
        # text and integers, which no driver converts: the rows go as they are
        bulk_rows.insert_values(conn, paper_authors, _AUTHOR_ROW, self.prepared_authors)
        bulk_rows.insert_values(conn, paper_keys, ("key", "paper_id"), self.unstored_keys)
        if self.new_keys:
            conn.execute(
                dialect.insert_ignoring_conflicts(paper_keys, self.engine_name), self.new_keys
            )
        insert(conn, paper_sources, self.new_sources)
        self._insert_prepared(paper_sources, self.prepared_sources)
        if self.seen_sources:
            conn.execute(
                update(paper_sources).where(
                    paper_sources.c.source == bindparam("_source"),
                    paper_sources.c.source_id == bindparam("_source_id"),
                ),
                self.seen_sources,
            )
        if self.upstream_submissions:
            conn.execute(
                dialect.insert_ignoring_conflicts(submissions, self.engine_name),
                self.upstream_submissions,
            )
        for pending in (
            self.upstream_submissions,
            self.new_papers,
            self.changed_papers,
            self.new_keys,
            self.unstored_keys,
            self.new_sources,
            self.prepared_papers,
            self.prepared_sources,
            self.seen_sources,
            self.new_authors,
            self.prepared_authors,
            self.stale_authors,
        ):
            pending.clear()


    def _insert_prepared(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """ROWS of TABLE from prepared records (their columns first), completed with what the
        batch decides: its time, and a new paper's not being hidden."""
        if not rows:
            return
        prepared, decided, values = _COMPLETED_BY_BATCH[table.name]
        extra = bulk_rows.converter(table, decided, self.conn.dialect)(values(self.now))
        rows = [(*row, *extra) for row in rows]
        bulk_rows.insert_values(self.conn, table, prepared + decided, rows)


def _one_prepared_record(incoming: list[Incoming]) -> bool:
    """Whether INCOMING is one source's prepared record, perhaps repeated (the last wins)."""
    first = incoming[0]
    if len(incoming) == 1:
        return isinstance(first, Prepared)
    return all(isinstance(r, Prepared) and r[:2] == first[:2] for r in incoming)


def _core_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)
