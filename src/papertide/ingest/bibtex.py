"""BibTeX files as Zotero, Google Scholar or Better BibTeX export them (bibtexparser v2)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import BinaryIO

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from papertide.ingest.base import Item, build_record, date_precision, parse_date, text_stream
from papertide.ingest.fields import as_list
from papertide.records import Reject, normalize_arxiv_id

FORMAT = "bibtex"

# bibtexparser logs every failed block; papertide reports them as rejects instead.
logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}


def _middlewares() -> list[middlewares.Middleware]:
    return [middlewares.NormalizeFieldKeys()]


def _decoder() -> LatexNodes2Text:
    """LaTeX to text as bibtexparser's LatexDecodingMiddleware does it, but with math kept as
    written (`$\\alpha$`, as arXiv and papertide's pages have it, not
    the Greek letter)."""
    context = get_default_latex_context_db()
    # \textasciicircum is the ASCII caret (pylatexenc gives U+02C6, the modifier letter)
    macros = [MacroTextSpec("url", simplify_repl="%s"), MacroTextSpec("textasciicircum", "^")]
    context.add_context_category("papertide-bibtex", prepend=True, macros=macros)
    return LatexNodes2Text(latex_context=context, math_mode="verbatim")


_DECODER = _decoder()
# The parser's macro table, built once: pylatexenc builds it anew for every text it parses
# unless given one, which was most of the time a field took.
_PARSING = latexwalker.get_default_latex_context_db()


def decode(latex: str) -> str:
    """A BibTeX field's text: LaTeX commands, escapes and braces decoded."""
    try:
        return _DECODER.latex_to_text(latex, latex_context=_PARSING)
    except Exception:  # pylatexenc has no one error type; keep the raw text
        return latex


def _first_name_first(name: str) -> str:
    """'Gödel, Kurt' -> 'Kurt Gödel'. Not strict: the SplitNameParts middleware fails the whole
    entry on one name it cannot split (too many commas, say); this reads it as well as it can."""
    return parse_single_name_into_parts(name, strict=False).merge_first_name_first


def read_names(field: str) -> list[str]:
    """The names of an author field, first name first. Split on `and` and into parts before
    LaTeX is decoded, as BibTeX does: a braced name (`{Barnes and Noble}`, `{Smith, J.}`) is
    one name, kept whole."""
    return [decode(_first_name_first(name)) for name in split_multiple_persons_names(field)]


def _arxiv_id(fields: dict[str, str]) -> str | None:
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    if fields.get("eprint") and (prefix == "arxiv" or not prefix):
        found = normalize_arxiv_id(fields["eprint"])
        if found:
            return found
    for name in ("journal", "url", "note", "howpublished"):
        value = fields.get(name, "")
        if "arxiv" in value.lower():
            found = normalize_arxiv_id(value.split("arXiv:")[-1])
            if found:
                return found
    return None


def _date(fields: dict[str, str]) -> tuple[str | None, str]:
    """The publication date and how precise it is ('day', 'month' or 'year')."""
    if fields.get("date"):
        return fields["date"], date_precision(fields["date"])
    year = fields.get("year", "").strip()
    if not year:
        return None, "day"
    month = fields.get("month", "").strip().lower()[:3]
    number = _MONTHS.get(month) or (int(month) if month.isdigit() and 1 <= int(month) <= 12 else 0)
    if not number:
        return year, "year"
    return f"{year}-{number:02d}-01", "month"


def read(stream: BinaryIO, origin: str) -> Iterator[Item]:
    text = text_stream(stream, origin)
    content = text.read()
    yield from text.notices()
    try:
        library = bibtexparser.parse_string(content, append_middleware=_middlewares())
    except Exception as exc:  # the parser has no narrower error type for what it cannot split
        yield Reject(where=origin, reason=f"unreadable BibTeX: {exc}")
        return
    for block in library.failed_blocks:
        line = getattr(block, "start_line", 0) + 1
        reason = getattr(block.error, "abort_reason", "") or type(block.error).__name__
        yield Reject(where=f"{origin}:{line}", reason=f"malformed BibTeX entry: {reason.strip()}")
    for entry in library.entries:
        raw = {key: field.value for key, field in entry.fields_dict.items()}
        text_fields = {k: decode(v) for k, v in raw.items() if isinstance(v, str) and k != "author"}
        url = text_fields.get("url", "")
        published, precision = _date(text_fields)
        yield build_record(
            f"{origin}:{entry.start_line + 1}",
            source=FORMAT,
            source_id="",
            title=text_fields.get("title", ""),
            abstract=text_fields.get("abstract", ""),
            authors=read_names(raw["author"]) if isinstance(raw.get("author"), str) else [],
            published_at=parse_date(published),
            published_precision=precision,
            arxiv_id=_arxiv_id(text_fields),
            doi=text_fields.get("doi") or None,
            abs_url=url or None,  # records.py keeps http(s) links only, with a warning
            categories=as_list(text_fields.get("primaryclass", "")),
            keywords=as_list(text_fields.get("keywords", "")),
        )
