"""Saving batches of source records: identity resolution, merging, and the counts a run reports.

One batch is one transaction (the caller's `engine.begin()` block), so a crash leaves either the
whole batch or none of it, together with the checkpoint that says how far a job got.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from papertide.ingest import sources
from papertide.records import PaperRecord, merge_records
from papertide.store import bulk as bulk_rows
from papertide.store import dialect
from papertide.store.schema import (
    collection_papers,
    embeddings,
    library,
    paper_keys,
    paper_sources,
    paper_topics,
    papers,
    seen,
    upvotes,
)

# Stored paper columns that merging decides; a change in any of them makes the paper "updated".
MERGED_COLUMNS = (
    "title",
    "title_key",
    "abstract",
    "authors",
    "published_at",
    "updated_at",
    "categories",
    "arxiv_id",
    "doi",
    "abs_url",
    "pdf_url",
    "code_urls",
    "project_url",
    "upstream_upvotes",
    "github_stars",
    "keywords",
    "content_hash",
)


@dataclass
class BatchResult:
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    # The papers this batch created, and (id before, id after) of the known ones it changed:
    # an import of several batches or files tells its own new papers from earlier ones.
    created_ids: list[str] = field(default_factory=list)
    changed_ids: list[tuple[str, str]] = field(default_factory=list)


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
    incoming: list[PaperRecord] = field(default_factory=list)

    def strong_ids(self) -> tuple[set[str], set[str]]:
        records = [*self.sources.values(), *self.incoming]
        return ({r.arxiv_id for r in records if r.arxiv_id}, {r.doi for r in records if r.doi})


def _conflicts(cluster: _Cluster, record: PaperRecord, key: str) -> bool:
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

    def __init__(self, conn: Connection, records: list[PaperRecord]) -> None:
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

    def cluster_for(self, record: PaperRecord) -> tuple[_Cluster, bool]:
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

    def claim_keys(self, cluster: _Cluster, record: PaperRecord) -> None:
        for key in record.match_keys:
            if key not in self.key_owner and key not in self.pending_key_owner:
                self.pending_key_owner[key] = cluster


def save_batch(conn: Connection, records: list[PaperRecord], bulk: bool = False) -> BatchResult:
    """Merge RECORDS into the store inside the caller's transaction. BULK writes new rows by
    the driver's fast route (store/bulk.py: the same values, for large imports).

    Another writer (an import beside a scheduled sync, another app instance) may store one of
    the batch's papers between the batch's reads and its writes; the batch then fails on a
    unique key. Where the dialect allows, it is rolled back to its savepoint and done again: it
    then reads that paper and merges into it."""
    retries = dialect.conflict_retries(conn.engine.name)
    for attempt in range(retries + 1):
        try:
            with conn.begin_nested() if retries else nullcontext():
                return _merge_batch(conn, records, bulk)
        except IntegrityError:
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


def _merge_batch(conn: Connection, records: list[PaperRecord], bulk: bool) -> BatchResult:
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
            result.created_ids.append(cluster.paper_id)
        elif id(cluster) in changed_clusters and cluster.row is not None:
            result.updated += 1
            result.changed_ids.append((cluster.row["id"], cluster.paper_id))
            changed_clusters.discard(id(cluster))  # count a paper once, extra records duplicate
        else:
            result.duplicates += 1
    writer.flush()
    return result


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
        self.unstored_keys: list[dict[str, Any]] = []  # looked up and not found
        self.new_sources: list[dict[str, Any]] = []
        self.seen_sources: list[dict[str, Any]] = []

    def apply(self, cluster: _Cluster, resolver: _Resolver) -> bool:
        """Queue the writes for one cluster; True when the paper is new or its fields changed."""
        fresh: dict[tuple[str, str], PaperRecord] = {}
        for record in cluster.incoming:
            fresh[(record.source, record.source_id)] = record
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

        assert cluster.paper_id is not None
        for key in {k for r in all_sources.values() for k in r.match_keys}:
            owner = resolver.key_owner.get(key)
            if owner is None:
                resolver.key_owner[key] = cluster.paper_id
                unstored = self.bulk and key in resolver.looked_up
                pending = self.unstored_keys if unstored else self.new_keys
                pending.append({"key": key, "paper_id": cluster.paper_id})
        for ref, record in fresh.items():
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
        moved = (paper_keys, paper_sources, upvotes, library, seen, paper_topics)
        for table in (*moved, collection_papers):
            self.conn.execute(
                update(table).where(table.c.paper_id == old_id).values(paper_id=new_id)
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
        if self.changed_papers:
            conn.execute(
                update(papers).where(papers.c.id == bindparam("_id")),
                self.changed_papers,
            )
        insert(conn, paper_keys, self.unstored_keys)
        if self.new_keys:
            conn.execute(
                dialect.insert_ignoring_conflicts(paper_keys, self.engine_name), self.new_keys
            )
        insert(conn, paper_sources, self.new_sources)
        if self.seen_sources:
            conn.execute(
                update(paper_sources).where(
                    paper_sources.c.source == bindparam("_source"),
                    paper_sources.c.source_id == bindparam("_source_id"),
                ),
                self.seen_sources,
            )
        for pending in (
            self.new_papers,
            self.changed_papers,
            self.new_keys,
            self.unstored_keys,
            self.new_sources,
            self.seen_sources,
        ):
            pending.clear()


def _core_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)
