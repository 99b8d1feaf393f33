"""Keyword index, vector index and fusion, each on small hand-made data."""

from datetime import datetime

import numpy as np
import pytest

from conftest import keyword_index
from papertide.search.hybrid import RRF_K, rrf
from papertide.search.keyword import MAX_QUERY_TERMS, Filters, KeywordIndex, parse_user_query
from papertide.search.vectors import VectorFilter, VectorIndex

DOCS = [
    {
        "id": "a",
        "title": "PiSSA: Principal Singular Values Adaptation",
        "abstract": "We adapt large language models by their principal singular vectors.",
        "authors": ["Fanxu Meng", "Zhaohui Wang"],
        "categories": ["cs.LG", "cs.CL"],
        "published_at": datetime(2024, 4, 3),
    },
    {
        "id": "b",
        "title": "Low-Rank Adaptation of Language Models",
        "abstract": "LoRA freezes weights; unlike PiSSA it starts from noise.",
        "authors": ["Edward Hu"],
        "categories": ["cs.CL"],
        "published_at": datetime(2021, 6, 17),
    },
    {
        "id": "c",
        "title": "N:M Sparsity for Transformers",
        "abstract": "Structured 2:4 sparsity accelerates inference on GPUs.",
        "authors": ["Jane Roe"],
        "categories": ["cs.LG"],
        "published_at": None,
    },
]


@pytest.fixture
def keyword(tmp_path):
    return keyword_index(tmp_path / "kw", DOCS)


def ids(hits):
    return [h.id for h in hits]


def test_title_matches_outrank_abstract_matches(keyword):
    assert ids(keyword.search("pissa")) == ["a", "b"]


def test_phrases_prefixes_and_stemming(keyword):
    assert ids(keyword.search('"singular vectors"')) == ["a"]
    assert ids(keyword.search('"vectors singular"')) == []
    assert set(ids(keyword.search("adapt*"))) == {"a", "b"}
    assert "a" in ids(keyword.search("adapting"))  # en_stem: adapting ~ adaptation ~ adapt


def test_filters(keyword):
    assert ids(keyword.search("adaptation", filters=Filters(category="cs.LG"))) == ["a"]
    assert ids(keyword.search("adaptation", filters=Filters(author="Edward Hu"))) == ["b"]
    assert ids(keyword.search("adaptation", filters=Filters(author="hu"))) == ["b"]
    since = Filters(since=datetime(2022, 1, 1))
    assert ids(keyword.search("adaptation", filters=since)) == ["a"]
    # a filter alone lists what passes it
    assert set(ids(keyword.search("", filters=Filters(category="cs.LG")))) == {"a", "c"}


def test_snippets_highlight_matches(keyword):
    (hit,) = keyword.search('"principal singular"', k=1)
    assert "<b>principal</b>" in hit.snippet


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # an unclosed quote: the phrase "and or not near", which no document holds
        ('" * ( ) : AND OR NOT NEAR ^ -', []),
        # field syntax is plain text: the words "title" and "pissa", so the abstract match "b"
        # is found too (as a title-only query it would not be)
        ("title:pissa", ["a", "b"]),
        ("NOT pissa", ["a", "b"]),
        ("categories:cs.LG", []),  # fields outside title/abstract/authors stay out of reach
        ("id:a", []),
        ("((((", []),
        ("a" * 10_000, []),
        (" ".join(["word"] * 5000), []),
        ("注意力机制 🚀 émoji", []),
        ("\x00\x01", []),
        ("*", []),
        ('"', []),
    ],
)
def test_hostile_queries_are_plain_text(keyword, query, expected):
    assert ids(keyword.search(query)) == expected


def test_query_syntax_is_plain_text():
    words, phrases, prefixes = parse_user_query('title:x AND "n m sparsity" pre* ^2 -y')
    assert words == ["title", "x", "and", "2", "y"]
    assert phrases == [["n", "m", "sparsity"]]
    assert prefixes == ["pre"]
    assert len(parse_user_query("w " * 1000)[0]) == MAX_QUERY_TERMS


def test_replacing_and_hiding_documents(keyword):
    keyword.apply([{**DOCS[2], "title": "Renamed Structured Sparsity"}], datetime(2026, 1, 2))
    assert ids(keyword.search("renamed")) == ["c"] and keyword.num_docs() == 3
    keyword.apply([{**DOCS[0], "hidden": True}], datetime(2026, 1, 3))
    assert ids(keyword.search("pissa")) == ["b"] and keyword.num_docs() == 2


def test_corrupt_or_foreign_index_is_not_usable(keyword, tmp_path):
    assert keyword.usable()
    (keyword.directory / "meta.json").write_text("garbage")
    assert not KeywordIndex(keyword.directory).usable()
    assert not KeywordIndex(tmp_path / "nothing-here").usable()


def test_rrf_fuses_by_rank():
    hits = rrf({"keyword": ["x", "y"], "semantic": ["y", "z"]})
    assert [h.id for h in hits] == ["y", "x", "z"]
    assert hits[0].score == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert hits[0].why == "keyword+semantic" and hits[1].why == "keyword"


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_vector_index_exact_search_and_filters(tmp_path):
    rng = np.random.default_rng(1)
    vectors = [unit(rng.normal(size=8)) for _ in range(50)]
    rows = [
        (
            f"p{i}",
            v.astype("<f4").tobytes(),
            datetime(2020 + i % 5, 1, 1) if i % 7 else None,
            ["cs.LG"] if i % 2 else ["cs.CV"],
        )
        for i, v in enumerate(vectors)
    ]
    index = VectorIndex(tmp_path / "vec")
    index.build(rows, 8, {"v": 1})
    assert index.matches({"v": 1}) and not index.matches({"v": 2})
    query = vectors[3]
    found, scores = index.search(query, 5)
    expected = np.argsort(-np.stack(vectors) @ query)[:5]
    assert found == [f"p{i}" for i in expected] and scores == sorted(scores, reverse=True)
    found, _ = index.search(query, 5, exclude="p3")
    assert "p3" not in found
    only = VectorFilter(since=datetime(2023, 1, 1), category="cs.LG")
    found, _ = index.search(query, 50, only)
    assert found and all(
        int(f[1:]) % 2 == 1 and int(f[1:]) % 5 >= 3 and int(f[1:]) % 7 for f in found
    )
    assert index.search(query, 5, VectorFilter(category="math.AG")) == ([], [])
    assert index.search(query, 5, VectorFilter(allowed_ids={"p1", "p2"}))[0] in (
        ["p1", "p2"],
        ["p2", "p1"],
    )


def test_vector_index_rebuild_replaces_atomically(tmp_path):
    index = VectorIndex(tmp_path / "vec")
    index.build([("a", unit([1, 0]).tobytes(), None, [])], 2, {"n": 1})
    index.build([("b", unit([0, 1]).tobytes(), None, [])], 2, {"n": 2})
    assert index.search(unit([0, 1]), 5)[0] == ["b"]
    (tmp_path / "vec" / "vectors.f32").write_bytes(b"short")
    assert not index.matches({"n": 2})  # truncated files are detected


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(40, dim))
    points = centers[rng.integers(0, 40, n)] + 0.35 * rng.normal(size=(n, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_ann_index_recall_filters_and_incremental_updates(tmp_path, monkeypatch):
    from papertide.search import vectors as vectors_module

    monkeypatch.setattr(vectors_module, "ANN_THRESHOLD", 1000)
    data = clustered(4000)
    rows = [
        (
            f"p{i}",
            v.astype("<f4").tobytes(),
            datetime(2020 + i % 4, 1, 1),
            ["cs.LG" if i % 2 else "cs.CV"],
        )
        for i, v in enumerate(data)
    ]
    index = VectorIndex(tmp_path / "ann")
    index.build(rows, 32, {"n": 1})
    assert index.meta()["ann"]["nlist"] >= 64
    queries = clustered(50, seed=7)
    recall = []
    for q in queries:
        approx, _ = index.search(q, 10)
        exact, _ = index.search(q, 10, exact=True)
        recall.append(len(set(approx) & set(exact)) / 10)
    assert np.mean(recall) >= 0.9
    # a filter is honoured on the ANN path (large allowed set) and the exact path (small one)
    found, _ = index.search(queries[0], 20, VectorFilter(category="cs.LG"))
    assert len(found) == 20 and all(int(f[1:]) % 2 for f in found)
    found, _ = index.search(queries[0], 20, VectorFilter(allowed_ids={"p1", "p2", "p3"}))
    assert sorted(found) == ["p1", "p2", "p3"]
    # incremental: one new paper, one changed vector
    target = queries[1]
    new_rows = [
        ("new", target.tobytes(), datetime(2026, 1, 1), ["cs.IR"]),
        ("p5", (-target).tobytes(), datetime(2021, 1, 1), ["cs.LG"]),
    ]
    assert len(index.update(new_rows, {"n": 2})) == 2
    assert index.matches({"n": 2}) and index.meta()["count"] == 4001
    assert index.search(target, 1)[0] == ["new"]
    assert "p5" not in index.search(target, 50)[0]
    assert index.search(target, 5, VectorFilter(category="cs.IR"))[0] == ["new"]


def test_recency_and_vote_boosts_reorder_matches_only(engine, tmp_path):
    from papertide.records import PaperRecord
    from papertide.search.generations import Indexes
    from papertide.search.hybrid import Boosts, search
    from papertide.search.refresh import refresh_keyword
    from papertide.store.writer import save_batch

    today = datetime(2026, 11, 22)
    with engine.begin() as conn:
        save_batch(
            conn,
            [
                PaperRecord(
                    source="csv",
                    title="Sparse sparse sparse experts",
                    abstract="sparse",
                    published_at=datetime(2015, 1, 1),
                ),
                PaperRecord(
                    source="csv", title="Sparse experts", published_at=today, upstream_upvotes=0
                ),
                PaperRecord(
                    source="hf",
                    title="Sparse routing",
                    arxiv_id="2401.00001",
                    published_at=datetime(2015, 1, 1),
                    upstream_upvotes=500,
                ),
                PaperRecord(source="csv", title="Unrelated but brand new", published_at=today),
            ],
        )
    indexes = Indexes.at(tmp_path / "ix")
    refresh_keyword(engine, indexes.keyword)

    def titles(boosts=None):
        hits = search(engine, indexes, "sparse", "keyword", 10, boosts=boosts, now=today)
        return [h.paper["title"] for h in hits]

    plain = titles()
    assert plain[0] == "Sparse sparse sparse experts"
    recent = titles(Boosts(recency=5.0))
    assert recent[0] == "Sparse experts"
    voted = titles(Boosts(votes=5.0))
    assert voted[0] == "Sparse routing"
    assert "Unrelated but brand new" not in recent  # boosts never add non-matching papers
    assert sorted(plain) == sorted(recent) == sorted(voted)


def test_changed_text_or_model_needs_new_vectors(engine):
    from papertide.records import PaperRecord
    from papertide.store import vectors as stored
    from papertide.store.writer import save_batch

    with engine.begin() as conn:
        save_batch(
            conn,
            [
                PaperRecord(source="arxiv", title="One", arxiv_id="2401.00001"),
                PaperRecord(source="arxiv", title="Two", arxiv_id="2401.00002"),
            ],
        )
    with engine.begin() as conn:
        todo = stored.pending(conn, "model-a@1", 10)
        assert [p["id"] for p in todo] == ["2401.00001", "2401.00002"]
        stored.save(conn, "model-a@1", [(p["id"], p["content_hash"], b"\0" * 8) for p in todo])
        assert stored.pending(conn, "model-a@1", 10) == []
        assert stored.count_pending(conn, "model-b@1") == 2  # a new model re-embeds everything
    with engine.begin() as conn:  # a changed abstract makes just that paper pending again
        save_batch(
            conn,
            [
                PaperRecord(
                    source="arxiv",
                    title="One",
                    arxiv_id="2401.00001",
                    abstract="Now with an abstract.",
                )
            ],
        )
        assert [p["id"] for p in stored.pending(conn, "model-a@1", 10)] == ["2401.00001"]


def test_a_vector_index_of_no_vectors_is_built_and_finds_nothing(tmp_path):
    """An index run over a database whose papers have no vectors yet (every one pending)."""
    index = VectorIndex(tmp_path / "vectors")
    index.build(iter([]), 8, {"model": "test", "count": 0})
    assert index.meta()["count"] == 0
    assert index.search(np.ones(8, dtype=np.float32), 5) == ([], [])
    assert index.rows() is None  # the recommender then has nothing to score
