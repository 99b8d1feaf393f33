"""Bulk snapshots: arXiv's metadata snapshot and OpenAlex works, plain, gzip or zstd."""

import gzip
import json
from datetime import datetime

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from papertide.ingest.runner import import_file
from papertide.store import queries
from papertide.store.engine import open_engine
from papertide.store.schema import paper_sources, papers

# Shaped as arxiv-metadata-oai-snapshot.json writes them (fields, line breaks, RFC 2822 dates).
SNAPSHOT = [
    {
        "id": "0704.0001",
        "submitter": "Pavel Nadolsky",
        "authors": "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
        "title": "Calculation of prompt diphoton production cross sections at Tevatron"
        " and\n  LHC energies",
        "comments": "37 pages, 15 figures; published version",
        "journal-ref": "Phys.Rev.D76:013009,2007",
        "doi": "10.1103/PhysRevD.76.013009",
        "report-no": "ANL-HEP-PR-07-12",
        "categories": "hep-ph",
        "license": None,
        "abstract": "  A fully differential calculation in perturbative quantum chromodynamics is"
        "\npresented for the production of massive photon pairs at hadron colliders.\n",
        "versions": [
            {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
            {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        ],
        "update_date": "2008-11-13",
        "authors_parsed": [
            ["Balázs", "C.", ""],
            ["Berger", "E. L.", ""],
            ["Nadolsky", "P. M.", ""],
            ["Yuan", "C. -P.", ""],
        ],
    },
    {
        "id": "hep-th/9901001",
        "authors": "Jane Roe",
        "title": "An old-style identifier",
        "comments": "Code: https://github.com/example-lab/old-style",
        "doi": None,
        "categories": "hep-th math-ph math.MP",
        "abstract": "Old identifiers keep their archive name.",
        "versions": [{"version": "v1", "created": "Fri, 1 Jan 1999 00:00:01 GMT"}],
        "update_date": "2009-10-31",
        "authors_parsed": [["Roe", "Jane", "Jr"]],
    },
    {
        "id": "2310.06825",
        "authors": "Albert Q. Jiang and Alexandre Sablayrolles",
        "title": "Mistral 7B",
        "categories": "cs.CL cs.AI cs.LG",
        "abstract": "We introduce Mistral 7B, a 7-billion-parameter language model.",
        "versions": [{"version": "v1", "created": "Tue, 10 Oct 2023 17:54:58 GMT"}],
        "update_date": "2023-10-11",
        "authors_parsed": [["Jiang", "Albert Q.", ""], ["Sablayrolles", "Alexandre", ""]],
    },
]

# The same Mistral paper as OpenAlex has it: arXiv's DataCite DOI, an inverted-index abstract.
WORK = {
    "id": "https://openalex.org/W4387635478",
    "doi": "https://doi.org/10.48550/arxiv.2310.06825",
    "title": "Mistral 7B",
    "display_name": "Mistral 7B",
    "publication_date": "2023-10-10",
    "publication_year": 2023,
    "authorships": [
        {"author": {"display_name": "Albert Q. Jiang"}},
        {"author": {"display_name": "Alexandre Sablayrolles"}},
    ],
    "abstract_inverted_index": {"We": [0], "introduce": [1], "Mistral": [2], "7B.": [3]},
    "primary_location": {"landing_page_url": "https://arxiv.org/abs/2310.06825"},
    "topics": [{"display_name": "Natural Language Processing Techniques"}],
}
OTHER_WORK = {
    "id": "https://openalex.org/W2100837269",
    "doi": "https://doi.org/10.1038/nature14539",
    "display_name": "Deep learning",
    "publication_date": "2015-05-27",
    "authorships": [{"author": {"display_name": "Yann LeCun"}}],
    "abstract_inverted_index": {
        "Deep": [0],
        "learning": [1, 5],
        "allows": [2],
        "models": [3],
        "for": [4],
    },
    "primary_location": {"landing_page_url": "https://doi.org/10.1038/nature14539"},
    "concepts": [{"display_name": "Deep learning"}, {"display_name": "Artificial intelligence"}],
}


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


@pytest.fixture
def store(db_url):
    engine = open_engine(db_url)
    yield engine
    engine.dispose()


def test_arxiv_snapshot_lines_become_papers_with_v1_dates_and_parsed_authors(store, tmp_path):
    path = tmp_path / "arxiv-metadata-oai-snapshot.json"
    path.write_bytes(jsonl(SNAPSHOT))
    summary = import_file(store, path)  # detected from the content
    assert (summary.new, summary.rejected_count) == (3, 0)
    with store.connect() as conn:
        first = queries.get_paper(conn, "0704.0001")
        old = queries.get_paper(conn, "hep-th/9901001")
    assert first["title"] == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first["abstract"].startswith("A fully differential calculation in perturbative")
    assert first["authors"] == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert first["published_at"] == datetime(2007, 4, 2, 19, 18, 42)  # v1, not v2
    assert first["doi"] == "10.1103/physrevd.76.013009"
    assert first["categories"] == ["hep-ph"]
    assert old["authors"] == ["Jane Roe Jr"]
    assert old["categories"] == ["hep-th", "math-ph", "math.MP"]
    assert old["code_urls"] == ["https://github.com/example-lab/old-style"]


def test_openalex_works_rebuild_their_abstracts_and_merge_with_their_arxiv_twins(store, tmp_path):
    snapshot, works = tmp_path / "snapshot.jsonl", tmp_path / "works.jsonl"
    snapshot.write_bytes(jsonl(SNAPSHOT))
    works.write_bytes(jsonl([WORK, OTHER_WORK]))
    import_file(store, snapshot)
    summary = import_file(store, works)
    assert (summary.new, summary.updated + summary.duplicates) == (1, 1)
    with store.connect() as conn:
        mistral = queries.get_paper(conn, "2310.06825")
        lecun = queries.get_paper(conn, "doi:10.1038/nature14539")
        count = conn.execute(select(func.count()).select_from(papers)).scalar()
    assert count == 4  # the twin merged: one paper, two sources
    assert {s["source"] for s in mistral["sources"]} == {"arxiv-snapshot", "openalex"}
    assert mistral["abstract"].startswith("We introduce Mistral 7B, a 7-billion")  # arXiv's wins
    assert lecun["abstract"] == "Deep learning allows models for learning"
    assert lecun["keywords"] == ["Deep learning", "Artificial intelligence"]
    assert lecun["published_at"] == datetime(2015, 5, 27)


@pytest.mark.parametrize("compress", [gzip.compress, zstandard.ZstdCompressor().compress])
def test_compressed_snapshots_are_read_as_they_are(store, tmp_path, compress):
    path = tmp_path / "arxiv-metadata-oai-snapshot.json.part"  # the name says nothing
    path.write_bytes(compress(jsonl(SNAPSHOT)))
    progress: list[int] = []
    summary = import_file(store, path, on_progress=progress.append)
    assert (summary.new, summary.rejected_count) == (3, 0)
    assert progress[-1] == path.stat().st_size  # progress counts the file's own bytes
    again = import_file(store, path)
    assert (again.new, again.duplicates) == (0, 3)


def test_a_damaged_compressed_file_keeps_what_came_before_the_damage(store, tmp_path):
    many = [{**SNAPSHOT[2], "id": f"2310.{n:05d}", "title": f"Paper {n}"} for n in range(3000)]
    whole = gzip.compress(jsonl(many))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 3 // 4])  # the last quarter never arrived
    summary = import_file(store, path)
    assert summary.new > 2000  # everything before the cut, up to the record it runs into
    damage = [r for r in summary.rejected if "damaged compressed data" in r.reason]
    assert len(damage) == 1 and summary.rejected_count <= 2
    with store.connect() as conn:
        titles = set(conn.execute(select(papers.c.title)).scalars())
    assert titles == {f"Paper {n}" for n in range(summary.new)}  # a prefix, no gap


def test_bad_snapshot_lines_are_rejected_with_their_line_numbers(store, tmp_path):
    lines = jsonl(SNAPSHOT[:1]) + b'{"id": "0704.0002", "title": \n' + b'{"id": "not an id"}\n'
    path = tmp_path / "snapshot.jsonl"
    path.write_bytes(lines + jsonl(SNAPSHOT[1:]))
    summary = import_file(store, path, fmt="arxiv-snapshot")
    assert summary.new == 3
    assert [r.where.rsplit(":", 1)[1] for r in summary.rejected] == ["2", "3"]
    assert "no arXiv id" in summary.rejected[1].reason
    with store.connect() as conn:
        sources = conn.execute(select(func.count()).select_from(paper_sources)).scalar()
    assert sources == 3


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1850, 1, 1), max_value=datetime(2300, 12, 31)),
    padded=st.booleans(),
)
def test_snapshot_version_dates_read_as_the_general_rfc_2822_parser_reads_them(moment, padded):
    from email.utils import format_datetime, parsedate_to_datetime

    from papertide.ingest.arxiv_snapshot import _rfc2822
    from papertide.ingest.base import parse_date

    text = format_datetime(moment.replace(microsecond=0), usegmt=False).replace("-0000", "GMT")
    if not padded:  # arXiv writes "2 Apr", format_datetime "02 Apr"
        text = text.replace(" 0", " ", 1) if text[5] == "0" else text
    assert _rfc2822(text) == parse_date(parsedate_to_datetime(text))
