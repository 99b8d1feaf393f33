"""Search quality on the two real listing pages in ../shared/data/listing-papers.jsonl.

    .venv/bin/python bench/quality.py

(a) page agreement: for every paper, precision@10 of its `similar` papers that come from the same
    search-result page (papers on both pages count as related to both);
(b) known-item search: each title as a query against abstracts only; MRR@10 and recall@1.
Methods: keyword (BM25, tantivy), semantic (default embedder), hybrid (RRF, as `papertide
search`/`similar` run it) and the TF-IDF 1-2-gram baseline of arxiv-sanity-lite.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from papertide.records import title_key
from papertide.search.embedder import QUERY_MAX_TOKENS, default_embedder, document_text
from papertide.search.hybrid import CANDIDATES, rrf
from papertide.search.keyword import KeywordIndex
from papertide.search.vectors import VectorIndex

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-papers.jsonl"
K = 10


def load() -> tuple[list[dict], dict[str, set[str]]]:
    papers: dict[str, dict] = {}
    pages: dict[str, set[str]] = {}
    for line in DATA.open(encoding="utf-8"):
        row = json.loads(line)
        key = title_key(row["title"])
        papers.setdefault(key, {"id": key, "title": row["title"], "abstract": row["abstract"]})
        pages.setdefault(key, set()).add(row["page"])
    return list(papers.values()), pages


def build(papers: list[dict], folder: Path, with_titles: bool) -> tuple[KeywordIndex, VectorIndex]:
    """Both indexes over PAPERS; without titles for the known-item task."""
    keyword = KeywordIndex(folder / "keyword")
    keyword.reset()
    docs = [
        {
            "id": p["id"],
            "title": p["title"] if with_titles else "",
            "abstract": p["abstract"],
            "authors": [],
            "categories": [],
            "published_at": None,
        }
        for p in papers
    ]
    keyword.apply(docs, None)
    embedder = default_embedder()
    texts = [
        document_text(p["title"], p["abstract"]) if with_titles else p["abstract"] for p in papers
    ]
    matrix = embedder.embed(texts)
    vectors = VectorIndex(folder / "vectors")
    rows = [(p["id"], matrix[i].astype("<f4").tobytes(), None, []) for i, p in enumerate(papers)]
    vectors.build(rows, embedder.dim, {"bench": with_titles})
    return keyword, vectors


def tfidf_rankings(papers: list[dict], queries: list[str], docs: list[str]) -> list[list[str]]:
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, stop_words="english", max_df=0.9, min_df=1
    )
    doc_matrix = vectorizer.fit_transform(docs)
    query_matrix = vectorizer.transform(queries)
    scores = (query_matrix @ doc_matrix.T).toarray()
    return [[papers[j]["id"] for j in np.argsort(-row, kind="stable")] for row in scores]


def page_agreement(papers, pages, keyword, vectors) -> dict[str, list[float]]:
    """Per-paper precision@10 of each method's similar papers."""
    embedder = default_embedder()
    precision: dict[str, list[float]] = {"keyword": [], "semantic": [], "hybrid": [], "tfidf": []}
    texts = [document_text(p["title"], p["abstract"]) for p in papers]
    tfidf = tfidf_rankings(papers, texts, texts)
    for i, paper in enumerate(papers):
        pid = paper["id"]
        kw = [
            h.id for h in keyword.search(texts[i], CANDIDATES + 1, snippets=False) if h.id != pid
        ][:CANDIDATES]
        vec = vectors.vector(pid)
        if vec is None:
            vec = embedder.embed([texts[i]])[0]
        sem, _ = vectors.search(vec, CANDIDATES, exclude=pid)
        hyb = [h.id for h in rrf({"keyword": kw, "semantic": sem})]
        base = [x for x in tfidf[i] if x != pid]
        for name, ranked in (("keyword", kw), ("semantic", sem), ("hybrid", hyb), ("tfidf", base)):
            top = ranked[:K]
            precision[name].append(sum(bool(pages[x] & pages[pid]) for x in top) / K)
    return precision


def known_item(papers, keyword, vectors) -> dict[str, tuple[float, float]]:
    embedder = default_embedder()
    ranks: dict[str, list[int | None]] = {"keyword": [], "semantic": [], "hybrid": [], "tfidf": []}
    tfidf = tfidf_rankings(papers, [p["title"] for p in papers], [p["abstract"] for p in papers])
    for i, paper in enumerate(papers):
        kw = [h.id for h in keyword.search(paper["title"], CANDIDATES, snippets=False)]
        query = embedder.embed([paper["title"]], max_tokens=QUERY_MAX_TOKENS)[0]
        sem, _ = vectors.search(query, CANDIDATES)
        hyb = [h.id for h in rrf({"keyword": kw, "semantic": sem})]
        for name, ranked in (
            ("keyword", kw),
            ("semantic", sem),
            ("hybrid", hyb),
            ("tfidf", tfidf[i]),
        ):
            top = ranked[:K]
            ranks[name].append(top.index(paper["id"]) + 1 if paper["id"] in top else None)
    return {
        name: (float(np.mean([1 / r if r else 0 for r in v])), float(np.mean([r == 1 for r in v])))
        for name, v in ranks.items()
    }


def main() -> None:
    papers, pages = load()
    sizes = {page: sum(page in p for p in pages.values()) for page in ("page-a", "page-b")}
    chance = sum(s * (s - 1) for s in sizes.values()) / (len(papers) * (len(papers) - 1))
    print(f"{len(papers)} unique papers; chance page agreement about {chance:.3f}")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        keyword, vectors = build(papers, Path(tmp) / "full", with_titles=True)
        print(f"indexed in {time.perf_counter() - start:.1f} s")
        agreement = page_agreement(papers, pages, keyword, vectors)
        keyword_a, vectors_a = build(papers, Path(tmp) / "abstracts", with_titles=False)
        retrieval = known_item(papers, keyword_a, vectors_a)
    print(f"{'method':<10} {'page P@10':>10} {'title MRR@10':>13} {'recall@1':>9}")
    for name in ("keyword", "semantic", "hybrid", "tfidf"):
        mrr, r1 = retrieval[name]
        print(f"{name:<10} {np.mean(agreement[name]):>10.3f} {mrr:>13.3f} {r1:>9.3f}")
    for other in ("keyword", "semantic", "tfidf"):
        low, high = paired_bootstrap(agreement["hybrid"], agreement[other])
        print(f"page P@10 hybrid - {other}: 95% CI [{low:+.3f}, {high:+.3f}] (paired bootstrap)")


def paired_bootstrap(a: list[float], b: list[float], rounds: int = 10_000) -> tuple[float, float]:
    """95% interval of mean(a - b) over papers resampled with replacement."""
    diff = np.asarray(a) - np.asarray(b)
    rng = np.random.default_rng(0)
    means = diff[rng.integers(0, len(diff), (rounds, len(diff)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


if __name__ == "__main__":
    main()
