"""arXiv API responses (Atom 1.0 with arXiv and OpenSearch extensions)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO

from lxml import etree

from papertide.ingest.base import Item, build_record, parse_date
from papertide.ingest.http import PoliteClient
from papertide.ingest.xml import iter_elements, record_of, text_of
from papertide.records import Reject, find_code_urls, normalize_arxiv_id

FORMAT = "arxiv"
ATOM = "http://www.w3.org/2005/Atom"
NS = {
    "atom": ATOM,
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}


def _record(entry: etree._Element, where: str) -> Item:
    entry_id = text_of(entry, "atom:id", NS)
    if "/api/errors" in entry_id:
        return Reject(where=where, reason=f"arXiv API error: {text_of(entry, 'atom:summary', NS)}")
    arxiv_id = normalize_arxiv_id(entry_id)
    if not arxiv_id:
        return Reject(where=where, reason=f"entry has no arXiv id ({entry_id[:100]!r})")
    # abs and PDF links are derived from the id without version, so they show the latest one.
    primary = entry.find("arxiv:primary_category", NS)
    categories = [c.get("term", "") for c in entry.findall("atom:category", NS)]
    if primary is not None and primary.get("term"):
        categories = [primary.get("term", ""), *(c for c in categories if c != primary.get("term"))]
    comment = text_of(entry, "arxiv:comment", NS)
    return build_record(
        where,
        source=FORMAT,
        source_id=arxiv_id,
        title=text_of(entry, "atom:title", NS),
        abstract=text_of(entry, "atom:summary", NS),
        authors=[text_of(a, "atom:name", NS) for a in entry.findall("atom:author", NS)],
        published_at=parse_date(text_of(entry, "atom:published", NS)),
        updated_at=parse_date(text_of(entry, "atom:updated", NS)),
        categories=[c for c in categories if c],
        arxiv_id=arxiv_id,
        doi=text_of(entry, "arxiv:doi", NS) or None,
        code_urls=find_code_urls(comment),
    )


def read(stream: BinaryIO, origin: str) -> Iterator[Item]:
    count = 0
    for element in iter_elements(stream, origin, (f"{{{ATOM}}}entry",)):
        if isinstance(element, Reject):
            yield element
            continue
        count += 1
        yield record_of(_record, element, f"{origin}#entry{count}")


def total_results(page: bytes) -> int | None:
    """opensearch:totalResults of a response page, for paging."""
    try:
        root = etree.fromstring(page, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    value = text_of(root, "opensearch:totalResults", NS).strip()
    return int(value) if value.isdigit() else None


API_URL = "https://export.arxiv.org/api/query"
PAGE_SIZE = 200
MIN_INTERVAL = 3.0  # arXiv asks API clients for at most one request every three seconds


def search_query(category: str, since: date, until: date) -> str:
    return f"cat:{category} AND submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"


def fetch_pages(
    client: PoliteClient, base_url: str, query: str, start: int = 0
) -> Iterator[tuple[list[Item], dict[str, Any]]]:
    """Pages of an API query, oldest submissions first so paging stays stable as papers arrive."""
    while True:
        params = {
            "search_query": query,
            "start": start,
            "max_results": PAGE_SIZE,
            "sortBy": "submittedDate",
            "sortOrder": "ascending",
        }
        page = client.get(base_url, params=params)
        items = list(read(io.BytesIO(page), f"arxiv-api?start={start}"))
        total = total_results(page) or 0
        start += PAGE_SIZE
        yield items, {"start": start}
        if not items or start >= total:
            return


def fetch_one(client: PoliteClient, base_url: str, arxiv_id: str) -> list[Item]:
    """The entries the API has for one id (`id_list`): one record, or none for an unknown id
    (arXiv then answers with no entry, or with an error entry, which comes back as a Reject)."""
    page = client.get(base_url, params={"id_list": arxiv_id, "max_results": 1})
    return list(read(io.BytesIO(page), f"arxiv-api?id_list={arxiv_id}"))
