"""End to end through the `papertide` command in a subprocess, on a temp SQLite database."""

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from conftest import FIXTURES, LISTING_PAGES, assert_killed_import_resumes_exactly
from papertide.store.schema import checkpoints

ALL_SOURCES = [
    LISTING_PAGES / "page-a.txt",
    FIXTURES / "hf_daily.json",
    FIXTURES / "arxiv_atom.xml",
    FIXTURES / "oai_page1.xml",
    FIXTURES / "zotero.bib",
]


@pytest.mark.shared_data
def test_import_list_show_and_reimport_is_a_noop(cli, listing_truth):
    cli.run("init")
    pages = [str(LISTING_PAGES / "page-a.txt"), str(LISTING_PAGES / "page-b.txt")]
    summary = cli.json("import", *pages)
    unique_titles = {t["title"] for t in listing_truth}
    assert summary["new"] == len(unique_titles)
    assert summary["new"] + summary["duplicates"] == len(listing_truth)
    assert summary["rejected"] == [] and summary["updated"] == 0

    listed = cli.json("list")
    assert {p["title"] for p in listed} == unique_titles
    assert len(cli.json("list", "--limit", "5")) == 5

    first = listed[0]
    shown = cli.json("show", first["id"])
    assert shown["title"] == first["title"]
    assert [s["source"] for s in shown["sources"]] == ["listing"]
    assert shown["abstract"] in {t["abstract"] for t in listing_truth}

    again = cli.json("import", *pages)
    assert (again["new"], again["updated"], again["duplicates"]) == (0, 0, len(listing_truth))
    stats = cli.json("stats")
    assert stats["papers"] == len(unique_titles)


@pytest.mark.shared_data
def test_every_source_merges_into_one_record_per_paper(cli):
    summary = cli.json("import", *map(str, ALL_SOURCES))
    assert summary["rejected_count"] == len(summary["rejected"]) > 0
    paper = cli.json("show", "2407.05528")
    assert sorted(s["source"] for s in paper["sources"]) == [
        "arxiv",
        "bibtex",
        "hf",
        "listing",
        "oai",
    ]
    assert paper["upstream_upvotes"] == 12
    assert paper["code_urls"] == ["https://github.com/PaulAlbert31/LSA"]
    titles = [p["title"].casefold() for p in cli.json("list")]
    assert len(titles) == len(set(titles))  # nothing stored twice
    human = cli.run("show", "2407.05528").stdout
    assert "source hf:2407.05528" in human and "code: https://github.com/PaulAlbert31/LSA" in human


def test_list_by_day_week_and_month(cli):
    cli.run("import", str(FIXTURES / "arxiv_atom.xml"), str(FIXTURES / "hf_daily.json"))
    assert [p["id"] for p in cli.json("list", "--day", "2026-11-20")] == ["2611.00001"]
    week = cli.json("list", "--week", "2026-W47")  # Monday 16 to Sunday 22 November
    assert [p["id"] for p in week] == ["2611.00005", "2611.00001", "2611.00002"]
    assert len(cli.json("list", "--month", "2024-07")) == 1
    assert cli.json("list", "--day", "1999-01-01") == []


def test_user_errors_are_one_line_without_traceback(cli, tmp_path):
    cli.run("init")
    bad_day = cli.run("list", "--day", "someday", check=False)
    assert bad_day.returncode == 2 and "not a day" in bad_day.stderr
    assert "Traceback" not in bad_day.stderr
    missing = cli.run("show", "0000.00000", check=False)
    assert missing.returncode == 2 and "no paper with id" in missing.stderr
    wrong_format = cli.run("import", "--format", "docx", str(FIXTURES / "papers.csv"), check=False)
    assert wrong_format.returncode == 2 and "unknown format" in wrong_format.stderr
    bad_db = cli.run("--db", "nosuchdriver://x", "stats", check=False)
    assert bad_db.returncode == 2 and "Traceback" not in bad_db.stderr


def test_bad_input_never_crashes_and_keeps_good_records(cli, tmp_path):
    good = '{"title": "A Good Paper", "abstract": "fine"}\n'
    huge = json.dumps({"title": "A Huge Abstract", "abstract": "x" * 50_000_000}) + "\n"
    files = {
        "garbage.bin": os.urandom(4096),
        "empty.txt": b"",
        "huge.jsonl": (good + huge).encode(),
        "latin1.csv": "title,authors\nÜber Kategorien,Kurt Gödel\n".encode("latin-1"),
        "broken.xml": b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>x</ti",
        "notitle.jsonl": b'{"abstract": "no title"}\n',
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    result = cli.run("import", "--json", *(str(tmp_path / n) for n in files))
    summary = json.loads(result.stdout)
    assert summary["new"] == 3  # the good paper, the huge one (cut), the Latin-1 one
    reasons = {Path(r["where"].split(":")[0]).name: r["reason"] for r in summary["rejected"]}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["garbage.bin"] == "binary file, not text"
    assert "missing title" in reasons["notitle.jsonl"]
    assert "malformed XML" in reasons["broken.xml"]
    assert any("cut" in w["reason"] for w in summary["warnings"])
    assert cli.json("show", "title:" + _key("Über Kategorien"))["authors"] == ["Kurt Gödel"]

    only_bad = cli.run("import", str(tmp_path / "notitle.jsonl"), check=False)
    assert only_bad.returncode == 1  # nothing at all could be read


def _key(title: str) -> str:
    from papertide.records import title_key

    return title_key(title)


def test_kill_9_mid_import_then_resume_loses_and_doubles_nothing(cli, tmp_path, db_url):
    total = 60_000
    big = tmp_path / "big.jsonl"
    with big.open("w") as handle:
        for i in range(total):
            handle.write(
                json.dumps(
                    {
                        "title": f"Synthetic paper number {i}",
                        "arxiv_id": f"2501.{i:05d}",
                        "abstract": "text " * 40,
                    }
                )
            )
            handle.write("\n")
    cli.run("init")
    engine = create_engine(db_url)

    def checkpoint_passed_4000() -> bool:
        with engine.connect() as conn:
            state = conn.execute(select(checkpoints.c.state)).scalar_one_or_none()
        return bool(state and state["done"] >= 4000)

    cli.kill_9_when(checkpoint_passed_4000, "import", str(big))
    assert_killed_import_resumes_exactly(cli, engine, big, total)
    engine.dispose()


def test_users_create_token_and_hide_votes(cli):
    created = cli.run("users", "create", "root", "--admin", "--password-stdin", stdin="rootpass1\n")
    assert "created admin root" in created.stdout
    token = cli.run("users", "token", "root").stdout.strip()
    assert len(token) >= 40
    weak = cli.run("users", "create", "bob", "--password-stdin", stdin="short\n", check=False)
    assert weak.returncode == 2 and "at least 8" in weak.stderr
    taken = cli.run("users", "create", "root", "--password-stdin", stdin="rootpass2\n", check=False)
    assert taken.returncode == 2 and "taken" in taken.stderr
    assert "hidden" in cli.run("users", "hide-votes", "root").stdout
    assert cli.run("users", "hide-votes", "nobody", check=False).returncode == 2
