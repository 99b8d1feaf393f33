"""The sources papertide ships with. The registry (ingest/sources.py) loads this on first use.

Their order is `--format`'s; detect_order keeps `--format auto` deciding as it always has: XML
is OAI-PMH when it says so, else arXiv Atom; a JSON list is Hugging Face's; a JSON object on
the first line is JSON Lines, one spread over lines is Hugging Face's; then BibTeX, CSV, and
whatever is left is a copied listing page.
"""

from __future__ import annotations

import json
import re

from papertide.cli import sync as sync_cli
from papertide.ingest import (
    arxiv_atom,
    arxiv_snapshot,
    bibtex,
    csl_json,
    hf,
    listing,
    oai,
    openalex,
    ris,
    sync,
    tabular,
)
from papertide.ingest.sources import Sniff, Source

_BIBTEX_ENTRY = re.compile(r"^\s*@\s*[a-zA-Z]+\s*[{(]", re.MULTILINE)
_SAMPLE_LINES = 20
_CSV_HEADER = re.compile(
    r"^\ufeff?[^\n]*\btitle\b[^\n]*[,;\t]|^\ufeff?[^\n]*[,;\t]\s*\"?title\b", re.IGNORECASE
)


def _is_oai(sniff: Sniff) -> bool:
    window = sniff.head[:4096]
    return sniff.head.startswith("<") and ("OAI-PMH" in window or "openarchives.org/OAI" in window)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can parse
        return False


def _is_jsonl(sniff: Sniff) -> bool:
    """A JSON object on the first line, or (when that record is broken) on most of the first
    lines: a damaged first record must not make the file pass for one broken JSON document."""
    if not sniff.head.startswith("{"):
        return False
    lines = [line for line in sniff.head.split("\n", _SAMPLE_LINES)[:_SAMPLE_LINES] if line.strip()]
    if _is_json_object(lines[0]):
        return True
    return sum(map(_is_json_object, lines)) * 2 >= len(lines)


def _is_hf(sniff: Sniff) -> bool:
    return sniff.head.startswith(("[", "{"))  # after jsonl: a JSON document, e.g. {"papers": []}


def _is_bibtex(sniff: Sniff) -> bool:
    return sniff.suffix in (".bib", ".bibtex") or bool(_BIBTEX_ENTRY.search(sniff.head[:20000]))


def _is_csv(sniff: Sniff) -> bool:
    return sniff.suffix in (".csv", ".tsv") or bool(_CSV_HEADER.match(sniff.head))


SOURCES = (
    Source(listing.FORMAT, 10, listing.read, lambda _: True, detect_order=1000),
    Source("jsonl", 30, tabular.read_jsonl, _is_jsonl, detect_order=300),
    Source("csv", 30, tabular.read_csv, _is_csv, detect_order=600),
    Source(bibtex.FORMAT, 40, bibtex.read, _is_bibtex, detect_order=500),
    Source(
        hf.FORMAT,
        50,
        hf.read,
        _is_hf,
        detect_order=400,
        command=sync_cli.sync_hf,
        scheduled=sync.scheduled_hf,
    ),
    Source(
        arxiv_atom.FORMAT,
        60,
        arxiv_atom.read,
        lambda sniff: sniff.head.startswith("<"),
        detect_order=200,
        aliases=("arxiv-atom",),
        command=sync_cli.sync_arxiv,
        scheduled=sync.scheduled_arxiv,
    ),
    Source(oai.FORMAT, 60, oai.read, _is_oai, detect_order=100),
    # Bulk snapshots: JSON Lines with keys of their own, so tested before plain JSON Lines.
    Source(
        arxiv_snapshot.FORMAT,
        60,
        arxiv_snapshot.read,
        lambda sniff: arxiv_snapshot.looks_like(sniff.head),
        detect_order=250,
    ),
    Source(
        openalex.FORMAT,
        45,
        openalex.read,
        lambda sniff: openalex.looks_like(sniff.head),
        detect_order=260,
    ),
    # Reference-manager exports (papertide's own `export` writes both), trusted as BibTeX is:
    # a CSL-JSON list is told from Hugging Face's by CSL's keys, so it is tested first.
    Source(
        csl_json.FORMAT,
        40,
        csl_json.read,
        lambda sniff: csl_json.looks_like(sniff.head),
        detect_order=350,
    ),
    Source(ris.FORMAT, 40, ris.read, lambda sniff: ris.looks_like(sniff.head), detect_order=150),
    # The bundled made-up papers (ingest/sample.py), loaded by `papertide sample load`: least
    # trusted, though no real record should ever match one.
    Source("sample", 5),
)
