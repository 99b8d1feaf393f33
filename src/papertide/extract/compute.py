"""The index run's step that derives keywords and a one-line summary for every paper that needs
them (search/refresh.py calls it under the index writer's lock: the one writer of derived data).

Extracts are cached by the paper's content hash and the methods that made them, so a re-run
computes nothing twice; a paper whose keywords or summary changed is marked modified, so the
same run puts its keywords into the keyword index."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from papertide.extract.plan import ExtractPlan
from papertide.search.embedder import Embedder, document_text
from papertide.store import extracts

if TYPE_CHECKING:
    from papertide.extract.summary import LlmSummarizer

log = logging.getLogger(__name__)
BATCH = 256


def compute_extracts(
    engine: Engine,
    plan: ExtractPlan,
    embedder: Embedder | None,
    progress: Callable[[str, int, int | None], None],
    summarizer: LlmSummarizer | None = None,
) -> dict[str, int]:
    """Derive what is missing or stale; returns {extracts, summaries_llm, summaries_llm_failed}.
    SUMMARIZER replaces the one PLAN.llm describes (tests)."""
    # scikit-learn loads here, in index runs only, not with every command or web worker
    from papertide.extract.keywords import CorpusStatistics, embedding_keywords, tfidf_keywords
    from papertide.extract.summary import (
        LlmSummarizer,
        SentenceWeights,
        SummaryFailed,
        extractive_summary,
    )

    method = "embedding" if plan.keyword_method == "embedding" and embedder else "tfidf"
    model = plan.llm.model if plan.llm else None
    report = {"extracts": 0, "summaries_llm": 0, "summaries_llm_failed": 0}
    with engine.connect() as conn:
        batch = extracts.pending(conn, method, model, BATCH)
        if not batch:
            return report
        sample = extracts.corpus_sample(conn, plan.corpus_sample)
    corpus, weights = CorpusStatistics(sample), SentenceWeights(sample)
    if summarizer is None and plan.llm is not None:
        summarizer = LlmSummarizer(plan.llm)
    first_failure = None
    try:
        while batch:
            rows, changed = [], []
            for paper in batch:
                text = document_text(paper["title"], paper["abstract"] or "")
                if method == "embedding":
                    assert embedder is not None
                    vector = embedder.embed([text])[0]
                    keywords = embedding_keywords(text, vector, embedder)
                else:
                    keywords = tfidf_keywords(text, corpus)
                summary = extractive_summary(paper["title"], paper["abstract"] or "", weights)
                kind, error = "extractive", None
                if summarizer is not None and paper["abstract"]:
                    try:
                        summary = summarizer.summarize(paper["title"], paper["abstract"])
                        kind = "llm"
                        report["summaries_llm"] += 1
                    except SummaryFailed as exc:
                        error = str(exc)
                        first_failure = first_failure or error
                        report["summaries_llm_failed"] += 1
                rows.append(
                    {
                        "paper_id": paper["id"],
                        "content_hash": paper["content_hash"] or "",
                        "keywords": keywords,
                        "keyword_method": method,
                        "summary": summary,
                        "summary_kind": kind,
                        "summary_model": model,
                        "summary_error": error,
                    }
                )
                if keywords != paper["stored_keywords"] or summary != paper["stored_summary"]:
                    changed.append(paper["id"])
            with engine.begin() as conn:
                extracts.save(conn, rows)
                extracts.touch(conn, changed)
            report["extracts"] += len(rows)
            progress("keywords and summaries", report["extracts"], None)
            with engine.connect() as conn:
                batch = extracts.pending(conn, method, model, BATCH, after=batch[-1]["id"])
    finally:
        if summarizer is not None and plan.llm is not None:
            summarizer.close()
    if first_failure:
        log.warning(
            "%d summaries are extractive because the LLM failed (first: %s); the next index "
            "run asks again",
            report["summaries_llm_failed"],
            first_failure,
        )
    return report
