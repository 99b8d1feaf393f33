"""Exports (issue 14, item 5): BibTeX, CSL-JSON and RIS writers, the readers that take them
back, and the round trip of a whole library into an empty database."""

import io
import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import FIXTURES
from papertide.export import FORMAT_NAMES, Reference, export_text, filename, get
from papertide.export.bibtex import latex
from papertide.ingest import bibtex, csl_json, ris, sources
from papertide.ingest.runner import import_file
from papertide.ingest.seed import seed_library
from papertide.ingest.sources import Sniff
from papertide.records import PaperRecord, Reject, clean_text, title_key
from papertide.security import hash_password
from papertide.store import accounts, collections, library
from papertide.store.engine import open_engine
from papertide.store.exports import papers_for_export
from papertide.store.schema import papers

READERS = {"bibtex": bibtex.read, "csl-json": csl_json.read, "ris": ris.read}
ATTENTION = Reference(
    id="1706.03762",
    title="Attention Is All You Need: $\\mathcal{O}(n^2)$ & 100% {braces}",
    authors=("Ashish Vaswani", "Łukasz Kaiser", "Ludwig van Beethoven", "Google Brain, Inc."),
    published_at=datetime(2017, 6, 12),
    arxiv_id="1706.03762",
    doi="10.48550/arxiv.1706.03762",
    url="https://arxiv.org/abs/1706.03762",
    abstract="The dominant sequence transduction models — with “quotes” and a_b ~ c.",
    categories=("cs.CL", "cs.LG"),
    keywords=("transformers",),
)
GODEL = Reference(
    id="doi:10.1007/bf01700692",
    title="Über formal unentscheidbare Sätze",
    authors=("Kurt Gödel",),
    published_at=datetime(1931, 1, 1),
    precision="year",
    doi="10.1007/bf01700692",
)


def read_back(fmt: str, text: str) -> list[PaperRecord]:
    items = list(READERS[fmt](io.BytesIO(text.encode()), "export"))
    assert not [i for i in items if isinstance(i, Reject)], items
    return [i for i in items if isinstance(i, PaperRecord)]


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_every_format_reads_back_with_its_fields(fmt):
    text = get(fmt).write([ATTENTION, GODEL])
    assert sources.detect(Sniff(text.lstrip()[:4000], ".txt")) == fmt  # `import` finds it
    first, second = read_back(fmt, text)
    names = list(ATTENTION.authors)
    if fmt == "ris":  # RIS names are "Family, Given": a comma inside a name cannot be told apart
        names[-1] = "Inc. Google Brain"
    assert first.title == ATTENTION.title and first.authors == names
    assert first.arxiv_id == "1706.03762" and first.doi == ATTENTION.doi
    assert first.published_at == datetime(2017, 6, 12) and first.abstract == ATTENTION.abstract
    assert first.abs_url == ATTENTION.url
    assert second.published_precision == "year" and second.published_at.year == 1931
    assert second.authors == ["Kurt Gödel"] and second.doi == GODEL.doi
    assert second.arxiv_id is None


def test_bibtex_entry_has_arxiv_fields_and_escapes():
    text = get("bibtex").write([ATTENTION, ATTENTION])
    assert "@misc{vaswani2017attention," in text and "@misc{vaswani2017attention2," in text
    assert "eprint = {1706.03762}" in text and "archiveprefix = {arXiv}" in text
    assert "primaryclass = {cs.CL}" in text and "keywords = {cs.CL, cs.LG, transformers}" in text
    assert "100\\% \\& $\\mathcal{O}(n^2)$" not in text  # math kept, text escaped:
    assert "$\\mathcal{O}(n^2)$ \\& 100\\% \\{braces\\}" in text
    assert "Kaiser, {\\L}ukasz" in text  # non-ASCII as LaTeX
    assert "{Google Brain, Inc.}" in text  # a comma in a name: braced, one literal name
    assert "date = {2017-06-12}" in text and "year = {2017}" in text
    assert "date = " not in get("bibtex").write([GODEL])  # a bare year stays a year


def test_csl_json_is_what_zotero_reads():
    (item,) = json.loads(get("csl-json").write([ATTENTION]))
    assert item["type"] == "article" and item["number"] == "arXiv:1706.03762"
    assert item["issued"] == {"date-parts": [[2017, 6, 12]]}
    assert item["author"][0] == {"given": "Ashish", "family": "Vaswani"}
    assert item["author"][2] == {
        "given": "Ludwig",
        "non-dropping-particle": "van",
        "family": "Beethoven",
    }
    assert item["author"][3] == {"literal": "Google Brain, Inc."}


def test_ris_tags():
    text = get("ris").write([ATTENTION])
    lines = text.splitlines()
    assert lines[0] == "TY  - GEN" and "ER  - " in lines
    assert "AU  - Vaswani, Ashish" in lines and "AN  - 1706.03762" in lines
    assert "DB  - arXiv" in lines and "DA  - 2017/06/12" in lines
    assert not any(line.rstrip(".").isdigit() for line in lines)  # no rispy numbering


def test_readers_report_bad_records_and_keep_good_ones():
    csl = b'[{"type": "article", "title": "Good one"}, {"type": "article"}, 3]'
    items = list(csl_json.read(io.BytesIO(csl), "lib.json"))
    assert [i.title for i in items if isinstance(i, PaperRecord)] == ["Good one"]
    rejected = [i.where for i in items if isinstance(i, Reject)]
    assert rejected == ["lib.json:item 2", "lib.json:item 3"]
    assert isinstance(next(csl_json.read(io.BytesIO(b"[{"), "x")), Reject)
    text = b"TY  - GEN\nTI  - Kept\nER  - \n\nTY  - GEN\nAU  - No, Title\nER  - \n\nTI  - x\n"
    items = list(ris.read(io.BytesIO(text), "lib.ris"))
    assert [i.title for i in items if isinstance(i, PaperRecord)] == ["Kept"]
    assert [i.where for i in items if isinstance(i, Reject)] == ["lib.ris:5", "lib.ris:9"]


def test_export_file_names_are_safe():
    assert filename('a"b\r\n/../c', "bibtex") == "a-b---..-c.bib"
    assert filename("", "ris") == "papers.ris" and filename("x", "csl-json") == "x.json"
    with pytest.raises(ValueError, match="bibtex, csl-json, ris"):
        get("docx")


# Any text papertide could store as a title (clean_text is what every record passes through,
# and a title needs a word) or an author name.
# Any Unicode, and text made of what LaTeX and BibTeX give a meaning to (specials, ligatures,
# math, accents, combining marks), which random Unicode rarely hits.
LATEX_BITS = st.sampled_from(
    [*"\\{}$%&#_^~\"'`-?!<>|@ ,.éüßøŁ中\u0301\u0308", "--", "''", "``", "$x^2$", "$\\alpha$"]
)
STORED_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=60),
    st.lists(st.one_of(LATEX_BITS, st.text(max_size=3)), min_size=1, max_size=15).map("".join),
).map(clean_text)
TITLES = STORED_TEXT.filter(lambda t: title_key(t) != "")
NAMES = STORED_TEXT.filter(bool)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TITLES, st.lists(NAMES, max_size=5), STORED_TEXT)
def test_any_title_and_authors_round_trip_through_bibtex(title, authors, abstract):
    ref = Reference(id="x", title=title, authors=tuple(authors), abstract=abstract)
    (back,) = read_back("bibtex", get("bibtex").write([ref]))
    assert (back.title, back.authors, back.abstract) == (title, authors, abstract)


@settings(max_examples=200, deadline=None)
@given(TITLES, st.lists(NAMES, max_size=5))
def test_any_title_and_authors_round_trip_through_csl_json(title, authors):
    (back,) = read_back("csl-json", get("csl-json").write([Reference("x", title, tuple(authors))]))
    assert (back.title, back.authors) == (title, authors)


@settings(max_examples=300, deadline=None)
@given(STORED_TEXT)
def test_latex_escaping_reads_back_as_the_text(text):
    assert bibtex.decode(latex(text)) == text


# -- a whole library, exported and imported into an empty database --------------------------


AWKWARD = {
    "title": "Ünïcode & {braces} -- 100% \\not $\\alpha$-tricks ~ #1 \"quoted\" 中文",
    "authors": ["María José García Márquez", "Jean-Luc O'Neil", "Ludwig van Beethoven Jr.", "X"],
    "date": "2026-11-20",
    "doi": "10.5555/ÄB_c%d",
}
BARE = {"title": "A paper with nothing else"}


def _library_database(db_url: str, tmp_path) -> tuple[int, list[dict]]:
    """Every fixture file's papers, saved to one member's library."""
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "zotero.bib", "papers.jsonl", "papers.csv"):
        import_file(engine, FIXTURES / name)
    awkward = tmp_path / "awkward.jsonl"
    awkward.write_text(json.dumps(AWKWARD, ensure_ascii=False) + "\n" + json.dumps(BARE) + "\n")
    import_file(engine, awkward)
    with engine.begin() as conn:
        user_id = accounts.create_user(conn, "exporter", hash_password("password123"))
        ids = list(conn.execute(select(papers.c.id)).scalars())
        library.save_many(conn, user_id, ids)
        rows = papers_for_export(conn, collections.saved_paper_ids(conn, user_id))
    engine.dispose()
    return user_id, rows


def _identity(row) -> tuple:
    return (row["id"], row["title"], tuple(row["authors"]), row["doi"], row["arxiv_id"])


def _dated(row) -> tuple:
    day = row["published_at"] and row["published_at"].date()
    return (row["id"], day, row["published_precision"])


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_a_library_round_trips_into_an_empty_database(fmt, db_url, backend, databases, tmp_path):
    _user, rows = _library_database(db_url, tmp_path)
    assert len(rows) == 10 and any(r["arxiv_id"] for r in rows) and any(r["doi"] for r in rows)
    exported = tmp_path / f"library.{get(fmt).extension}"
    exported.write_text(export_text(rows, fmt), encoding="utf-8")
    folder = tmp_path / "empty"
    folder.mkdir()
    other = databases.new(backend, folder)
    engine = open_engine(other)
    try:
        with engine.begin() as conn:
            reader_id = accounts.create_user(conn, "importer", hash_password("password123"))
        summary, saved = seed_library(engine, reader_id, exported)  # the library import path
        assert summary.rejected_count == 0 and summary.new == len(rows) and saved == len(rows)
        with engine.connect() as conn:
            again = papers_for_export(conn, collections.saved_paper_ids(conn, reader_id))
        assert sorted(map(_identity, again)) == sorted(map(_identity, rows))
        assert sorted(map(_dated, again)) == sorted(map(_dated, rows))  # the day, as precise
    finally:
        engine.dispose()
        databases.drop(other)
