"""Each source reader on hand-made responses in the shape the real services return."""

import io
from datetime import datetime

import pytest

from conftest import FIXTURES, LISTING_PAGES
from papertide.ingest import arxiv_atom, bibtex, hf, oai, tabular
from papertide.ingest.formats import detect
from papertide.records import PaperRecord, Reject


def read(reader, name: str) -> tuple[list[PaperRecord], list[Reject]]:
    with (FIXTURES / name).open("rb") as handle:
        items = list(reader(handle, name))
    return (
        [i for i in items if isinstance(i, PaperRecord)],
        [i for i in items if isinstance(i, Reject)],
    )


def test_arxiv_atom_entries():
    records, rejects = read(arxiv_atom.read, "arxiv_atom.xml")
    assert rejects == []
    assert [r.arxiv_id for r in records] == ["2407.05528", "2611.00001", "2611.00002"]
    first = records[0]
    assert first.title == (
        "An accurate detection is not all you need to combat label noise in web-noisy datasets"
    )
    assert first.authors == ["Paul Albert", "Jack Valmadre", "Eric Arazo"]
    assert first.categories == ["cs.CV", "cs.LG"]
    assert first.published_at == datetime(2024, 7, 8, 17, 59)
    assert first.updated_at == datetime(2024, 7, 10, 9, 0)
    assert first.abs_url == "https://arxiv.org/abs/2407.05528"
    assert first.code_urls == ["https://github.com/PaulAlbert31/LSA"]  # from the comment
    assert records[1].doi == "10.1000/fixture.2611.00001"
    assert records[1].code_urls == ["https://huggingface.co/papertide-fixtures/tiny-moe"]
    assert records[2].categories == ["stat.ML"]
    assert arxiv_atom.total_results((FIXTURES / "arxiv_atom.xml").read_bytes()) == 3


def test_arxiv_api_error_entry_is_a_reject():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        b"<id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id>"
        b"<title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>"
    )
    (item,) = list(arxiv_atom.read(io.BytesIO(body), "api"))
    assert isinstance(item, Reject) and "incorrect id format" in item.reason


def test_oai_arxiv_and_arxivraw_records_and_token():
    page: dict[str, str] = {}
    with (FIXTURES / "oai_page1.xml").open("rb") as handle:
        items = list(oai.read(handle, "p1", page))
    assert page["token"] == "token-page-2"
    records = [i for i in items if isinstance(i, PaperRecord)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [r.arxiv_id for r in records] == ["2407.05528", "2611.00003"]
    assert records[0].authors == ["Paul Albert", "Jack Valmadre", "Eric Arazo"]
    assert records[0].published_at == datetime(2024, 7, 8)
    assert records[1].code_urls == ["https://github.com/papertide-fixtures/symtok"]
    assert len(rejects) == 1 and "deleted" in rejects[0].reason

    page = {}
    with (FIXTURES / "oai_page2.xml").open("rb") as handle:
        (raw,) = list(oai.read(handle, "p2", page))
    assert page["token"] == ""  # an empty token ends the list
    assert raw.authors == ["Sofia Kovalevskaya", "Henri Poincare", "Lise Meitner"]
    assert raw.published_at == datetime(2026, 11, 20, 10, 0)
    assert raw.updated_at == datetime(2026, 11, 22, 9, 0)
    assert raw.categories == ["math.DS", "cs.LG"]


def test_oai_error_response_is_reported():
    body = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b'<error code="badResumptionToken">expired</error></OAI-PMH>'
    )
    page: dict[str, str] = {}
    (item,) = list(oai.read(io.BytesIO(body), "oai", page))
    assert isinstance(item, Reject) and "badResumptionToken" in page["error"]
    quiet = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b'<error code="noRecordsMatch"/></OAI-PMH>'
    )
    assert list(oai.read(io.BytesIO(quiet), "oai", {})) == []


def test_hf_daily_papers_items():
    records, rejects = read(hf.read, "hf_daily.json")
    assert [r.arxiv_id for r in records] == ["2407.05528", "2611.00005"]
    first = records[0]
    assert first.upstream_upvotes == 12 and first.github_stars == 31
    assert first.code_urls == ["https://github.com/PaulAlbert31/LSA"]
    assert first.keywords == ["label noise", "web-crawled data", "contrastive learning"]
    assert first.authors == ["Paul Albert", "Jack Valmadre", "Eric Arazo"]
    assert records[1].project_url == "https://example.org/radiant"
    assert sorted(r.reason for r in rejects) == ["item is not a JSON object", "missing title"]


def test_hf_accepts_wrapped_and_single_documents():
    single = b'{"paper": {"id": "2611.00007", "title": "Alone"}}'
    wrapped = b'{"papers": [{"paper": {"id": "2611.00008", "title": "Wrapped"}}]}'
    assert [r.title for r in hf.read(io.BytesIO(single), "s")] == ["Alone"]
    assert [r.title for r in hf.read(io.BytesIO(wrapped), "w")] == ["Wrapped"]
    (bad,) = list(hf.read(io.BytesIO(b'{"paper": '), "broken"))
    assert isinstance(bad, Reject) and "invalid JSON" in bad.reason


def test_bibtex_zotero_and_scholar_entries():
    records, rejects = read(bibtex.read, "zotero.bib")
    by_title = {r.title: r for r in records}
    zotero = by_title[
        "An Accurate Detection is Not All You Need to Combat Label Noise in Web-Noisy Datasets"
    ]
    assert zotero.arxiv_id == "2407.05528"
    assert zotero.authors == ["Paul Albert", "Jack Valmadre", "Eric Arazo"]
    assert zotero.published_at == datetime(2024, 7, 1) and zotero.published_precision == "month"
    scholar = by_title["Attention is all you need"]
    assert scholar.arxiv_id is None and scholar.published_precision == "year"
    assert "Łukasz Kaiser" in scholar.authors
    godel = by_title["Über formal unentscheidbare Sätze"]
    assert godel.doi == "10.1007/bf01700692" and godel.authors == ["Kurt Gödel"]
    assert len(rejects) == 2
    assert any("malformed BibTeX" in r.reason for r in rejects)
    assert any(r.reason == "missing title" for r in rejects)


def test_jsonl_rows_and_rejects_with_line_numbers():
    records, rejects = read(tabular.read_jsonl, "papers.jsonl")
    assert [r.title for r in records] == ["Attention Is All You Need", "Symmetry-aware tokenizers"]
    assert records[0].arxiv_id == "1706.03762" and records[0].published_at == datetime(2017, 6, 12)
    assert records[1].arxiv_id == "2611.00003"  # taken from the arXiv URL
    assert [(r.where, r.reason.split(":")[0]) for r in rejects] == [
        ("papers.jsonl:3", "invalid JSON"),
        ("papers.jsonl:4", "missing title"),
        ("papers.jsonl:5", "not a JSON object"),
    ]


def test_csv_with_quotes_commas_and_semicolon_authors():
    records, rejects = read(tabular.read_csv, "papers.csv")
    assert [r.title for r in records] == [
        "Über formal unentscheidbare Sätze",
        "A CSV paper, with a comma",
    ]
    assert records[0].doi == "10.1007/bf01700692"
    assert records[1].authors == ["Jane Roe", "John Doe"]
    assert records[1].code_urls == ["https://github.com/papertide-fixtures/csv-paper"]
    assert [(r.where, r.reason) for r in rejects] == [("papers.csv:4", "missing title")]


def test_csv_without_title_column_is_one_reject():
    (item,) = list(tabular.read_csv(io.BytesIO(b"name_of_thing,other\na,b\n"), "x.csv"))
    assert "no 'title' column" in item.reason


def test_tsv_is_sniffed():
    body = b"title\tauthors\tdate\nA Tab Paper\tA. One; B. Two\t2026-01-02\n"
    (record,) = list(tabular.read_csv(io.BytesIO(body), "x.tsv"))
    assert record.title == "A Tab Paper" and record.authors == ["A. One", "B. Two"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (FIXTURES / "arxiv_atom.xml", "arxiv"),
        (FIXTURES / "oai_page1.xml", "oai"),
        (FIXTURES / "hf_daily.json", "hf"),
        (FIXTURES / "zotero.bib", "bibtex"),
        (FIXTURES / "papers.jsonl", "jsonl"),
        (FIXTURES / "papers.csv", "csv"),
        pytest.param(LISTING_PAGES / "page-a.txt", "listing", marks=pytest.mark.shared_data),
    ],
)
def test_format_detection_from_content(path, expected, tmp_path):
    # the content alone decides: copy under a neutral name
    neutral = tmp_path / "upload.dat"
    neutral.write_bytes(path.read_bytes())
    with neutral.open("rb") as handle:
        assert detect(handle, neutral.name) == expected
