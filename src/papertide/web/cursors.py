"""Opaque cursors for keyset paging of newest-first lists: where the last page ended (its last
paper's publication time and id), so the next page starts right after it."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

MAX_CURSOR_CHARS = 600  # an id of at most 200 characters and a time, in base64 JSON


def encode_cursor(published_at: datetime | None, paper_id: str) -> str:
    when = published_at.isoformat() if published_at else None
    raw = json.dumps([when, paper_id], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, str]:
    """(published_at, id) of a cursor `encode_cursor` made; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, paper_id = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(paper_id, str) or not (when is None or isinstance(when, str)):
        raise ValueError("not a cursor")
    return (datetime.fromisoformat(when) if when else None), paper_id
