"""Topic labels: c-TF-IDF terms, near-duplicate topics merged, and no two labels alike.

c-TF-IDF (as BERTopic uses it): each cluster's papers form one document; a term's weight is
its frequency in the cluster times log(1 + mean words per cluster / the term's frequency over
all clusters), so a label names what sets a cluster apart, not what every paper says.

k-means splits a theme that is large in the data into several clusters, and c-TF-IDF names each
after the theme (100 topics over 20,000 papers had six "music, speech, ..."). `merge_duplicates`
joins topics that read alike (leading terms sharing a word, or half their label words the same)
when each is among the other's nearest topics; `distinct_labels` then gives every topic a
leading term no larger topic leads with, so no two labels start alike. (Centroid cosines alone
do not tell duplicates apart: measured, split halves of one theme were no closer than distinct
themes of one field.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

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
NEIGHBOURS = 3  # how near (in rank) two alike topics must be to be merged


@dataclass
class TermCounts:
    """Raw term counts per topic (a sparse topics x terms matrix) and the terms."""

    counts: sparse.csr_matrix
    terms: np.ndarray

    @classmethod
    def of(cls, texts_per_topic: list[str]) -> TermCounts:
        vectorizer = CountVectorizer(
            stop_words=STOP_WORDS, ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][\w-]+\b"
        )
        try:  # links are not themes ("github", "com")
            counts = vectorizer.fit_transform(URL.sub(" ", text) for text in texts_per_topic)
        except ValueError:  # no words at all
            return cls(sparse.csr_matrix((len(texts_per_topic), 0)), np.array([], dtype=str))
        return cls(counts.tocsr().astype(np.float64), vectorizer.get_feature_names_out())

    def grouped(self, groups: list[list[int]]) -> TermCounts:
        """The counts of topics joined as GROUPS (lists of row numbers)."""
        rows = [row for group in groups for row in group]
        cols = [number for number, group in enumerate(groups) for _ in group]
        join = sparse.csr_matrix(
            (np.ones(len(rows)), (cols, rows)), shape=(len(groups), self.counts.shape[0])
        )
        return TermCounts((join @ self.counts).tocsr(), self.terms)

    def distinctive(self, top: int = TERMS_PER_TOPIC) -> list[list[str]]:
        """The TOP most distinctive terms (words and two-word phrases) of each topic."""
        tf = self.counts.copy()
        tf.data[tf.data < 2] = 0  # said once in a whole topic: noise (names, typos), not a theme
        tf.eliminate_zeros()
        tf.data = np.sqrt(tf.data)  # BERTopic's reduce_frequent_words
        if tf.shape[1] == 0:
            return [[] for _ in range(tf.shape[0])]
        words_per_topic = float(tf.sum(axis=1).mean())
        idf = np.log(1 + words_per_topic / np.maximum(np.asarray(tf.sum(axis=0)).ravel(), 1))
        totals = np.maximum(np.asarray(tf.sum(axis=1)).ravel(), 1)
        weights = sparse.diags(1 / totals) @ tf @ sparse.diags(idf)
        weights = weights.tocsr()
        labels = []
        for row in range(weights.shape[0]):
            start, end = weights.indptr[row], weights.indptr[row + 1]
            values, columns = weights.data[start:end], weights.indices[start:end]
            picked: list[str] = []
            for index in np.lexsort((columns, -values)):  # ties: in the terms' order
                if values[index] <= 0 or len(picked) == top:
                    break
                term = str(self.terms[columns[index]])
                # a phrase and its own words say the same thing twice
                if not any(term in kept or kept in term for kept in picked):
                    picked.append(term)
            labels.append(picked)
        return labels


def c_tf_idf(texts_per_topic: list[str], top: int = TERMS_PER_TOPIC) -> list[list[str]]:
    """The TOP most distinctive terms of each topic's text."""
    return TermCounts.of(texts_per_topic).distinctive(top)


def _words(term: str) -> set[str]:
    return set(term.split())


def _label_words(terms: list[str]) -> set[str]:
    return {word for term in terms[:LABEL_TERMS] for word in _words(term)}


def _alike(first: list[str], second: list[str]) -> bool:
    """Two topics read as the same when their leading terms share a word, or when half the
    words of their labels are the same."""
    if not first or not second:
        return False
    if _words(first[0]) & _words(second[0]):
        return True
    one, other = _label_words(first), _label_words(second)
    return len(one & other) >= 0.5 * len(one | other)


def merge_duplicates(
    counts: TermCounts, centroids: np.ndarray, sizes: np.ndarray
) -> list[list[int]]:
    """Groups of topics (row numbers) to keep as one: two topics that read alike are joined
    when one is among the other's NEIGHBOURS nearest topics (cosine of their centroids), the
    closest pair first; topics that read alike but lie apart are left to be relabelled."""
    groups = [[row] for row in range(len(sizes))]
    sums = centroids * sizes[:, None]  # a group's centroid is its members' mean
    while len(groups) > 2:
        terms = counts.grouped(groups).distinctive()
        means = np.stack([sums[g].sum(axis=0) / sizes[g].sum() for g in groups])
        means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        similarity = means @ means.T
        np.fill_diagonal(similarity, -np.inf)
        nearest = np.argsort(-similarity, axis=1)[:, :NEIGHBOURS]
        pairs = [
            (float(similarity[i, j]), min(i, j), max(i, j))
            for i in range(len(groups))
            for j in nearest[i]
            if j != i and _alike(terms[i], terms[j])  # among few topics, i is its own neighbour
        ]
        if not pairs:
            break
        _, i, j = max(pairs)
        groups[i] = groups[i] + groups.pop(j)
    return groups


def distinct_labels(terms: list[list[str]], sizes: list[int]) -> tuple[list[str], list[list[str]]]:
    """A label per topic (up to LABEL_TERMS terms) and its terms, label terms first. Larger
    topics choose first; a topic leads with its first term that shares no word with a larger
    topic's label (else with a larger topic's leading term), and no term of a label shares a
    word with a larger topic's leading term, so no two labels start alike."""
    lead_words: set[str] = set()
    label_words: set[str] = set()
    labels = [""] * len(terms)
    ordered = [list(own) for own in terms]
    for topic in sorted(range(len(terms)), key=lambda t: -sizes[t]):
        free = [t for t in terms[topic] if not _words(t) & lead_words]
        fresh = [t for t in free if not _words(t) & label_words]
        if not free:
            continue  # every term leads a larger topic: the caller numbers it
        lead = (fresh or free)[0]
        rest = [t for t in free if t != lead and not _words(t) & _words(lead)]
        chosen = [lead, *rest[: LABEL_TERMS - 1]]
        lead_words |= _words(lead)
        label_words |= {word for term in chosen for word in _words(term)}
        labels[topic] = ", ".join(chosen)
        ordered[topic] = chosen + [t for t in terms[topic] if t not in chosen]
    return labels, ordered
