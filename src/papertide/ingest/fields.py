"""Turning loosely typed fields (from JSON, CSV, BibTeX) into PaperRecord fields."""

from __future__ import annotations

import re
from typing import Any

# Separators of fixed length, the spaces around them stripped afterwards: `\s*;\s*` and the
# like backtrack over every run of spaces, quadratic in its length (a 100k-space author field
# took minutes).
_AUTHOR_SPLIT = (re.compile(";"), re.compile(r"\sand\s"), re.compile(","))


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return ""


def as_list(value: Any) -> list[str]:
    """A list of strings from a list, or from text separated by ';', ' and ' or ','."""
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict):
                item = item.get("name", "")
            text = as_text(item).strip()
            if text:
                out.append(text)
        return out
    text = as_text(value).strip()
    if not text:
        return []
    for pattern in _AUTHOR_SPLIT:
        parts = [p.strip() for p in pattern.split(text) if p.strip()]
        if len(parts) > 1:
            return parts
    return [text]


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def lower_keys(mapping: dict[Any, Any]) -> dict[str, Any]:
    """MAPPING with its keys stripped and lower-cased, for `first`."""
    return {str(k).strip().lower(): v for k, v in mapping.items()}


def first(lowered: dict[str, Any], *names: str) -> Any:
    """The first of NAMES present in LOWERED (a `lower_keys` mapping) with a non-empty value."""
    for name in names:
        value = lowered.get(name)
        if value not in (None, "", []):
            return value
    return None
