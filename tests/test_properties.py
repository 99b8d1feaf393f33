"""Property tests: no sequence of records creates duplicates (reader fuzz: test_reader_fuzz.py)."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from papertide.records import PaperRecord, title_key
from papertide.store.engine import open_engine
from papertide.store.schema import paper_sources, papers
from papertide.store.writer import save_batch

base_titles = ["Attention Is All You Need", "Über Sätze", "Sparse Experts", "LoRA: Low-Rank"]
title_variants = st.sampled_from(base_titles).flatmap(
    lambda t: st.sampled_from([t, t.upper(), t.lower() + ".", "{" + t + "}", f"  {t}  ", t + "!"])
)
record_strategy = st.builds(
    PaperRecord,
    source=st.sampled_from(["arxiv", "hf", "bibtex", "listing", "csv"]),
    title=title_variants,
    abstract=st.text(alphabet=string.ascii_letters + " ", max_size=30),
    arxiv_id=st.one_of(st.none(), st.sampled_from(["2401.00001", "2401.00002v3"])),
    doi=st.one_of(st.none(), st.sampled_from(["10.1234/a", "10.1234/B"])),
    upstream_upvotes=st.one_of(st.none(), st.integers(0, 100)),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.lists(record_strategy, max_size=8), min_size=1, max_size=5))
def test_saving_never_creates_duplicates(backend, databases, tmp_path_factory, batches):
    url = databases.new(backend, tmp_path_factory.mktemp("prop"))
    engine = open_engine(url)
    try:
        for batch in batches:
            with engine.begin() as conn:
                save_batch(conn, batch)
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            sources = conn.execute(select(func.count()).select_from(paper_sources)).scalar_one()
            rows = conn.execute(select(papers.c.arxiv_id, papers.c.doi, papers.c.title_key)).all()
        refs = {(r.source, r.source_id) for batch in batches for r in batch}
        assert sources == len(refs)  # each source record is stored exactly once
        arxiv_ids = [r.arxiv_id for r in rows if r.arxiv_id]
        assert len(arxiv_ids) == len(set(arxiv_ids))
        # papers with no strong identifier are never split by title variants
        bare = [r.title_key for r in rows if not r.arxiv_id and not r.doi]
        assert len(bare) == len(set(bare))
        assert {r.title_key for r in rows} <= {title_key(t) for t in base_titles}

        for batch in batches:  # saving everything again changes nothing
            with engine.begin() as conn:
                again = save_batch(conn, batch)
            assert again.new == 0
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == count
    finally:
        engine.dispose()
        databases.drop(url)


# Texts made of what the fast paths of clean_text and normalize_title must get right: spaces,
# line breaks, other whitespace and controls, bidi controls, punctuation, accents, surrogates.
tricky_text = st.lists(
    st.sampled_from(
        [
            *(string.ascii_letters + string.digits + string.punctuation),
            *(" ", "  ", "\n", "\r\n", "\t", "\x0b", "\x1f", "\x85", "\xa0", "\u2028", "\x07"),
            *("\u202e", "\u200f", "\ufffe", "\ud800", "é", "e\u0301", "ß", "Ǆ", "_", "½", "٣"),
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=tricky_text)
def test_clean_text_is_its_general_rule_whatever_the_text(text):
    from papertide.records import clean_text, strip_unsafe

    assert clean_text(text) == " ".join(strip_unsafe(text).split())


@settings(max_examples=500, deadline=None)
@given(text=tricky_text)
def test_an_ascii_title_normalizes_as_the_general_rule_does(text):
    import re

    from papertide.records import normalize_title

    general = re.sub(r"\s+", " ", re.sub(r"[\W_]+", " ", text.casefold())).strip()
    if text.isascii() and "\\" not in text and "{" not in text and "}" not in text:
        assert normalize_title(text) == general
