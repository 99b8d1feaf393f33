"""One index writer, many readers: generations published atomically, readers that only read."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import FIXTURES, Cli, application, free_port, wait_for_server
from papertide.search.generations import IndexBusy, IndexStore

HERE = Path(__file__).parent


def test_a_reader_before_any_index_run_finds_nothing_and_creates_nothing(tmp_path):
    store = IndexStore(tmp_path / "idx")
    indexes = store.current()
    assert indexes.keyword.search("anything") == [] and indexes.vectors.row_ids() == []
    assert not (tmp_path / "idx").exists()


def test_a_busy_writer_makes_another_writer_wait_or_fail_at_once(tmp_path):
    store = IndexStore(tmp_path / "idx")
    with store.lock(), pytest.raises(IndexBusy), IndexStore(tmp_path / "idx").lock(wait=False):
        pass  # pragma: no cover - the lock is held
    with store.lock(wait=False):  # released: free again
        pass


def test_publishing_switches_readers_and_a_failed_run_publishes_nothing(tmp_path, engine):
    from papertide.ingest.runner import import_file
    from papertide.search.refresh import refresh_all

    import_file(engine, FIXTURES / "arxiv_atom.xml")
    store, reader = IndexStore(tmp_path / "idx"), IndexStore(tmp_path / "idx")
    with store.lock(), store.new_generation() as draft:
        refresh_all(engine, draft.indexes, None)
        draft.changed = True
    first = reader.current()
    assert first.generation == "gen-000001" and first.keyword.num_docs() > 0
    with pytest.raises(RuntimeError), store.lock(), store.new_generation() as draft:
        refresh_all(engine, draft.indexes, None, rebuild=True)
        raise RuntimeError("the writer dies half-way")
    assert reader.current() is first  # nothing published, the draft folder is gone
    assert sorted(p.name for p in (tmp_path / "idx").glob("gen-*")) == ["gen-000001"]
    with store.lock(), store.new_generation(rebuild=True) as draft:
        refresh_all(engine, draft.indexes, None, rebuild=True)
        draft.changed = True
    second = reader.current()
    assert (
        second.generation == "gen-000002" and second.keyword.num_docs() == first.keyword.num_docs()
    )
    word = first.keyword.search("label noise", 1)  # a reader on the old one keeps working
    assert word and first.keyword.num_docs() == second.keyword.num_docs()


def _synthetic(count: int) -> str:
    """Short records (cheap to embed), each with a word no other paper has."""
    return "".join(
        json.dumps(
            {
                "title": f"Generation probe {i} zqx{i}w on sparse adapters",
                "abstract": f"Marker zqx{i}w: adapters and sparsity, run {i}.",
                "arxiv_id": f"2611.{10000 + i}",
                "date": "2026-11-20",
            }
        )
        + "\n"
        for i in range(count)
    )


# Enough for an index run of many seconds under the load; the suite's longest test at 2,000
# (123 s), while bench/search.py measures the 2,000-paper daily increment itself.
NEW_PAPERS = 600


def test_searching_from_four_processes_while_indexing_gives_no_errors(tmp_path, embedder):
    """Two web workers (each a process) under HTTP load and two CLI reader processes, while an
    index run takes in NEW_PAPERS new papers: no request fails, and afterwards the running server
    finds every new paper without a restart."""
    cli = Cli(f"sqlite:///{tmp_path / 'papertide.db'}", tmp_path)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib"):
        cli.run("import", str(FIXTURES / name))
    cli.run("index")
    port = free_port()
    cli.env["PAPERTIDE_REFRESH_SECONDS"] = "0"
    server = subprocess.Popen(
        cli.command("serve", "--port", str(port), "--workers", "2"),
        env=cli.process_env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "search_loop.py"), str(stop), str(tmp_path / f"r{i}")],
            env={**cli.process_env, "PYTHONPATH": str(HERE)},
            cwd=tmp_path,
        )
        for i in range(2)
    ]
    base = f"http://127.0.0.1:{port}"
    statuses: list[tuple[str, int]] = []
    done = threading.Event()

    def load() -> None:
        paths = [
            "/api/search?q=sparse+adapters&k=20",
            "/api/papers/2407.05528/similar?k=10",
            "/papers/2407.05528",
            "/api/search?q=probe&mode=semantic&k=50",
            "/",
        ]
        with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as client:
            n = 0
            while not done.is_set():
                path = paths[n % len(paths)]
                try:
                    statuses.append((path, client.get(path).status_code))
                except httpx.HTTPError as exc:
                    statuses.append((f"{path} {exc!r}", 0))
                n += 1
                time.sleep(0.02)  # steady traffic, leaving the writer some of the two cores

    try:
        wait_for_server(base, server)
        clients = [threading.Thread(target=load) for _ in range(2)]
        for thread in clients:
            thread.start()
        (tmp_path / "new.jsonl").write_text(_synthetic(NEW_PAPERS))
        cli.run("import", str(tmp_path / "new.jsonl"))
        report = cli.run_process("index", "--json")  # the writer: a process of its own
        assert json.loads(report.stdout)["embedded"] == NEW_PAPERS
        time.sleep(1)  # readers keep going on the new generation for a moment
        done.set()
        stop.touch()
        for thread in clients:
            thread.join(60)
        results = []
        for i, reader in enumerate(readers):
            assert reader.wait(120) == 0
            results.append(json.loads((tmp_path / f"r{i}").read_text()))
        failed = [s for s in statuses if s[1] != 200]
        assert failed == [] and len(statuses) > 50, failed[:5]
        assert all(r["failures"] == [] and r["calls"] > 5 for r in results), results
        with httpx.Client(base_url=base, timeout=30) as client:  # the same server, no restart
            for i in range(NEW_PAPERS):
                hits = client.get(f"/api/search?q=zqx{i}w&mode=keyword&k=3").json()
                assert [h["id"] for h in hits][:1] == [f"2611.{10000 + i}"], i
            similar = client.get("/api/papers/2611.10007/similar?k=5").json()
            assert len(similar) == 5
    finally:
        done.set()
        stop.touch()
        for process in (server, *readers):
            process.terminate()
            process.wait(30)
    assert b"Traceback" not in server.stderr.read()


def test_the_application_reads_the_generation_its_writer_published(tmp_path, db_url):
    from papertide.ingest.runner import import_file

    pt = application(db_url)
    import_file(pt.engine, FIXTURES / "arxiv_atom.xml")
    assert pt.indexes().generation == ""
    pt.update_indexes(keyword_only=True)
    assert pt.indexes().generation == "gen-000001" and pt.indexes().keyword.num_docs() > 0
    nothing = {"keyword_updated": 0, "extracts": 0, "summaries_llm": 0, "summaries_llm_failed": 0}
    assert pt.update_indexes(keyword_only=True) == nothing  # nothing to publish
    assert pt.indexes().generation == "gen-000001"
    pt.close()
