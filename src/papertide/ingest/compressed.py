"""Compressed inputs read as they are: bulk snapshots (arXiv's, OpenAlex's) ship as .gz or
.zst files of tens of gigabytes, which nobody should have to unpack first."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_SUFFIXES = (".gz", ".zst")
# What decompressors raise on a truncated or corrupt stream.
_DAMAGE = (EOFError, gzip.BadGzipFile, zstandard.ZstdError, OSError)


class _StopAtDamage(io.RawIOBase):
    """A decompressing stream that ends at its first damage instead of raising, and keeps what
    the damage was: a buffered read would otherwise drop the good text it had gathered."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.damage: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.damage is not None:
            return 0
        try:
            data = self._stream.read(len(buffer))
        except _DAMAGE as exc:
            self.damage = f"{type(exc).__name__}: {exc}"
            return 0
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


@dataclass
class Input:
    """An opened input file: the file itself (progress is counted in its bytes) and its
    content, decompressed when the file starts with a gzip or zstd magic number, whatever its
    name. Closing the content closes the file."""

    file: BinaryIO
    content: BinaryIO
    _decoder: _StopAtDamage | None = None

    @property
    def damage(self) -> str | None:
        """Why decompression stopped early, once the content has been read; None if it did not."""
        return self._decoder.damage if self._decoder else None


def open_input(path: Path) -> Input:
    raw = path.open("rb")
    magic = raw.read(4)
    raw.seek(0)
    if magic.startswith(_GZIP):
        stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb")
    elif magic == _ZSTD:
        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    else:
        return Input(raw, raw)
    decoder = _StopAtDamage(_ClosingFile(stream, raw))
    return Input(raw, io.BufferedReader(decoder), decoder)


def content_name(name: str) -> str:
    """The name of what a compressed file holds: papers.jsonl.gz holds papers.jsonl."""
    path = Path(name)
    return path.stem if path.suffix.lower() in _SUFFIXES else name


class _ClosingFile:
    """A decompressing stream that closes its file too (GzipFile leaves a passed-in file open)."""

    def __init__(self, stream: BinaryIO, raw: BinaryIO) -> None:
        self._stream = stream
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._raw.close()
