"""The normalized paper record every source yields, and the rules that identify and merge them.

Sources turn their own formats into `PaperRecord`s; the store merges all records of one paper
with `merge_records`. Keeping these rules pure (no I/O) makes them easy to test exhaustively.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from papertide.links import http_url

MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 100_000
MAX_COUNT = 2**63 - 1


class _Report(BaseModel):
    where: str
    reason: str

    @field_validator("where", "reason", mode="after")
    @classmethod
    def _printable(cls, value: str) -> str:
        # Reasons quote input and places name files; both are printed and sent as JSON.
        return strip_unsafe(value)


class Reject(_Report):
    """A record a reader could not use, with where it was and why."""


class Notice(_Report):
    """Something a reader did to keep records that the user should hear about (a decoding
    fallback, a repaired document): reported as a warning; the records are kept."""


class PaperRecord(BaseModel):
    """One paper as one source saw it."""

    source: str
    source_id: str = ""
    title: str
    abstract: str = ""
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    # How much of published_at the source really knew: BibTeX often has only a year.
    published_precision: Literal["day", "month", "year"] = "day"
    updated_at: datetime | None = None
    categories: list[str] = Field(default_factory=list)
    arxiv_id: str | None = None
    doi: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_urls: list[str] = Field(default_factory=list)
    project_url: str | None = None
    upstream_upvotes: int | None = None
    github_stars: int | None = None
    keywords: list[str] = Field(default_factory=list)
    # Who put the paper on the source's daily list, and when (Hugging Face's `submittedBy`,
    # `submittedOnDailyAt`): not paper fields, the writer files them as submissions (and
    # leaves them out of the stored record, which every source's paper would carry them in).
    submitted_by: str | None = Field(default=None, exclude=True)
    submitted_by_fullname: str | None = Field(default=None, exclude=True)
    submitted_at: datetime | None = Field(default=None, exclude=True)
    warnings: list[str] = Field(default_factory=list, exclude=True)
    # Derived in model_post_init and never stored: plain fields read much faster than
    # pydantic private attributes, and the writer reads them several times per record.
    title_key: str = Field(default="", exclude=True)
    match_keys: list[str] = Field(default_factory=list, exclude=True)

    @field_validator("*", mode="after")
    @classmethod
    def _clean_every_text(cls, value: Any) -> Any:
        """Every text field, and every item of a list field, through clean_text: whatever a
        source sends, what is stored is printable, encodable and safe to display."""
        if isinstance(value, str):
            return clean_text(value)
        if isinstance(value, list):
            return [text for text in (clean_text(v) for v in value) if text]
        return value

    @field_validator("upstream_upvotes", "github_stars", mode="after")
    @classmethod
    def _countable(cls, value: int | None) -> int | None:
        # A count no store can hold (SQLite integers are 64-bit) is not information.
        return value if value is None or 0 <= value <= MAX_COUNT else None

    def model_post_init(self, __context: Any) -> None:
        if len(self.title) > MAX_TITLE_CHARS:
            raise ValueError(f"title too long ({len(self.title)} chars)")
        self.title_key = title_key(self.title)
        if not self.title_key:
            raise ValueError("missing title")
        if len(self.abstract) > MAX_ABSTRACT_CHARS:
            self.warnings.append(
                f"abstract cut from {len(self.abstract)} to {MAX_ABSTRACT_CHARS} chars"
            )
            self.abstract = self.abstract[:MAX_ABSTRACT_CHARS]
        self.arxiv_id = normalize_arxiv_id(self.arxiv_id) if self.arxiv_id else None
        if not self.arxiv_id and self.doi:
            self.arxiv_id = arxiv_id_from_doi(self.doi)
        self.doi = normalize_doi(self.doi) if self.doi else None
        self._keep_http_links()
        if self.arxiv_id:
            self.abs_url = self.abs_url or f"https://arxiv.org/abs/{self.arxiv_id}"
            self.pdf_url = self.pdf_url or f"https://arxiv.org/pdf/{self.arxiv_id}"
        found = find_code_urls(self.abstract)
        self.code_urls = _unique([*self.code_urls, *(u for u in found if http_url(u))])
        if not self.source_id:
            self.source_id = self.paper_id
        self.match_keys = [
            *([f"arxiv:{self.arxiv_id}"] if self.arxiv_id else []),
            *([f"doi:{self.doi}"] if self.doi else []),
            f"title:{self.title_key}",
        ]

    def _keep_http_links(self) -> None:
        """Drop every link that is not http(s), with a warning: see links.py for why."""
        for name in ("abs_url", "pdf_url", "project_url"):
            value = getattr(self, name)
            link = http_url(value)
            if value and not link:
                self.warnings.append(f"{name} dropped: not an http(s) link: {value[:80]!r}")
            setattr(self, name, link)
        kept = []
        for url in self.code_urls:  # bare "github.com/o/r" is fine: it becomes https://
            normalized = normalize_code_url(url)
            if normalized and http_url(normalized):
                kept.append(normalized)
            elif url.strip():
                self.warnings.append(f"code url dropped: not a code link: {url[:80]!r}")
        self.code_urls = kept

    @property
    def paper_id(self) -> str:
        if self.arxiv_id:
            return self.arxiv_id
        return f"doi:{self.doi}" if self.doi else f"title:{self.title_key}"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


_WS = re.compile(r"\s+")
# Bidi controls reorder what is displayed around them ("txt.exe" shown as "exe.txt"), so a title
# or a name could pass for another; dropping them only loses that reordering.
_BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
# Noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF and the last two of every plane) cannot be
# written to XML, so one of them in a title would break every feed it appears in.
_NONCHARACTERS = (
    *range(0xFDD0, 0xFDF0),
    *(plane + last for plane in range(0, 0x110000, 0x10000) for last in (0xFFFE, 0xFFFF)),
)
_UNSAFE = {
    **{c: " " for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))},  # C0 and C1 controls
    **dict.fromkeys((*_BIDI_CONTROLS, *_NONCHARACTERS)),  # dropped
    # A lone surrogate (JSON "\ud800") cannot be encoded as UTF-8: SQLite and JSON would fail.
    **{c: "\ufffd" for c in range(0xD800, 0xE000)},
}


def strip_unsafe(text: str) -> str:
    """TEXT with controls as spaces, bidi controls and noncharacters dropped and lone surrogates
    as U+FFFD: nothing left that cannot be stored, encoded, written to XML or shown as written."""
    return text if text.isprintable() else text.translate(_UNSAFE)


def clean_text(text: str | None) -> str:
    """strip_unsafe, and whitespace collapsed; keeps the text otherwise as written."""
    if not text:
        return ""
    # The common case first, without splitting the text into words (the slow part, for an
    # abstract): line breaks are the only unsafe characters of most abstracts. A text that
    # is printable then, with no double space, is what the general rule below makes of it.
    flat = text.replace("\n", " ").strip()
    if "  " not in flat and flat.isprintable():
        return flat
    return " ".join(strip_unsafe(text).split())


# LaTeX accent commands and braces as BibTeX exports write them, e.g. {\"u}ber, \emph{x}.
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+\*?|\\.")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# What _NON_WORD replaces, for ASCII text: everything but letters and digits.
_ASCII_NON_WORD = {c: " " for c in range(128) if not chr(c).isalnum()}


def normalize_title(title: str) -> str:
    """The comparison form of a title: case, punctuation, whitespace, LaTeX and accents removed."""
    text = _LATEX_COMMAND.sub("", title) if "\\" in title else title
    text = text.replace("{", "").replace("}", "")  # BibTeX case guards sit inside words
    if text.isascii():  # most titles: the same as below, by one table (about 3 times faster)
        return " ".join(text.lower().translate(_ASCII_NON_WORD).split())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _WS.sub(" ", _NON_WORD.sub(" ", text.casefold())).strip()


def title_key(title: str) -> str:
    """Short stable hash of the normalized title, or "" for a title with no word in it."""
    normalized = normalize_title(title)
    if not normalized:
        return ""
    return hashlib.sha1(normalized.encode("utf-8")).hexdigest()[:12]


_NEW_ARXIV = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
# Old-style ids (hep-th/9901001, math.AG/0101001). The look-behind starts a match only where
# a run of letters starts and the archive name is bounded: `[a-z][a-z-]*` alone retried from
# every letter of a long run, quadratic (an id of 20,000 letters took 8 s in a web request).
_OLD_ARXIV = re.compile(r"(?<![a-z\-])([a-z][a-z\-]{0,19}(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")


def normalize_arxiv_id(value: str) -> str | None:
    """'http://arxiv.org/abs/2401.01234v2', 'arXiv:2401.01234' -> '2401.01234'; None if absent."""
    value = value.strip()
    match = _NEW_ARXIV.search(value)
    if match:
        return match.group(1)
    match = _OLD_ARXIV.search(value)
    if match:
        return match.group(1)
    return None


def arxiv_id_from_doi(doi: str) -> str | None:
    """arXiv's own DOIs (10.48550/arXiv.2401.01234) name an arXiv paper."""
    match = re.search(r"10\.48550/arxiv\.(.+)$", doi.strip(), re.IGNORECASE)
    return normalize_arxiv_id(match.group(1)) if match else None


def normalize_doi(value: str) -> str | None:
    value = value.strip()
    value = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", value, flags=re.IGNORECASE)
    if not re.match(r"^10\.\d{4,9}/\S+$", value):
        return None
    return value.lower()


def paper_id_for(arxiv_id: str | None, doi: str | None, title: str) -> str:
    """arXiv id when known, else DOI, else a short hash of the normalized title."""
    if arxiv_id:
        return arxiv_id
    if doi:
        return f"doi:{doi}"
    return f"title:{title_key(title)}"


_CODE_URL = re.compile(
    r"(?:https?://)?(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co)/[^\s<>\"'{}|\\^`\[\]]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"*"


def normalize_code_url(url: str) -> str:
    """Canonical https URL; GitHub/GitLab trimmed to owner/repo, trailing punctuation removed."""
    url = url.strip().rstrip(_TRAILING)
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    host, _, path = url.partition("/")
    host = host.lower()
    parts = [p for p in path.split("/") if p]
    if host in ("github.com", "gitlab.com"):
        if len(parts) < 2:
            return ""
        parts = parts[:2]
        parts[1] = parts[1].removesuffix(".git")
    elif not parts or parts[0] in ("papers", "docs", "blog", "login", "join"):
        return ""  # huggingface.co pages that are not code, models, datasets or spaces
    return f"https://{host}/" + "/".join(parts)


def find_code_urls(text: str) -> list[str]:
    lowered = text.lower()
    if "github" not in lowered and "gitlab" not in lowered and "huggingface" not in lowered:
        return []  # the common case, and far cheaper than running the pattern
    return _unique([normalize_code_url(m.group(0)) for m in _CODE_URL.finditer(text)])


# Fields copied from the best record that has them, in priority order.
_SCALAR_FIELDS = (
    "title",
    "published_at",
    "updated_at",
    "arxiv_id",
    "doi",
    "abs_url",
    "pdf_url",
    "project_url",
    "upstream_upvotes",
    "github_stars",
)
_LIST_FIELDS = ("authors", "categories")
_PRECISION_ORDER = ("day", "month", "year")


def content_hash(title: str, abstract: str) -> str:
    """Identifies the text a paper is embedded and indexed from; changes when that text does."""
    text = f"{title}\n{abstract}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def merge_records(records: list[PaperRecord], priority: Callable[[str], int]) -> dict[str, Any]:
    """Merge every source's view of one paper into the stored paper fields.

    Deterministic whatever the order records arrive in, so re-merging is idempotent. A field comes
    from the highest-priority source that has it; abstracts prefer the longest among the
    highest-priority sources, because listing pages and BibTeX often carry truncated text.
    PRIORITY gives a source's trust (higher wins): the caller hands in the source registry's
    (ingest/sources.py), so these rules stay pure and depend on no source.
    """
    if len(records) == 1:
        return _from_single(records[0])
    ranked = sorted(
        records,
        key=lambda r: (-priority(r.source), r.source, r.source_id),
    )
    merged: dict[str, Any] = {}
    for name in _SCALAR_FIELDS:
        merged[name] = next((getattr(r, name) for r in ranked if _present(getattr(r, name))), None)
    dated = [r for r in ranked if r.published_at]
    if dated:  # a full date from any source beats a bare year from a higher-priority one
        merged["published_at"] = min(
            dated, key=lambda r: _PRECISION_ORDER.index(r.published_precision)
        ).published_at
    for name in _LIST_FIELDS:
        merged[name] = next((getattr(r, name) for r in ranked if getattr(r, name)), [])
    abstracts = [r for r in ranked if r.abstract]
    if abstracts:
        best = priority(abstracts[0].source)
        top = [r for r in abstracts if priority(r.source) == best]
        merged["abstract"] = max(top, key=lambda r: len(r.abstract)).abstract
    else:
        merged["abstract"] = ""
    merged["code_urls"] = _unique([u for r in ranked for u in r.code_urls])
    merged["keywords"] = _unique([k for r in ranked for k in r.keywords])
    merged["title_key"] = title_key(merged["title"])
    merged["content_hash"] = content_hash(merged["title"], merged["abstract"])
    merged["id"] = paper_id_for(merged["arxiv_id"], merged["doi"], merged["title"])
    return merged


def _present(value: Any) -> bool:
    """Zero upvotes is information; an empty string is not."""
    return value is not None and value != ""


def _from_single(record: PaperRecord) -> dict[str, Any]:
    """merge_records of one record, without the ranking work (the common case in bulk imports)."""
    merged: dict[str, Any] = {
        name: value if _present(value := getattr(record, name)) else None for name in _SCALAR_FIELDS
    }
    for name in (*_LIST_FIELDS, "code_urls", "keywords"):
        merged[name] = list(getattr(record, name))
    merged["abstract"] = record.abstract
    merged["title_key"] = record.title_key
    merged["content_hash"] = content_hash(record.title, record.abstract)
    merged["id"] = record.paper_id
    return merged
