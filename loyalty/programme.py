"""The club's loyalty settings and its calendar: business days end at midnight in
the club's time zone; months are Solar Hijri months for a club in Iran."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import Programme

JALALI_ZONES = frozenset({"Asia/Tehran"})


async def get_programme(session: AsyncSession) -> Programme:
    programme = await session.get(Programme, 1)
    if programme is None:  # the migration creates it; an emptied database gets it back
        programme = Programme(
            id=1,
            expiry_days=365,
            expire_at="day",
            return_policy="debt",
            reminder_days=30,
            tier_window="rolling",
            tier_window_days=365,
            tier_grace_days=30,
        )
        session.add(programme)
        await session.flush()
    return programme


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def start_of_day(day: date, tz: str) -> datetime:
    """The UTC instant a local calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


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


def expiry_for(earned_at: datetime, programme: Programme, tz: str) -> datetime | None:
    """Points expire when the last day of their life ends in the club's time zone:
    `expiry_days` after the day they were earned, or the end of that month."""
    if programme.expiry_days is None:
        return None
    last_day = local_day(earned_at, tz) + timedelta(days=programme.expiry_days)
    if programme.expire_at == "month":
        last_day = end_of_month(last_day, tz)
    return start_of_day(last_day + timedelta(days=1), tz)


def year_start(moment: datetime, tz: str) -> datetime:
    """Start of the calendar year containing `moment`: 1 Farvardin in Iran."""
    day = local_day(moment, tz)
    if tz in JALALI_ZONES:
        first = jdatetime.date(jdatetime.date.fromgregorian(date=day).year, 1, 1).togregorian()
    else:
        first = date(day.year, 1, 1)
    return start_of_day(first, tz)
