"""Detecting which source's format a file is in from its content (`--format auto`)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from papertide.ingest import sources
from papertide.ingest.base import sniff_encoding


def detect(stream: BinaryIO, name: str = "") -> str:
    """The format of STREAM from its first 64 KiB, using the file name only to break ties."""
    head_bytes = stream.read(65536)
    stream.seek(0)
    head = head_bytes.decode(sniff_encoding(head_bytes), errors="replace").lstrip("\ufeff \t\r\n")
    return sources.detect(sources.Sniff(head, Path(name).suffix.lower()))
