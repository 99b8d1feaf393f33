"""Topics: k-means over paper embeddings, labelled by c-TF-IDF, placed on a 2-D map.

The number of topics is chosen by the data: the k with the best silhouette (cosine) among a few
values from half to twice sqrt(N/2), on a sample (bench/topics.py and bench/RESULTS.md: the
old fixed sqrt(N/2) made 100 topics of 20,000 papers, several of them one theme split). Topics
that then read alike are merged and every label starts differently (rank/topic_labels.py). The
map is a PCA projection of the embeddings (fast, deterministic, stable between rebuilds, unlike
t-SNE/UMAP). `build` recomputes everything (a scheduled or manual job); `assign_new` puts papers
added since into their nearest topic, cheaply, after each index run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from papertide.rank.topic_labels import TermCounts, distinct_labels, merge_duplicates
from papertide.search.embedder import document_text
from papertide.search.generations import Indexes
from papertide.store import queries
from papertide.store import topics as stored
from papertide.store.writer import utcnow

MAX_TOPICS = 150
CANDIDATE_COUNTS = 9  # k values tried, spaced evenly in log between half and twice sqrt(N/2)
SELECTION_SAMPLE = 4000  # papers the silhouettes are computed on (quadratic in this)
MAP_SAMPLE = 4000
MAP_LABELS = 15
PCA_SAMPLE = 20_000


def topic_count(papers: int) -> int:
    """About sqrt(N/2) topics, between 2 and MAX_TOPICS: the middle of the range tried."""
    return max(2, min(MAX_TOPICS, round(math.sqrt(papers / 2))))


def candidate_counts(papers: int) -> list[int]:
    """The topic counts tried for PAPERS papers: half to twice sqrt(N/2), at most N/2."""
    middle = topic_count(papers)
    low, high = max(2, middle // 2), min(MAX_TOPICS, 2 * middle, papers // 2)
    if high <= low:
        return [max(2, min(middle, papers // 2))]
    return sorted({int(k) for k in np.geomspace(low, high, CANDIDATE_COUNTS).round()})


def _kmeans(k: int) -> Any:
    from sklearn.cluster import MiniBatchKMeans

    return MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=4096)


def silhouettes(matrix: np.ndarray, counts: list[int]) -> dict[int, float]:
    """Mean silhouette (cosine) of k-means with each of COUNTS clusters, on a sample."""
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    sample = matrix[np.sort(rng.choice(len(matrix), min(len(matrix), SELECTION_SAMPLE), False))]
    scores = {}
    for k in counts:
        labels = _kmeans(k).fit_predict(sample)
        distinct = len(set(labels.tolist()))
        scores[k] = (
            float(silhouette_score(sample, labels, metric="cosine")) if distinct > 1 else -1.0
        )
    return scores


def choose_count(matrix: np.ndarray) -> int:
    """The candidate topic count whose clusters separate best (highest silhouette)."""
    scores = silhouettes(matrix, candidate_counts(len(matrix)))
    return max(scores, key=lambda k: (scores[k], -k))


def build(
    engine: Engine,
    indexes: Indexes,
    count: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Cluster every paper with a vector into topics and store them; returns the topic count.
    COUNT fixes the number of clusters (before near-duplicates are merged)."""
    from sklearn.decomposition import PCA

    vectors = indexes.vectors
    ids = list(vectors.row_ids())
    if len(ids) < 4:
        return 0
    matrix = np.asarray(vectors.matrix(), dtype=np.float32)
    if count is None and progress:
        progress(f"choosing the number of topics for {len(ids):,} papers")
    k = min(count or choose_count(matrix), len(ids) // 2)
    if progress:
        progress(f"clustering {len(ids):,} papers into {k} topics")
    assignment = _kmeans(k).fit_predict(matrix)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(ids), min(len(ids), PCA_SAMPLE), replace=False)
    points = PCA(n_components=2, random_state=0).fit(matrix[sample]).transform(matrix)
    if progress:
        progress("labelling topics")
    topics, assignment = _labelled(engine, ids, matrix, assignment, k)
    now = utcnow()
    rows = []
    for number, topic in enumerate(topics, start=1):
        members = assignment == number - 1
        centre = points[members].mean(axis=0)
        rows.append(
            {
                "id": number,
                "label": topic["label"] or f"topic {number}",
                "terms": topic["terms"],
                "size": int(members.sum()),
                "x": float(centre[0]),
                "y": float(centre[1]),
                "centroid": matrix[members].mean(axis=0).astype("<f4").tobytes(),
                "computed_at": now,
            }
        )
    members = [
        {"paper_id": pid, "topic_id": int(t) + 1, "x": float(p[0]), "y": float(p[1])}
        for pid, t, p in zip(ids, assignment, points, strict=True)
    ]
    with engine.begin() as conn:
        stored.replace_all(conn, rows, members)
    return len(rows)


def _labelled(
    engine: Engine, ids: list[str], matrix: np.ndarray, assignment: np.ndarray, k: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    texts = [""] * len(ids)
    with engine.connect() as conn:
        for start in range(0, len(ids), 5000):
            found = queries.summaries_with_abstracts(conn, ids[start : start + 5000])
            for offset, paper_id in enumerate(ids[start : start + 5000]):
                if paper_id in found:
                    texts[start + offset] = document_text(*found[paper_id])
    return label_clusters(texts, matrix, assignment, k)


def label_clusters(
    texts: list[str], matrix: np.ndarray, assignment: np.ndarray, k: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Topics (label, terms) of K clusters of papers (TEXTS, their vectors MATRIX and cluster
    ASSIGNMENT) after merging near-duplicates, largest first, and each paper's topic number
    (0-based) among them."""
    used = [c for c in range(k) if (assignment == c).any()]  # k-means may leave one empty
    joined = {c: [] for c in used}
    for text, cluster in zip(texts, assignment, strict=True):
        joined[int(cluster)].append(text)
    counts = TermCounts.of([" ".join(joined[c]) for c in used])
    sizes = np.array([(assignment == c).sum() for c in used])
    centroids = np.stack([matrix[assignment == c].mean(axis=0) for c in used])
    groups = sorted(merge_duplicates(counts, centroids, sizes), key=lambda g: -sizes[g].sum())
    labels, terms = distinct_labels(
        counts.grouped(groups).distinctive(), [int(sizes[g].sum()) for g in groups]
    )
    renumber = np.zeros(k, dtype=np.int64)
    for number, group in enumerate(groups):
        renumber[[used[member] for member in group]] = number
    topics = [{"label": label, "terms": t} for label, t in zip(labels, terms, strict=True)]
    return topics, renumber[assignment]


def assign_new(engine: Engine, indexes: Indexes) -> int:
    """Put papers that have a vector but no topic into their nearest topic (placed at the
    topic's spot on the map until the next `build`)."""
    with engine.connect() as conn:
        known, centroids = stored.centroids(conn)
        waiting = stored.unassigned(conn) if known else []
    vectors = indexes.vectors
    rows = [(pid, vectors.row_of(pid)) for pid in waiting]
    rows = [(pid, row) for pid, row in rows if row is not None]
    if not rows or centroids is None:
        return 0
    matrix = np.asarray(vectors.matrix()[[row for _, row in rows]])
    nearest = np.argmin(
        (matrix**2).sum(axis=1, keepdims=True)
        - 2 * matrix @ centroids.T
        + (centroids**2).sum(axis=1),
        axis=1,
    )
    members = []
    for (paper_id, _), index in zip(rows, nearest, strict=True):
        topic = known[int(index)]
        members.append(
            {"paper_id": paper_id, "topic_id": topic["id"], "x": topic["x"], "y": topic["y"]}
        )
    with engine.begin() as conn:
        stored.add_members(conn, members)
    return len(members)


def draw_map(engine: Engine, path: Path | Any, fmt: str = "svg") -> int:
    """The topic map as an SVG or PNG: a sample of papers coloured by topic, the largest topics
    labelled where their labels overlap no other. Writes to PATH (a file path or a binary
    stream); returns the topics drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with engine.connect() as conn:
        listed = stored.all_topics(conn)
        points = stored.map_points(conn, MAP_SAMPLE)
    figure, axes = plt.subplots(figsize=(10, 7), dpi=100)
    if points:
        xs, ys, topic_ids = (np.array(column) for column in zip(*points, strict=True))
        size = float(np.clip(20_000 / len(xs), 3, 40))  # small maps get visible dots
        axes.scatter(
            xs, ys, c=topic_ids % 20, cmap="tab20", vmin=0, vmax=19, s=size, alpha=0.7, lw=0
        )
    axes.set_axis_off()
    axes.set_title(
        f"{len(listed)} topics" if listed else "no topics yet: run `papertide topics build`"
    )
    figure.tight_layout()
    _label_largest(figure, axes, listed)
    figure.savefig(path, format=fmt)
    plt.close(figure)
    return len(listed)


def _label_largest(figure: Any, axes: Any, listed: list[dict[str, Any]]) -> None:
    """Label topics largest first, dropping each label that would overlap one already drawn."""
    renderer = figure.canvas.get_renderer()
    drawn: list[Any] = []
    for topic in listed:
        if len(drawn) == MAP_LABELS:
            return
        note = axes.annotate(
            topic["label"],
            (topic["x"], topic["y"]),
            fontsize=9,
            ha="center",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8, "lw": 0},
        )
        box = note.get_window_extent(renderer).expanded(1.05, 1.1)
        if any(box.overlaps(other) for other in drawn):
            note.remove()
        else:
            drawn.append(box)
