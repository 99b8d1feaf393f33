"""Search quality on the two real listing pages in ../shared/data/listing-papers.jsonl.

    .venv/bin/python bench/quality.py

(a) page agreement: for every paper, precision@10 of its `similar` papers that come from the same
    search-result page (papers on both pages count as related to both);
(b) known-item search: each title as a query against abstracts only; MRR@10 and recall@1.
(c) the semantic floor (hybrid.SEMANTIC_FLOOR), swept: results a nonsense query gets (seeded
    random letter strings and the strings of issue 11), against what real queries keep: (b)
    again, a paper's acronym ("PiSSA" of "PiSSA: ...") and the first three content words of its
    title, each as a known-item query in semantic and hybrid mode (MRR@10).
Methods: keyword (BM25, tantivy), semantic (default embedder), hybrid (RRF, as `papertide
search`/`similar` run it) and the TF-IDF 1-2-gram baseline of arxiv-sanity-lite.
"""

from __future__ import annotations

import json
import random
import re
import string
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from papertide.records import title_key
from papertide.search.embedder import QUERY_MAX_TOKENS, default_embedder, document_text
from papertide.search.hybrid import CANDIDATES, SEMANTIC_FLOOR, rrf, semantic_ids
from papertide.search.keyword import KeywordIndex
from papertide.search.vectors import VectorIndex

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-papers.jsonl"
K = 10
FLOORS = (None, 0.15, 0.20, 0.25, 0.30)
ISSUE_NONSENSE = ['"unbalanced', "title:(", "xqzvw plorb"]
ACRONYM = re.compile(r"^([A-Za-z][\w-]*):")


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
        sem = semantic_ids(vectors, query, CANDIDATES)  # as `papertide search` reads it
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


def nonsense_queries(count: int = 40) -> list[str]:
    rng = random.Random(0)
    letters = string.ascii_lowercase

    def word() -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(3, 8)))

    return ISSUE_NONSENSE + [
        " ".join(word() for _ in range(rng.randint(1, 3))) for _ in range(count)
    ]


def short_query(title: str) -> str:
    words = [w for w in re.findall(r"[A-Za-z][\w-]+", title) if w.lower() not in ENGLISH_STOP_WORDS]
    return " ".join(words[:3])


def floor_sweep(papers, keyword, vectors, keyword_a, vectors_a) -> list[dict[str, float]]:
    """Per floor: mean results of nonsense queries (semantic, hybrid) and MRR@10 of the
    known-item query sets (semantic, hybrid). KEYWORD/VECTORS hold titles, the _A pair not."""
    embedder = default_embedder()
    sets = {
        "title": [(p["title"], p["id"]) for p in papers],
        "acronym": [(m.group(1), p["id"]) for p in papers if (m := ACRONYM.match(p["title"]))],
        "short": [(short_query(p["title"]), p["id"]) for p in papers],
    }
    nonsense = nonsense_queries()

    def embedded(texts: list[str]) -> np.ndarray:
        return embedder.embed(texts, max_tokens=QUERY_MAX_TOKENS)

    query_vectors = {name: embedded([q for q, _ in rows]) for name, rows in sets.items()}
    nonsense_vectors = embedded(nonsense)
    rows = []
    for floor in FLOORS:
        cut = -1.0 if floor is None else floor  # cosines are never below -1: no floor
        row: dict[str, float] = {"floor": cut}
        counts = {"semantic": [], "hybrid": []}
        for text, vector in zip(nonsense, nonsense_vectors, strict=True):
            sem = semantic_ids(vectors, vector, CANDIDATES, floor=cut)
            kw = [h.id for h in keyword.search(text, CANDIDATES, snippets=False)]
            counts["semantic"].append(len(sem))
            counts["hybrid"].append(len(rrf({"keyword": kw, "semantic": sem})))
        for mode, found in counts.items():
            row[f"nonsense {mode}"] = float(np.mean(found))
            row[f"nonsense {mode} empty"] = float(np.mean([n == 0 for n in found]))
        for name, queries in sets.items():
            kw_index, vec_index = (keyword_a, vectors_a) if name == "title" else (keyword, vectors)
            found = {"semantic": [], "hybrid": []}
            for (text, wanted), vector in zip(queries, query_vectors[name], strict=True):
                sem = semantic_ids(vec_index, vector, CANDIDATES, floor=cut)
                kw = [h.id for h in kw_index.search(text, CANDIDATES, snippets=False)]
                hyb = [h.id for h in rrf({"keyword": kw, "semantic": sem})]
                found["semantic"].append(reciprocal_rank(sem, wanted))
                found["hybrid"].append(reciprocal_rank(hyb, wanted))
            for mode, hits in found.items():
                row[f"{name} {mode}"] = float(np.mean(hits))
        rows.append(row)
    return rows


def reciprocal_rank(ranked: list[str], wanted: str) -> float:
    return 1 / (ranked.index(wanted) + 1) if wanted in ranked[:K] else 0.0


def print_sweep(rows: list[dict[str, float]]) -> None:
    print(
        f"semantic floor sweep (in use: {SEMANTIC_FLOOR}); nonsense = mean results (share empty),"
    )
    print("others = known-item MRR@10, semantic / hybrid")
    columns = ("nonsense sem", "nonsense hyb", "title", "acronym", "short")
    print(f"{'floor':>6} " + " ".join(f"{c:>15}" for c in columns))
    for row in rows:
        label = "none" if row["floor"] < -0.5 else f"{row['floor']:.2f}"
        cells = [
            f"{row[f'nonsense {m}']:.1f} ({row[f'nonsense {m} empty']:.2f})"
            for m in ("semantic", "hybrid")
        ] + [
            f"{row[f'{n} semantic']:.3f}/{row[f'{n} hybrid']:.3f}"
            for n in ("title", "acronym", "short")
        ]
        print(f"{label:>6} " + " ".join(f"{c:>15}" for c in cells))


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
        sweep = floor_sweep(papers, keyword, vectors, keyword_a, vectors_a)
    print(f"{'method':<10} {'page P@10':>10} {'title MRR@10':>13} {'recall@1':>9}")
    for name in ("keyword", "semantic", "hybrid", "tfidf"):
        mrr, r1 = retrieval[name]
        print(f"{name:<10} {np.mean(agreement[name]):>10.3f} {mrr:>13.3f} {r1:>9.3f}")
    for other in ("keyword", "semantic", "tfidf"):
        low, high = paired_bootstrap(agreement["hybrid"], agreement[other])
        print(f"page P@10 hybrid - {other}: 95% CI [{low:+.3f}, {high:+.3f}] (paired bootstrap)")
    print_sweep(sweep)


def paired_bootstrap(a: list[float], b: list[float], rounds: int = 10_000) -> tuple[float, float]:
    """95% interval of mean(a - b) over papers resampled with replacement."""
    diff = np.asarray(a) - np.asarray(b)
    rng = np.random.default_rng(0)
    means = diff[rng.integers(0, len(diff), (rounds, len(diff)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


if __name__ == "__main__":
    main()
