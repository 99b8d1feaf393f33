"""Keywords of a paper, from its own title and abstract, offline: two methods over one set of
candidate phrases (runs of 1-3 words with no stop word or punctuation inside, the way
KeyBERT's default candidates are formed, but not joined across a removed stop word).

- `tfidf`: each candidate's frequency in the paper times its inverse document frequency over the
  corpus (scikit-learn's TfidfVectorizer fitted on a sample of the stored papers), so a phrase
  that every abstract uses ("large language models") ranks below what sets this paper apart.
- `embedding` (KeyBERT-style): candidates embedded with papertide's model and ranked by cosine
  to the paper's own vector, picked with maximal marginal relevance so that five near-synonyms
  do not fill the list.

bench/keywords.py compares them on 130 real papers: alike by its retrieval proxies (self-
retrieval MRR 0.965 both, related@5 0.566 / 0.558), the embedding method less redundant (0.008
of keyword pairs share a word, against 0.079) but about 100x slower (210-320 ms a paper against
1.3-3.6 ms) and prone to fragments ("SORSA achieved", "thousands epochs"). `tfidf` is the
default: at 2.6M papers the embedding method would take a week of one machine.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from papertide.rank.topic_labels import STOP_WORDS, URL
from papertide.search.embedder import Embedder

KEYWORDS_PER_PAPER = 5
MAX_WORDS = 3
MMR_DIVERSITY = 0.5  # 0: by relevance alone; 1: by novelty alone
EMBED_CANDIDATES = 40  # the most frequent candidates a paper's embedding ranks (cost bound)

_STOP = frozenset(STOP_WORDS) | {
    "also", "can", "may", "via", "well", "however", "thus", "first", "one", "two", "three",
    "study", "problem", "problems", "framework", "called", "specifically", "achieved",
    "improve", "improves", "improved", "improving", "enable", "enables", "allows", "provide",
    "provides", "leverage", "leverages", "leveraging", "remains", "challenge", "challenges",
    "recent", "recently", "various", "different", "significant", "require", "requires",
    "better", "strong", "able", "including", "across", "previous", "prior", "address",
    "addresses", "paper", "we", "our", "us", "furthermore", "moreover", "respectively",
    "code", "available", "publicly", "github", "https", "http", "com", "et", "al",
}  # fmt: skip
# A word: letters, digits and inner hyphens ("state-of-the-art", "GPT-4", "3D"); anything else
# (punctuation, math, brackets) ends a candidate phrase.
_TOKEN = re.compile(r"[^\W_](?:[\w-]*[^\W_])?|[^\w\s]", re.UNICODE)
_MATH = re.compile(r"\$[^$]*\$")


@dataclass(frozen=True)
class Candidate:
    key: str  # lower case: how candidates are counted and compared
    shown: str  # the spelling the paper uses most (keeps "LoRA", "BERT")
    count: int
    first: int  # position of the first occurrence, to break ties toward the title and lead


def _chunks(text: str) -> Iterable[list[str]]:
    """Runs of content words: a stop word, a number or punctuation ends a run."""
    run: list[str] = []
    for token in _TOKEN.findall(_MATH.sub(" . ", URL.sub(" . ", text))):
        word = token.lower()
        if not token[0].isalnum() or word in _STOP or word.isdigit() or len(word) < 2:
            if run:
                yield run
            run = []
        else:
            run.append(token)
    if run:
        yield run


def candidate_keys(text: str) -> list[str]:
    """Every 1-3 word candidate of TEXT, lower case, once per occurrence (an analyzer)."""
    keys = []
    for run in _chunks(text):
        words = [w.lower() for w in run]
        for n in range(1, MAX_WORDS + 1):
            keys.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return keys


def candidates(text: str) -> list[Candidate]:
    """TEXT's candidates with counts and their most used spelling, in order of appearance."""
    spellings: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    position = 0
    for run in _chunks(text):
        for n in range(1, MAX_WORDS + 1):
            for i in range(len(run) - n + 1):
                phrase = " ".join(run[i : i + n])
                key = phrase.lower()
                spellings.setdefault(key, Counter())[phrase] += 1
                first.setdefault(key, position + i)
        position += len(run) + 1
    return [
        Candidate(key, shown.most_common(1)[0][0], sum(shown.values()), first[key])
        for key, shown in spellings.items()
    ]


def _stems(key: str) -> set[str]:
    return {word.removesuffix("s") for word in key.split()}  # "symmetries" ~ "symmetry" enough


def _overlaps(a: str, b: str) -> bool:
    """Whether two candidates say the same thing: a one-word one inside the other, or two
    words in common ("regularized singular vectors", "orthonormal regularized singular")."""
    a_stems, b_stems = _stems(a), _stems(b)
    if len(a_stems) == 1 or len(b_stems) == 1:
        common = {w[:6] for w in a_stems} & {w[:6] for w in b_stems}  # 6: symmetr(y|ies)
        return bool(common)
    return len(a_stems & b_stems) >= 2


def _distinct(ranked: list[Candidate], k: int) -> list[Candidate]:
    """The first K of RANKED that say something no phrase picked before says."""
    picked: list[Candidate] = []
    for cand in ranked:
        if any(_overlaps(p.key, cand.key) for p in picked):
            continue
        picked.append(cand)
        if len(picked) == k:
            break
    return picked


class CorpusStatistics:
    """Inverse document frequencies of candidate phrases over a sample of the corpus."""

    def __init__(self, texts: list[str]) -> None:
        self.vectorizer = TfidfVectorizer(analyzer=candidate_keys, sublinear_tf=True, norm=None)
        try:
            self.vectorizer.fit(texts or [""])
            self.idf = dict(
                zip(self.vectorizer.get_feature_names_out(), self.vectorizer.idf_, strict=True)
            )
        except ValueError:  # no candidate in any text
            self.idf = {}
        # a phrase the sample never saw: document frequency 0 in the same smoothed formula
        self.unseen_idf = float(np.log(1 + len(texts)) + 1)

    def weight(self, key: str) -> float:
        return self.idf.get(key, self.unseen_idf)


def tfidf_keywords(
    text: str, corpus: CorpusStatistics, k: int = KEYWORDS_PER_PAPER
) -> list[str]:
    """The K candidates of TEXT weighted highest by (1 + log tf) x idf, overlaps removed."""
    found = candidates(text)
    score = {
        c.key: (1 + np.log(c.count)) * corpus.weight(c.key) * (1 + 0.25 * c.key.count(" "))
        for c in found
    }
    ranked = sorted(found, key=lambda c: (-score[c.key], c.first))
    return [c.shown for c in _distinct(ranked, k)]


def embedding_keywords(
    text: str,
    document_vector: np.ndarray,
    embedder: Embedder,
    k: int = KEYWORDS_PER_PAPER,
    diversity: float = MMR_DIVERSITY,
) -> list[str]:
    """KeyBERT-style: candidates of TEXT by cosine to DOCUMENT_VECTOR (the paper's embedding),
    picked by maximal marginal relevance."""
    found = sorted(candidates(text), key=lambda c: (-c.count, c.first))[:EMBED_CANDIDATES]
    if not found:
        return []
    vectors = embedder.embed([c.shown for c in found], max_tokens=16)
    relevance = vectors @ document_vector
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    left = list(range(len(found)))
    while left and len(chosen) < k:
        redundancy = (
            similarity[np.ix_(left, chosen)].max(axis=1) if chosen else np.zeros(len(left))
        )
        mmr = (1 - diversity) * relevance[left] - diversity * redundancy
        best = left[int(np.argmax(mmr))]
        left.remove(best)
        if not any(_overlaps(found[c].key, found[best].key) for c in chosen):
            chosen.append(best)
    return [found[i].shown for i in chosen]
