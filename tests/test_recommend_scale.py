"""Recommendations over the whole corpus (issue 13): every indexed paper of the window is a
candidate, scored through the chunked matrix product and the bound (rank/recommend.py), with the
same scores, picks, reasons and exclusions as scoring every candidate one by one."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from papertide.clock import FixedClock
from papertide.rank import recommend
from papertide.rank.affinity import affinity
from papertide.search.background import Background
from papertide.search.generations import IndexStore
from papertide.store import accounts, library, provenance, queries
from papertide.store.engine import open_engine
from papertide.store.schema import papers

COUNT, DIM = 3000, 24
START = datetime(2020, 1, 1)
NOW = START + timedelta(days=1001, hours=5)
OLDEST = "t00000"  # the window's oldest paper, made the closest to one reader's library
NO_VECTOR = "t-novector"  # stored and in the keyword index, never embedded
AUTHOR = "Ada Lovelace"


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(backend, databases, tmp_path_factory):
    """COUNT papers around 20 topics, dated at random times over 1000 days (some undated: first
    seen instead), their vectors and keyword index published as one generation."""
    folder = tmp_path_factory.mktemp("scale")
    engine = open_engine(databases.new(backend, folder))
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(20, DIM))
    topic = rng.integers(0, 20, COUNT)
    vectors = unit(centres[topic] + 0.7 * rng.normal(size=(COUNT, DIM)))
    minutes = rng.integers(0, 1000 * 24 * 60, COUNT)
    minutes[0] = 1000 * 24 * 60 - 1  # OLDEST: the first paper of the last 1000 days...
    rows = []
    for i in range(COUNT):
        when = NOW - timedelta(minutes=int(minutes[i]))
        undated = i % 97 == 5
        rows.append(
            {
                "id": f"t{i:05d}",
                "title": f"Paper {i} on topic {topic[i]}",
                "title_key": f"{i:012d}",
                "authors": [AUTHOR] if i % 500 == 7 else [f"Author {i}"],
                "published_at": None if undated else when,
                "first_seen_at": when,
                "modified_at": NOW,
                "content_hash": f"{i:016d}",
            }
        )
    rows.append({**rows[1], "id": NO_VECTOR, "title_key": "novector", "authors": [AUTHOR]})
    with engine.begin() as conn:
        conn.execute(papers.insert(), rows)
    store = IndexStore(folder / "indexes")
    with store.lock(), store.new_generation(rebuild=True) as draft:
        draft.indexes.vectors.build(
            (
                (r["id"], v.astype("<f4").tobytes(), r["published_at"], [], r["first_seen_at"])
                for r, v in zip(rows, vectors, strict=False)
            ),
            DIM,
            {"model": "test", "count": COUNT},
        )
        with engine.connect() as conn:
            draft.indexes.keyword.reset()
            draft.indexes.keyword.apply(queries.modified_since(conn, None), NOW)
        draft.changed = True
    yield engine, store, vectors, topic
    engine.dispose()


def reader(engine, name: str, saved: list[str], down=(), seen=(), author=None) -> int:
    with engine.begin() as conn:
        accounts.create_user(conn, name, "x")
        user_id = accounts.user_by_name(conn, name)["id"]
        library.save_many(conn, user_id, saved)
        for paper_id in down:
            library.set_rating(conn, user_id, paper_id, "down")
        library.mark_seen(conn, user_id, list(seen))
        if author:
            library.follow(conn, user_id, "author", author)
    return user_id


def recommender(corpus, monkeypatch, small: bool = True) -> recommend.Recommender:
    engine, store, _, _ = corpus
    if small:  # chunks, the memory-mapped path and the bound all take part at this size
        monkeypatch.setattr(recommend, "KEEP_ROWS", 0)
        monkeypatch.setattr(recommend, "CHUNK_ROWS", 700)
        monkeypatch.setattr(recommend, "FIRST_EXACT", 8)
    return recommend.Recommender(engine, store.current, FixedClock(NOW))


def one_by_one(corpus, user_id: int, days: float, k: int) -> list[tuple[str, float]]:
    """The picks as the recommender made them before: every visible paper of the window with a
    vector scored in full (the same background sample), ranked newest first on equal scores."""
    engine, _, vectors, _ = corpus
    since = (NOW - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    when = func.coalesce(papers.c.published_at, papers.c.first_seen_at)
    with engine.connect() as conn:
        signals = library.signals(conn, user_id)
        window = conn.execute(
            select(papers.c.id, when)
            .where(papers.c.hidden.is_(False), when >= since)
            .order_by(when.desc(), papers.c.id)
        ).all()
    row = {f"t{i:05d}": i for i in range(COUNT)}
    candidates = [(pid, at) for pid, at in window if pid in row]
    sample = np.sort(np.random.default_rng(0).choice(COUNT, 2000, replace=False))
    positives = [row[p] for p in signals.positive if p in row]
    result = affinity(
        vectors[[row[p] for p, _ in candidates]],
        vectors[positives],
        vectors[[row[p] for p in signals.negative if p in row]],
        Background.of(vectors[sample]),
        vectors[[r for r in positives if r in set(sample.tolist())]],
    )
    ages = np.array([max((NOW - at).days, 0) for _, at in candidates])
    scores = result.scores + recommend.RECENCY_WEIGHT * 0.5 ** (ages / 7)
    taken = {*signals.positive, *signals.negative, *signals.seen}
    ranked = [
        (candidates[i][0], float(scores[i]))
        for i in np.argsort(-scores, kind="stable")
        if candidates[i][0] not in taken
    ]
    return ranked[:k]


def library_of(topic: np.ndarray, wanted: int, count: int, step: int = 3) -> list[str]:
    return [f"t{i:05d}" for i in np.nonzero(topic == wanted)[0][1::step][:count]]


@pytest.mark.parametrize("days", [300, 36500])
def test_matrix_product_scores_equal_scoring_each_candidate(corpus, monkeypatch, days):
    engine, _, _, topic = corpus
    saved = library_of(topic, 3, 25) + library_of(topic, 11, 10)
    down = library_of(topic, 3, 3, step=7)[1:]
    seen = library_of(topic, 3, 5, step=5)
    user_id = reader(engine, f"equal{days}", saved, down, seen)
    expected = one_by_one(corpus, user_id, days, 40)
    with engine.connect() as conn:
        titles = {p: s["title"] for p, s in queries.summaries(conn, saved).items()}
    _, _, vectors, _ = corpus
    for small in (True, False):
        picks = recommender(corpus, monkeypatch, small).recommend(user_id, 40, days)
        assert [p.id for p in picks] == [pid for pid, _ in expected]
        assert np.allclose([p.score for p in picks], [s for _, s in expected], rtol=0, atol=1e-5)
        for pick in picks:  # each names the library paper closest to it
            closest = saved[
                int(np.argmax(vectors[[int(p[1:]) for p in saved]] @ vectors[int(pick.id[1:])]))
            ]
            assert pick.reason == f"close to “{titles[closest]}” in your library"
        monkeypatch.undo()


def test_the_oldest_paper_of_a_large_window_can_be_picked(corpus, monkeypatch):
    """The old recommender looked only at the window's newest 20,000 papers; now every paper of
    the window is a candidate, the oldest too (here the one closest to the library)."""
    engine, _, vectors, _ = corpus
    similar = np.argsort(-(vectors @ vectors[0]))
    saved = [f"t{i:05d}" for i in similar[1:6]]  # OLDEST's nearest papers
    user_id = reader(engine, "oldest", saved)
    picks = recommender(corpus, monkeypatch).recommend(user_id, 5, 1000)
    assert picks[0].id == OLDEST
    assert [(p.id, round(p.score, 5)) for p in picks] == [
        (pid, round(score, 5)) for pid, score in one_by_one(corpus, user_id, 1000, 5)
    ]


def test_a_followed_author_brings_papers_with_and_without_a_vector(corpus, monkeypatch):
    engine, _, _, topic = corpus
    # two library papers: no classifier, affinity at most 0.2, below a follow's boost of 1
    user_id = reader(engine, "follower", library_of(topic, 5, 2), author=AUTHOR.upper())
    picks = recommender(corpus, monkeypatch).recommend(user_id, 12, 36500)
    followed = [p for p in picks if p.followed]
    by_author = {f"t{i:05d}" for i in range(7, COUNT, 500)} | {NO_VECTOR}
    assert {p.id for p in followed} == by_author and picks[: len(followed)] == followed
    assert all(p.reason == f"by {AUTHOR.upper()}, an author you follow" for p in followed)


@pytest.mark.parametrize("kind", ["down", "seen", "hidden"])
def test_rated_down_seen_and_hidden_papers_are_never_picked(corpus, monkeypatch, kind):
    """A reader's best picks, then those rated down, sent in a digest, or hidden by an admin
    after the index run (the index still holds them): none is picked again, the feed stays
    full, and it is what scoring each candidate gives."""
    engine, _, _, topic = corpus
    saved = library_of(topic, 8, 20)
    user_id = reader(engine, f"excluded-{kind}", saved)
    first = recommender(corpus, monkeypatch).recommend(user_id, 10, 36500)
    assert len(first) == 10 and not {p.id for p in first} & set(saved)
    best = [p.id for p in first[:4]]
    with engine.begin() as conn:
        if kind == "down":
            for paper_id in best:
                library.set_rating(conn, user_id, paper_id, "down")
        elif kind == "seen":
            library.mark_seen(conn, user_id, best)
        else:
            provenance.set_hidden(conn, best, True)
    # many picks: a thumbs-down paper would otherwise still come back, pushed down
    again = recommender(corpus, monkeypatch).recommend(user_id, 1000, 36500)
    assert len(again) == 1000 and not {p.id for p in again} & {*saved, *best}
    assert [p.id for p in again] == [pid for pid, _ in one_by_one(corpus, user_id, 36500, 1000)]
    if kind == "hidden":  # the other readers' tests see every paper
        with engine.begin() as conn:
            provenance.set_hidden(conn, best, False)


def test_an_index_without_row_times_is_rebuilt_by_the_next_index_run(db_url, tmp_path):
    """Indexes written before the row table existed: the recommender cannot read them, so the
    next index run must not call them up to date, and rebuilds them whole."""
    from types import SimpleNamespace

    from papertide.search import row_table
    from papertide.search.refresh import up_to_date, update_indexes
    from papertide.store import vectors as stored_vectors

    engine = open_engine(db_url)
    vectors = unit(np.random.default_rng(0).normal(size=(3, DIM)))
    with engine.begin() as conn:
        conn.execute(
            papers.insert(),
            [
                {"id": f"p{i}", "title": f"P {i}", "title_key": f"p{i}", "first_seen_at": NOW}
                | {"modified_at": NOW, "content_hash": f"h{i}", "published_at": NOW}
                for i in range(3)
            ],
        )
        rows = [(f"p{i}", f"h{i}", v.astype("<f4").tobytes()) for i, v in enumerate(vectors)]
        stored_vectors.save(conn, "test", rows)
    model = SimpleNamespace(name="test", dim=DIM)
    store = IndexStore(tmp_path / "idx")  # (a PostgreSQL URL is no folder)
    update_indexes(engine, store, model, embed=False)
    folder = store.root / store.published() / "vectors"
    for name in row_table.FILES:
        (folder / name).unlink()
    assert store.current().vectors.rows() is None
    assert not up_to_date(engine, store.current(), model)
    report = update_indexes(engine, store, model, embed=False)
    assert report["vector_index_rebuilt"] == 1
    assert store.current().vectors.rows().ids_at([0, 1, 2]) == ["p0", "p1", "p2"]
    engine.dispose()


def vector_rows(ids, matrix: np.ndarray) -> list:
    return [(f"r{i}", matrix[i].astype("<f4").tobytes(), NOW, [], None) for i in ids]


def test_the_int8_bound_is_never_below_a_rows_classifier_score(tmp_path, monkeypatch):
    """The recommender's pass over every row reads the int8 copy of the vectors: what it gives
    must stay an upper bound of the float32 score for any weights (else a row that should be
    picked is never scored in full), and close to it (else every row is scored in full).
    Rows with one large component quantize worst; updated and added rows get codes too."""
    from papertide.search import row_table
    from papertide.search.vectors import VectorIndex

    monkeypatch.setattr(row_table, "CODE_BLOCK", 64)  # several blocks, the last one partial
    monkeypatch.setattr(row_table, "CODE_CHUNK", 128)
    rng = np.random.default_rng(9)
    vectors = rng.normal(size=(1000, DIM))
    vectors[::7, 3] *= 40  # nearly one-hot: a coarse scale for the other components
    vectors = unit(vectors)
    index = VectorIndex(tmp_path / "vectors")
    index.build(vector_rows(range(900), vectors), DIM, {"n": 1})
    vectors[[5, 700]] = unit(rng.normal(size=(2, DIM)))
    index.update(vector_rows([*range(900, 1000), 5, 700], vectors), {"n": 2})
    table = index.rows()
    assert table is not None and table.count == 1000
    everything, scattered = np.arange(1000), np.arange(3, 1000, 11)
    for scale in (0.1, 1.0, 50.0):
        weights = (scale * rng.normal(size=DIM + 1)).astype(np.float32)
        exact = vectors @ weights[:-1] + weights[-1]
        length = float(np.linalg.norm(weights[:-1]))
        for chosen, span in ((everything, True), (scattered, True), (scattered, False)):
            bound = table.linear_bound(weights, chosen, span)
            assert (bound >= exact[chosen]).all()
            assert (bound - exact[chosen]).max() <= 0.05 * length


def test_near_duplicates_are_ranked_exactly_through_the_int8_bound(tmp_path, monkeypatch):
    """Hundreds of papers a hair apart (closer than the int8 copy can tell) at the top of a
    reader's ranking: the picks among them are still exactly those of scoring every row."""
    from papertide.rank import affinity as affinity_module
    from papertide.rank.affinity import UserScorer
    from papertide.search.vectors import VectorIndex

    monkeypatch.setattr(affinity_module, "KNN_WEIGHT", 0.0)  # no slack beyond the int8 room
    monkeypatch.setattr(recommend, "KEEP_ROWS", 0)
    monkeypatch.setattr(recommend, "CHUNK_ROWS", 700)
    monkeypatch.setattr(recommend, "FIRST_EXACT", 8)
    rng = np.random.default_rng(3)
    topic = rng.normal(size=DIM)
    vectors = unit(
        np.vstack([rng.normal(size=(1500, DIM)), topic + 1e-3 * rng.normal(size=(500, DIM))])
    )
    library = unit(topic + 0.3 * rng.normal(size=(20, DIM)))
    index = VectorIndex(tmp_path / "vectors")
    index.build(vector_rows(range(2000), vectors), DIM, {"n": 1})
    window = recommend._build_window(index.rows(), None, NOW, None)
    scorer = UserScorer.of(library, library[:0], window.background)
    ranking = recommend.LibraryRanking(window, scorer, np.zeros(2000, dtype=bool))
    picked = ranking.top(100)
    full = scorer.score(vectors).scores + window.recency
    best = np.argsort(-full, kind="stable")[:100]
    assert full[picked].tolist() == full[best].tolist()  # the same, up to the order of ties
    assert np.count_nonzero(~np.isnan(ranking.affinity)) < 2000  # not every row scored in full


def test_recency_from_its_table_is_the_per_row_formula():
    ages = np.arange(0, 40_000)
    expected = recommend.RECENCY_WEIGHT * np.exp2(ages / -7)  # what every row once computed
    assert np.array_equal(recommend._recency(ages), expected)
