"""JSON Lines and CSV files with at least a title column."""

from __future__ import annotations

import csv
import itertools
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

from papertide.ingest.base import (
    Item,
    build_record,
    date_precision,
    parse_date,
    parse_json,
    text_stream,
)
from papertide.ingest.fields import as_list, as_text, first
from papertide.ingest.hf import record_from_item
from papertide.records import Reject, normalize_arxiv_id

# One CSV cell may hold a whole abstract (or a bogus 50 MB one, which the record then cuts).
csv.field_size_limit(sys.maxsize)


def record_from_mapping(row: dict[str, Any], source: str, where: str) -> Item:
    """A record from a flat mapping with the usual column names of paper exports."""
    url = as_text(first(row, "url", "link", "abs_url", "arxiv_url"))
    arxiv = as_text(first(row, "arxiv_id", "arxiv", "eprint", "id"))
    arxiv_id = normalize_arxiv_id(arxiv) if arxiv else None
    if not arxiv_id and "arxiv.org" in url:
        arxiv_id = normalize_arxiv_id(url)
    published = first(row, "published_at", "published", "date", "publishedat", "year")
    code = first(row, "code_urls", "code_url", "code", "github", "github_repo", "githubrepo")
    return build_record(
        where,
        source=source,
        title=as_text(first(row, "title", "name")),
        abstract=as_text(first(row, "abstract", "summary", "abstractnote", "description")),
        authors=as_list(first(row, "authors", "author", "creators")),
        published_at=parse_date(published),
        published_precision=date_precision(published),
        updated_at=parse_date(first(row, "updated_at", "updated")),
        categories=as_list(first(row, "categories", "category", "tags")),
        arxiv_id=arxiv_id,
        doi=as_text(first(row, "doi")) or None,
        abs_url=url if url.startswith(("http://", "https://")) else None,
        pdf_url=as_text(first(row, "pdf_url", "pdf")) or None,
        code_urls=as_list(code),
        project_url=as_text(first(row, "project_url", "projectpage", "project_page")) or None,
        keywords=as_list(first(row, "keywords", "ai_keywords")),
    )


def read_jsonl(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    for number, line in enumerate(text, start=1):
        line = line.strip()
        if not line:
            continue
        where = f"{origin}:{number}"
        row, error = parse_json(line)
        if error:
            yield Reject(where=where, reason=error)
            continue
        if not isinstance(row, dict):
            yield Reject(where=where, reason="not a JSON object")
            continue
        if isinstance(row.get("paper"), dict):  # a Hugging Face daily-papers item, one per line
            yield record_from_item(row, where)
            continue
        yield record_from_mapping(row, "jsonl", where)
    yield from text.notices()


def read_csv(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    lines = iter(text)
    header_line = next(lines, "")
    try:
        # Only the delimiter is sniffed: a header line says nothing about quoting rules.
        delimiter = csv.Sniffer().sniff(header_line[:65536], delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.DictReader(itertools.chain([header_line], lines), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        yield Reject(where=f"{origin}:1", reason=f"unreadable CSV header: {exc}")
        return
    if "title" not in header and "name" not in header:
        yield Reject(where=f"{origin}:1", reason="CSV header has no 'title' column")
        return
    while True:
        where = f"{origin}:{reader.line_num + 1}"
        try:
            row = next(reader)
        except StopIteration:
            yield from text.notices()
            return
        except csv.Error as exc:
            yield Reject(where=where, reason=f"malformed CSV row: {exc}")
            continue
        row.pop(None, None)  # cells beyond the header
        yield record_from_mapping(row, "csv", where)
