"""Dates read from a column in the common forms, day/month order decided from the whole column.

Hand-written rather than python-dateutil's parser: that parser guesses the order of 03/04/2026
value by value (and is ~20× slower per value on a 100,000-row finalize); here a slash date is kept
as its numbers until the whole column has been seen, then read in the one order the column allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import Enum

# Each date form; its last group is what follows the date (a time of day, perhaps an offset).
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})([T ].*)?$")
_ISO_SLASH = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})([T ].*)?$")
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})([T ,].*)?$")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})([T ].*)?$")
_EPOCH = re.compile(r"\d{9,13}(?:\.\d+)?$")
# One rule for offsets, whatever the date's form: a time of day (24-hour, or 12-hour with AM/PM)
# followed, with or without a space, by Z, UTC, GMT or ±HH[[:]MM] makes the time aware, and an
# aware time is bucketed on its UTC date; a time without an offset is bucketed on the date written.
_ZONED_TIME = re.compile(
    r"[T ,]\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AP]M)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$",
    re.IGNORECASE,
)
_MINUTES_PER_DAY = 24 * 60
# Dates outside this range are far more likely wrong fields (ids, amounts) than real dates.
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)


class DateOrder(str, Enum):
    MONTH_FIRST = "month-first"  # 03/04/2026 is March 4 (as in the US)
    DAY_FIRST = "day-first"  # 03/04/2026 is 3 April


@dataclass(frozen=True)
class SlashDate:
    """A date written a/b/year whose day/month order is not yet known."""

    first: int
    second: int
    year: int
    utc_shift: int = 0  # days from the date written to its UTC date (an aware time near midnight)

    def read(self, order: DateOrder) -> date | None:
        month, day = (self.first, self.second) if order is DateOrder.MONTH_FIRST else (self.second, self.first)
        return _date(self.year, month, day, self.utc_shift)


def read_date(value: str) -> date | SlashDate | None:
    """A date, a SlashDate to be read once the column's order is known, or None if unreadable."""
    text = value.strip()
    if not text:
        return None
    for pattern, order in ((_ISO, (1, 2, 3)), (_ISO_SLASH, (1, 2, 3)), (_DOTTED, (3, 2, 1))):
        found = pattern.match(text)
        if found:
            shift = _utc_shift(found.group(4))
            numbers = found.groups()
            return None if shift is None else _date(*(int(numbers[i - 1]) for i in order), shift)
    found = _SLASH.match(text)
    if found:
        first, second, year = (int(g) for g in found.groups()[:3])
        year = year + 2000 if year < 100 else year  # two-digit years: this century
        shift = _utc_shift(found.group(4))
        if first > 31 or second > 31 or (first > 12 and second > 12) or not first or not second or shift is None:
            return None
        return SlashDate(first, second, year, shift)
    if _EPOCH.match(text):
        number = float(text)
        seconds = number / 1000 if number >= 1e11 else number  # 12-13 digits: milliseconds
        return _in_range(datetime.fromtimestamp(seconds, UTC).date())
    if any(c.isalpha() for c in text):
        try:
            parsed = parsedate_to_datetime(text)  # RFC 2822 (e-mail, RSS): "Tue, 03 Mar 2026 10:00:00 +0000"
        except (TypeError, ValueError, IndexError):
            return None
        return _in_range(_utc_date(parsed))
    return None


def column_order(first_over_12: int, second_over_12: int) -> tuple[DateOrder, str]:
    """The order a column's slash dates are read in, and a note saying how it was decided."""
    if first_over_12 and not second_over_12:
        return DateOrder.DAY_FIRST, f"day/month: {first_over_12} dates have a first number above 12"
    if second_over_12 and not first_over_12:
        return DateOrder.MONTH_FIRST, f"month/day: {second_over_12} dates have a second number above 12"
    if first_over_12 and second_over_12:
        order = DateOrder.DAY_FIRST if first_over_12 > second_over_12 else DateOrder.MONTH_FIRST
        return order, (
            f"{order.value.replace('-first', '')} first by majority: the column mixes both orders "
            f"({first_over_12} day-first, {second_over_12} month-first); dates that fit neither are unreadable"
        )
    return DateOrder.MONTH_FIRST, "month/day assumed: every slash date in the column fits both orders"


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    return day.replace(day=1)


def bucket_for_span(first: date, last: date) -> str:
    """The default bucket: days for up to two months, weeks for up to two years, else months."""
    span = (last - first).days
    if span <= 62:
        return "day"
    if span <= 731:
        return "week"
    return "month"


def _date(year: int, month: int, day: int, utc_shift: int = 0) -> date | None:
    try:
        return _in_range(date(year, month, day) + timedelta(days=utc_shift))
    except (ValueError, OverflowError):
        return None


def _utc_shift(after_date: str | None) -> int | None:
    """Days from a written date to its UTC date, given what follows the date: -1, 0 or 1 for an
    aware time, 0 for none or a time without an offset; None for an aware time that cannot be
    (hour 24 or more, minute 60 or more, an offset of 24 hours or more)."""
    found = _ZONED_TIME.match(after_date) if after_date else None
    if found is None:
        return 0
    hour, minute, _, half, zone = found.groups()
    hour, minute = int(hour), int(minute)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.upper() == "PM" else 0)
    if hour > 23 or minute > 59:
        return None
    offset = 0
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * (-1 if zone[0] == "-" else 1)
    return (hour * 60 + minute - offset) // _MINUTES_PER_DAY


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def _in_range(day: date) -> date | None:
    return day if EARLIEST <= day <= LATEST else None
