"""A one-line summary per paper: the abstract's most representative sentence (extractive, the
default: no model, no network), or one written by an OpenAI-compatible chat endpoint when one
is configured (`PAPERTIDE_SUMMARY_LLM_URL`, `_MODEL`, `_API_KEY`).

Only the index run calls this (extract/compute.py), never an import or a request; every LLM
failure (unreachable, slow past the timeout, an error status, an answer of the wrong shape or
an empty one) is a SummaryFailed, and the caller stores the extractive summary instead.
"""

from __future__ import annotations

import re

import httpx
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from papertide.extract.plan import LlmSettings
from papertide.rank.topic_labels import STOP_WORDS

MAX_SUMMARY_CHARS = 300
MIN_SENTENCE_WORDS = 6
LLM_MAX_TOKENS = 96
# after this many failures in a row an index run stops asking the LLM (it is down, or slow)
LLM_FAILURES_BEFORE_GIVING_UP = 3
SYSTEM_PROMPT = (
    "You summarise research papers. Answer with one plain sentence of at most 30 words that "
    "says what the paper does and finds. No preamble, no markdown, no links."
)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=[A-Z0-9(\[$])")
_NOT_A_SENTENCE_END = frozenset(
    "e.g i.e al fig figs eq eqs vs cf sec secs no approx resp ref refs tab".split()
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class SummaryFailed(Exception):
    """The LLM gave no usable summary; the message says why (stored and reported)."""


def sentences(abstract: str) -> list[str]:
    """ABSTRACT cut into sentences ("et al.", "e.g." and the like are no sentence end)."""
    text = " ".join(abstract.split())
    found, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        word = text[text.rfind(" ", 0, match.start()) + 1 : match.start()]
        if word.lower().lstrip("([") in _NOT_A_SENTENCE_END:
            continue
        found.append(text[start : match.end()].strip())
        start = match.end()
    if text[start:].strip():
        found.append(text[start:].strip())
    return found


def one_line(text: str, limit: int = MAX_SUMMARY_CHARS) -> str:
    """TEXT on one line without control characters, cut at a word within LIMIT characters."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + "…"


class SentenceWeights:
    """Word weights (TF-IDF over a sample of the corpus) for comparing sentences."""

    def __init__(self, texts: list[str]) -> None:
        self.vectorizer = TfidfVectorizer(
            stop_words=STOP_WORDS, sublinear_tf=True, token_pattern=r"(?u)\b[a-zA-Z][\w-]+\b"
        )
        try:
            self.vectorizer.fit(texts or [""])
            self.fitted = True
        except ValueError:  # no words at all
            self.fitted = False


def extractive_summary(title: str, abstract: str, weights: SentenceWeights) -> str:
    """The sentence of ABSTRACT closest (TF-IDF cosine) to the whole title and abstract: the
    one that says most of what the paper says. "" when there is no abstract (the title would
    only repeat itself)."""
    found = sentences(abstract)
    if not found:
        return ""
    long_enough = [s for s in found if len(s.split()) >= MIN_SENTENCE_WORDS] or found
    if len(long_enough) == 1 or not weights.fitted:
        return one_line(long_enough[0])
    matrix = weights.vectorizer.transform([f"{title}. {abstract}", *long_enough])
    closeness = (matrix[1:] @ matrix[0].T).toarray().ravel()  # rows are L2-normalised
    return one_line(long_enough[int(np.argmax(closeness))])


class LlmSummarizer:
    """Asks an OpenAI-compatible `/v1/chat/completions` for one sentence per paper."""

    def __init__(self, settings: LlmSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self.client = httpx.Client(
            timeout=settings.timeout, headers=headers, transport=transport, follow_redirects=False
        )
        self.failures_in_a_row = 0

    @property
    def gave_up(self) -> bool:
        return self.failures_in_a_row >= LLM_FAILURES_BEFORE_GIVING_UP

    def summarize(self, title: str, abstract: str) -> str:
        if self.gave_up:
            raise SummaryFailed(
                f"not asked: the LLM failed {self.failures_in_a_row} times in a row this run"
            )
        try:
            summary = self._ask(title, abstract)
        except SummaryFailed:
            self.failures_in_a_row += 1
            raise
        self.failures_in_a_row = 0
        return summary

    def _ask(self, title: str, abstract: str) -> str:
        body = {
            "model": self.settings.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Title: {title}\n\nAbstract: {abstract}"},
            ],
            "max_tokens": LLM_MAX_TOKENS,
            "temperature": 0,
        }
        try:
            response = self.client.post(self.settings.endpoint, json=body)
        except httpx.TimeoutException:
            raise SummaryFailed(f"no answer within {self.settings.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise SummaryFailed(f"cannot reach the LLM: {exc}") from None
        if response.status_code != 200:
            raise SummaryFailed(f"the LLM answered HTTP {response.status_code}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise SummaryFailed("the LLM's answer is not a chat completion") from None
        if not isinstance(content, str):
            raise SummaryFailed("the LLM's answer is not a chat completion")
        first_line = next((line for line in content.splitlines() if line.strip()), "")
        summary = one_line(first_line.strip().strip('"').strip())
        if not summary:
            raise SummaryFailed("the LLM answered with no text")
        return summary

    def close(self) -> None:
        self.client.close()
