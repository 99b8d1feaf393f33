"""The listing-page reader against the real pages and against layouts they do not show."""

import io

import pytest

from conftest import LISTING_PAGES
from papertide.ingest import listing
from papertide.records import PaperRecord, Reject


def read_text(text: str, encoding: str = "utf-8") -> list:
    return list(listing.read(io.BytesIO(text.encode(encoding)), "page"))


def records(items: list) -> list[PaperRecord]:
    return [i for i in items if isinstance(i, PaperRecord)]


@pytest.mark.shared_data
@pytest.mark.parametrize("page", ["page-a", "page-b"])
def test_real_pages_match_ground_truth_exactly(page, listing_truth):
    with (LISTING_PAGES / f"{page}.txt").open("rb") as handle:
        items = list(listing.read(handle, page))
    expected = sorted((t for t in listing_truth if t["page"] == page), key=lambda t: t["rank"])
    got = records(items)
    assert [r.title for r in got] == [t["title"] for t in expected]
    assert [r.abstract for r in got] == [t["abstract"] for t in expected]
    assert [i for i in items if isinstance(i, Reject)] == []


ABSTRACT_1 = (
    "We study how sparse experts behave when trained on tiny budgets. Our analysis shows that "
    "routing collapses early, and we propose a simple fix that keeps every expert busy. "
    "Experiments on three benchmarks confirm the gains."
)
ABSTRACT_2 = (
    "Diffusion models are slow at inference. We distil them into a single step while keeping "
    "sample quality, using a consistency objective and a learned schedule. Code is at "
    "github.com/example/onestep."
)


def pairs(text: str) -> list[tuple[str, str]]:
    return [(r.title, r.abstract) for r in records(read_text(text))]


EXPECTED = [
    ("Sparse Experts on a Budget", ABSTRACT_1),
    ("One-Step Diffusion by Distillation", ABSTRACT_2),
]


def test_without_blank_lines():
    text = (
        "new\nGet trending papers in your email inbox!\nSubscribe\nbyAK and the research community"
        f"\nMay 23\nSparse Experts on a Budget\n{ABSTRACT_1}\n"
        f"One-Step Diffusion by Distillation\n{ABSTRACT_2}\n"
    )
    assert pairs(text) == EXPECTED


def test_header_glued_to_first_title():
    text = (
        "newGet trending papers in your email inbox!SubscribebyAK and the research community"
        f"May 23Sparse Experts on a Budget\n\n{ABSTRACT_1}\n\n"
        f"One-Step Diffusion by Distillation\n\n{ABSTRACT_2}"
    )
    assert pairs(text) == EXPECTED


def test_longer_header_sentence_and_other_date_format():
    text = (
        "Daily Papers\nThe most interesting machine learning papers of the day, picked by the "
        "community and delivered to you.\n\n2024-05-23\n"
        f"Sparse Experts on a Budget\r\n{ABSTRACT_1}\r\n"
        f"One-Step Diffusion by Distillation\r\n{ABSTRACT_2}\r\n"
    )
    assert pairs(text) == EXPECTED


def test_first_title_keeps_words_that_look_like_header():
    text = f"Subscribe\nNew Insights on Sparse Experts\n{ABSTRACT_1}\n"
    assert pairs(text) == [("New Insights on Sparse Experts", ABSTRACT_1)]


def test_code_links_in_abstracts_are_kept_in_text_and_extracted():
    (second,) = [
        r for r in records(read_text(f"T1\n{ABSTRACT_1}\nT2\n{ABSTRACT_2}")) if r.title == "T2"
    ]
    assert second.abstract.endswith("github.com/example/onestep.")
    assert second.code_urls == ["https://github.com/example/onestep"]


def test_unpaired_lines_are_reported_not_guessed():
    text = f"Sparse Experts on a Budget\n{ABSTRACT_1}\n{ABSTRACT_2}\nA dangling title line\n"
    items = read_text(text)
    assert pairs(text) == [EXPECTED[0]]
    reasons = sorted(i.reason for i in items if isinstance(i, Reject))
    assert reasons == ["abstract without a title line", "line is neither a title nor an abstract"]


def test_latin1_page_is_decoded():
    text = f"Über Sparse Experts\n{ABSTRACT_1.replace('routing', 'routïng')}\n"
    (record,) = records(read_text(text, "latin-1"))
    assert record.title == "Über Sparse Experts"
    assert "routïng" in record.abstract


def test_empty_and_header_only_pages_yield_nothing():
    assert read_text("") == []
    assert read_text("new\nSubscribe\nMay 23\n") == []
