"""The file formats papertide reads, and detecting which one a file is from its content."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import BinaryIO

from papertide.ingest import arxiv_atom, bibtex, hf, listing, oai, tabular
from papertide.ingest.base import Reader, sniff_encoding

READERS: dict[str, Reader] = {
    "listing": listing.read,
    "jsonl": tabular.read_jsonl,
    "csv": tabular.read_csv,
    "bibtex": bibtex.read,
    "hf": hf.read,
    "arxiv-atom": arxiv_atom.read,
    "oai": oai.read,
}
FORMATS = ("auto", *READERS)

_BIBTEX_ENTRY = re.compile(r"^\s*@\s*[a-zA-Z]+\s*[{(]", re.MULTILINE)
_CSV_HEADER = re.compile(
    r"^\ufeff?[^\n]*\btitle\b[^\n]*[,;\t]|^\ufeff?[^\n]*[,;\t]\s*\"?title\b", re.IGNORECASE
)


def detect(stream: BinaryIO, name: str = "") -> str:
    """The format of STREAM from its first 64 KiB, using the file name only to break ties."""
    head_bytes = stream.read(65536)
    stream.seek(0)
    head = head_bytes.decode(sniff_encoding(head_bytes), errors="replace").lstrip("\ufeff \t\r\n")
    suffix = Path(name).suffix.lower()
    if head.startswith("<"):
        if "OAI-PMH" in head[:4096] or "openarchives.org/OAI" in head[:4096]:
            return "oai"
        return "arxiv-atom"
    if head.startswith("["):
        return "hf"
    if head.startswith("{"):
        first_line = head.split("\n", 1)[0]
        try:
            json.loads(first_line)
            return "jsonl"  # one complete object on the first line: JSON Lines
        except json.JSONDecodeError:
            return "hf"  # a JSON document spread over lines, e.g. {"papers": [...]}
    if suffix in (".bib", ".bibtex") or _BIBTEX_ENTRY.search(head[:20000]):
        return "bibtex"
    if suffix in (".csv", ".tsv") or _CSV_HEADER.match(head):
        return "csv"
    return "listing"
