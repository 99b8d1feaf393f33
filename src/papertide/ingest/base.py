"""What every source shares: the item type readers yield, record building and text decoding.

Every reader is a function `read(stream, origin) -> Iterator[Item]`: it streams records from a
binary file-like object and reports what it cannot use (a Reject) or had to repair (a Notice)
instead of raising. One bad record never costs a good one.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

import orjson
from dateutil import parser as date_parser
from pydantic import ValidationError

from papertide.records import Notice, PaperRecord, Reject

# A reader yields records, rejects (what it could not use) and notices (what it repaired).
Item = PaperRecord | Reject | Notice
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


# Every digit as 9, so that a run of 19 digits is a substring test (a regular expression took
# 15-20 µs a line, more than the parse it guards). On the UTF-8 bytes: translating bytes by a
# table is a few times faster than translating text by a dict, even with the encoding.
_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9" * 10)
_LONG_RUN = b"9" * 19


def parse_json(text: str) -> tuple[Any, str | None]:
    """The JSON value of TEXT, or None and why it is not JSON papertide can read."""
    # orjson reads strict JSON about 4x faster; what it refuses (raw control characters, lone
    # surrogates, NaN) goes to json, which reads it or says why. It reads an integer beyond
    # 64 bits as a float: text with a run of 19 digits goes to json too.
    if _LONG_RUN not in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_NINES):
        try:
            return orjson.loads(text), None
        except (orjson.JSONDecodeError, RecursionError):
            pass
    try:
        # strict=False: a raw control character in a string costs nothing (clean_text drops it)
        return json.loads(text, strict=False), None
    except RecursionError:
        return None, "invalid JSON: nested too deeply"
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts
        return None, f"invalid JSON: {exc}"


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


_REPLACEMENT = "\ufffd".encode()
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])
# Random or compressed bytes (PDF, ZIP, PNG, gzip) are about 10% control bytes and 40% bytes
# that are not UTF-8. Text has no control bytes but a stray few; 8-bit text (Windows-1251,
# Latin-1) has many non-UTF-8 bytes but no control bytes, so it takes both to be binary.
_BINARY_CONTROLS = 0.01
_BINARY_NOT_TEXT = 0.3


def looks_binary(head: bytes) -> bool:
    """True when HEAD (the start of a file) is not text. A few stray NULs in a text file do not
    make it binary: its lines are read one by one and only the damaged ones are rejected."""
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = (len(head) - len(head.translate(None, _CONTROL_BYTES))) / len(head)
    invalid = head.decode("utf-8", errors="replace").count("\ufffd") - head.count(_REPLACEMENT)
    not_text = controls + invalid / len(head)
    return controls > _BINARY_CONTROLS and not_text > _BINARY_NOT_TEXT


_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")
_MAX_LISTED_LINES = 20


def decode_line(raw: bytes) -> tuple[str, str | None]:
    """One line as text and, when it was not clean UTF-8, what was done to it.

    A line that is UTF-8 with a few damaged bytes keeps its good characters (the damaged ones
    become U+FFFD); one with no UTF-8 sequence at all is from an 8-bit export and is read as
    Windows-1252, which also decodes Latin-1. Encoding detectors (charset-normalizer, chardet)
    guess wildly on the short, mostly-ASCII lines that paper files are.
    """
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="replace")
    if any(ord(char) > 0x7F and char != "\ufffd" for char in text):
        return text, "invalid UTF-8 bytes replaced by U+FFFD"
    return raw.decode("cp1252", errors="replace"), "not UTF-8, read as Windows-1252"


class DecodedText:
    """The text of a binary stream, decoded line by line so that one bad byte changes only the
    line it is on. Iterate it for lines (with their endings, like a text file) or read() it
    whole; then `notices()` says which lines needed a fallback."""

    def __init__(self, stream: BinaryIO, origin: str) -> None:
        self._stream = _buffered(stream)
        self._origin = origin
        self._fallbacks: dict[str, list[int]] = {}

    def __iter__(self) -> Iterator[str]:
        if self._stream.peek(2)[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            # UTF-16 cannot be split into lines as bytes; it is rare enough to decode whole.
            yield from io.TextIOWrapper(self._stream, "utf-16", errors="replace", newline="")
            return
        for number, raw in enumerate(self._lines(), start=1):
            text, fallback = decode_line(raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw)
            if fallback:
                self._fallbacks.setdefault(fallback, []).append(number)
            yield text

    def _lines(self) -> Iterator[bytes]:
        """The raw lines, ended by LF, CRLF or (old Mac files) a lone CR, as text files split."""
        for raw in self._stream:
            cr = raw.find(b"\r")
            if cr == -1 or (cr == len(raw) - 2 and raw.endswith(b"\r\n")):
                yield raw  # the common cases: LF and CRLF line ends
            else:
                yield from (piece for piece in _LONE_CR.split(raw) if piece)

    def read(self) -> str:
        return "".join(self)

    def notices(self) -> list[Notice]:
        found = []
        for what, numbers in self._fallbacks.items():
            listed = ", ".join(map(str, numbers[:_MAX_LISTED_LINES]))
            more = (
                f" and {len(numbers) - _MAX_LISTED_LINES} more"
                if len(numbers) > _MAX_LISTED_LINES
                else ""
            )
            place = f"line {listed}" if len(numbers) == 1 else f"lines {listed}{more}"
            found.append(Notice(where=f"{self._origin}:{numbers[0]}", reason=f"{place}: {what}"))
        return found


def _buffered(stream: BinaryIO) -> io.BufferedReader:
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(stream)  # type: ignore[arg-type]


def text_stream(stream: BinaryIO, origin: str = "") -> DecodedText:
    """STREAM as text, decoded line by line; never raises on undecodable bytes."""
    return DecodedText(stream, origin)
