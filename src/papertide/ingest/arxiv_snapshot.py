"""arXiv's metadata snapshot for bulk use (`arxiv-metadata-oai-snapshot.json`, as Kaggle and
arXiv's bulk-data page publish it): one JSON object a line for every paper on arXiv, with
`id`, `authors`/`authors_parsed`, `title`, `abstract` (hard line breaks, LaTeX), `categories`
(space separated), `doi`, `comments`, `versions` (RFC 2822 dates) and `update_date`."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO

from papertide.ingest.base import Item, build_record, parse_date, parse_json, text_stream
from papertide.ingest.fields import as_list, as_text
from papertide.records import Reject, find_code_urls, normalize_arxiv_id

FORMAT = "arxiv-snapshot"


def looks_like(line: str) -> bool:
    """Whether a first line is a snapshot record: the keys only arXiv's snapshot has."""
    return line.startswith("{") and '"authors_parsed"' in line and '"versions"' in line


def read(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    for number, line in enumerate(text, start=1):
        line = line.strip()
        if not line:
            continue
        where = f"{origin}:{number}"
        row, error = parse_json(line)
        if error:
            yield Reject(where=where, reason=error)
        elif not isinstance(row, dict):
            yield Reject(where=where, reason="not a JSON object")
        else:
            yield record_from_snapshot(row, where)
    yield from text.notices()


def record_from_snapshot(row: dict[str, Any], where: str) -> Item:
    arxiv_id = normalize_arxiv_id(as_text(row.get("id")))
    if not arxiv_id:
        return Reject(where=where, reason=f"no arXiv id in 'id': {as_text(row.get('id'))[:80]!r}")
    comments = as_text(row.get("comments"))
    return build_record(
        where,
        source=FORMAT,
        source_id=arxiv_id,
        title=as_text(row.get("title")),
        abstract=as_text(row.get("abstract")),
        authors=_authors(row),
        published_at=_first_version(row.get("versions")),
        updated_at=parse_date(as_text(row.get("update_date"))),
        categories=as_text(row.get("categories")).split(),
        arxiv_id=arxiv_id,
        doi=as_text(row.get("doi")).split(" ")[0] or None,  # a few list several DOIs
        code_urls=find_code_urls(comments),  # "Code: https://github.com/..." lives there
    )


def _authors(row: dict[str, Any]) -> list[str]:
    """Names from `authors_parsed` ([last, first, suffix]), else the `authors` text."""
    parsed = row.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if not isinstance(parts, list):
                continue
            last, first, suffix = ([as_text(p).strip() for p in parts] + ["", "", ""])[:3]
            names.append(" ".join(p for p in (first, last, suffix) if p))
        if any(names):
            return [n for n in names if n]
    return as_list(as_text(row.get("authors")).replace("\n", " "))


def _first_version(versions: Any) -> datetime | None:
    """When v1 was submitted: the paper's publication date on arXiv."""
    if not isinstance(versions, list):
        return None
    for version in versions:
        if isinstance(version, dict) and as_text(version.get("version")) == "v1":
            return _rfc2822(as_text(version.get("created")))
    first = versions[0] if versions and isinstance(versions[0], dict) else {}
    return _rfc2822(as_text(first.get("created")))


# How every version date in the snapshot is written: "Mon, 2 Apr 2007 19:18:42 GMT". Read
# here, since email.utils' general RFC 2822 parser took 7% of a bulk import's reader.
_ARXIV_DATE = re.compile(
    r"[A-Z][a-z]{2}, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT"
)
_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}


def _rfc2822(text: str) -> datetime | None:
    match = _ARXIV_DATE.fullmatch(text)
    if match and match[2] in _MONTHS:
        day, _month, year, hour, minute, second = match.groups()
        try:
            moment = datetime(
                int(year), _MONTHS[match[2]], int(day), int(hour), int(minute), int(second)
            )
        except ValueError:  # 31 Feb
            return None
        return parse_date(moment)  # inside the supported years
    try:
        moment = parsedate_to_datetime(text)  # any other RFC 2822 form
    except (TypeError, ValueError, IndexError):
        return parse_date(text)
    return parse_date(moment)  # to naive UTC, inside the supported years
