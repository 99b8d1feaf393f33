from datetime import datetime

import pytest

from papertide.ingest import sources
from papertide.records import (
    PaperRecord,
    find_code_urls,
    merge_records,
    normalize_arxiv_id,
    normalize_doi,
    normalize_title,
    title_key,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://arxiv.org/abs/2401.01234v2", "2401.01234"),
        ("arXiv:2401.01234", "2401.01234"),
        ("https://arxiv.org/pdf/0704.0001v1", "0704.0001"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("no id here", None),
    ],
)
def test_arxiv_ids_lose_their_version_and_prefix(raw, expected):
    assert normalize_arxiv_id(raw) == expected


def test_doi_normalization_strips_resolvers_and_case():
    assert normalize_doi("https://doi.org/10.1007/BF01700692") == "10.1007/bf01700692"
    assert normalize_doi("doi: 10.1145/3292500.3330701") == "10.1145/3292500.3330701"
    assert normalize_doi("not a doi") is None


def test_titles_match_across_case_punctuation_latex_and_accents():
    variants = [
        "An {Accurate} Detection is {Not} All You Need",
        "an accurate detection is not all you need.",
        "An  accurate\ndetection — is not all you need!",
        "An accurate detection is not all you need",
    ]
    assert len({title_key(v) for v in variants}) == 1
    assert title_key(r"{\"U}ber formal") == title_key("Über formal") == title_key("Uber Formal")
    assert normalize_title("  ") == ""


def test_stable_id_prefers_arxiv_then_doi_then_title_hash():
    assert PaperRecord(
        source="x", title="T", arxiv_id="2401.00001v2", doi="10.1234/x"
    ).paper_id == ("2401.00001")
    assert PaperRecord(source="x", title="T", doi="10.1234/X").paper_id == "doi:10.1234/x"
    title_only = PaperRecord(source="x", title="Some Title")
    assert title_only.paper_id == f"title:{title_key('Some Title')}"
    # arXiv's own DOIs name the arXiv paper
    assert PaperRecord(source="x", title="T", doi="10.48550/arXiv.2407.05528").arxiv_id == (
        "2407.05528"
    )


def test_code_links_are_found_and_cleaned():
    text = (
        "Code: github.com/PaulAlbert31/LSA. Also (https://www.github.com/org/repo/tree/main), "
        "https://gitlab.com/grp/proj.git; models at https://huggingface.co/org/model!, "
        "paper page huggingface.co/papers/2401.00001 and again github.com/PaulAlbert31/LSA"
    )
    assert find_code_urls(text) == [
        "https://github.com/PaulAlbert31/LSA",
        "https://github.com/org/repo",
        "https://gitlab.com/grp/proj",
        "https://huggingface.co/org/model",
    ]
    assert find_code_urls("no links at all") == []


def test_missing_or_wordless_title_is_rejected():
    with pytest.raises(ValueError, match="missing title"):
        PaperRecord(source="x", title="  ")
    with pytest.raises(ValueError, match="missing title"):
        PaperRecord(source="x", title="!!! ---")


def test_huge_abstract_is_cut_with_a_warning():
    record = PaperRecord(source="x", title="T", abstract="word " * 100_000)
    assert len(record.abstract) == 100_000
    assert record.warnings and "cut" in record.warnings[0]


def test_merge_prefers_priority_sources_and_keeps_richer_fields():
    listing = PaperRecord(
        source="listing", title="Attention is all you need", abstract="Short snippet"
    )
    bib = PaperRecord(
        source="bibtex",
        title="Attention Is All You Need",
        authors=["Ashish Vaswani"],
        published_at=datetime(2017, 1, 1),
        published_precision="year",
    )
    jsonl = PaperRecord(
        source="jsonl",
        title="Attention is all you need",
        arxiv_id="1706.03762",
        published_at=datetime(2017, 6, 12),
        upstream_upvotes=0,
    )
    merged = merge_records([listing, bib, jsonl], sources.priority)
    assert merged["id"] == "1706.03762"
    assert merged["title"] == "Attention Is All You Need"  # bibtex outranks jsonl and listing
    assert merged["abstract"] == "Short snippet"  # an abstract beats none
    assert merged["authors"] == ["Ashish Vaswani"]
    assert merged["published_at"] == datetime(2017, 6, 12)  # a full date beats a bare year
    assert merged["upstream_upvotes"] == 0  # zero is a value, not a missing one
    # order of arrival does not matter
    assert merge_records([jsonl, listing, bib], sources.priority) == merged


def test_single_record_merge_matches_general_merge():
    record = PaperRecord(
        source="arxiv",
        title="T",
        arxiv_id="2401.00001",
        authors=["A"],
        categories=["cs.LG"],
        abstract="github.com/a/b",
    )
    general = merge_records(
        [record, record.model_copy(update={"source_id": "other"})], sources.priority
    )
    assert merge_records([record], sources.priority) == general


def test_trending_decays_with_age_and_weighs_upstream_votes():
    from papertide.rank import trending

    now = datetime(2026, 11, 23, 12)
    papers = [
        {
            "id": "old-popular",
            "votes": 40,
            "upstream_upvotes": 0,
            "published_at": datetime(2026, 11, 13, 12),
        },
        {"id": "fresh", "votes": 5, "upstream_upvotes": 0, "published_at": datetime(2026, 11, 23)},
        {
            "id": "hf-only",
            "votes": 0,
            "upstream_upvotes": 10,
            "published_at": datetime(2026, 11, 23),
        },
        {"id": "nothing", "votes": 0, "upstream_upvotes": 0, "published_at": now},
    ]
    ids, scores = trending.rank(papers, now)
    assert ids == ["fresh", "hf-only", "old-popular", "nothing"]
    assert scores == sorted(scores, reverse=True) and scores[-1] == 0
    # upstream upvotes count half: 10 upstream = 5 own votes at equal age
    assert trending.score(5, 0, 3) == trending.score(0, 10, 3)
