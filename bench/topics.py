"""How many topics, and do their labels read apart? On ../shared/data/listing-papers.jsonl,
and on a corpus written with one dominant theme (tests/topic_corpus.py: 60 speech and music
papers, 30 others), the shape that gave six "music, speech" topics.

    .venv/bin/python bench/topics.py

(a) the topic count: mean silhouette (cosine) of k-means for every k `rank/topics.py` tries
    (half to twice sqrt(N/2)), with the stability of each k (mean adjusted Rand index between
    five seeds), and the k it chooses against the old fixed sqrt(N/2);
(b) labels: for k from the chosen one to 4x over-split (100 topics of 20,000 papers were about
    1.4 sqrt(N/2): a dense theme cut in several), the pairs of topics whose labels read alike
    and the duplicate leading words, with the old labelling (c-TF-IDF, first three terms) and
    the new (near-duplicates merged, distinct leading terms);
(c) scale: the count chosen for 20,000 synthetic unit vectors around 100 centres, and its time.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from papertide.rank.topic_labels import LABEL_TERMS, _alike, c_tf_idf
from papertide.rank.topics import (
    _kmeans,
    candidate_counts,
    choose_count,
    label_clusters,
    silhouettes,
    topic_count,
)
from papertide.records import title_key
from papertide.search.embedder import default_embedder, document_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "listing-papers.jsonl"
sys.path.insert(0, str(ROOT / "tests"))
from topic_corpus import dominant_theme_papers  # noqa: E402


def load() -> list[str]:
    papers: dict[str, str] = {}
    for line in DATA.open(encoding="utf-8"):
        row = json.loads(line)
        papers.setdefault(title_key(row["title"]), document_text(row["title"], row["abstract"]))
    return list(papers.values())


def stability(matrix: np.ndarray, k: int, seeds: int = 5) -> float:
    runs = []
    for seed in range(seeds):
        model = _kmeans(k)
        model.set_params(random_state=seed)
        runs.append(model.fit_predict(matrix))
    return float(np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(runs, 2)]))


def label_report(terms: list[list[str]]) -> tuple[int, int]:
    """(pairs of topics that read alike, topics whose leading word another topic leads with)."""
    alike = sum(_alike(a, b) for a, b in itertools.combinations(terms, 2))
    leads = [t[0].split()[0] for t in terms if t]
    return alike, len(leads) - len(set(leads))


def report(name: str, texts: list[str]) -> None:
    matrix = default_embedder().embed(texts)
    counts = candidate_counts(len(texts))
    scores = silhouettes(matrix, counts)
    chosen = choose_count(matrix)
    old_k = topic_count(len(texts))
    print(f"{name}: {len(texts)} papers; old rule sqrt(N/2) = {old_k}; chosen k = {chosen}")
    print(f"{'k':>4} {'silhouette':>11} {'stability (ARI)':>16}")
    for k in counts:
        print(f"{k:>4} {scores[k]:>11.4f} {stability(matrix, k):>16.3f}")
    print(f"{'k':>4} | old: topics, alike pairs, dup leads | new: topics, alike pairs, dup leads")
    for k in sorted({chosen, old_k, 2 * old_k, 4 * old_k}):
        assignment = _kmeans(k).fit_predict(matrix)
        texts_of = [
            " ".join(t for t, c in zip(texts, assignment, strict=True) if c == i) for i in range(k)
        ]
        old_alike, old_dup = label_report([t[:LABEL_TERMS] for t in c_tf_idf(texts_of)])
        topics, _ = label_clusters(texts, matrix, assignment, k)
        new_alike, new_dup = label_report([t["label"].split(", ") for t in topics if t["label"]])
        old = f"{k:>6} {old_alike:>6} {old_dup:>6}"
        print(f"{k:>4} | {old:>35} | {len(topics):>6} {new_alike:>6} {new_dup:>6}")


def main() -> None:
    report("shared listing papers", load())
    papers = dominant_theme_papers()
    report("dominant-theme corpus", [document_text(p["title"], p["abstract"]) for p in papers])
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(100, 384))
    vectors = centres[rng.integers(0, 100, 20_000)] + rng.normal(size=(20_000, 384)) * 1.2
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    start = time.perf_counter()
    chosen = choose_count(vectors)
    print(f"20,000 vectors around 100 centres: chosen k = {chosen} of {candidate_counts(20_000)}")
    print(f"in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
