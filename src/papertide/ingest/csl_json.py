"""CSL-JSON files (Zotero's "CSL JSON" export, pandoc, citeproc): a JSON list of items, or
one item. arXiv ids come from `number` ("arXiv:ID", as Zotero writes preprints), the `URL`
or arXiv's DOI; names from given / particle / family / suffix, or `literal`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from papertide.ingest.base import Item, build_record, parse_date, parse_json, text_stream
from papertide.ingest.fields import as_list, as_text
from papertide.ingest.hf import _array_items
from papertide.records import Reject, normalize_arxiv_id

FORMAT = "csl-json"
NAME_PARTS = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")
_SIGNS = re.compile(r'"(?:issued|container-title|citation-key|DOI)"\s*:|"(?:family|literal)"\s*:')


def looks_like(head: str) -> bool:
    """A JSON list or object with CSL's own keys near its start."""
    return head.startswith(("[", "{")) and bool(_SIGNS.search(head[:20000]))


def name(value: Any) -> str:
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return ""
    if value.get("literal"):
        return as_text(value["literal"])
    return " ".join(text for part in NAME_PARTS if (text := as_text(value.get(part)).strip()))


def _date(value: Any) -> tuple[Any, str]:
    """The `issued` date and its precision, from date-parts ([[2017, 6, 12]]) or `raw`."""
    if not isinstance(value, dict):
        return None, "day"
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        numbers = [int(p) for p in parts[0][:3] if str(p).strip().lstrip("-").isdigit()]
        if numbers:
            padded = [*numbers, 1, 1][:3]
            precision = ("year", "month", "day")[len(numbers) - 1]
            try:
                return parse_date(f"{padded[0]:04d}-{padded[1]:02d}-{padded[2]:02d}"), precision
            except ValueError:
                return None, "day"
    return parse_date(value.get("raw")), "day"


def _arxiv_id(item: dict[str, Any]) -> str | None:
    for key in ("number", "URL", "archive_location", "note"):
        text = as_text(item.get(key))
        if "arxiv" in text.lower() or (key == "number" and item.get("publisher") == "arXiv"):
            found = normalize_arxiv_id(text.split("arXiv:")[-1])
            if found:
                return found
    return None


def record(item: Any, where: str) -> Item:
    if not isinstance(item, dict):
        return Reject(where=where, reason="a CSL item is a JSON object")
    published, precision = _date(item.get("issued"))
    authors = item.get("author")
    return build_record(
        where,
        source=FORMAT,
        title=as_text(item.get("title")),
        abstract=as_text(item.get("abstract")),
        authors=[name(a) for a in authors] if isinstance(authors, list) else [],
        published_at=published,
        published_precision=precision,
        arxiv_id=_arxiv_id(item),
        doi=as_text(item.get("DOI")) or None,
        abs_url=as_text(item.get("URL")) or None,
        keywords=as_list(as_text(item.get("keyword"))),
    )


def read(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    content = text.read()
    value, error = parse_json(content)
    yield from text.notices()
    if error and content.lstrip().startswith("["):
        # One damaged item costs only itself: the list is split into items by bracket depth,
        # as the Hugging Face reader salvages its lists, and each item parsed on its own.
        for number, piece in enumerate(_array_items(content), start=1):
            if piece.strip():
                item, bad = parse_json(piece)
                where = f"{origin}:item {number}"
                yield Reject(where=where, reason=bad) if bad else record(item, where)
        return
    if error:
        yield Reject(where=origin, reason=error)
        return
    items = value if isinstance(value, list) else [value]
    for number, item in enumerate(items, start=1):
        yield record(item, f"{origin}:item {number}")
