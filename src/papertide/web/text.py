"""Text shaping for pages: an abstract's lead for list cards, counts with thousands separators."""

from __future__ import annotations

import re

LEAD_SENTENCES = 2
LEAD_CHARS = 320  # a lead stops after the sentence that passes this
MAX_LEAD_CHARS = 600  # one that finds no sentence end by here is cut at a word
# A sentence ends at . ! or ? (maybe closing a quote or bracket), then space, then what can start
# a sentence. Every quantifier is bounded by the next character class: linear time.
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=[A-Z0-9(\[$])")
# Words whose point is no sentence end ("et al. Smith", "e.g. BERT", "Fig. 2").
ABBREVIATIONS = frozenset(
    "e.g i.e al fig figs eq eqs vs cf sec secs no approx resp ref refs tab ch app".split()
)


def lead(abstract: str) -> tuple[str, str]:
    """(first sentence or two, the rest) of ABSTRACT, whitespace collapsed; the rest is ""
    when the lead is all of it."""
    text = " ".join(abstract.split())
    window = text[: MAX_LEAD_CHARS + 1]
    cut, sentences = None, 0
    for match in _SENTENCE_END.finditer(window):
        word = window[window.rfind(" ", 0, match.start()) + 1 : match.start()]
        if word.lower().lstrip("([") in ABBREVIATIONS:
            continue
        cut, sentences = match.end(), sentences + 1
        if sentences == LEAD_SENTENCES or cut > LEAD_CHARS:
            break
    if cut is None:
        if len(text) <= MAX_LEAD_CHARS:
            return text, ""
        cut = window.rfind(" ", 0, LEAD_CHARS) + 1 or LEAD_CHARS
        return text[:cut].rstrip() + "…", text[cut:]
    return text[:cut].rstrip(), text[cut:]


def thousands(number: int) -> str:
    """1024 as "1,024"."""
    return f"{number:,}"
