"""The bulk import route (what `papertide import` takes for files: store/bulk.py's fast inserts)
stores exactly what the plain route stores, merges, rejects, re-imports and resumes alike."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from conftest import assert_killed_import_resumes_exactly
from papertide.ingest import pipeline, runner
from papertide.ingest.runner import ImportSummary, import_file
from papertide.store import writer
from papertide.store.engine import open_engine
from papertide.store.schema import checkpoints, paper_authors, paper_keys, paper_sources, papers

NOW = datetime(2026, 11, 20, 8, 30, 0, 123456)


def snapshot_row(number: int, **changes: Any) -> dict[str, Any]:
    """One line of arXiv's metadata snapshot."""
    row = {
        "id": f"2501.{number:05d}",
        "submitter": "A. Author",
        "authors": "A. Author, B. Writer",
        "title": f"Bulk paper number {number}\n  about {number % 7} things",
        "comments": "Code: https://github.com/someone/repo" if number % 5 == 0 else "8 pages",
        "journal-ref": None,
        "doi": f"10.1000/bulk.{number}" if number % 3 == 0 else None,
        "categories": "cs.LG stat.ML",
        "abstract": f"  An abstract of paper {number}\nover two lines.\n",
        "versions": [
            {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
            {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        ],
        "update_date": "2008-11-13",
        "authors_parsed": [["Author", "A.", ""], ["Writer", "B.", "Jr"]],
    }
    row.update(changes)
    return row


def write_lines(path: Path, rows: list[Any]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(row if isinstance(row, str) else json.dumps(row))
            out.write("\n")
    return path


def stored(engine: Engine) -> dict[str, list[tuple]]:
    """Every stored paper column, every key and every per-source row but its surrogate id
    (rows are numbered in the order they were written, which the routes need not share)."""
    source_columns = [c for c in paper_sources.c if c.name != "id"]
    with engine.connect() as conn:
        return {
            "papers": [tuple(r) for r in conn.execute(select(papers).order_by(papers.c.id))],
            "keys": [tuple(r) for r in conn.execute(select(paper_keys).order_by(paper_keys.c.key))],
            "authors": [  # the author-name table is filled on both routes alike
                tuple(r)
                for r in conn.execute(
                    select(paper_authors).order_by(
                        paper_authors.c.paper_id, paper_authors.c.position
                    )
                )
            ],
            "sources": [
                tuple(r)
                for r in conn.execute(
                    select(*source_columns).order_by(
                        paper_sources.c.source, paper_sources.c.source_id
                    )
                )
            ],
        }


def counts(summary: ImportSummary) -> dict[str, Any]:
    shown = summary.as_json()
    shown.pop("resumed_jobs")
    return shown


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both routes stamp rows with the same time, so that whole rows can be compared."""
    monkeypatch.setattr(writer, "utcnow", lambda: NOW)


@pytest.fixture
def two_databases(db_url: str, backend: str, databases, tmp_path: Path):
    """The test's database for the bulk route and another, on the same backend, for the plain."""
    (tmp_path / "plain").mkdir()
    plain_url = databases.new(backend, tmp_path / "plain")
    bulk, plain = open_engine(db_url), open_engine(plain_url)
    yield bulk, plain
    bulk.dispose()
    plain.dispose()
    databases.drop(plain_url)


def already_stored(tmp_path: Path) -> Path:
    """Papers from another source that snapshot records must merge into: one by arXiv id, one
    by DOI (no arXiv id known), one by title alone (renamed to its arXiv id by the merge)."""
    return write_lines(
        tmp_path / "earlier.jsonl",
        [
            {
                "title": "An older title of paper 2",
                "arxiv_id": "2501.00002",
                "abstract": "long " * 30,
            },
            {"title": "Seen first by its DOI", "doi": "10.1000/bulk.9", "authors": ["C. D."]},
            {"title": "Bulk paper number 11 about 4 things", "keywords": ["twin"]},
            {"title": "A paper the snapshot never mentions", "doi": "10.1000/other"},
        ],
    )


def snapshot_file(tmp_path: Path, total: int) -> Path:
    rows: list[Any] = [snapshot_row(i) for i in range(total)]
    rows[4] = "{not json"  # line 5
    rows[6] = snapshot_row(6, id="no id here")  # line 7
    rows[8] = snapshot_row(8, title="  ")  # line 9
    rows.append(snapshot_row(3, abstract="The same paper again, a later line"))  # in-file twin
    rows.append(snapshot_row(total, doi="10.1000/bulk.12"))  # another paper's DOI, its own id
    rows.append(
        snapshot_row(total + 1, id="2501.99999", title="Bulk paper number 13 about 6 things")
    )
    rows.append("")  # a blank line is no record
    rows.append(snapshot_row(total + 2, title="\u202eevil\u202c title\x07 with controls"))
    return write_lines(tmp_path / "snapshot.json", rows)


@pytest.mark.parametrize("reader_process", [False, True], ids=["read-here", "read-beside"])
def test_bulk_and_plain_routes_store_the_same_papers(
    two_databases, tmp_path, fixed_clock, monkeypatch, reader_process
):
    bulk, plain = two_databases
    monkeypatch.setattr(runner, "READ_IN_PROCESS_BYTES", 0 if reader_process else 1 << 40)
    monkeypatch.setattr(runner, "BULK_BATCH_SIZE", 7)  # several batches, twins across them
    monkeypatch.setattr(runner, "BATCH_SIZE", 7)
    earlier, snapshot = already_stored(tmp_path), snapshot_file(tmp_path, 40)
    with monkeypatch.context() as earlier_clock:  # stored before the snapshot's run began
        earlier_clock.setattr(writer, "utcnow", lambda: NOW - timedelta(days=1))
        for engine in (bulk, plain):
            import_file(engine, earlier, "jsonl", bulk=False)
    plain_summary = import_file(plain, snapshot, bulk=False)
    bulk_summary = import_file(bulk, snapshot, bulk=True)

    assert counts(bulk_summary) == counts(plain_summary)
    # 41 records: 3 merge into earlier papers, 1 is a later line of a paper of this file
    assert (bulk_summary.new, bulk_summary.updated, bulk_summary.duplicates) == (37, 3, 1)
    kept, made = stored(bulk), stored(plain)
    assert kept["papers"] == made["papers"]
    assert kept["keys"] == made["keys"]
    assert kept["sources"] == made["sources"]
    assert kept["authors"] == made["authors"]
    assert len(kept["authors"]) >= 2 * len(kept["papers"]) - 3  # two authors a paper, nearly
    assert len(kept["papers"]) == len({row[0] for row in kept["papers"]})
    assert {"2501.00011", "doi:10.1000/other"} <= {row[0] for row in kept["papers"]}


def test_rejects_name_their_lines(engine, tmp_path):
    snapshot = snapshot_file(tmp_path, 12)
    summary = import_file(engine, snapshot)
    where = {r.where: r.reason for r in summary.rejected}
    assert set(where) == {f"{snapshot}:5", f"{snapshot}:7", f"{snapshot}:9"}
    assert where[f"{snapshot}:5"].startswith("invalid JSON")
    assert "no arXiv id" in where[f"{snapshot}:7"] and "missing title" in where[f"{snapshot}:9"]


def test_reimport_is_idempotent(engine, tmp_path, fixed_clock):
    snapshot = snapshot_file(tmp_path, 30)
    first = import_file(engine, snapshot)
    before = stored(engine)
    again = import_file(engine, snapshot)
    assert first.new > 0
    assert (again.new, again.updated) == (0, 0)
    assert again.duplicates == first.accepted
    assert stored(engine) == before


def reader_processes(snapshot: Path) -> list[int]:
    """Ids of the reader processes (ingest/pipeline.py) reading SNAPSHOT."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"papertide.ingest.pipeline" in command and str(snapshot).encode() in command:
            found.append(int(proc.name))
    return found


def big_snapshot(tmp_path: Path) -> tuple[Path, int]:
    """A snapshot of three bulk batches, large enough to be read by a process of its own."""
    total = 3 * runner.BULK_BATCH_SIZE
    padding = "words of a long abstract " * 60
    snapshot = write_lines(
        tmp_path / "big.json", [snapshot_row(i, abstract=padding + str(i)) for i in range(total)]
    )
    assert snapshot.stat().st_size >= runner.READ_IN_PROCESS_BYTES
    return snapshot, total


class ImportWatch:
    """Whether an import of SNAPSHOT stored its first batch, noting its reader processes."""

    def __init__(self, engine: Engine, snapshot: Path) -> None:
        self.engine, self.snapshot = engine, snapshot
        self.readers: set[int] = set()

    def first_batch_stored(self) -> bool:
        # /proc is scanned only until the reader is seen; after that a poll is one query, so
        # the signal follows the first commit by no more than a poll's cost
        if not self.readers:
            self.readers.update(reader_processes(self.snapshot))
        with self.engine.connect() as conn:
            state = conn.execute(select(checkpoints.c.state)).scalar_one_or_none()
        return bool(state and state["done"] >= 1)

    def assert_reader_ended(self) -> None:
        deadline = time.monotonic() + 30  # the reader sees the pipe close and ends
        while reader_processes(self.snapshot) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.readers, "the import did not read the file in a process of its own"
        assert reader_processes(self.snapshot) == []


def test_kill_9_mid_bulk_import_then_resume_loses_and_doubles_nothing(cli, tmp_path, db_url):
    snapshot, total = big_snapshot(tmp_path)
    cli.run("init")
    engine = open_engine(db_url)
    watch = ImportWatch(engine, snapshot)
    cli.kill_9_when(watch.first_batch_stored, "import", str(snapshot))
    watch.assert_reader_ended()
    assert_killed_import_resumes_exactly(cli, engine, snapshot, total)
    engine.dispose()


@pytest.mark.slow
def test_ctrl_c_stops_a_bulk_import_with_one_line_and_it_resumes(cli, tmp_path, db_url):
    snapshot, total = big_snapshot(tmp_path)
    cli.run("init")
    engine = open_engine(db_url)
    watch = ImportWatch(engine, snapshot)
    status, stderr = cli.signal_when(
        signal.SIGINT, watch.first_batch_stored, "import", str(snapshot)
    )
    assert status == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), stderr
    watch.assert_reader_ended()
    assert_killed_import_resumes_exactly(cli, engine, snapshot, total)
    engine.dispose()


def test_a_message_cut_short_by_a_killed_reader_ends_the_reading_quietly():
    import io
    import pickle
    import queue
    import threading

    whole = pickle.dumps((["a record"], 10))
    cut = pickle.dumps((["another"] * 100, 20))
    stream = io.BytesIO(
        pipeline._LENGTH.pack(len(whole)) + whole + pipeline._LENGTH.pack(len(cut)) + cut[:40]
    )
    chunks: queue.Queue = queue.Queue()
    damage: list[str] = []
    pipeline._pump(stream, chunks, threading.Event(), damage)  # raises nothing
    assert damage == []  # a message cut short is a killed reader, reported by its exit
    assert chunks.get_nowait() == (["a record"], 10)
    assert chunks.get_nowait() is pipeline._END
    assert chunks.empty()


@pytest.mark.parametrize("bulk", [False, True], ids=["plain", "bulk"])
def test_a_batch_that_lost_a_race_with_another_import_is_done_again(
    engine, db_url, tmp_path, monkeypatch, bulk
):
    lines = write_lines(tmp_path / "race.jsonl", [snapshot_row(i) for i in range(5)])
    other = open_engine(db_url)
    resolve = writer._Resolver.__init__
    raced: list[ImportSummary] = []
    racing = []

    def resolve_then_lose_the_race(self, conn, records):
        resolve(self, conn, records)  # this batch has read what is stored...
        if not racing:  # ...and another import stores the same papers before it writes
            racing.append(True)
            raced.append(import_file(other, lines, "arxiv-snapshot", bulk=False))

    monkeypatch.setattr(writer._Resolver, "__init__", resolve_then_lose_the_race)
    summary = import_file(engine, lines, "arxiv-snapshot", bulk=bulk)
    other.dispose()
    assert raced and raced[0].new == 5
    assert (summary.new, summary.duplicates, summary.rejected_count) == (0, 5, 0)
    with engine.connect() as conn:
        assert len(conn.execute(select(papers.c.id)).all()) == 5
        assert len(conn.execute(select(paper_sources.c.id)).all()) == 5


def test_a_damaged_message_from_the_reader_ends_the_import_with_a_reject_not_a_hang(
    engine, tmp_path, monkeypatch
):
    """A message that does not unpickle (damaged in the pipe) keeps the batches before it and
    names the damage; the reader, left writing into a pipe nobody reads, is ended."""
    import pickle
    import threading

    snapshot, total = big_snapshot(tmp_path)
    loads, seen = pickle.loads, []

    def damaged_third(data: bytes):
        seen.append(1)
        if len(seen) == 3:
            raise UnicodeDecodeError("utf-8", b"\xe6", 0, 1, "invalid continuation byte")
        return loads(data)

    monkeypatch.setattr(pipeline.pickle, "loads", damaged_third)
    summaries: list[ImportSummary] = []
    worker = threading.Thread(
        target=lambda: summaries.append(import_file(engine, snapshot)), daemon=True
    )
    worker.start()
    worker.join(120)  # the whole file takes seconds; a hang is what this test catches
    assert not worker.is_alive(), "the import hung on a reader nobody reads"
    summary = summaries[0]
    assert summary.accepted == 2 * pipeline.CHUNK < total  # the two messages before the damage
    assert [r.reason for r in summary.rejected] == [
        "reader process ended early (a damaged message: UnicodeDecodeError)"
    ]
    assert reader_processes(snapshot) == []
