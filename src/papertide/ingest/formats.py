"""Detecting which source's format a file is in from its content (`--format auto`)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from papertide.ingest import sources
from papertide.ingest.base import text_stream

WINDOW = 65536


def detect(stream: BinaryIO, name: str = "") -> str:
    """The format of STREAM from its first 64 KiB, using the file name only to break ties."""
    text = text_stream(io.BytesIO(_head(stream)), name).read().lstrip("\ufeff \t\r\n")
    if stream.seekable():  # a decompressing stream cannot go back: its caller reopens it
        stream.seek(0)
    return sources.detect(sources.Sniff(text, Path(name).suffix.lower()))


def _head(stream: BinaryIO) -> bytes:
    """The start of STREAM in whole lines: a window cut at its last line end, so that no test
    sees a record cut in the middle. A first line longer than the window is read whole, with a
    window of the lines after it (a JSON Lines file with a 100 KiB first record, or a broken
    first record, is still JSON Lines)."""
    head = stream.read(WINDOW)
    if len(head) < WINDOW:
        return head  # the whole file
    if not head[: head.rfind(b"\n") + 1].strip():
        head += stream.readline()
        more = stream.read(WINDOW)
        head += more
        if len(more) < WINDOW:
            return head
    return head[: head.rfind(b"\n") + 1]
