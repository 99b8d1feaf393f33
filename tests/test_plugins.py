"""Sources and rankers are plug-ins: one module (here, this file) plus one registration."""

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import BinaryIO

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES
from papertide.ingest import sources
from papertide.ingest.base import Item, build_record, text_stream
from papertide.ingest.runner import import_file
from papertide.rank import rankers
from papertide.store.engine import open_engine
from papertide.web.app import create_app

HEADER = "#tsv-lite"


def read_tsv_lite(stream: BinaryIO, origin: str) -> Iterator[Item]:
    """`#tsv-lite`, then one `arxiv id<TAB>title` a line."""
    for number, line in enumerate(text_stream(stream), start=1):
        if number == 1 or not line.strip():
            continue
        arxiv_id, _, title = line.rstrip("\r\n").partition("\t")
        yield build_record(f"{origin}:{number}", source="tsv-lite", arxiv_id=arxiv_id, title=title)


TSV_LITE = sources.Source(
    "tsv-lite",
    priority=70,  # trusted above arXiv itself, so its titles win a merge
    read=read_tsv_lite,
    detects=lambda sniff: sniff.head.startswith(HEADER),
    detect_order=50,  # before the built-in tests, which would call it a listing page
)


@pytest.fixture
def tsv_lite() -> Iterator[sources.Source]:
    sources.register(TSV_LITE)
    yield TSV_LITE
    sources.unregister(TSV_LITE.name)


def test_a_source_registered_in_one_place_imports_detects_and_merges(cli, tmp_path, tsv_lite):
    cli.run("import", str(FIXTURES / "arxiv_atom.xml"))
    named = tmp_path / "named.txt"
    named.write_text(f"{HEADER}\n2407.05528\tA Title From The Plug-in\n2601.00001\tBrand New\n")
    assert cli.json("import", "--format", "tsv-lite", str(named))["new"] == 1
    paper = cli.json("show", "2407.05528")
    assert paper["title"] == "A Title From The Plug-in"  # priority 70 beats arXiv's 60
    assert {s["source"] for s in paper["sources"]} == {"arxiv", "tsv-lite"}
    detected = tmp_path / "upload.dat"
    detected.write_text(f"{HEADER}\n2601.00002\tFound By Its Content\n")
    assert cli.json("import", str(detected))["new"] == 1
    assert cli.json("show", "2601.00002")["sources"][0]["source"] == "tsv-lite"


def test_unregistering_restores_the_registry():
    before = list(sources.all_sources())
    sources.register(TSV_LITE)
    assert "tsv-lite" in sources.format_names()
    with pytest.raises(ValueError, match="already registered"):
        sources.register(TSV_LITE)
    sources.unregister("tsv-lite")
    assert list(sources.all_sources()) == before
    assert "tsv-lite" not in sources.format_names()


def test_arxiv_has_one_name_and_keeps_its_documented_alias(cli):
    atom = str(FIXTURES / "arxiv_atom.xml")
    assert cli.json("import", "--format", "arxiv-atom", atom)["new"] == 3
    assert cli.json("import", "--format", "arxiv", atom)["new"] == 0  # the same source
    arxiv = sources.get("arxiv-atom")
    assert arxiv is sources.get("arxiv") and arxiv.name == "arxiv"
    assert arxiv.command is not None and arxiv.scheduled is not None


def by_title(papers, now):
    ordered = sorted(papers, key=lambda p: p["title"].casefold())
    return [p["id"] for p in ordered], [float(-i) for i in range(len(ordered))]


@pytest.fixture
def title_sort() -> Iterator[rankers.Ranker]:
    ranker = rankers.register(rankers.Ranker("title", "A to Z", by_title))
    yield ranker
    rankers.unregister(ranker.name)


def test_a_ranker_registered_in_one_place_sorts_the_api_and_the_pages(db_url, title_sort):
    engine = open_engine(db_url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml"):
        import_file(engine, FIXTURES / name)
    engine.dispose()
    client = TestClient(create_app(db_url))
    newest = [p["title"] for p in client.get("/api/papers").json()]
    titled = [p["title"] for p in client.get("/api/papers?sort=title").json()]
    assert titled == sorted(newest, key=str.casefold) and titled != newest
    assert client.get("/api/papers?sort=title&offset=1&limit=2").json()[0]["title"] == titled[1]
    assert client.get("/api/papers?sort=alphabetical").status_code == 400
    month = client.get("/month/2026-11").text
    assert "?sort=title" in month and "A to Z" in month and "?sort=trending" in month


def test_threads_making_their_first_lookup_together_all_see_every_source(tmp_path):
    # In a fresh process, as a web worker's import threads meet the registry: a thread that
    # arrived while another was loading the built-in sources saw none.
    script = (
        "import threading\n"
        "from papertide.ingest import sources\n"
        "barrier = threading.Barrier(4)\n"
        "seen = []\n"
        "def look():\n"
        "    barrier.wait()\n"
        "    seen.append(len(sources.format_names()))\n"
        "threads = [threading.Thread(target=look) for _ in range(4)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(sorted(seen))\n"
    )
    for _attempt in range(3):
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
        ).stdout
        counts = json.loads(out)
        assert len(set(counts)) == 1 and counts[0] >= 9, counts
