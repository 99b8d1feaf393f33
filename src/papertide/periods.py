"""Day, ISO week and month periods as half-open [start, end) datetime ranges.

'today', 'this' week and so on are relative to TODAY, which callers take from the application's
clock (None: the system's UTC date).

Periods lie in the years FIRST_YEAR..LAST_YEAR: every period then has an end, and its previous
and next periods can be computed without leaving what `datetime` can hold (year 1 to 9999). A
period outside them is a PeriodError like any other unreadable period, and the neighbours of
the first and last periods are None rather than a link to a page that would be refused.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

FIRST_YEAR = 1900
LAST_YEAR = 9998
EARLIEST = datetime(FIRST_YEAR, 1, 1)
AFTER_LATEST = datetime(LAST_YEAR + 1, 1, 1)

# The same range as regular expressions, for the API schema (web/views.py): a value matching
# them (and, for days, being a real calendar day) is always accepted.
_YEAR = r"(?:19\d\d|[2-8]\d\d\d|9[0-8]\d\d|99[0-8]\d|999[0-8])"
DAY_PATTERN = rf"^{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$"
WEEK_PATTERN = rf"^{_YEAR}-W(?:0[1-9]|[1-4]\d|5[0-2])$"  # W53 is accepted where a year has one
MONTH_PATTERN = rf"^{_YEAR}-(?:0[1-9]|1[0-2])$"
SUPPORTED = f"years {FIRST_YEAR}-{LAST_YEAR}"


class PeriodError(ValueError):
    """A period the user wrote that cannot be read."""


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def supported(day: date | datetime) -> bool:
    """True when DAY lies in the years periods may have."""
    return FIRST_YEAR <= day.year <= LAST_YEAR


def _check_year(year: int, text: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"{text!r} is out of range: papertide knows {SUPPORTED}")


def parse_day(text: str, today: date | None = None) -> date:
    text = text.strip().lower()
    if text == "today":
        day = _today(today)
    elif text == "yesterday":
        day = _today(today) - timedelta(days=1)
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise PeriodError(f"not a day (YYYY-MM-DD, today, yesterday): {text!r}") from exc
    _check_year(day.year, text)
    return day


def day_range(text: str, today: date | None = None) -> tuple[datetime, datetime]:
    day = parse_day(text, today)
    start = datetime(day.year, day.month, day.day)
    return start, start + timedelta(days=1)


def week_range(text: str, today: date | None = None) -> tuple[datetime, datetime]:
    """ISO week 'YYYY-Www' (as Hugging Face writes it), 'this', or any day inside the week."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text, re.IGNORECASE)
    if match:
        _check_year(int(match.group(1)), text)
        try:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError as exc:
            raise PeriodError(f"no such ISO week: {text!r}") from exc
    else:
        day = _today(today) if text.lower() == "this" else parse_day(text, today)
        monday = day - timedelta(days=day.weekday())
    start = datetime(monday.year, monday.month, monday.day)
    return start, start + timedelta(days=7)


def month_range(text: str, today: date | None = None) -> tuple[datetime, datetime]:
    """'YYYY-MM' or 'this'."""
    text = text.strip()
    if text.lower() == "this":
        current = _today(today)
        year, month = current.year, current.month
    else:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise PeriodError(f"not a month (YYYY-MM): {text!r}")
        year, month = int(match.group(1)), int(match.group(2))
    _check_year(year, text)
    start = datetime(year, month, 1)
    end = datetime(year + (month == 12), month % 12 + 1, 1)
    return start, end


def period_range(
    day: str | None, week: str | None, month: str | None, today: date | None = None
) -> tuple[datetime | None, datetime | None]:
    """The range of the one period given, or (None, None) for none; PeriodError otherwise."""
    if sum(1 for value in (day, week, month) if value) > 1:
        raise PeriodError("give at most one of a day, a week or a month")
    if day:
        return day_range(day, today)
    if week:
        return week_range(week, today)
    if month:
        return month_range(month, today)
    return None, None


def neighbour_weeks(start: datetime) -> tuple[str | None, str | None]:
    """'YYYY-Www' of the weeks before and after the week starting at START (None outside the
    supported years)."""
    weeks = (start - timedelta(days=7), start + timedelta(days=7))
    return tuple(  # type: ignore[return-value]
        f"{monday:%G-W%V}" if FIRST_YEAR <= monday.isocalendar().year <= LAST_YEAR else None
        for monday in weeks
    )


def neighbour_months(start: datetime) -> tuple[str | None, str | None]:
    """'YYYY-MM' of the months before and after the month starting at START (None outside the
    supported years)."""
    before = start - timedelta(days=1)
    after = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return (
        f"{before:%Y-%m}" if supported(before) else None,
        f"{after:%Y-%m}" if supported(after) else None,
    )
