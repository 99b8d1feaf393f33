"""OpenAlex works, one JSON object a line, as its snapshot (`works/*/part_*.gz`) and its API's
`results` items are written: `id`, `doi`, `title`/`display_name`, `publication_date`,
`authorships[].author.display_name`, `abstract_inverted_index` (the abstract as word ->
positions, rebuilt here), `primary_location`/`locations`, `ids`, `concepts`/`topics`.

A work merges with its arXiv record through its DOI (arXiv's DataCite DOIs, 10.48550/arXiv.ID,
name the arXiv id) or an arxiv.org location."""

from __future__ import annotations

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
from papertide.ingest.fields import as_text
from papertide.records import Reject, normalize_arxiv_id

FORMAT = "openalex"
OPENALEX_ID = "https://openalex.org/"
# A bogus inverted index could claim position 10**12; an abstract is never near this long.
MAX_ABSTRACT_WORDS = 20_000
KEYWORDS = 8


def looks_like(line: str) -> bool:
    return line.startswith("{") and f'"{OPENALEX_ID}W' in line[:2000]


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
            yield record_from_work(row, where)
    yield from text.notices()


def record_from_work(work: dict[str, Any], where: str) -> Item:
    work_id = as_text(work.get("id")).removeprefix(OPENALEX_ID)
    if not work_id:
        return Reject(where=where, reason="no OpenAlex 'id'")
    published = as_text(work.get("publication_date")) or as_text(work.get("publication_year"))
    location = _dict(work.get("primary_location"))
    return build_record(
        where,
        source=FORMAT,
        source_id=work_id,
        title=as_text(work.get("title")) or as_text(work.get("display_name")),
        abstract=abstract_from_inverted_index(work.get("abstract_inverted_index")),
        authors=[
            as_text(_dict(a.get("author")).get("display_name"))
            for a in _list(work.get("authorships"))
            if isinstance(a, dict)
        ],
        published_at=parse_date(published),
        published_precision=date_precision(published),
        updated_at=parse_date(as_text(work.get("updated_date"))),
        doi=as_text(work.get("doi")) or None,
        arxiv_id=_arxiv_id(work),
        abs_url=as_text(location.get("landing_page_url")) or None,
        pdf_url=as_text(location.get("pdf_url")) or None,
        keywords=_keywords(work),
    )


def abstract_from_inverted_index(index: Any) -> str:
    """The abstract text OpenAlex stores as {word: [positions]}."""
    if not isinstance(index, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in index.items():
        for position in _list(positions):
            if isinstance(position, int) and 0 <= position < MAX_ABSTRACT_WORDS:
                placed[position] = str(word)
    return " ".join(placed[p] for p in sorted(placed))


def _arxiv_id(work: dict[str, Any]) -> str | None:
    """The arXiv id OpenAlex knows: `ids.arxiv`, or an arxiv.org location."""
    named = as_text(_dict(work.get("ids")).get("arxiv"))
    if named:
        return normalize_arxiv_id(named)
    for location in [work.get("primary_location"), *_list(work.get("locations"))]:
        url = as_text(_dict(location).get("landing_page_url"))
        if "arxiv.org/abs/" in url:
            return normalize_arxiv_id(url)
    return None


def _keywords(work: dict[str, Any]) -> list[str]:
    """The names of its topics (newer snapshots) or concepts (older), best first."""
    for key in ("topics", "concepts"):
        found = [t for t in _list(work.get(key)) if isinstance(t, dict)]
        names = [as_text(t.get("display_name")) for t in found]
        if names:
            return names[:KEYWORDS]
    return []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
