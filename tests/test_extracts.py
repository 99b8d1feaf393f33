"""Keywords and one-line summaries per paper (extract/): both keyword methods on real papers,
the extractive summary, the OpenAI-compatible LLM against a fake server on 127.0.0.1 (answering,
failing, slow, talking nonsense), and the index run that stores them once per content and puts
them into the keyword index."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import index_database
from papertide.application import Papertide
from papertide.config import Settings
from papertide.extract.keywords import (
    CorpusStatistics,
    candidate_keys,
    embedding_keywords,
    tfidf_keywords,
)
from papertide.extract.plan import LlmSettings
from papertide.extract.summary import (
    LlmSummarizer,
    SentenceWeights,
    SummaryFailed,
    extractive_summary,
    sentences,
)
from papertide.ingest.runner import import_file
from papertide.search.embedder import document_text
from papertide.search.keyword import Filters
from papertide.store.engine import open_engine
from papertide.store.schema import paper_extracts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-papers.jsonl"


@pytest.fixture(scope="module")
def real_papers() -> list[dict]:
    if not DATA.exists():
        pytest.skip("../shared/data is not here")
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def _words(text: str) -> set[str]:
    return set(candidate_keys(text))


def test_tfidf_keywords_are_distinct_phrases_of_the_paper(real_papers):
    texts = [document_text(p["title"], p["abstract"]) for p in real_papers]
    corpus = CorpusStatistics(texts)
    for text in texts[:40]:
        keywords = tfidf_keywords(text, corpus)
        assert len(keywords) == 5
        assert {k.lower() for k in keywords} <= _words(text)  # phrases of the paper itself
        for a in keywords:  # none inside another
            assert not any(a.lower() != b.lower() and a.lower() in b.lower() for b in keywords)
    sorsa = next(t for t in texts if t.startswith("SORSA"))
    assert "SORSA" in tfidf_keywords(sorsa, corpus)  # its rare name, in the paper's spelling


def test_tfidf_ranks_what_sets_a_paper_apart_above_what_every_paper_says():
    common = "large language models"
    text = "Large language models with quantum annealing schedules: large language models."
    corpus = CorpusStatistics([f"{common} are good at things number {n}." for n in range(30)])
    found = tfidf_keywords(text, corpus)
    assert found[0] == "quantum annealing schedules"  # though the common phrase comes twice


def test_embedding_keywords_rank_by_the_papers_own_vector(real_papers, embedder):
    paper = real_papers[0]
    text = document_text(paper["title"], paper["abstract"])
    vector = embedder.embed([text])[0]
    keywords = embedding_keywords(text, vector, embedder)
    assert len(keywords) == 5 and {k.lower() for k in keywords} <= _words(text)
    # maximal marginal relevance: no two picks that share their words
    assert len({k.lower() for k in keywords}) == 5
    unrelated = embedder.embed(["medieval cathedral architecture and stained glass"])[0]
    assert embedding_keywords(text, unrelated, embedder) != keywords


def test_sentences_do_not_end_at_abbreviations():
    text = "Models, e.g. BERT, learn (see Smith et al. 2020). We propose X. It works!"
    assert sentences(text) == [
        "Models, e.g. BERT, learn (see Smith et al. 2020).",
        "We propose X.",
        "It works!",
    ]


def test_extractive_summary_is_the_most_representative_sentence():
    abstract = (
        "Deep learning has changed many fields. "
        "We propose sparse mixture routing, a routing method for sparse mixture experts that "
        "balances expert load without auxiliary losses. "
        "Experiments on sparse mixture benchmarks show routing gains. Code is online."
    )
    weights = SentenceWeights([abstract, "Unrelated text about birds and trees."])
    summary = extractive_summary("Sparse mixture routing", abstract, weights)
    assert summary.startswith("We propose sparse mixture routing")
    assert extractive_summary("Only a title", "", weights) == ""  # nothing to summarise
    long = "word " * 200 + "end."
    assert len(extractive_summary("t", long, weights)) <= 300


# -- a fake OpenAI-compatible server -----------------------------------------------------------


class FakeLlm:
    """Answers POST /v1/chat/completions as BEHAVE says; records every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.behave: Callable[[dict], tuple[int, bytes, float]] = self.answer

    @staticmethod
    def answer(body: dict) -> tuple[int, bytes, float]:
        title = body["messages"][1]["content"].splitlines()[0].removeprefix("Title: ")
        content = f"Quokkatron sums up {title}.\nA second line to drop."
        reply = {"choices": [{"message": {"role": "assistant", "content": content}}]}
        return 200, json.dumps(reply).encode(), 0.0


@contextmanager
def fake_llm() -> Iterator[tuple[str, FakeLlm]]:
    fake = FakeLlm()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **body}
            )
            status, payload, delay = fake.behave(body)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", fake
    finally:
        server.shutdown()
        server.server_close()


def test_llm_summarizer_asks_the_chat_endpoint_and_keeps_one_line():
    with fake_llm() as (url, fake):
        summarizer = LlmSummarizer(LlmSettings(url, "tiny-model", "sekret", timeout=5))
        summary = summarizer.summarize("Paper A", "An abstract.")
    assert summary == "Quokkatron sums up Paper A."
    (asked,) = fake.requests
    assert asked["path"] == "/v1/chat/completions" and asked["model"] == "tiny-model"
    assert asked["auth"] == "Bearer sekret"
    assert "An abstract." in asked["messages"][1]["content"]


@pytest.mark.parametrize(
    ("status", "payload", "reason"),
    [
        (500, b"{}", "HTTP 500"),
        (200, b"not json", "not a chat completion"),
        (200, b'{"choices": []}', "not a chat completion"),
        (200, b'{"choices": [{"message": {"content": "  \\n "}}]}', "no text"),
        (200, b'{"choices": [{"message": {"content": 7}}]}', "not a chat completion"),
    ],
)
def test_llm_failures_are_reported_not_raised(status, payload, reason):
    with fake_llm() as (url, fake):
        fake.behave = lambda body: (status, payload, 0.0)
        summarizer = LlmSummarizer(LlmSettings(url, "m", timeout=5))
        with pytest.raises(SummaryFailed, match=reason):
            summarizer.summarize("T", "A.")


def test_a_slow_llm_times_out_and_after_three_failures_is_not_asked_again():
    with fake_llm() as (url, fake):
        fake.behave = lambda body: (200, b"{}", 2.0)
        summarizer = LlmSummarizer(LlmSettings(url, "m", timeout=0.3))
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(SummaryFailed):
                summarizer.summarize("T", "A.")
        assert time.monotonic() - started < 3 * 0.3 + 1.5  # two calls never reached it
        assert len(fake.requests) == 3 and summarizer.gave_up


# -- the index run -----------------------------------------------------------------------------


def _papers_file(folder: Path, rows: list[dict]) -> Path:
    path = folder / "papers.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


PAPERS = [
    {
        "title": f"Paper {n} on sparse routing",
        "abstract": f"We study routing number {n} in sparse mixtures. It works well in practice.",
        "date": f"2026-11-{10 + n}",
        "arxiv_id": f"2611.0010{n}",
    }
    for n in range(5)
]


def _stored(db_url: str) -> dict[str, dict]:
    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(paper_extracts)).mappings().all()
    finally:
        engine.dispose()
    return {row["paper_id"]: dict(row) for row in rows}


def _index(db_url: str, **settings: object) -> dict:
    pt = Papertide(Settings.load(db=db_url, **settings))
    try:
        return pt.update_indexes(keyword_only=True)
    finally:
        pt.close()


def _keyword_ids(db_url: str, text: str) -> list[str]:
    pt = Papertide(Settings.load(db=db_url))
    try:
        return [hit.id for hit in pt.indexes().keyword.search(text, 10, Filters())]
    finally:
        pt.close()


def test_index_run_derives_once_per_content_and_indexes_keywords(db_url, tmp_path):
    rows = [*PAPERS, {**PAPERS[0], "arxiv_id": "2611.00200", "title": "Tagged paper"}]
    rows[-1]["keywords"] = ["zyxwordian lattices"]  # in no title or abstract
    engine = open_engine(db_url)
    import_file(engine, _papers_file(tmp_path, rows))
    engine.dispose()
    report = index_database(db_url)
    assert report["extracts"] == 6 and report["summaries_llm"] == 0
    stored = _stored(db_url)
    assert {s["summary_kind"] for s in stored.values()} == {"extractive"}
    assert stored["2611.00100"]["summary"].startswith("We study routing number 0")
    assert stored["2611.00100"]["keywords"] and stored["2611.00100"]["keyword_method"] == "tfidf"
    assert _keyword_ids(db_url, "zyxwordian") == ["2611.00200"]  # keywords reach the index
    again = index_database(db_url)
    assert again["extracts"] == 0 and again["keyword_updated"] == 0  # cached: nothing redone
    changed = [{**PAPERS[1], "abstract": "Completely new text about graph coloring heuristics."}]
    engine = open_engine(db_url)
    import_file(engine, _papers_file(tmp_path, changed))
    engine.dispose()
    assert index_database(db_url)["extracts"] == 1  # only the paper whose text changed
    assert _stored(db_url)["2611.00101"]["summary"].startswith("Completely new text")


def test_index_run_with_an_llm_stores_its_summaries_and_falls_back_when_it_fails(
    db_url, tmp_path
):
    engine = open_engine(db_url)
    import_file(engine, _papers_file(tmp_path, PAPERS))
    engine.dispose()
    with fake_llm() as (url, fake):
        fake.behave = lambda body: (503, b"{}", 0.0)
        llm = {"summary_llm_url": url, "summary_llm_model": "fake-1", "summary_llm_timeout": 5}
        report = _index(db_url, **llm)
        assert report["summaries_llm_failed"] == 5 and report["summaries_llm"] == 0
        assert len(fake.requests) == 3  # then the run stopped asking
        failed = _stored(db_url)
        assert {s["summary_kind"] for s in failed.values()} == {"extractive"}
        assert all(s["summary_error"] for s in failed.values())
        fake.behave = FakeLlm.answer  # back up: the next run asks again for the failed ones
        report = _index(db_url, **llm)
        assert report["summaries_llm"] == 5 and report["summaries_llm_failed"] == 0
        asked = len(fake.requests)
        assert _index(db_url, **llm)["extracts"] == 0 and len(fake.requests) == asked
    stored = _stored(db_url)["2611.00102"]
    assert stored["summary_kind"] == "llm" and stored["summary_model"] == "fake-1"
    assert stored["summary"] == "Quokkatron sums up Paper 2 on sparse routing."
    assert stored["summary_error"] is None
    assert "2611.00102" in _keyword_ids(db_url, "quokkatron")  # an LLM summary is searchable
    # without the LLM configured the summaries go back to extractive ones
    assert _index(db_url)["extracts"] == 5
    assert _stored(db_url)["2611.00102"]["summary_kind"] == "extractive"


def test_a_slow_llm_does_not_hold_the_index_run(db_url, tmp_path):
    engine = open_engine(db_url)
    import_file(engine, _papers_file(tmp_path, PAPERS))
    engine.dispose()
    with fake_llm() as (url, fake):
        fake.behave = lambda body: (200, b"{}", 3.0)
        started = time.monotonic()
        report = _index(db_url, summary_llm_url=url, summary_llm_model="m", summary_llm_timeout=0.3)
        assert time.monotonic() - started < 20
    assert report["summaries_llm_failed"] == 5
    assert "no answer within 0.3 s" in _stored(db_url)["2611.00100"]["summary_error"]


def test_settings_need_a_model_with_an_llm_url():
    from papertide.config import SettingsError

    with pytest.raises(SettingsError, match="SUMMARY_LLM_MODEL"):
        Settings.load(summary_llm_url="http://127.0.0.1:9/v1")
    with pytest.raises(SettingsError, match="http"):
        Settings.load(summary_llm_url="ftp://x", summary_llm_model="m")
