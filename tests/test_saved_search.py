"""A followed search means what a person means (issue 11, item 8): all its words, as a phrase
ranked first, scattered mentions only when they are nearly as strong; tested on near misses."""

from datetime import datetime

import pytest

from conftest import keyword_index


def paper(paper_id: str, title: str, abstract: str) -> dict:
    return {
        "id": paper_id,
        "title": title,
        "abstract": abstract,
        "authors": ["A. Author"],
        "categories": ["cs.LG"],
        "published_at": datetime(2025, 1, 1),
    }


PAPERS = [
    paper("ddpm", "Denoising Diffusion Probabilistic Models", "Diffusion models make images."),
    paper("latent", "High-Resolution Image Synthesis", "Diffusion models in latent space."),
    paper("bert", "BERT: Pre-training of Deep Bidirectional Transformers", "Language models."),
    paper("gpt3", "Language Models are Few-Shot Learners", "Scaling up language models."),
    paper("lora", "LoRA: Low-Rank Adaptation of Large Language Models", "Fewer parameters."),
    paper("instruct", "Training language models to follow instructions", "Human feedback."),
    paper(
        "scattered",
        "Rumour spreading on social networks",
        "A diffusion process on graphs; we fit several models of adoption to survey data.",
    ),
]


@pytest.fixture
def keyword(tmp_path):
    return keyword_index(tmp_path / "kw", PAPERS)


def test_a_followed_search_does_not_match_papers_with_only_some_of_its_words(keyword):
    ids = [hit.id for hit in keyword.saved_search("diffusion models", 50)]
    assert set(ids) == {"ddpm", "latent"}  # not BERT, GPT-3, LoRA, InstructGPT or the near miss
    assert ids[0] == "ddpm"  # the phrase in the title first


def test_ordinary_search_still_finds_any_word(keyword):
    assert {"bert", "gpt3", "scattered"} <= {h.id for h in keyword.search("diffusion models", 50)}


def test_a_one_word_saved_search_matches_every_mention(keyword):
    assert {h.id for h in keyword.saved_search("diffusion", 50)} == {"ddpm", "latent", "scattered"}


def test_scattered_words_match_when_nothing_has_them_as_a_phrase(keyword):
    assert {h.id for h in keyword.saved_search("adoption graphs", 50)} == {"scattered"}


def test_quoted_phrases_and_prefixes_in_a_saved_search(keyword):
    assert {h.id for h in keyword.saved_search('"language models" few', 50)} == {"gpt3"}
    assert {h.id for h in keyword.saved_search("diffus* latent", 50)} == {"latent"}
