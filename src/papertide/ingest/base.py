"""What every source shares: the item type readers yield, record building and text decoding.

Every reader is a function `read(stream, origin) -> Iterator[PaperRecord | Reject]`: it streams
records from a binary file-like object and reports what it cannot use instead of raising.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from dateutil import parser as date_parser
from pydantic import ValidationError

from papertide.records import PaperRecord, Reject

Item = PaperRecord | Reject
Reader = Callable[[BinaryIO, str], Iterator[Item]]


def build_record(where: str, **fields: Any) -> Item:
    """A PaperRecord, or a Reject saying why the fields do not make one."""
    try:
        return PaperRecord(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first.get("loc", ())) or "record"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return Reject(where=where, reason=f"{place}: {message}" if place != "record" else message)
    except ValueError as exc:
        return Reject(where=where, reason=str(exc))


def parse_date(value: Any) -> datetime | None:
    """Naive UTC datetime from the many ways sources write dates; None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if not text or len(text) > 64:
            return None
        parsed = _from_iso(text) or _from_any(text)
        if parsed is None:
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if not 1900 <= parsed.year <= 2200:
        return None
    return parsed


def _from_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)  # the common case, and far cheaper than dateutil
    except ValueError:
        return None


def _from_any(text: str) -> datetime | None:
    try:
        # Year-only and year-month dates default to the first day, not today's day.
        return date_parser.parse(text, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None


def date_precision(value: Any) -> str:
    """'year' for '2017', 'month' for '2017-06' or 'Jun 2017', else 'day'."""
    text = str(value or "").strip()
    if re.fullmatch(r"\d{4}", text):
        return "year"
    if re.fullmatch(r"\d{4}-\d{1,2}|[A-Za-z]{3,9}\.? \d{4}", text):
        return "month"
    return "day"


_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])


def looks_binary(head: bytes) -> bool:
    """Control bytes are absent from text in any 8-bit or UTF-8 encoding; UTF-16 says so by BOM."""
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > max(2, len(head) // 200)


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 when marked, else Windows-1252.

    Encoding detectors (charset-normalizer, chardet) guess wildly on the short, mostly-ASCII
    samples that paper files are; text that is not UTF-8 here is nearly always Windows-1252 or
    Latin-1 from an old export, and Windows-1252 decodes both.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut by the sample's end
            return "utf-8"
    return "cp1252"


def text_stream(stream: BinaryIO) -> io.TextIOWrapper:
    """Decode a binary stream as text; undecodable bytes become U+FFFD rather than an error."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    encoding = sniff_encoding(buffered.peek(65536)[:65536])
    return io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline="")
