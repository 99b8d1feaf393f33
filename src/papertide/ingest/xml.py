"""Streaming XML helpers shared by the Atom and OAI-PMH readers (lxml iterparse)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from lxml import etree

from papertide.records import PaperRecord, Reject

_LISTED_ERRORS = 3


def iter_elements(
    stream: BinaryIO, origin: str, tags: tuple[str, ...]
) -> Iterator[etree._Element | Reject]:
    """Yield each finished element with one of TAGS, freeing it afterwards to keep memory flat.

    The parser recovers from malformed XML (a stray control byte, invalid UTF-8, an unclosed
    tag) so that one damaged record does not cost the ones around it; the damage is reported
    in one Reject at the end, naming its lines.
    """
    parser = etree.iterparse(
        stream,
        events=("end",),
        tag=tags,
        huge_tree=True,
        recover=True,
        resolve_entities=False,
        no_network=True,
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
        return
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        listed = "; ".join(f"line {e.line}: {e.message.strip()}" for e in errors[:_LISTED_ERRORS])
        more = f" and {len(errors) - _LISTED_ERRORS} more" if len(errors) > _LISTED_ERRORS else ""
        yield Reject(where=f"{origin}:{errors[0].line}", reason=f"malformed XML: {listed}{more}")


def record_of(
    build: Callable[[etree._Element, str], PaperRecord | Reject],
    element: etree._Element,
    where: str,
) -> PaperRecord | Reject:
    """BUILD's record from ELEMENT, or a Reject when its text cannot be read: a recovering
    parser keeps character references such as &#xD800; that are not Unicode, and lxml raises
    on reading them."""
    try:
        return build(element, where)
    except UnicodeDecodeError:
        return Reject(
            where=where, reason="text that is not Unicode (a character reference to a surrogate?)"
        )


def own_text(element: etree._Element) -> str:
    """ELEMENT's text, "" when it has none or it is not Unicode (see record_of)."""
    try:
        return element.text or ""
    except UnicodeDecodeError:
        return ""


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
