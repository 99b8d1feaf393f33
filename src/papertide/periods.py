"""Day, ISO week and month periods as half-open [start, end) datetime ranges.

'today', 'this' week and so on are relative to TODAY, which callers take from the application's
clock (None: the system's UTC date)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta


class PeriodError(ValueError):
    """A period the user wrote that cannot be read."""


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def parse_day(text: str, today: date | None = None) -> date:
    text = text.strip().lower()
    if text == "today":
        return _today(today)
    if text == "yesterday":
        return _today(today) - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"not a day (YYYY-MM-DD, today, yesterday): {text!r}") from exc


def day_range(text: str, today: date | None = None) -> tuple[datetime, datetime]:
    day = parse_day(text, today)
    start = datetime(day.year, day.month, day.day)
    return start, start + timedelta(days=1)


def week_range(text: str, today: date | None = None) -> tuple[datetime, datetime]:
    """ISO week 'YYYY-Www' (as Hugging Face writes it), 'this', or any day inside the week."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text, re.IGNORECASE)
    if match:
        try:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError as exc:
            raise PeriodError(f"no such ISO week: {text!r}") from exc
    else:
        day = _today(today) if text.lower() == "this" else parse_day(text, today)
        monday = day - timedelta(days=day.weekday())
    start = datetime(monday.year, monday.month, monday.day)
    return start, start + timedelta(days=7)


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
    start = datetime(year, month, 1)
    end = datetime(year + (month == 12), month % 12 + 1, 1)
    return start, end
