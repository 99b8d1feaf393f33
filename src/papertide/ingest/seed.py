"""Seeding a user's library from a reference-manager export (BibTeX, Zotero CSV, any format
papertide reads): papers missing from the database are imported from the file first."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from papertide.ingest import sources
from papertide.ingest.compressed import open_input
from papertide.ingest.runner import (
    ImportSummary,
    detected_format,
    guarded,
    import_file,
    unreadable,
)
from papertide.records import PaperRecord
from papertide.store import library


def seed_library(
    engine: Engine, user_id: int, path: Path, fmt: str = "auto"
) -> tuple[ImportSummary, int]:
    """Import PATH, then save every paper it names to the user's library. Returns the import
    summary (rejects included) and how many papers were newly saved."""
    summary = import_file(engine, path, fmt)
    refs: list[tuple[str, str]] = []
    try:
        handle = open_input(path).content
    except OSError:
        return summary, 0  # the import reported why it could not open the file
    with handle:
        if unreadable(path, handle):
            return summary, 0
        reader = sources.reader(detected_format(path) if fmt == "auto" else fmt)
        for item in guarded(reader(handle, str(path)), str(path)):
            if isinstance(item, PaperRecord):
                refs.append((item.source, item.source_id))
    with engine.begin() as conn:
        paper_ids = library.papers_for_sources(conn, refs)
        return summary, library.save_many(conn, user_id, paper_ids)
