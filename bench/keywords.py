"""Keywords: the TF-IDF method against the embedding (KeyBERT-style MMR) method, on real papers.

    .venv/bin/python bench/keywords.py [--shown 20] [--data ../shared/data/listing-papers.jsonl]

Prints both methods' keywords and the extractive one-line summary for SHOWN papers of the
listing data set (130 real papers from two search-result pages, so a page is one topic), then
for all 130 papers these proxies of what reads better:
- self-retrieval MRR: the paper's keywords as a TF-IDF query over the 130 titles and
  abstracts; how high the paper itself ranks (specific keywords find their paper);
- related@5: of the 5 other papers the keywords retrieve best, the share from the same page
  (keywords about the topic, not about how abstracts talk);
- redundancy: the share of keyword pairs that share a word (lower reads better);
- time per paper.
Needs the embedding model (`papertide model prepare`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from papertide.extract.keywords import CorpusStatistics, embedding_keywords, tfidf_keywords
from papertide.extract.summary import SentenceWeights, extractive_summary
from papertide.search.embedder import default_embedder, document_text

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-papers.jsonl"


def proxies(papers: list[dict], keywords: list[list[str]]) -> dict[str, float]:
    texts = [document_text(p["title"], p["abstract"]) for p in papers]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(texts)
    documents = vectorizer.transform(texts)
    queries = vectorizer.transform([" ".join(k) for k in keywords])
    scores = (queries @ documents.T).toarray()
    reciprocal, related = [], []
    for i, row in enumerate(scores):
        order = np.argsort(-row, kind="stable")
        reciprocal.append(1 / (1 + int(np.where(order == i)[0][0])))
        others = [j for j in order if j != i][:5]
        related.append(np.mean([papers[j]["page"] == papers[i]["page"] for j in others]))
    pairs = [
        bool(set(a.lower().split()) & set(b.lower().split()))
        for k in keywords
        for a, b in itertools.combinations(k, 2)
    ]
    return {
        "self-retrieval MRR": float(np.mean(reciprocal)),
        "related@5": float(np.mean(related)),
        "redundancy": float(np.mean(pairs)) if pairs else 0.0,
        "words per keyword": float(np.mean([len(w.split()) for k in keywords for w in k])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--shown", type=int, default=20)
    args = parser.parse_args()
    papers = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    texts = [document_text(p["title"], p["abstract"]) for p in papers]
    corpus, weights = CorpusStatistics(texts), SentenceWeights(texts)
    embedder = default_embedder()
    found: dict[str, list[list[str]]] = {"tfidf": [], "embedding": []}
    seconds = {"tfidf": 0.0, "embedding": 0.0}
    for text in texts:
        start = time.perf_counter()
        found["tfidf"].append(tfidf_keywords(text, corpus))
        seconds["tfidf"] += time.perf_counter() - start
        start = time.perf_counter()
        vector = embedder.embed([text])[0]
        found["embedding"].append(embedding_keywords(text, vector, embedder))
        seconds["embedding"] += time.perf_counter() - start
    for i, paper in enumerate(papers[: args.shown]):
        print(f"\n{i + 1}. {paper['title']}")
        print(f"   tfidf:     {'; '.join(found['tfidf'][i])}")
        print(f"   embedding: {'; '.join(found['embedding'][i])}")
        print(f"   summary:   {extractive_summary(paper['title'], paper['abstract'], weights)}")
    print(f"\n{len(papers)} papers")
    for method, keywords in found.items():
        measured = proxies(papers, keywords)
        shown = ", ".join(f"{name} {value:.3f}" for name, value in measured.items())
        print(f"{method:>9}: {shown}, {1000 * seconds[method] / len(papers):.1f} ms/paper")


if __name__ == "__main__":
    main()
