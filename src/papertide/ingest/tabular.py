"""JSON Lines and CSV files with at least a title column."""

from __future__ import annotations

import csv
import sys
from collections import deque
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
from papertide.ingest.fields import as_list, as_text, first, lower_keys
from papertide.ingest.hf import record_from_item
from papertide.records import Reject, normalize_arxiv_id

# One CSV cell may hold a whole abstract (or a bogus 50 MB one, which the record then cuts).
csv.field_size_limit(sys.maxsize)


def record_from_mapping(row: dict[str, Any], source: str, where: str) -> Item:
    """A record from a flat mapping with the usual column names of paper exports."""
    row = lower_keys(row)  # column names are compared case-insensitively
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


class _Lines:
    """An iterator of lines that remembers those taken since `mark()` and can put lines back,
    so the lines a broken CSV row swallowed can be read again."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._returned: deque[str] = deque()
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._returned.popleft() if self._returned else next(self._lines)
        self.taken.append(line)
        return line

    def mark(self) -> None:
        self.taken = []

    def put_back(self, lines: list[str]) -> None:
        self._returned.extendleft(reversed(lines))


def read_csv(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    lines = _Lines(iter(text))
    header_line = next(lines, "")
    lines.put_back([header_line])
    lines.mark()
    try:
        # Only the delimiter is sniffed: a header line says nothing about quoting rules.
        delimiter = csv.Sniffer().sniff(header_line[:65536], delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = ","
    # Strict: a quote opened and never closed makes an error where it meets the next quoted
    # cell, instead of silently swallowing the rows in between.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        yield Reject(where=f"{origin}:1", reason=f"unreadable CSV header: {exc}")
        return
    if not {"title", "name"} & {h.lower() for h in header}:
        yield Reject(where=f"{origin}:1", reason="CSV header has no 'title' column")
        return
    number = 1 + len(lines.taken)  # the line the next row starts on
    while True:
        lines.mark()
        try:
            row: list[str] | None = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row = _lenient_row(lines.taken[0], delimiter) if len(lines.taken) == 1 else None
            if row is None:
                yield Reject(where=f"{origin}:{number}", reason=f"malformed CSV row: {exc}")
                # The lines after its first were swallowed by an open quote: they are rows of
                # their own (or, rarely, the rest of a badly quoted cell, rejected in turn).
                lines.put_back(lines.taken[1:])
                number += 1
                continue
        where = f"{origin}:{number}"
        number += len(lines.taken)
        yield record_from_mapping(dict(zip(header, row, strict=False)), "csv", where)
    yield from text.notices()


def _lenient_row(line: str, delimiter: str) -> list[str] | None:
    """LINE as a row the way most CSV writers mean it ('"5" disk' is '5 disk'), or None."""
    try:
        return next(csv.reader([line], delimiter=delimiter), None)
    except csv.Error:
        return None
