"""Streaming XML helpers shared by the Atom and OAI-PMH readers (lxml iterparse)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from papertide.records import Reject


def iter_elements(
    stream: BinaryIO, origin: str, tags: tuple[str, ...]
) -> Iterator[etree._Element | Reject]:
    """Yield each finished element with one of TAGS, freeing it afterwards to keep memory flat.

    Malformed XML ends the stream with one Reject naming the line; what came before is kept.
    """
    parser = etree.iterparse(
        stream, events=("end",), tag=tags, huge_tree=True, resolve_entities=False, no_network=True
    )
    try:
        for _event, element in parser:
            yield element
            element.clear(keep_tail=False)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        yield Reject(where=f"{origin}:{line}", reason=f"malformed XML: {exc.msg}")


def text_of(element: etree._Element | None, path: str, ns: dict[str, str] | None = None) -> str:
    """Text of the first PATH child, inner markup included; "" when absent."""
    if element is None:
        return ""
    found = element.find(path, ns)
    if found is None:
        return ""
    if len(found) == 0:
        return found.text or ""  # no inner markup: skip the slower itertext walk
    return "".join(found.itertext())
