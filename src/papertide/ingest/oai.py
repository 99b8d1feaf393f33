"""arXiv OAI-PMH ListRecords responses in the `arXiv` or `arXivRaw` metadata formats."""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from typing import Any, BinaryIO

from lxml import etree

from papertide.ingest.base import Item, build_record, parse_date
from papertide.ingest.http import PoliteClient, SourceRefused
from papertide.ingest.xml import iter_elements, own_text, record_of, text_of
from papertide.records import Reject, find_code_urls, normalize_arxiv_id

FORMAT = "oai"
OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV = "http://arxiv.org/OAI/arXiv/"
ARXIV_RAW = "http://arxiv.org/OAI/arXivRaw/"
NS = {"oai": OAI, "a": ARXIV, "r": ARXIV_RAW}


@cache
def _clark(path: str) -> str:
    """'a:authors/a:author' -> '{ns}authors/{ns}author': lxml finds these without a prefix map."""
    steps = (step.split(":") for step in path.split("/"))
    return "/".join(f"{{{NS[prefix]}}}{name}" for prefix, name in steps)


API_URL = "https://oaipmh.arxiv.org/oai"


def _authors_arxiv(meta: etree._Element) -> list[str]:
    names = []
    for author in meta.iterfind(_clark("a:authors/a:author")):
        # <forenames>, <keyname>, <suffix> children; their order in the name is fixed.
        parts = {etree.QName(child).localname: (child.text or "").strip() for child in author}
        name = " ".join(parts[k] for k in ("forenames", "keyname", "suffix") if parts.get(k))
        if name:
            names.append(name)
    return names


def _authors_raw(text: str) -> list[str]:
    """arXivRaw has one author string: 'A. One, B. Two and C. Three'."""
    text = " ".join(text.split())
    parts = []
    for chunk in text.replace(" and ", ", ").split(","):
        if chunk.strip():
            parts.append(chunk.strip())
    return parts


def _record(record: etree._Element, where: str) -> Item:
    header = record.find(_clark("oai:header"))
    identifier = text_of(header, _clark("oai:identifier"))
    if header is not None and header.get("status") == "deleted":
        return Reject(where=where, reason=f"deleted upstream ({identifier})")
    meta = record.find(_clark("oai:metadata/a:arXiv"))
    ns = "a"
    if meta is None:
        meta = record.find(_clark("oai:metadata/r:arXivRaw"))
        ns = "r"
    if meta is None:
        return Reject(where=where, reason="no arXiv or arXivRaw metadata")
    arxiv_id = normalize_arxiv_id(text_of(meta, _clark(f"{ns}:id")) or identifier)
    if ns == "a":
        authors = _authors_arxiv(meta)
        published = text_of(meta, _clark("a:created"))
        updated = text_of(meta, _clark("a:updated"))
    else:
        authors = _authors_raw(text_of(meta, _clark("r:authors")))
        dates = [text_of(v, _clark("r:date")) for v in meta.findall(_clark("r:version"))]
        published, updated = (dates[0], dates[-1]) if dates else ("", "")
    comments = text_of(meta, _clark(f"{ns}:comments"))
    return build_record(
        where,
        source=FORMAT,
        source_id=arxiv_id or identifier,
        title=text_of(meta, _clark(f"{ns}:title")),
        abstract=text_of(meta, _clark(f"{ns}:abstract")),
        authors=authors,
        published_at=parse_date(published),
        updated_at=parse_date(updated) if updated else None,
        categories=text_of(meta, _clark(f"{ns}:categories")).split(),
        arxiv_id=arxiv_id,
        doi=text_of(meta, _clark(f"{ns}:doi")).split(" ")[0] or None,
        code_urls=find_code_urls(comments),
    )


def read(stream: BinaryIO, origin: str, page: dict[str, str] | None = None) -> Iterator[Item]:
    """Records of one ListRecords response; fills PAGE with its resumption token, if given."""
    tags = (f"{{{OAI}}}record", f"{{{OAI}}}resumptionToken", f"{{{OAI}}}error")
    count = 0
    for element in iter_elements(stream, origin, tags):
        if isinstance(element, Reject):
            yield element
            continue
        tag = etree.QName(element).localname
        if tag == "record":
            count += 1
            yield record_of(_record, element, f"{origin}#record{count}")
        elif tag == "resumptionToken" and page is not None:
            page["token"] = own_text(element).strip()
        elif tag == "error" and element.get("code") != "noRecordsMatch":
            message = f"OAI-PMH error {element.get('code')}: {own_text(element).strip()}"
            if page is not None:
                page["error"] = message
            yield Reject(where=origin, reason=message)


MIN_INTERVAL = 3.0


def fetch_pages(
    client: PoliteClient,
    base_url: str,
    params: dict[str, str],
    token: str | None = None,
) -> Iterator[tuple[list[Item], dict[str, Any]]]:
    """ListRecords pages following resumption tokens; TOKEN resumes an interrupted harvest."""
    while True:
        query = {"verb": "ListRecords", "resumptionToken": token} if token else dict(params)
        query.setdefault("verb", "ListRecords")
        body = client.get(base_url, params=query)
        page: dict[str, str] = {}
        items = list(read(io.BytesIO(body), f"oai?{'resume' if token else 'start'}", page))
        if "error" in page:
            raise SourceRefused(page["error"])
        token = page.get("token") or None
        yield items, {"token": token}
        if not token:
            return
