"""BibTeX (and biblatex) entries, written with bibtexparser: @misc with eprint/archivePrefix for
arXiv papers, as arXiv's own export has them.

Text is LaTeX-escaped with pylatexenc (braces, `\\ % & # _ ^ ~ $`, accented letters as `\\"u`;
letters with no LaTeX form, such as CJK, stay UTF-8), `$...$` math is kept as written, and
every field is checked against papertide's BibTeX reader: a value that would not read back as
it is stored is written the plainer way that does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import bibtexparser
from anyascii import anyascii
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import (
    RULE_REGEX,
    UnicodeToLatexConversionRule,
    UnicodeToLatexEncoder,
)

from papertide.export import ExportFormat, Reference
from papertide.export.names import split_name
from papertide.ingest import bibtex as reader

# What LaTeX would otherwise read as something else: `--` and `---` dashes, ``quotes'', ?` and
# !` (inverted marks), and a bare " (a quote, or in some languages an accent command).
_LIGATURES = UnicodeToLatexConversionRule(
    RULE_REGEX,
    [
        (re.compile(r"-(?=-)"), "-{}"),
        (re.compile(r"([`'?!])(?=[`'])"), r"\1{}"),
        (re.compile(r'"'), '{"}'),
    ],
)
_ESCAPE_ALL = UnicodeToLatexEncoder(
    conversion_rules=[_LIGATURES, "defaults"],
    replacement_latex_protection="braces",
    unknown_char_policy="keep",
    unknown_char_warning=False,
)
_MATH = re.compile(r"(?<!\\)\$[^$]+(?<!\\)\$")
_LIGATURE_START = re.compile(r"-(?=-)|[`'?!](?=[`'])")


def _escape_ascii(text: str) -> str:
    """Only what BibTeX and LaTeX need escaped, ligatures broken; every other character stays
    UTF-8 (biber and Zotero read it)."""
    breaks = {m.start() for m in _LIGATURE_START.finditer(text)}
    return "".join(
        (_ESCAPE_ALL.unicode_to_latex(c) if c.isascii() else c) + ("{}" if at in breaks else "")
        for at, c in enumerate(text)
    )


@lru_cache(maxsize=8192)
def _char(char: str) -> str | None:
    """CHAR's LaTeX when it reads back as CHAR on its own (None: the text takes the slow way).
    Escaping an abstract character by character from this cache takes a fraction of a
    millisecond; pylatexenc's encoder and decoder over it took 70 ms."""
    if char.isascii() and (char.isalnum() or char == " "):
        return char
    escaped = _ESCAPE_ALL.unicode_to_latex(char)
    fine = reader.decode(escaped) == char and not unicodedata.combining(char)
    return escaped if fine and _balanced(escaped) else None


def _fast(text: str) -> str | None:
    """TEXT escaped from the per-character cache, ligatures broken; None when a character
    needs its context (a combining accent, say)."""
    pieces = []
    breaks = {m.start() for m in _LIGATURE_START.finditer(text)}
    for at, char in enumerate(text):
        piece = _char(char)
        if piece is None:
            return None
        pieces.append(piece + "{}" if at in breaks else piece)
    return "".join(pieces)


@lru_cache(maxsize=4096)
def _math_kept(math: str) -> bool:
    """Whether $...$ MATH can be written as it is: it reads back verbatim and ends where it
    ends: no % (a comment to the end of the value), no macro reaching past its closing $ for
    an argument (`$\\^$`), which the escaped text after it shows."""
    probe = math + "\\&"  # text after the math, which must still read as text
    return "%" not in math and _balanced(math) and reader.decode(probe) == math + "&"


def _fast_with_math(text: str) -> str | None:
    """TEXT escaped quickly, its $...$ math kept as written when it reads back as written."""
    out, last = [], 0
    for match in _MATH.finditer(text):
        math = match.group(0)
        if not _math_kept(math):
            return None
        out += [_fast(text[last : match.start()]), math]
        last = match.end()
    out.append(_fast(text[last:]))
    if None in out:
        return None
    return "".join(out)  # type: ignore[arg-type]


def _with_math(text: str) -> str:
    """TEXT escaped, its $...$ math kept as written (TeX typesets it)."""
    out, last = [], 0
    for match in _MATH.finditer(text):
        out += [_ESCAPE_ALL.unicode_to_latex(text[last : match.start()]), match.group(0)]
        last = match.end()
    out.append(_ESCAPE_ALL.unicode_to_latex(text[last:]))
    return "".join(out)


def latex(text: str) -> str:
    """TEXT as a BibTeX value that papertide's reader (and LaTeX) read back as TEXT."""
    quick = _fast_with_math(text)
    if quick is not None:
        return quick
    for encode in (_with_math, _ESCAPE_ALL.unicode_to_latex, _escape_ascii):
        candidate = encode(text)
        if reader.decode(candidate) == text and _balanced(candidate):
            return candidate
    return _escape_ascii(text)


def _balanced(value: str) -> bool:
    depth = 0
    for char in re.sub(r"\\.", "", value):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def author_field(names: Sequence[str]) -> str:
    """NAMES as `Family, Given and ...`; a name whose parts would not read back whole (a comma,
    a brace, an `and` in it) is braced, which BibTeX reads as one literal name."""
    field = " and ".join(map(_name, names))
    if reader.read_names(field) != list(names):  # a name that runs into the next one
        field = " and ".join("{" + latex(name) + "}" for name in names)
    return field


@lru_cache(maxsize=8192)
def _name(name: str) -> str:
    """One name as `von Family, Jr, Given`, or braced whole when that would not read back."""
    parts = split_name(name)
    if parts:
        family = " ".join(filter(None, (parts.von, parts.family)))
        pieces = [latex(family), *([latex(parts.suffix)] if parts.suffix else [])]
        candidate = ", ".join([*pieces, *([latex(parts.given)] if parts.given else [])])
        if reader.read_names(candidate) == [name]:
            return candidate
    return "{" + latex(name) + "}"


def _key(ref: Reference, taken: set[str]) -> str:
    """A citation key as Google Scholar makes them (vaswani2017attention), unique in the file."""
    family = ""
    if ref.authors:
        parts = split_name(ref.authors[0])
        family = parts.family if parts else ref.authors[0]
    words = [w for w in re.findall(r"[a-z0-9]+", anyascii(ref.title).lower()) if len(w) > 3]
    year = f"{ref.published_at:%Y}" if ref.published_at else ""
    stem = re.sub(r"[^a-z0-9]", "", anyascii(family).lower()) + year + (words[0] if words else "")
    stem = stem or re.sub(r"[^A-Za-z0-9]", "", ref.id) or "paper"
    key, n = stem, 1
    while key in taken:
        n += 1
        key = f"{stem}{n}"
    taken.add(key)
    return key


def _entry(ref: Reference, taken: set[str]) -> Entry:
    fields = [Field("title", latex(ref.title))]
    if ref.authors:
        fields.append(Field("author", author_field(ref.authors)))
    if ref.published_at:
        when = ref.published_at
        fields.append(Field("year", f"{when:%Y}"))
        if ref.precision != "year":
            fields.append(Field("month", str(when.month)))
            date = f"{when:%Y-%m}" if ref.precision == "month" else f"{when:%Y-%m-%d}"
            fields.append(Field("date", date))
    if ref.arxiv_id:
        fields += [Field("eprint", latex(ref.arxiv_id)), Field("archiveprefix", "arXiv")]
        if ref.categories:
            fields.append(Field("primaryclass", latex(ref.categories[0])))
    if ref.doi:
        fields.append(Field("doi", latex(ref.doi)))
    if ref.url:
        fields.append(Field("url", _url(ref.url)))
    if ref.abstract:
        fields.append(Field("abstract", latex(ref.abstract)))
    if ref.subjects:
        fields.append(Field("keywords", latex(", ".join(ref.subjects))))
    return Entry("misc", _key(ref, taken), fields)


def _url(url: str) -> str:
    """A URL as BibTeX takes it (\\url-style: verbatim but for what would end the value)."""
    return "".join("\\" + c if c in "{}%#\\" else c for c in url)


def write(refs: Sequence[Reference]) -> str:
    taken: set[str] = set()
    library = bibtexparser.Library([_entry(ref, taken) for ref in refs])
    return bibtexparser.write_string(library)


FORMAT = ExportFormat("bibtex", "application/x-bibtex; charset=utf-8", "bib", write)
