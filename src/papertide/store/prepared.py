"""Records prepared for the bulk writer in the process that parsed them.

A bulk import parses a large file in a second process (ingest/pipeline.py). Most of its records
are papers not stored yet, each of one record; for those the stored rows follow from the record
alone, so that process also merges it and converts its values into what the database driver
takes (SQLite's datetime text, JSON text), on its own core. The importing process then only
resolves identities and writes; a record that joins a stored paper, or another record, is merged
there from `Prepared.record()` as usual. What is stored is the same either way (tested in
tests/test_bulk_import.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy.engine import Dialect

from papertide.ingest import sources
from papertide.records import PaperRecord, merge_records
from papertide.store import author_rows
from papertide.store.bulk import converter
from papertide.store.engine import offline_dialect
from papertide.store.schema import papers

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


class Prepared(NamedTuple):
    """One parsed record, with the rows of the paper it makes when it is a paper of its own."""

    source: str
    source_id: str
    match_keys: list[str]
    paper_id: str  # the stable id the merge gives it
    arxiv_id: str | None
    doi: str | None
    values: tuple[Any, ...]  # MERGED_COLUMNS, converted for the database
    stored: str  # the record as paper_sources keeps it (JSON text)
    warnings: list[str]
    authors: list[tuple[Any, ...]]  # the paper's author-name rows (store/author_rows.py)

    def record(self) -> PaperRecord:
        """The record itself, for a merge that needs every field (validating it again changes
        nothing: stored records are read back the same way)."""
        return PaperRecord.model_validate_json(self.stored)


def preparer(backend: str) -> Callable[[PaperRecord], Prepared]:
    """What prepares records for a database of BACKEND ("sqlite" or "postgresql")."""
    convert = _paper_converter(offline_dialect(backend))

    def prepare(record: PaperRecord) -> Prepared:
        merged = merge_records([record], sources.priority)
        return Prepared(
            record.source,
            record.source_id,
            record.match_keys,
            merged["id"],
            merged["arxiv_id"],
            merged["doi"],
            convert(tuple(merged[name] for name in MERGED_COLUMNS)),
            record.model_dump_json(),
            record.warnings,
            author_rows.author_values(merged["authors"]),
        )

    return prepare


@functools.cache
def _paper_converter(dialect: Dialect) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    return converter(papers, MERGED_COLUMNS, dialect)
