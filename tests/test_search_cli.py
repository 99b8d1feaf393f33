"""Search and similar papers end to end through the CLI, on the two real listing pages."""

import json
import shutil

import pytest
from sqlalchemy import create_engine, func, select

from conftest import LISTING_PAGES, Cli, index_dir
from papertide.store.schema import embeddings, papers


@pytest.fixture(scope="module")
def prepared(backend, databases, tmp_path_factory, embedder):
    """The two listing pages imported and indexed once (the database's URL); tests get their
    own copy."""
    folder = tmp_path_factory.mktemp("prepared")
    cli = Cli(databases.new(backend, folder), folder)
    cli.run("import", str(LISTING_PAGES / "page-a.txt"), str(LISTING_PAGES / "page-b.txt"))
    cli.run("index")
    return cli.env["PAPERTIDE_DB"]


@pytest.fixture
def loaded(prepared, databases, tmp_path, monkeypatch):
    url = databases.copy(prepared, tmp_path)
    shutil.copytree(index_dir(prepared), tmp_path / "papertide.index")
    # the copy's indexes beside it, where an SQLite file keeps them (tests look there)
    monkeypatch.setenv("PAPERTIDE_INDEX_DIR", str(tmp_path / "papertide.index"))
    return Cli(url, tmp_path)


@pytest.mark.shared_data
def test_known_title_phrase_finds_its_paper_first(loaded, listing_truth):
    for row in listing_truth[::25]:
        phrase = " ".join(row["title"].split()[:6])
        for mode in ("keyword", "semantic", "hybrid"):
            hits = loaded.json("search", phrase, "--mode", mode, "--k", "5")
            assert hits[0]["title"] == row["title"], (mode, phrase)
    hits = loaded.json("search", "PiSSA", "--k", "3")
    assert "PiSSA" in hits[0]["title"] and "keyword" in hits[0]["why"]
    assert set(hits[0]) >= {"id", "title", "score", "why"}


@pytest.mark.shared_data
def test_similar_papers_come_from_the_same_page_above_chance(loaded, listing_truth):
    page_of = {}
    for row in listing_truth:
        page_of.setdefault(row["title"], set()).add(row["page"])
    listed = loaded.json("list")
    chance = sum(len(page_of[p["title"]]) for p in listed) / (2 * len(listed))
    precisions = []
    for paper in listed[::12]:
        similar = loaded.json("similar", paper["id"], "--k", "10")
        assert paper["id"] not in {s["id"] for s in similar} and len(similar) == 10
        same = [bool(page_of[s["title"]] & page_of[paper["title"]]) for s in similar]
        precisions.append(sum(same) / 10)
    assert sum(precisions) / len(precisions) > chance + 0.05


@pytest.mark.shared_data
def test_bad_queries_give_results_or_a_clear_message(loaded):
    empty = loaded.run("search", "", check=False)
    assert empty.returncode == 2 and "empty query" in empty.stderr
    for query in ['" * ( ) : AND OR NOT NEAR ^ -', "x" * 10_000, "注意力 机制 🚀", "((("]:
        result = loaded.run("search", query, "--json", check=False)
        assert result.returncode == 0, result.stderr
        assert isinstance(json.loads(result.stdout), list)
    unknown = loaded.run("similar", "9999.99999", check=False)
    assert unknown.returncode == 2 and "no paper with id" in unknown.stderr
    assert "Traceback" not in unknown.stderr + empty.stderr


@pytest.mark.shared_data
def test_filters_apply_to_both_sides(loaded, tmp_path):
    jsonl = tmp_path / "dated.jsonl"
    jsonl.write_text(
        json.dumps(
            {
                "title": "Label noise in web-crawled data, revisited",
                "abstract": "Noisy web labels.",
                "date": "2026-11-20",
                "categories": ["cs.CV"],
                "authors": ["Ada Example"],
            }
        )
        + "\n"
    )
    loaded.run("import", str(jsonl))
    loaded.run("index")
    for mode in ("keyword", "semantic", "hybrid"):
        hits = loaded.json("search", "label noise", "--mode", mode, "--since", "2026-11-01")
        assert [h["title"] for h in hits] == ["Label noise in web-crawled data, revisited"]
        assert loaded.json(
            "search", "label noise", "--mode", mode, "--category", "cs.CV", "--author", "Example"
        )[0]["published_at"].startswith("2026-11-20")
        assert loaded.json("search", "label noise", "--mode", mode, "--category", "q-bio") == []


@pytest.mark.shared_data
def test_missing_stale_and_corrupt_indexes_are_rebuilt(loaded, tmp_path):
    loaded.run("index")
    root = tmp_path / "papertide.index"
    published = root / (root / "CURRENT").read_text()
    (published / "keyword" / "papertide-meta.json").write_text("garbage")
    (published / "vectors" / "vectors.f32").write_bytes(b"\0" * 12)
    # a reader never crashes on a damaged generation; the keyword side still answers
    assert "PiSSA" in loaded.json("search", "PiSSA", "--k", "1")[0]["title"]
    report = loaded.json("index")  # the writer sees the damage and rebuilds
    assert report["keyword_updated"] > 0 and report["vector_index_rebuilt"] == 1
    assert (root / "CURRENT").read_text() != published.name
    semantic = loaded.json("search", "PiSSA", "--mode", "semantic", "--k", "1")
    assert "PiSSA" in semantic[0]["title"]
    jsonl = tmp_path / "new.jsonl"
    jsonl.write_text(json.dumps({"title": "Zebrafish Quantum Tokenizers", "abstract": "x"}) + "\n")
    loaded.run("import", str(jsonl))
    stale = loaded.run("search", "zebrafish", "--mode", "keyword", "--json")
    assert json.loads(stale.stdout) == [] and "1 paper changed" in stale.stderr
    loaded.run("index")
    assert loaded.json("search", "zebrafish", "--k", "1")[0]["title"].startswith("Zebrafish")


def test_kill_9_during_indexing_then_consistent(cli, embedder, tmp_path, db_url):
    rows = [
        {
            "title": f"Synthetic study {i} of sparse adapters and label noise",
            "abstract": f"We report experiment {i} on adapters, noise and sparsity." * 3,
        }
        for i in range(1500)
    ]
    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cli.run("import", str(source))
    engine = create_engine(db_url)

    def some_batches_embedded() -> bool:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(embeddings)).scalar_one() >= 256

    cli.kill_9_when(some_batches_embedded, "index")
    with engine.connect() as conn:
        partial = conn.execute(select(func.count()).select_from(embeddings)).scalar_one()
    report = cli.json("index")
    assert report["embedded"] == 1500 - partial  # resumed, nothing embedded twice
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(embeddings)).scalar_one() == 1500
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 1500
    again = cli.json("index")
    assert report["similar_lists"] == 1500  # the resumed run computed every paper's list
    assert again == {
        "keyword_updated": 0,
        "embedded": 0,
        "vector_index_rebuilt": 0,
        "vectors_updated": 0,
        "similar_lists": 0,
        "extracts": 0,
        "summaries_llm": 0,
        "summaries_llm_failed": 0,
    }
    hits = cli.json("search", "synthetic study 1234", "--mode", "keyword", "--k", "1")
    assert hits[0]["title"] == "Synthetic study 1234 of sparse adapters and label noise"
    engine.dispose()
