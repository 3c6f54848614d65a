"""The club calendar: business days end at midnight in the club's time zone; months
and years are Solar Hijri for a club in Iran (1 Farvardin starts the year)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime

JALALI_ZONES = frozenset({"Asia/Tehran"})


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def start_of_day(day: date, tz: str) -> datetime:
    """The UTC instant a local calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def end_of_range(day: date, tz: str) -> datetime:
    """A range that includes `day` ends when the next local day begins."""
    return start_of_day(day + timedelta(days=1), tz)


def last_day(moment: datetime | None, tz: str) -> date | None:
    """The last local day of a range stored as the start of the day after it."""
    return local_day(moment, tz) - timedelta(days=1) if moment else None


def end_of_month(day: date, tz: str) -> date:
    """Last day of the month `day` is in: the Solar Hijri month for Iranian clubs."""
    if tz in JALALI_ZONES:
        j = jdatetime.date.fromgregorian(date=day)
        first_next = (
            jdatetime.date(j.year + 1, 1, 1)
            if j.month == 12
            else jdatetime.date(j.year, j.month + 1, 1)
        )
        return first_next.togregorian() - timedelta(days=1)
    first_next = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return first_next - timedelta(days=1)


def year_start(moment: datetime, tz: str) -> datetime:
    """Start of the calendar year containing `moment`: 1 Farvardin in Iran."""
    day = local_day(moment, tz)
    if tz in JALALI_ZONES:
        first = jdatetime.date(jdatetime.date.fromgregorian(date=day).year, 1, 1).togregorian()
    else:
        first = date(day.year, 1, 1)
    return start_of_day(first, tz)



def start_of_month(day: date, tz: str) -> date:
    """First day of the month `day` is in (Solar Hijri for Iranian clubs)."""
    if tz in JALALI_ZONES:
        j = jdatetime.date.fromgregorian(date=day)
        return jdatetime.date(j.year, j.month, 1).togregorian()
    return day.replace(day=1)


def month_of(day: date, tz: str) -> tuple[date, date]:
    """The club month `day` is in: its first and last days."""
    return start_of_month(day, tz), end_of_month(day, tz)


def previous_month(day: date, tz: str) -> tuple[date, date]:
    return month_of(start_of_month(day, tz) - timedelta(days=1), tz)
