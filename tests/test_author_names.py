"""The rule that puts spellings of one author's name on one page (names.py), on its own."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertide.links import author_path
from papertide.names import group, parse


def author(name: str, stored: list[str]) -> tuple[str, tuple[str, ...]]:
    """(canonical key, keys on its page) of NAME among the STORED spellings."""
    keys = [parse(s).key for s in stored]
    found = group(parse(name), [k for k in keys if parse(k).signature == parse(name).signature])
    return found.key, found.keys


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Yoshua Bengio", "Yoshua BENGIO"),
        ("Yoshua Bengio", "  yoshua   bengio "),
        ("Jürgen Schmidhuber", "Jurgen Schmidhuber"),
        ("Jürgen Schmidhuber", "JÜRGEN SCHMIDHUBER"),
        ("\uff39\uff4f\uff53\uff48\uff55\uff41 Bengio", "Yoshua Bengio"),  # full-width letters
        ("Bengio, Yoshua", "Yoshua Bengio"),
        ("Martin Luther King Jr.", "Martin Luther King"),
        ("Jean-Pierre Sartre", "jean-pierre sartre"),
    ],
)
def test_spellings_of_one_name_share_one_key(one, other):
    assert parse(one).key == parse(other).key


def test_an_initial_joins_the_one_spelled_out_name_with_that_initial():
    stored = ["Yoshua Bengio", "Samy Bengio", "Y. Bengio", "S. Bengio", "Jürgen Schmidhuber",
              "J. Schmidhuber", "Jurgen Schmidhuber"]  # fmt: skip
    assert author("Y. Bengio", stored) == ("yoshua bengio", ("y bengio", "yoshua bengio"))
    assert author("Yoshua BENGIO", stored) == ("yoshua bengio", ("y bengio", "yoshua bengio"))
    assert author("S. Bengio", stored) == ("samy bengio", ("s bengio", "samy bengio"))
    expected = ("jurgen schmidhuber", ("j schmidhuber", "jurgen schmidhuber"))
    assert author("J. Schmidhuber", stored) == expected
    assert author("Jürgen Schmidhuber", stored) == expected


def test_two_people_sharing_a_surname_are_never_merged():
    stored = ["Yoshua Bengio", "Samy Bengio"]
    assert author("Yoshua Bengio", stored)[1] == ("yoshua bengio",)
    assert author("Samy Bengio", stored)[1] == ("samy bengio",)


def test_an_ambiguous_initial_keeps_a_page_of_its_own():
    """Yoshua and Yann Bengio both fit 'Y. Bengio': it joins neither, and neither takes it."""
    stored = ["Yoshua Bengio", "Yann Bengio", "Y. Bengio"]
    assert author("Y. Bengio", stored) == ("y bengio", ("y bengio",))
    assert author("Yoshua Bengio", stored) == ("yoshua bengio", ("yoshua bengio",))
    assert author("Yann Bengio", stored) == ("yann bengio", ("yann bengio",))


def test_initials_must_agree_with_the_spelled_out_name():
    stored = ["John B. Smith", "J. A. Smith", "J. Smith", "J.-P. Sartre", "Jean-Pierre Sartre"]
    assert author("J. A. Smith", stored) == ("j a smith", ("j a smith",))
    assert author("J. Smith", stored) == ("john b smith", ("j smith", "john b smith"))
    assert author("J.-P. Sartre", stored)[0] == "jean-pierre sartre"


def test_particles_stay_with_the_surname():
    name = parse("Ludwig van Beethoven")
    assert (name.surname, name.given) == ("van beethoven", ("ludwig",))
    stored = ["Ludwig van Beethoven", "L. van Beethoven"]
    assert author("L. van Beethoven", stored)[0] == "ludwig van beethoven"


@pytest.mark.parametrize("text", ["", "   ", "...", "—", ". .", "x" * 300, "\u200b\u0301"])
def test_text_that_is_no_name_has_no_page(text):
    assert parse(text) is None
    assert author_path(text) == ""


def test_a_name_is_one_encoded_path_segment():
    assert author_path("../admin?x=1#y") == "/authors/..%2Fadmin%3Fx%3D1%23y"
    assert author_path('"><script>alert(1)</script>').startswith("/authors/%22%3E%3Cscript")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_parses_or_is_refused_and_its_key_parses_to_itself(text):
    name = parse(text)
    if name is not None:
        again = parse(name.key)
        assert again == name
        assert name.key and len(name.key) <= 200 and name.key.isascii()
        assert name.signature.startswith(name.surname)


GIVEN = ["Yoshua", "Yann", "Y.", "Y. J.", "Samy", "S.", "Jürgen", "J.", "J.-P.", "Jean-Pierre"]
SURNAMES = ["Bengio", "BENGIO", "Schmidhuber", "van Beethoven", "Sartre"]
NAMES = st.builds(lambda g, s: f"{g} {s}", st.sampled_from(GIVEN), st.sampled_from(SURNAMES))


@settings(max_examples=300, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=12), st.randoms())
def test_grouping_is_deterministic_and_consistent(stored, shuffler: random.Random):
    """Whatever the names and their order, every spelling lands on one page, and every name
    on that page leads to that same page."""
    keys = sorted({parse(n).key for n in stored})
    for key in keys:
        name = parse(key)
        same = [k for k in keys if parse(k).signature == name.signature]
        found = group(name, same)
        shuffled = same[:]
        shuffler.shuffle(shuffled)
        assert group(name, shuffled) == found  # order does not matter
        assert key in found.keys
        for member in found.keys:
            assert group(parse(member), same) == found
        spelled = [parse(k) for k in found.keys if not parse(k).initialled]
        assert len(spelled) <= 1  # two spelled-out names are never one author
