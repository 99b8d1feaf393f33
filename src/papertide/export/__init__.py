"""Exporting papers as reference-manager files: BibTeX, CSL-JSON (what Zotero imports) and RIS.

One interface for every format: `FORMATS[name].write(references) -> str`, where a `Reference`
is one paper's citable fields (`Reference.of(row)` from a stored paper row). The CLI, the web
pages and the API all go through `export_text` / `get`, so a format is written in one place.
Each writer's output reads back through papertide's own reader of that format (tests check the
round trip), so an export moves a library between papertide instances too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Reference:
    """The fields an export carries for one paper."""

    id: str
    title: str
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    precision: str = "day"  # how much of published_at is known: day, month or year
    arxiv_id: str | None = None
    doi: str | None = None
    url: str | None = None
    abstract: str = ""
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Reference:
        return cls(
            id=row["id"],
            title=row["title"],
            authors=tuple(row.get("authors") or ()),
            published_at=row.get("published_at"),
            precision=row.get("published_precision") or "day",
            arxiv_id=row.get("arxiv_id"),
            doi=row.get("doi"),
            url=row.get("abs_url"),
            abstract=row.get("abstract") or "",
            categories=tuple(row.get("categories") or ()),
            keywords=tuple(row.get("keywords") or ()),
        )

    @property
    def subjects(self) -> list[str]:
        """Categories then keywords, once each: formats have one keyword list for both."""
        return list(dict.fromkeys([*self.categories, *self.keywords]))


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str
    write: Callable[[Sequence[Reference]], str]


def _formats() -> dict[str, ExportFormat]:
    from papertide.export import bibtex, csl_json, ris

    return {f.name: f for f in (bibtex.FORMAT, csl_json.FORMAT, ris.FORMAT)}


FORMAT_NAMES = ("bibtex", "csl-json", "ris")


def get(name: str) -> ExportFormat:
    """The format called NAME; ValueError (with the choices) for any other."""
    found = _formats().get(name)
    if found is None:
        raise ValueError(f"format is one of {', '.join(FORMAT_NAMES)}, not {name[:40]!r}")
    return found


def export_text(rows: Iterable[Mapping[str, Any]], fmt: str) -> str:
    """ROWS (stored paper rows, in order) written in format FMT."""
    return get(fmt).write([Reference.of(row) for row in rows])


def filename(stem: str, fmt: str) -> str:
    """A download's file name: STEM reduced to safe characters, with the format's extension."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in stem)
    return f"{safe.strip('-.')[:80] or 'papers'}.{get(fmt).extension}"
