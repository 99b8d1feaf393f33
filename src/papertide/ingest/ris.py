"""RIS files (EndNote, Zotero, Mendeley, publishers' "export citation"), read with rispy one
reference at a time, so that one broken reference is one reject. Authors `Family, Given` are
turned first name first; arXiv ids come from `AN` with `DB  - arXiv`, the URL or arXiv's DOI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import rispy

from papertide.ingest.base import Item, build_record, date_precision, parse_date, text_stream
from papertide.records import Reject, normalize_arxiv_id

FORMAT = "ris"
_NUMBERING = re.compile(r"^\d+\.$")  # rispy writes "1." before each reference


def looks_like(head: str) -> bool:
    return bool(re.match(r"TY  - ", head))


def author(value: str) -> str:
    """'Gödel, Kurt' -> 'Kurt Gödel'; 'Family, Given, Jr.' -> 'Given Family Jr.'."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) in (2, 3) and all(parts):
        return " ".join([parts[1], parts[0], *parts[2:]])
    return value.strip()


def _date(entry: dict[str, Any]) -> tuple[Any, str]:
    written = str(entry.get("date") or "").strip().strip("/")
    if written:
        pieces = [p for p in written.split("/") if p.strip()]
        text = "-".join(pieces[:3])
        return parse_date(text), date_precision(text)
    year = str(entry.get("year") or entry.get("publication_year") or "").strip()[:4]
    return (parse_date(year), "year") if year.isdigit() else (None, "day")


def _arxiv_id(entry: dict[str, Any]) -> str | None:
    database = str(entry.get("name_of_database") or "").lower()
    if entry.get("accession_number") and "arxiv" in database:
        found = normalize_arxiv_id(str(entry["accession_number"]))
        if found:
            return found
    for url in entry.get("urls") or []:
        if "arxiv" in str(url).lower() and (found := normalize_arxiv_id(str(url))):
            return found
    return None


def record(entry: dict[str, Any], where: str) -> Item:
    published, precision = _date(entry)
    urls = [str(u) for u in entry.get("urls") or []]
    authors = [*(entry.get("authors") or []), *(entry.get("first_authors") or [])]
    return build_record(
        where,
        source=FORMAT,
        title=str(entry.get("title") or entry.get("primary_title") or ""),
        abstract=str(entry.get("abstract") or entry.get("notes_abstract") or ""),
        authors=[author(str(a)) for a in authors],
        published_at=published,
        published_precision=precision,
        arxiv_id=_arxiv_id(entry),
        doi=str(entry.get("doi") or "") or None,
        abs_url=urls[0] if urls else None,
        keywords=[str(k) for k in entry.get("keywords") or []],
    )


def _references(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """Each reference's lines (TY to ER), with the number of its first line; lines between
    references come as one piece too (a reject), and a TY line always starts a new reference,
    so damage never swallows the reference after it."""
    chunk: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if line.startswith("TY  -") or not chunk:
            if chunk:
                yield start, chunk
            if not line.startswith("TY  -") and (not line.strip() or _NUMBERING.match(line)):
                chunk = []
                continue
            chunk, start = [], number
        chunk.append(line)
        if line.startswith("ER  -"):
            yield start, chunk
            chunk = []
    if chunk:
        yield start, chunk


def read(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    for start, lines in _references(iter(text)):
        where = f"{origin}:{start}"
        if not lines[0].startswith("TY  -"):
            yield Reject(where=where, reason="a RIS reference starts with a TY line")
        elif not lines[-1].startswith("ER  -"):
            yield Reject(where=where, reason="RIS reference without its ER line")
        else:
            try:
                entries = rispy.loads("\n".join(lines) + "\n")
            except Exception as exc:  # rispy raises plain IOError / ValueError / KeyError
                yield Reject(where=where, reason=f"unreadable RIS reference: {exc}")
                continue
            yield from (record(entry, where) for entry in entries)
    yield from text.notices()
