"""Hugging Face daily papers: the JSON of /api/daily_papers (saved files and the live API).

Items look like {paper: {id, title, summary, authors: [{name}], publishedAt, upvotes, githubRepo,
githubStars, projectPage, ai_keywords, ...}, publishedAt, numComments, submittedBy, ...}. Unknown
fields are ignored and every optional field may be missing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from papertide.ingest.base import Item, build_record, parse_date, parse_json, text_stream
from papertide.ingest.fields import as_int, as_list, as_text
from papertide.ingest.http import PoliteClient
from papertide.records import Reject, normalize_arxiv_id

FORMAT = "hf"
API_URL = "https://huggingface.co/api/daily_papers"
MAX_SUBMITTER_CHARS = 200  # Hugging Face user names are far shorter


def record_from_item(item: dict[str, Any], where: str) -> Item:
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    paper_id = as_text(paper.get("id"))
    arxiv_id = normalize_arxiv_id(paper_id) if paper_id else None
    code = [as_text(paper.get("githubRepo"))] if paper.get("githubRepo") else []
    return build_record(
        where,
        source=FORMAT,
        source_id=arxiv_id or paper_id,
        title=as_text(paper.get("title") or item.get("title")),
        abstract=as_text(paper.get("summary") or item.get("summary")),
        authors=as_list(paper.get("authors")),
        published_at=parse_date(paper.get("publishedAt") or item.get("publishedAt")),
        arxiv_id=arxiv_id,
        code_urls=code,
        project_url=as_text(paper.get("projectPage")) or None,
        upstream_upvotes=as_int(paper.get("upvotes")),
        github_stars=as_int(paper.get("githubStars")),
        keywords=as_list(paper.get("ai_keywords")),
        **_submission(item, paper),
    )


def _submission(item: dict[str, Any], paper: dict[str, Any]) -> dict[str, Any]:
    """Who submitted the paper to the daily list and when, as huggingface_hub reads them:
    the item's `submittedBy` (or the paper's `submittedOnDailyBy`), and `submittedOnDailyAt`
    (or the item's own `publishedAt`, the time it went on the list). Nothing without a name."""
    who = item.get("submittedBy") or paper.get("submittedOnDailyBy")
    name = as_text(who.get("name") or who.get("user")) if isinstance(who, dict) else ""
    if not name:
        return {}
    when = paper.get("submittedOnDailyAt") or item.get("submittedOnDailyAt")
    if not when and item is not paper:
        when = item.get("publishedAt")
    return {
        "submitted_by": name[:MAX_SUBMITTER_CHARS],
        "submitted_by_fullname": as_text(who.get("fullname"))[:MAX_SUBMITTER_CHARS] or None,
        "submitted_at": parse_date(when),
    }


def items_from_json(document: Any) -> list[Any] | None:
    """The item list of a daily-papers response, or None if DOCUMENT is not one."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ("papers", "items", "dailyPapers"):
            if isinstance(document.get(key), list):
                return document[key]
        if isinstance(document.get("paper"), dict):
            return [document]
    return None


def read(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    content = text.read()
    document, error = parse_json(content)
    yield from text.notices()
    if error and content.lstrip().startswith("["):
        yield from _salvage(content, origin)
        return
    if error:
        yield Reject(where=origin, reason=error)
        return
    items = items_from_json(document)
    if items is None:
        yield Reject(where=origin, reason="not a list of daily-papers items")
        return
    for index, item in enumerate(items):
        yield _item_record(item, f"{origin}[{index}]")


def _item_record(item: Any, where: str) -> Item:
    if not isinstance(item, dict):
        return Reject(where=where, reason="item is not a JSON object")
    return record_from_item(item, where)


# A JSON string (escapes included) or one of the characters that shape an array's items.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{},]', re.DOTALL)


def _array_items(content: str) -> Iterator[str]:
    """The text of each item of the JSON array CONTENT, found by bracket depth without parsing
    them, so an item that is cut short or nested too deeply for json costs only itself."""
    depth = 0
    start = 0
    for match in _TOKEN.finditer(content):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth == 1:
                start = match.end()
        elif token in ("]", "}"):
            depth -= 1
            if depth == 0:
                yield content[start : match.start()]
                return
        elif token == "," and depth == 1:
            yield content[start : match.start()]
            start = match.end()
    yield content[start:]  # the array was cut short: its last item, which will not parse


def _salvage(content: str, origin: str) -> Iterator[Item]:
    """Records from a daily-papers array that does not parse as a whole, item by item."""
    for index, text in enumerate(_array_items(content)):
        if not text.strip():
            continue
        where = f"{origin}[{index}]"
        item, error = parse_json(text)
        yield Reject(where=where, reason=error) if error else _item_record(item, where)


PAGE_SIZE = 100
MIN_INTERVAL = 1.0


def fetch_pages(
    client: PoliteClient, base_url: str, period: dict[str, str], page: int = 0
) -> Iterator[tuple[list[Item], dict[str, Any]]]:
    """Pages of /api/daily_papers for one date=, week= or month= period."""
    while True:
        body = client.get(base_url, params={**period, "p": page, "limit": PAGE_SIZE})
        items = list(read(io.BytesIO(body), f"hf-api?p={page}"))
        page += 1
        yield items, {"page": page}
        if len(items) < PAGE_SIZE:
            return
