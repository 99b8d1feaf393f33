"""Topics: k-means over paper embeddings, labelled by c-TF-IDF, placed on a 2-D map.

c-TF-IDF (as BERTopic uses it): each cluster's papers form one document; a term's weight is
its frequency in the cluster times log(1 + mean words per cluster / the term's frequency over
all clusters), so a label names what sets a cluster apart, not what every paper says. The map
is a PCA projection of the embeddings (fast, deterministic, stable between rebuilds, unlike
t-SNE/UMAP). `build` recomputes everything (a scheduled or manual job); `assign_new` puts papers
added since into their nearest topic, cheaply, after each index run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sqlalchemy.engine import Engine

from papertide.search.embedder import document_text
from papertide.search.generations import Indexes
from papertide.store import queries
from papertide.store import topics as stored
from papertide.store.writer import utcnow

URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# How abstracts talk, not what they are about.
ABSTRACT_WORDS = {
    "paper", "propose", "proposed", "proposes", "method", "methods", "approach", "approaches",
    "results", "result", "show", "shows", "based", "using", "novel", "existing", "demonstrate",
    "experiments", "experimental", "significantly", "achieve", "achieves", "state-of-the-art",
    "outperforms", "performance", "work", "new", "extensive", "introduce", "present", "effective",
}  # fmt: skip
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | ABSTRACT_WORDS)
TERMS_PER_TOPIC = 8
LABEL_TERMS = 3
MAP_SAMPLE = 4000
PCA_SAMPLE = 20_000


def topic_count(papers: int) -> int:
    """About sqrt(N/2) topics, between 2 and 150: ~30 at 2k papers, 150 from 45k."""
    return max(2, min(150, round(math.sqrt(papers / 2))))


def c_tf_idf(texts_per_topic: list[str], top: int = TERMS_PER_TOPIC) -> list[list[str]]:
    """The TOP most distinctive terms (words and two-word phrases) of each topic's text."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(
        stop_words=STOP_WORDS, ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][\w-]+\b"
    )
    try:  # links are not themes ("github", "com")
        counts = vectorizer.fit_transform(URL.sub(" ", text) for text in texts_per_topic)
    except ValueError:  # no words at all
        return [[] for _ in texts_per_topic]
    terms = vectorizer.get_feature_names_out()
    tf = counts.toarray().astype(np.float64)
    tf[tf < 2] = 0  # a term said once in a whole topic is noise (names, typos), not its theme
    tf = np.sqrt(tf)  # BERTopic's reduce_frequent_words: words every abstract repeats weigh less
    words_per_topic = tf.sum(axis=1).mean()
    idf = np.log(1 + words_per_topic / np.maximum(tf.sum(axis=0), 1))
    weights = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1) * idf
    labels = []
    for row in weights:
        picked: list[str] = []
        for index in np.argsort(-row):
            if row[index] <= 0 or len(picked) == top:
                break
            term = str(terms[index])
            # a phrase and its own words say the same thing twice
            if not any(term in kept or kept in term for kept in picked):
                picked.append(term)
        labels.append(picked)
    return labels


def build(
    engine: Engine,
    indexes: Indexes,
    count: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Cluster every paper with a vector into topics and store them; returns the topic count."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA

    vectors = indexes.vectors
    ids = list(vectors.row_ids())
    if len(ids) < 4:
        return 0
    matrix = np.asarray(vectors.matrix(), dtype=np.float32)
    k = min(count or topic_count(len(ids)), len(ids) // 2)
    if progress:
        progress(f"clustering {len(ids):,} papers into {k} topics")
    kmeans = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=4096)
    assignment = kmeans.fit_predict(matrix)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(ids), min(len(ids), PCA_SAMPLE), replace=False)
    points = PCA(n_components=2, random_state=0).fit(matrix[sample]).transform(matrix)
    if progress:
        progress("labelling topics")
    texts: list[list[str]] = [[] for _ in range(k)]
    with engine.connect() as conn:
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            found = queries.summaries_with_abstracts(conn, chunk)
            for offset, paper_id in enumerate(chunk):
                if paper_id in found:
                    title, abstract = found[paper_id]
                    texts[assignment[start + offset]].append(document_text(title, abstract))
    terms = c_tf_idf([" ".join(parts) for parts in texts])
    now = utcnow()
    centroids = kmeans.cluster_centers_.astype("<f4")
    rows = []
    for topic in range(k):
        members = assignment == topic
        if not members.any():
            continue
        centre = points[members].mean(axis=0)
        rows.append(
            {
                "id": topic + 1,
                "label": ", ".join(terms[topic][:LABEL_TERMS]) or f"topic {topic + 1}",
                "terms": terms[topic],
                "size": int(members.sum()),
                "x": float(centre[0]),
                "y": float(centre[1]),
                "centroid": centroids[topic].tobytes(),
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
    labelled. Writes to PATH (a file path or a binary stream); returns the topics drawn."""
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
    for topic in listed[:25]:
        axes.annotate(
            topic["label"],
            (topic["x"], topic["y"]),
            fontsize=8,
            ha="center",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.75, "lw": 0},
        )
    axes.set_axis_off()
    axes.set_title(
        f"{len(listed)} topics" if listed else "no topics yet: run `papertide topics build`"
    )
    figure.tight_layout()
    figure.savefig(path, format=fmt)
    plt.close(figure)
    return len(listed)
