"""A paper listing page copied from a browser as plain text: header noise, then title / abstract.

Pages differ in layout (blank lines or none, header words glued to the first title, dates, other
header sentences), so the reader does not rely on positions: it finds abstract-like lines and takes
the line before each as its title. Lines that belong to no pair are reported, not guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from papertide.ingest.base import Item, build_record, text_stream
from papertide.records import Reject

FORMAT = "listing"

_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+[A-Z(\[]")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
# Chrome of listing sites that can precede the first title, possibly glued to it. Generic words
# ("new", "subscribe") only count when followed by more chrome or by no lowercase letter, so a
# first title such as "New Insights ..." keeps its first word.
_HEADER_PIECES = re.compile(
    r"^\s*(?:"
    r"new(?=\s*(?:get trending|subscribe|by\s*ak\b))|"
    r"get trending papers in your email inbox!?|"
    r"subscribe(?:(?=by)|(?-i:(?![a-z])))|"
    r"by\s*AK and the research community|"
    r"(?:daily|trending) papers(?-i:(?![a-z]))|"
    r"" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?(?!\d)|"
    r"\d{1,2}\s+" + _MONTH + r"(?:\s+\d{4})?(?!\d)|"
    r"\d{4}-\d{2}-\d{2}|"
    r"[-|\u00b7\u2022:]"
    r")\s*",
    re.IGNORECASE,
)


def _looks_like_abstract(line: str) -> bool:
    """Abstracts are long and made of sentences; titles are short and rarely end in a period."""
    if len(line) >= 300:
        return True
    return len(line) >= 120 and len(_SENTENCE_END.findall(line)) >= 1 and line.endswith(".")


def _strip_header(line: str) -> str:
    """Remove header pieces glued to the first title ('SubscribeMay 23Attention ...')."""
    previous = None
    while previous != line:
        previous = line
        line = _HEADER_PIECES.sub("", line, count=1)
    return line


def read(stream: BinaryIO, origin: str) -> Iterator[Item]:
    lines: list[tuple[int, str]] = []
    decoded = text_stream(stream, origin)
    for number, raw in enumerate(decoded, start=1):
        text = raw.strip()
        if text:
            lines.append((number, text))
    yield from decoded.notices()

    abstract_at = [i for i, (_, text) in enumerate(lines) if _looks_like_abstract(text)]
    used: set[int] = set()
    first_pair = True
    for i in abstract_at:
        title_index = i - 1
        if title_index < 0 or title_index in used or title_index in abstract_at:
            number, text = lines[i]
            yield Reject(where=f"{origin}:{number}", reason="abstract without a title line")
            used.add(i)
            continue
        number, title = lines[title_index]
        if first_pair:
            title = _strip_header(title)
        if not title:  # the "title" was page chrome, so this long line is a header sentence
            yield Reject(where=f"{origin}:{lines[i][0]}", reason="abstract without a title line")
            used.update((title_index, i))
            continue
        first_pair = False
        used.update((title_index, i))
        yield build_record(
            f"{origin}:{number}",
            source=FORMAT,
            title=title,
            abstract=lines[i][1],
        )

    header_end = abstract_at[0] - 1 if abstract_at else len(lines)
    for index, (number, text) in enumerate(lines):
        if index in used:
            continue
        if index < header_end and (len(text) < 80 or not _strip_header(text)):
            continue  # short header lines before the first paper: page chrome, not papers
        yield Reject(where=f"{origin}:{number}", reason="line is neither a title nor an abstract")
