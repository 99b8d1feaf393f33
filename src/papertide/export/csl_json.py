"""CSL-JSON: the citation format of Zotero, Mendeley, pandoc and citeproc, and what Zotero
imports without a plugin. arXiv papers are written as Zotero writes preprints: type `article`,
`number` "arXiv:ID", publisher arXiv."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from papertide.export import ExportFormat, Reference
from papertide.export.names import split_name


def name(text: str) -> dict[str, str]:
    """A CSL name: given / particle / family / suffix when those parts give the name back,
    else the whole name as a `literal`."""
    parts = split_name(text)
    if parts is None or not parts.given:
        return {"literal": text}
    found = {"given": parts.given, "non-dropping-particle": parts.von, "family": parts.family}
    found["suffix"] = parts.suffix
    return {key: value for key, value in found.items() if value}


def item(ref: Reference) -> dict[str, Any]:
    found: dict[str, Any] = {"id": ref.id, "type": "article", "title": ref.title}
    if ref.authors:
        found["author"] = [name(a) for a in ref.authors]
    if ref.published_at:
        when = ref.published_at
        known = {"year": [when.year], "month": [when.year, when.month]}
        parts = known.get(ref.precision, [when.year, when.month, when.day])
        found["issued"] = {"date-parts": [parts]}
    if ref.arxiv_id:
        found |= {"number": f"arXiv:{ref.arxiv_id}", "publisher": "arXiv"}
    if ref.doi:
        found["DOI"] = ref.doi
    if ref.url:
        found["URL"] = ref.url
    if ref.abstract:
        found["abstract"] = ref.abstract
    if ref.subjects:
        found["keyword"] = ", ".join(ref.subjects)
    return found


def write(refs: Sequence[Reference]) -> str:
    return json.dumps([item(ref) for ref in refs], ensure_ascii=False, indent=2) + "\n"


FORMAT = ExportFormat("csl-json", "application/vnd.citationstyles.csl+json", "json", write)
