"""Splitting a stored author name ("Kurt Gödel") into the parts reference formats keep apart
(given, von, family, jr), with BibTeX's own name rules (bibtexparser), so that formats with
structured names hand the same name back when read."""

from __future__ import annotations

from dataclasses import dataclass

from bibtexparser.middlewares.names import parse_single_name_into_parts


@dataclass(frozen=True)
class NameParts:
    given: str
    von: str
    family: str
    suffix: str

    @property
    def joined(self) -> str:
        """The name as papertide stores it, first name first: how readers rebuild it."""
        return " ".join(p for p in (self.given, self.von, self.family, self.suffix) if p)


def split_name(name: str) -> NameParts | None:
    """NAME in parts, or None when its parts would not give NAME back (a name with a comma or
    a brace, say): such a name is written whole, as a literal."""
    if any(c in name for c in ",{}\\"):
        return None
    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except Exception:  # a name the parser cannot split is written whole
        return None
    found = NameParts(*(" ".join(p) for p in (parts.first, parts.von, parts.last, parts.jr)))
    return found if found.family and found.joined == name else None
