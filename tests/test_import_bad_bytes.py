"""Issue 10, items 6 and 13: bad bytes never cost a good record, and no input gives a traceback.

Each test is named after the defect it pins; the files are made here, byte by byte.
"""

from __future__ import annotations

import io
import json
import os
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from papertide.ingest import sources
from papertide.ingest.formats import detect
from papertide.ingest.runner import import_file
from papertide.records import Notice, PaperRecord, Reject
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store.schema import papers
from papertide.web.app import create_app

ATOM = "http://www.w3.org/2005/Atom"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
NOT_XML = "\ufffe\uffff\ufdd0\U0001fffe\x01\x1b\x7f\x85"
FORBIDDEN = set(BIDI + NOT_XML) | {chr(c) for c in range(0xD800, 0xE000)}


def good_line(title: str, **fields) -> bytes:
    fields = {"title": title, "abstract": "Kept as written: café, naïve.", **fields}
    return json.dumps(fields, ensure_ascii=False).encode()  # raw UTF-8, not \u escapes


def jsonl(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


def stored(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {row.title: row._asdict() for row in conn.execute(select(papers))}


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def read_all(source_name: str, content: bytes) -> list:
    return list(sources.reader(source_name)(io.BytesIO(content), "upload"))


# -- 1. lone surrogates ----------------------------------------------------------------------


def test_lone_surrogate_in_a_json_line_is_replaced_and_the_batch_is_kept(engine, tmp_path):
    bad = b'{"title": "Broken \\ud800 title", "authors": ["A \\udfff B"]}'
    path = write(tmp_path, "s.jsonl", jsonl(good_line("First"), bad, good_line("Second")))
    summary = import_file(engine, path)
    assert summary.new == 3 and summary.rejected_count == 0
    rows = stored(engine)
    assert set(rows) == {"First", "Second", "Broken \ufffd title"}
    assert rows["Broken \ufffd title"]["authors"] == ["A \ufffd B"]


SURROGATE_FIELDS = {  # every text field a JSON record has, each with a lone surrogate
    "title": "Every field \ud800 at once",
    "abstract": "An abstract \udc00 with code at github.com/o/r\ud800",
    "authors": ["Ada \ud801 Lovelace", "\udbff"],
    "categories": ["cs.\ud800LG"],
    "keywords": ["key\udfffword"],
    "doi": "10.1234/x\ud800",
    "url": "https://example.org/\ud800",
    "pdf_url": "https://example.org/p\ud800.pdf",
    "project_url": "https://example.org/\udc80",
    "code_url": "https://github.com/o/r\ud800",
}


@pytest.mark.parametrize("wrap", ["jsonl", "jsonl-hf-item", "hf"])
def test_lone_surrogates_in_any_field_of_any_json_reader_never_reach_the_database(
    engine, tmp_path, wrap
):
    if wrap == "jsonl":
        content = jsonl(json.dumps(SURROGATE_FIELDS).encode(), good_line("Neighbour"))
    else:
        item = {
            "paper": {
                "id": "2401.00001\ud800",
                "title": SURROGATE_FIELDS["title"],
                "summary": SURROGATE_FIELDS["abstract"],
                "authors": [{"name": a} for a in SURROGATE_FIELDS["authors"]],
                "ai_keywords": SURROGATE_FIELDS["keywords"],
                "projectPage": SURROGATE_FIELDS["project_url"],
                "githubRepo": SURROGATE_FIELDS["code_url"],
            }
        }
        neighbour = {"paper": {"id": "2401.00002", "title": "Neighbour"}}
        if wrap == "hf":
            content = json.dumps([item, neighbour]).encode()
        else:
            content = jsonl(json.dumps(item).encode(), json.dumps(neighbour).encode())
    summary = import_file(engine, write(tmp_path, "upload.json", content))
    assert summary.new == 2 and summary.rejected_count == 0
    for row in stored(engine).values():
        text = json.dumps(row, default=str, ensure_ascii=False)
        text.encode("utf-8")  # raises on a lone surrogate
        assert not FORBIDDEN & set(text)


def test_surrogate_character_reference_in_xml_rejects_only_its_entry():
    entries = [
        f"<entry><id>http://arxiv.org/abs/2401.0000{n}</id><title>{title}</title></entry>"
        for n, title in ((1, "Before"), (2, "Bad &#xD800; reference"), (3, "After"))
    ]
    body = f'<feed xmlns="{ATOM}">{"".join(entries)}</feed>'.encode()
    items = read_all("arxiv", body)
    assert [i.title for i in items if isinstance(i, PaperRecord)] == ["Before", "After"]
    assert any(isinstance(i, Reject) and "#entry2" in i.where for i in items)


# -- 2. a first line over 64 KiB ----------------------------------------------------------------


def test_jsonl_with_a_first_line_over_64_kib_is_detected_as_jsonl(engine, tmp_path):
    first = good_line("A very long first record", abstract="x" * 100_000)
    content = jsonl(first, good_line("Second record"))
    assert detect(io.BytesIO(content), "upload.dat") == "jsonl"
    summary = import_file(engine, write(tmp_path, "long.jsonl", content))
    assert summary.new == 2 and summary.rejected_count == 0


def test_jsonl_with_a_broken_first_record_is_still_jsonl(engine, tmp_path):
    content = jsonl(b'{"title": "Cut in the midd', good_line("Second"), good_line("Third"))
    assert detect(io.BytesIO(content), "upload.dat") == "jsonl"
    summary = import_file(engine, write(tmp_path, "cut.jsonl", content))
    assert summary.new == 2 and summary.rejected_count == 1
    assert summary.rejected[0].where.endswith(":1")


# -- 3. one invalid byte -----------------------------------------------------------------------


def test_one_invalid_byte_changes_only_its_line_and_is_warned(engine, tmp_path):
    lines = [
        good_line("Café society"),
        b'{"title": "A broken \xff byte in na\xc3\xafve text"}',  # UTF-8 with one bad byte
        '{"title": "Über Kategorien"}'.encode("latin-1"),  # a Latin-1 line from an old export
        good_line("Naïve Bayes"),
    ]
    summary = import_file(engine, write(tmp_path, "mixed.jsonl", jsonl(*lines)))
    assert summary.new == 4 and summary.rejected_count == 0
    assert set(stored(engine)) == {
        "Café society",
        "A broken \ufffd byte in naïve text",
        "Über Kategorien",
        "Naïve Bayes",
    }
    reasons = {w.where.rsplit(":", 1)[1]: w.reason for w in summary.warnings}
    assert reasons == {
        "2": "line 2: invalid UTF-8 bytes replaced by U+FFFD",
        "3": "line 3: not UTF-8, read as Windows-1252",
    }
    # the repaired file, imported later, matches what is stored: nothing is doubled
    fixed = jsonl(lines[0], good_line("Über Kategorien"), lines[3])
    again = import_file(engine, write(tmp_path, "fixed.jsonl", fixed))
    assert again.new == 0 and again.warnings == []


@pytest.mark.parametrize(
    ("source_name", "template"),
    [
        ("csv", "title,authors\n{good},Ada\n{bad},Bob\n{good2},Cy\n"),
        ("listing", "{good}\n{abstract}\n{bad}\n{abstract}\n{good2}\n{abstract}\n"),
        ("bibtex", "@article{{a, title={{{good}}}}}\n@article{{b, title={{{bad}}}}}\n"
         "@article{{c, title={{{good2}}}}}\n"),
    ],
)  # fmt: skip
def test_every_text_reader_decodes_each_line_on_its_own(source_name, template):
    abstract = "A long abstract sentence that goes on and on. " * 4 + "It ends here."
    content = template.format(good="Café one", bad="@@BAD@@", good2="Naïve two", abstract=abstract)
    content = content.encode().replace(b"@@BAD@@", b"Caf\xe9 latin")
    items = read_all(source_name, content)
    titles = {i.title for i in items if isinstance(i, PaperRecord)}
    assert {"Café one", "Naïve two", "Café latin"} <= titles
    (notice,) = [i for i in items if isinstance(i, Notice)]
    assert "read as Windows-1252" in notice.reason


def test_old_mac_line_ends_are_decoded_line_by_line_too():
    content = b"\r".join(
        [good_line("Café first"), b'{"title": "Caf\xe9 second"}', good_line("Third")]
    )
    items = read_all("jsonl", content)
    assert [i.title for i in items if isinstance(i, PaperRecord)] == [
        "Café first",
        "Café second",
        "Third",
    ]
    assert [i.reason for i in items if isinstance(i, Notice)] == [
        "line 2: not UTF-8, read as Windows-1252"
    ]


# -- 4. deep nesting -----------------------------------------------------------------------------


@pytest.mark.parametrize("opener", ['{"a":', "["])
def test_deeply_nested_json_is_a_reject_not_a_recursion_error(engine, tmp_path, opener):
    closer = "}" if opener.startswith("{") else "]"
    deep = (opener * 100_000 + "1" + closer * 100_000).encode()
    assert detect(io.BytesIO(deep), "deep.json") in ("jsonl", "hf")
    summary = import_file(engine, write(tmp_path, "deep.json", deep))
    assert summary.rejected_count == 1 and "nested too deeply" in summary.rejected[0].reason
    among_good = jsonl(good_line("Before"), deep, good_line("After"))
    summary = import_file(engine, write(tmp_path, "deep.jsonl", among_good))
    assert summary.new == 2 and "nested too deeply" in summary.rejected[0].reason


def test_hf_document_with_one_broken_item_keeps_the_other_items():
    items = [
        b'{"paper": {"id": "2401.00001", "title": "First, [with] brackets"}}',
        b"[" * 100_000 + b"]" * 100_000,  # too deep for json: the whole document used to fail
        b'{"paper": {"id": "2401.00003", "title": "Third \\" ]} quoted"}}',
        b'{"paper": {"id": "2401.00004", "title": "Cut off',  # a download cut short
    ]
    read = read_all("hf", b"[" + b", ".join(items))
    titles = [i.title for i in read if isinstance(i, PaperRecord)]
    assert titles == ["First, [with] brackets", 'Third " ]} quoted']
    assert [i.where for i in read if isinstance(i, Reject)] == ["upload[1]", "upload[3]"]


# -- 5. stray NULs and truly binary files ------------------------------------------------------


def test_text_file_with_a_few_nuls_is_read_line_by_line(engine, tmp_path):
    content = jsonl(good_line("One"), b'\x00\x00{"title": "x\x00"}', good_line("Two"))
    assert len(content) < 200
    summary = import_file(engine, write(tmp_path, "nul.jsonl", content))
    assert summary.new == 2 and summary.rejected_count == 1
    assert summary.rejected[0].where.endswith("nul.jsonl:2")


BINARIES = {
    "random.bin": os.urandom(4096),
    "compressed.gz": zlib.compress(os.urandom(2048) + b"title,authors\n" * 200),
    "zeros.db": b"SQLite format 3\x00" + bytes(4096),
}


@pytest.mark.parametrize("name", BINARIES)
def test_truly_binary_file_is_refused_and_both_import_commands_exit_non_zero(cli, tmp_path, name):
    path = write(tmp_path, name, BINARIES[name])
    imported = cli.run("import", "--json", str(path), check=False)
    assert imported.returncode == 1
    assert json.loads(imported.stdout)["rejected"][0]["reason"] == "binary file, not text"
    cli.run("users", "create", "reader", "--password-stdin", stdin="password123\n")
    seeded = cli.run("library", "import", str(path), "--user", "reader", check=False)
    assert seeded.returncode == 1 and "binary file, not text" in seeded.stdout
    assert "Traceback" not in seeded.stderr + imported.stderr


def test_eight_bit_text_is_read_with_a_warning_not_refused_as_binary(engine, tmp_path):
    cyrillic = "".join(map(chr, range(0x0430, 0x0450)))  # every byte of it is non-UTF-8
    rows = "".join(f"{cyrillic} {n},{cyrillic}\n" for n in range(50))
    content = f"title,authors\n{rows}".encode("cp1251")
    summary = import_file(engine, write(tmp_path, "cyrillic.csv", content))
    assert summary.new == 50 and summary.rejected_count == 0
    assert "read as Windows-1252" in summary.warnings[0].reason


# -- 6. bidi controls and characters XML cannot carry -----------------------------------------


HOSTILE = f"Evil{BIDI}gnp.exe{NOT_XML} title"


def _hostile_file(source_name: str) -> bytes:
    """A record of SOURCE_NAME's format with HOSTILE in every text field it has."""
    h = HOSTILE
    if source_name in ("arxiv", "oai"):
        # XML carries bidi controls as they are and the rest as character references, which a
        # recovering parser keeps.
        x = "".join(c if c in BIDI else f"&#x{ord(c):X};" for c in h)
        if source_name == "arxiv":
            return (
                f'<feed xmlns="{ATOM}"><entry><id>http://arxiv.org/abs/2401.00001</id>'
                f"<title>{x}</title><summary>{x}</summary><author><name>{x}</name></author>"
                f'<category term="cs.LG"/></entry></feed>'
            ).encode()
        return (
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record>'
            "<header><identifier>oai:arXiv.org:2401.00001</identifier></header><metadata>"
            '<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>2401.00001</id>'
            f"<title>{x}</title><abstract>{x}</abstract><categories>cs.LG {x}</categories>"
            f"<authors><author><keyname>{x}</keyname><forenames>{x}</forenames></author>"
            "</authors></arXiv></metadata></record></ListRecords></OAI-PMH>"
        ).encode()
    if source_name == "hf":
        paper = {"id": "2401.00001", "title": h, "summary": h, "authors": [{"name": h}]}
        return json.dumps([{"paper": {**paper, "ai_keywords": [h]}}]).encode()
    if source_name == "jsonl":
        fields = {"title": h, "abstract": h, "authors": [h], "categories": [h], "keywords": [h]}
        return json.dumps(fields).encode() + b"\n"
    if source_name == "arxiv-snapshot":
        fields = {
            "id": "2401.00001",
            "title": h,
            "abstract": h,
            "authors_parsed": [[h, h, ""]],
            "categories": f"cs.LG {h}",
            "comments": h,
            "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 10:00:00 GMT"}],
        }
        return json.dumps(fields).encode() + b"\n"
    if source_name == "openalex":
        fields = {
            "id": "https://openalex.org/W1",
            "title": h,
            "abstract_inverted_index": {h: [0]},
            "authorships": [{"author": {"display_name": h}}],
            "topics": [{"display_name": h}],
        }
        return json.dumps(fields).encode() + b"\n"
    if source_name == "csv":
        return (
            f'title,abstract,authors,categories,keywords\n"{h}","{h}","{h}","{h}","{h}"\n'.encode()
        )
    if source_name == "bibtex":
        fields = ", ".join(
            f"{name}={{{h}}}" for name in ("title", "author", "abstract", "keywords")
        )
        return f"@article{{k, {fields}}}".encode()
    if source_name == "csl-json":
        item = {"type": "article", "title": h, "abstract": h, "author": [{"literal": h}]}
        return json.dumps([{**item, "keyword": h}]).encode()
    if source_name == "ris":
        tags = ("TI", "AU", "AB", "KW")
        return ("TY  - GEN\n" + "".join(f"{t}  - {h}\n" for t in tags) + "ER  - \n").encode()
    long_abstract = f"{h} is described at length here. " * 8 + "The end."
    return f"{h}\n{long_abstract}\n".encode()  # listing


@pytest.mark.parametrize("source_name", [s.name for s in sources.all_sources() if s.read])
def test_bidi_controls_and_xml_illegal_characters_never_stored_from_any_reader(source_name):
    records = [
        i for i in read_all(source_name, _hostile_file(source_name)) if isinstance(i, PaperRecord)
    ]
    assert records, f"{source_name}: the hostile record was not read at all"
    for record in records:
        assert "Evilgnp.exe" in record.title
        text = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
        assert not FORBIDDEN & set(text), f"{source_name}: {FORBIDDEN & set(text)}"


def test_bidi_controls_are_neutralised_before_they_reach_the_database(engine, tmp_path):
    path = write(tmp_path, "bidi.jsonl", _hostile_file("jsonl"))
    assert import_file(engine, path).new == 1
    (row,) = stored(engine).values()
    assert row["title"] == "Evilgnp.exe title" and row["authors"] == ["Evilgnp.exe title"]


# -- what else one bad record used to cost ------------------------------------------------------


def test_upvote_count_beyond_sqlite_integers_does_not_abort_the_batch(engine, tmp_path):
    huge = json.dumps({"paper": {"id": "2401.00001", "title": "Huge", "upvotes": 10**30}})
    path = write(tmp_path, "votes.jsonl", jsonl(huge.encode(), good_line("Neighbour")))
    assert import_file(engine, path).new == 2
    assert stored(engine)["Huge"]["upstream_upvotes"] is None


def test_csv_row_with_an_open_quote_costs_only_itself():
    content = (
        b"title,abstract\n"
        b"Good one,a\n"
        b'"An open quote never closed,b\n'
        b'"Good two","multi\nline ""quoted"" abstract"\n'
        b'"5" disk drives,c\n'  # sloppy quoting, read the way its writer meant it
        b'"cut at the end\n'
        b"Good three,d\n"
    )
    items = read_all("csv", content)
    titles = [i.title for i in items if isinstance(i, PaperRecord)]
    assert titles == ["Good one", "Good two", "5 disk drives", "Good three"]
    assert [i.where for i in items if isinstance(i, Reject)] == ["upload:3", "upload:7"]


def test_one_unsplittable_author_name_does_not_cost_the_bibtex_entry():
    authors = b'Last, First, Jr, Extra and G{\\"o}del, Kurt'
    content = b"@article{a, title={Too many commas}, author={%s}}" % authors
    (record,) = read_all("bibtex", content)
    assert record.title == "Too many commas"
    assert record.authors[1] == "Kurt G\u00f6del" and "Last" in record.authors[0]


def test_file_name_that_is_not_utf8_does_not_abort_the_import(engine, tmp_path):
    path = tmp_path / os.fsdecode(b"caf\xe9 export.jsonl")  # a lone surrogate in a str
    path.write_bytes(jsonl(good_line("Named badly"), b"not json"))
    summary = import_file(engine, path)
    assert summary.new == 1 and summary.rejected_count == 1
    assert summary.rejected[0].where.endswith("caf\ufffd export.jsonl:2")
    assert import_file(engine, path).duplicates == 1  # and its checkpoint name is stable


def test_malformed_xml_costs_only_the_damaged_entry():
    def entry(n: int, title: bytes) -> bytes:
        return b"<entry><id>http://arxiv.org/abs/2401.0000%d</id><title>%s</title></entry>" % (
            n,
            title,
        )

    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom">'
        + entry(1, b"First")
        + entry(2, b"Control \x01 and caf\xe9 bytes")
        + b"\x00"
        + entry(3, b"Third")
        + b"</feed>"
    )
    items = read_all("arxiv", body)
    titles = [i.title for i in items if isinstance(i, PaperRecord)]
    assert titles[0] == "First" and titles[2] == "Third" and titles[1].startswith("Control")
    (reject,) = [i for i in items if isinstance(i, Reject)]
    assert reject.reason.startswith("malformed XML: line 1")


# -- end to end: the CLI and the library-import API ---------------------------------------------


MIXED = jsonl(
    good_line("Good paper one"),
    b'{"title": "Surrogate \\ud800 paper"}',
    b'\x00\x00{"title": "nul"}',
    b'{"title": "Latin-1 caf\xe9"}',
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"abstract": "no title"}',
    good_line("Good paper two"),
)
MIXED_TITLES = {"Good paper one", "Good paper two", "Surrogate \ufffd paper", "Latin-1 café"}


def _check_mixed_summary(summary: dict) -> None:
    assert summary["new"] == 4 and summary["rejected_count"] == 3
    assert sorted(r["where"].rsplit(":", 1)[1] for r in summary["rejected"]) == ["3", "5", "6"]
    assert [w["reason"] for w in summary["warnings"]] == ["line 4: not UTF-8, read as Windows-1252"]


def test_cli_import_of_a_mixed_file_keeps_good_records_and_reports_bad_ones(cli, tmp_path, engine):
    result = cli.run("import", "--json", str(write(tmp_path, "mixed.jsonl", MIXED)))
    assert "Traceback" not in result.stderr
    _check_mixed_summary(json.loads(result.stdout))
    assert set(stored(engine)) == MIXED_TITLES


def test_library_import_api_with_a_mixed_file_keeps_good_records_and_reports_bad_ones(
    db_url, engine
):
    token, hashed = new_token()
    with engine.begin() as conn:
        user = accounts.create_user(conn, "importer", hash_password("password123"))
        accounts.create_api_token(conn, hashed, user, "test")
    client = TestClient(create_app(db_url), headers={"Authorization": f"Bearer {token}"})
    response = client.post("/api/me/library-import", files={"file": ("mixed.jsonl", MIXED)})
    assert response.status_code == 200, response.text
    report = response.json()
    _check_mixed_summary(report)
    assert report["saved"] == 4
    assert set(stored(engine)) == MIXED_TITLES
    binary = client.post("/api/me/library-import", files={"file": ("x.bib", os.urandom(4096))})
    assert binary.status_code < 500
