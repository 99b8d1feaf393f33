"""Recommendation quality on the two real listing pages in ../shared/data/listing-papers.jsonl.

    .venv/bin/python bench/recommend.py [--users-per-page 100]

Simulated users: a user's library is a random half of one page's papers; the held-out half is
what they should be shown. Candidates are all other papers. Reported: recall@10 and nDCG@10 of
the held-out half for papertide's recommender (rank/affinity.py over the default embeddings),
the TF-IDF + linear SVM method of arxiv-sanity-lite (positives against every other paper), and
the library-centroid baseline; with paired-bootstrap 95% intervals of papertide minus each.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from papertide.rank.affinity import affinity
from papertide.search.background import Background
from papertide.search.embedder import default_embedder, document_text
from quality import load

K = 10
Scorer = Callable[[list[int], list[int]], np.ndarray]  # (library rows, candidate rows) -> scores


def ndcg(ranked: list[int], relevant: set[int]) -> float:
    gain = sum(1 / math.log2(i + 2) for i, row in enumerate(ranked[:K]) if row in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(K, len(relevant))))
    return gain / ideal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users-per-page", type=int, default=100)
    args = parser.parse_args()
    papers, pages = load()
    texts = [document_text(p["title"], p["abstract"]) for p in papers]
    vectors = default_embedder().embed(texts)
    tfidf = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, stop_words="english"
    ).fit_transform(texts)

    def papertide(library: list[int], candidates: list[int]) -> np.ndarray:
        # background: the papers outside the library, as a database's random sample would be
        outside = np.setdiff1d(np.arange(len(papers)), library)
        result = affinity(
            vectors[candidates], vectors[library], vectors[:0], Background.of(vectors[outside])
        )
        return result.scores

    def svm(library: list[int], candidates: list[int]) -> np.ndarray:
        labels = np.zeros(len(papers))
        labels[library] = 1
        model = LinearSVC(class_weight="balanced", C=0.01, max_iter=10_000, tol=1e-6)
        model.fit(tfidf, labels)
        return model.decision_function(tfidf[candidates])

    def centroid(library: list[int], candidates: list[int]) -> np.ndarray:
        return vectors[candidates] @ vectors[library].mean(axis=0)

    methods: dict[str, Scorer] = {"papertide": papertide, "tfidf+svm": svm, "centroid": centroid}
    results: dict[str, dict[str, list[float]]] = {m: {"recall": [], "ndcg": []} for m in methods}
    rng = np.random.default_rng(0)
    for page in ("page-a", "page-b"):
        members = [i for i, p in enumerate(papers) if page in pages[p["id"]]]
        for _ in range(args.users_per_page):
            shuffled = rng.permutation(members)
            library = sorted(shuffled[: len(members) // 2].tolist())
            held_out = set(shuffled[len(members) // 2 :].tolist())
            candidates = [i for i in range(len(papers)) if i not in set(library)]
            for name, scorer in methods.items():
                scores = scorer(library, candidates)
                ranked = [candidates[i] for i in np.argsort(-scores, kind="stable")]
                hits = len(set(ranked[:K]) & held_out)
                results[name]["recall"].append(hits / len(held_out))
                results[name]["ndcg"].append(ndcg(ranked, held_out))
    users = 2 * args.users_per_page
    print(f"{len(papers)} papers, {users} simulated users (half of one page as library)")
    print(f"{'method':<12} {'recall@10':>10} {'nDCG@10':>9}")
    for name in methods:
        r, n = (np.mean(results[name][m]) for m in ("recall", "ndcg"))
        print(f"{name:<12} {r:10.3f} {n:9.3f}")
    boot = np.random.default_rng(1)
    for other in ("tfidf+svm", "centroid"):
        for metric in ("recall", "ndcg"):
            diff = np.array(results["papertide"][metric]) - np.array(results[other][metric])
            means = [diff[boot.integers(0, len(diff), len(diff))].mean() for _ in range(2000)]
            low, high = np.percentile(means, [2.5, 97.5])
            print(
                f"papertide - {other:<10} {metric:<6} {diff.mean():+.3f}  "
                f"95% [{low:+.3f}, {high:+.3f}]"
            )


if __name__ == "__main__":
    main()
