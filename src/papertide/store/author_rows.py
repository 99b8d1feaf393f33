"""Writing the author-name table: one row per author of a paper (paper_authors).

Rows are written with the papers they belong to (store/writer.py, bulk imports included) and
backfilled by migration 0014.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from papertide import names
from papertide.limits import MAX_AUTHOR_NAME
from papertide.store.schema import paper_authors


def _keys(author: str) -> tuple[str, str] | None:
    """(key, signature) of a name. Names of usual length are cached: they repeat from paper to
    paper (an author's every paper), and reading one costs ~14 us, which made a bulk import
    about a third slower per paper (~2 us from the cache)."""
    return _cached_keys(author) if len(author) <= CACHED_NAME_CHARS else _read_keys(author)


def _read_keys(author: str) -> tuple[str, str] | None:
    parsed = names.parse(author)
    return None if parsed is None else (parsed.key, parsed.signature)


CACHED_NAME_CHARS = 100  # the cache holds at most 32k such names: a few MB
_cached_keys = functools.lru_cache(maxsize=1 << 15)(_read_keys)


def author_values(authors: Iterable[Any]) -> list[tuple[int, str, str, str]]:
    """(position, name, name_key, signature) of each author of a paper that has a name (a
    bulk import's reader process computes these, store/prepared.py)."""
    values = []
    for position, author in enumerate(authors or []):
        keys = _keys(author) if isinstance(author, str) else None
        if keys is not None:
            values.append((position, author[:MAX_AUTHOR_NAME], *keys))  # what parse reads
    return values


COLUMNS = ("position", "name", "name_key", "signature")


def rows_for(paper_id: str, authors: Iterable[Any]) -> list[dict[str, Any]]:
    """The paper_authors rows of one paper (names that are no name get none)."""
    return with_paper(paper_id, author_values(authors))


def with_paper(paper_id: str, values: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """paper_authors rows from author_values."""
    return [{"paper_id": paper_id, **dict(zip(COLUMNS, v, strict=True))} for v in values]


def forget(conn: Connection, paper_ids: Sequence[str]) -> None:
    """Drop the rows of PAPER_IDS (before writing their authors again)."""
    for start in range(0, len(paper_ids), 900):
        chunk = list(paper_ids[start : start + 900])
        conn.execute(delete(paper_authors).where(paper_authors.c.paper_id.in_(chunk)))


