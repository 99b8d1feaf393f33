"""Keyword search (BM25) with tantivy, kept beside the database and rebuildable from it.

tantivy was measured at 0.8 ms p50 / 6.5 ms p99 for 2-3-word queries over 1M documents, where
SQLite FTS5 took 122 / 608 ms (see ../shared/notes/engines.md): FTS5 scores every matching row.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import tantivy

# Bumped when the schema or analysis changes, so older indexes are rebuilt, never misread.
SCHEMA_VERSION = 3  # 2: accent-folding analyzers; 3: keywords and LLM summaries
# keywords: the source's and the derived ones (extract/); summary: a one-line summary an LLM
# wrote (an extractive one is a sentence of the abstract, indexed already)
FIELD_BOOSTS = {"title": 3.0, "abstract": 1.0, "authors": 0.5, "keywords": 2.0, "summary": 1.0}
MAX_QUERY_TERMS = 64
PHRASE_BOOST = 2.0  # a saved search's words as a phrase, against the same words scattered
# A saved search's match that has its words but not as a phrase is kept only above this share
# of the best match's score: below it, the words are scattered through an unrelated paper.
SAVED_SEARCH_FLOOR = 0.5
WRITER_HEAP = 128_000_000
# tantivy keeps dates as nanoseconds in 64 bits: 1677-09-21 to 2262-04-11. Dates beyond are
# kept (and filtered on) as the nearest end, so an index run or a date filter never fails on
# a paper or a filter from the far past or future; comparisons keep their order.
DATE_RANGE = (datetime(1677, 9, 22), datetime(2262, 4, 11))


def _indexable(when: datetime) -> datetime:
    return min(max(when, DATE_RANGE[0]), DATE_RANGE[1])


@dataclass(frozen=True)
class Filters:
    """Restrictions applied to every search side alike."""

    since: datetime | None = None
    until: datetime | None = None
    category: str | None = None
    author: str | None = None

    def active(self) -> bool:
        return any((self.since, self.until, self.category, self.author))


@dataclass
class KeywordHit:
    id: str
    score: float
    snippet: str


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    """tantivy's `default` / `en_stem` analysis plus ASCII folding, so that `muller` finds
    Müller and `müller` finds Muller: readers type names and words without their accents."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    builder = builder.filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
    builder = builder.filter(tantivy.Filter.ascii_fold())
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


# Terms built by hand (prefixes, author filters) go through the same analysis as the text.
WORDS = _analyzer(stem=False)
ANALYZERS = {"papertide_words": WORDS, "papertide_stem": _analyzer(stem=True)}


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="papertide_stem")
    builder.add_text_field("abstract", stored=True, tokenizer_name="papertide_stem")
    builder.add_text_field("authors", tokenizer_name="papertide_words")
    builder.add_text_field("keywords", tokenizer_name="papertide_stem")
    builder.add_text_field("summary", tokenizer_name="papertide_stem")
    builder.add_text_field("categories", tokenizer_name="raw")
    builder.add_date_field("published", indexed=True, fast=True)
    return builder.build()


_PHRASE_OR_WORD = re.compile(r'"([^"]*)"?|(\S+)')
_NOT_WORD = re.compile(r"[^\w*]+", re.UNICODE)


def parse_user_query(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """Split free text into plain words, quoted phrases and prefix terms (`word*`).

    Everything else in tantivy's query language (field:, AND/OR/NOT, ^, ~, brackets) is treated as
    ordinary text, so user input can never be a syntax error or reach fields it should not.
    """
    words: list[str] = []
    phrases: list[list[str]] = []
    prefixes: list[str] = []
    for match in _PHRASE_OR_WORD.finditer(text):
        phrase, word = match.groups()
        if phrase is not None:
            tokens = _NOT_WORD.sub(" ", phrase.replace("*", " ")).lower().split()
            if len(tokens) > 1:
                phrases.append(tokens)
            else:
                words.extend(tokens)
            continue
        for token in _NOT_WORD.sub(" ", word).split():
            if token.endswith("*") and len(token.strip("*")) >= 2:
                prefixes.append(token.strip("*").lower())
            elif token.strip("*"):
                words.append(token.replace("*", "").lower())
    return words[:MAX_QUERY_TERMS], phrases[:8], prefixes[:8]


class KeywordIndex:
    """A tantivy index in DIRECTORY plus a small JSON file with what it was built from."""

    def __init__(self, directory: Path, read_only: bool = False) -> None:
        self.directory = directory
        self.meta_path = directory / "papertide-meta.json"
        self.schema = _schema()
        self.read_only = read_only  # readers open what a writer published; they create nothing
        self._index: tantivy.Index | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def meta(self) -> dict[str, Any] | None:
        try:
            meta = json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None
        return meta if meta.get("schema_version") == SCHEMA_VERSION else None

    def _write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**meta, "schema_version": SCHEMA_VERSION}))
        tmp.replace(self.meta_path)  # atomic: a crash leaves the old or the new meta, never half

    def usable(self) -> bool:
        """True when the index opens and matches its metadata; False means: rebuild it."""
        meta = self.meta()
        if meta is None:
            return False
        try:
            index = self._open()
            return index.searcher().num_docs == meta.get("num_docs")
        except (ValueError, OSError, RuntimeError):
            return False

    def _open(self) -> tantivy.Index:
        if self._index is None:
            if self.read_only:
                index = tantivy.Index.open(str(self.directory))
            else:
                index = tantivy.Index(self.schema, path=str(self.directory), reuse=True)
            for name, analyzer in ANALYZERS.items():  # tantivy keeps only their names on disk
                index.register_tokenizer(name, analyzer)
            self._index = index
        return self._index

    def _searcher(self) -> tantivy.Searcher | None:
        """A searcher, or None when no index has been published yet (a reader finds nothing)."""
        try:
            return self._open().searcher()
        except ValueError:
            if not self.read_only:
                raise
            return None

    def reset(self) -> None:
        """Delete everything on disk: the database can always rebuild it."""
        self._index = None
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)

    # -- writing -------------------------------------------------------------------------------

    def apply(
        self,
        papers: Iterable[dict[str, Any]],
        watermark: datetime | None,
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Add or replace PAPERS and record WATERMARK (the newest modified_at they cover).

        The metadata is written only after tantivy's commit. A crash before the commit leaves the
        index as it was; a crash between commit and metadata leaves a document count that
        disagrees with the metadata, which `usable()` reports, and the index is rebuilt.
        """
        index = self._open()
        writer = index.writer(WRITER_HEAP, 1)
        count = 0
        for paper in papers:
            writer.delete_documents_by_term("id", paper["id"])
            if not paper.get("hidden"):
                writer.add_document(self._document(paper))
            count += 1
            if on_progress and count % 1000 == 0:
                on_progress(count)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._write_meta(
            {
                "watermark": watermark.isoformat() if watermark else None,
                "num_docs": index.searcher().num_docs,
            }
        )
        return count

    def _document(self, paper: dict[str, Any]) -> tantivy.Document:
        fields: dict[str, Any] = {
            "id": paper["id"],
            "title": paper["title"],
            "abstract": paper["abstract"] or "",
            "authors": list(paper["authors"] or []),
            "categories": list(paper["categories"] or []),
            "keywords": [*(paper.get("keywords") or []), *(paper.get("derived_keywords") or [])],
        }
        if paper.get("summary_kind") == "llm" and paper.get("summary"):
            fields["summary"] = paper["summary"]
        if paper["published_at"]:
            fields["published"] = _indexable(paper["published_at"])
        return tantivy.Document(**fields)

    # -- reading -------------------------------------------------------------------------------

    def _text_query(self, text: str, match_all: bool = False) -> tantivy.Query | None:
        """The query for TEXT: any word (ranked by BM25), or with MATCH_ALL every word and
        prefix in the title or abstract, with the words as one phrase ranked far above them
        scattered: what a saved search means to the person who saved it."""
        words, phrases, prefixes = parse_user_query(text)
        index = self._open()
        boosts = {f: b for f, b in FIELD_BOOSTS.items() if not (match_all and f == "authors")}
        occur = tantivy.Occur.Must if match_all else tantivy.Occur.Should
        parts: list[tuple[tantivy.Occur, tantivy.Query]] = []
        query_text = " ".join([*words, *(f'"{" ".join(p)}"' for p in phrases)])
        if query_text:
            parsed, _errors = index.parse_query_lenient(
                query_text, list(boosts), field_boosts=boosts, conjunction_by_default=match_all
            )
            parts.append((occur, parsed))
        if match_all and len(words) > 1:
            phrase_boosts = {f: PHRASE_BOOST * b for f, b in boosts.items()}
            phrase, _errors = index.parse_query_lenient(
                f'"{" ".join(words)}"', list(boosts), field_boosts=phrase_boosts
            )
            parts.append((tantivy.Occur.Should, phrase))
        for prefix in prefixes:
            terms = WORDS.analyze(prefix)  # folded, not stemmed: a stem is no prefix of a word
            if not terms:
                continue
            either = [
                (tantivy.Occur.Should, tantivy.Query.phrase_prefix_query(self.schema, f, terms))
                for f in ("title", "abstract")
            ]
            parts.append((occur, tantivy.Query.boolean_query(either)))
        if not parts:
            return None
        return tantivy.Query.boolean_query(parts)

    def filter_query(self, filters: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        must: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if filters.since or filters.until:
            must.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        self.schema,
                        "published",
                        tantivy.FieldType.Date,
                        filters.since and _indexable(filters.since),
                        filters.until and _indexable(filters.until),
                        include_upper=filters.until is None,  # [since, until): until excluded
                    ),
                )
            )
        if filters.category:
            must.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.term_query(self.schema, "categories", filters.category),
                )
            )
        if filters.author:
            tokens = WORDS.analyze(filters.author)
            if tokens:
                author_query = (
                    tantivy.Query.term_query(self.schema, "authors", tokens[0])
                    if len(tokens) == 1
                    else tantivy.Query.phrase_query(self.schema, "authors", tokens)
                )
                must.append((tantivy.Occur.Must, author_query))
        return must

    def search(
        self,
        text: str,
        k: int = 10,
        filters: Filters | None = None,
        snippets: bool = True,
        match_all: bool = False,
    ) -> list[KeywordHit]:
        """The K best documents for TEXT passing FILTERS; MATCH_ALL: see `_text_query`."""
        filters = filters or Filters()
        searcher = self._searcher()
        if searcher is None:
            return []
        text_query = self._text_query(text, match_all)
        must = self.filter_query(filters)
        if text_query is None and not must:
            return []
        clauses = ([(tantivy.Occur.Must, text_query)] if text_query else []) + must
        query = tantivy.Query.boolean_query(clauses)
        hits = searcher.search(query, limit=k, count=False).hits
        generator = None
        if snippets and text_query is not None and hits:
            generator = tantivy.SnippetGenerator.create(searcher, query, self.schema, "abstract")
            generator.set_max_num_chars(240)
        results = []
        for score, address in hits:
            doc = searcher.doc(address)
            snippet = generator.snippet_from_doc(doc).to_html() if generator else ""
            results.append(KeywordHit(id=doc["id"][0], score=float(score), snippet=snippet))
        return results

    def saved_search(self, text: str, k: int, filters: Filters | None = None) -> list[KeywordHit]:
        """What a followed search means to the person who saved it: papers with all its words
        in the title or abstract; with several words, those that have them as a phrase, and
        others only when they score close to the best (SAVED_SEARCH_FLOOR)."""
        hits = self.search(text, k, filters, snippets=False, match_all=True)
        words = parse_user_query(text)[0]
        if len(words) < 2 or not hits:
            return hits
        phrase = f'"{" ".join(words)}"'
        as_phrase = {h.id for h in self.search(phrase, k, filters, snippets=False)}
        floor = SAVED_SEARCH_FLOOR * hits[0].score
        return [h for h in hits if h.id in as_phrase or h.score >= floor]

    def matching_ids(self, filters: Filters, limit: int) -> set[str]:
        """Ids of documents passing FILTERS (for the filters the vector side cannot apply)."""
        must = self.filter_query(filters)
        if not must:
            return set()
        searcher = self._searcher()
        if searcher is None:
            return set()
        hits = searcher.search(tantivy.Query.boolean_query(must), limit=limit, count=False).hits
        return {searcher.doc(address)["id"][0] for _score, address in hits}

    def num_docs(self) -> int:
        searcher = self._searcher()
        return searcher.num_docs if searcher is not None else 0
