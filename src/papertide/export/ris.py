"""RIS, the tagged format every reference manager reads (EndNote, Zotero, Mendeley), written
with rispy. Authors are `Family, Given`; an arXiv paper carries its id as accession number
(`AN`) with `DB  - arXiv`, as Zotero writes an item's archive. RIS has no way to write a
comma inside a name ("Google Brain, Inc."): such a name reads back as "Inc. Google Brain"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rispy

from papertide.export import ExportFormat, Reference
from papertide.export.names import split_name


def author(text: str) -> str:
    parts = split_name(text)
    if parts is None or not parts.given:
        return text
    family = " ".join(filter(None, (parts.von, parts.family)))
    return ", ".join(filter(None, (family, parts.given, parts.suffix)))


def entry(ref: Reference) -> dict[str, Any]:
    found: dict[str, Any] = {"type_of_reference": "GEN", "title": ref.title}
    if ref.authors:
        found["authors"] = [author(a) for a in ref.authors]
    if ref.published_at:
        when = ref.published_at
        found["year"] = f"{when:%Y}"
        if ref.precision != "year":
            found["date"] = f"{when:%Y/%m}" + ("" if ref.precision == "month" else f"/{when:%d}")
    if ref.arxiv_id:
        found |= {"accession_number": ref.arxiv_id, "name_of_database": "arXiv"}
    if ref.doi:
        found["doi"] = ref.doi
    if ref.url:
        found["urls"] = [ref.url]
    if ref.abstract:
        found["abstract"] = ref.abstract
    if ref.subjects:
        found["keywords"] = ref.subjects
    return found


class _Writer(rispy.RisWriter):
    def set_header(self, count: int) -> str:
        return ""  # rispy numbers references ("1."), which is not RIS and other readers refuse


def write(refs: Sequence[Reference]) -> str:
    return rispy.dumps([entry(ref) for ref in refs], implementation=_Writer)


FORMAT = ExportFormat("ris", "application/x-research-info-systems", "ris", write)
