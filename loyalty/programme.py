"""The club's points settings, and when points earned at a moment expire (on the club
calendar: `vafa.calendar`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import ExpireAt, Programme, ReturnPolicy, TierWindow
from vafa.calendar import end_of_month, end_of_range, local_day


async def get_programme(session: AsyncSession) -> Programme:
    programme = await session.get(Programme, 1)
    if programme is None:  # the migration creates it; an emptied database gets it back
        programme = Programme(
            id=1,
            expiry_days=365,
            expire_at=ExpireAt.DAY,
            return_policy=ReturnPolicy.DEBT,
            reminder_days=30,
            tier_window=TierWindow.ROLLING,
            tier_window_days=365,
            tier_grace_days=30,
        )
        session.add(programme)
        await session.flush()
    return programme


def expiry_for(earned_at: datetime, programme: Programme, tz: str) -> datetime | None:
    """Points expire when the last day of their life ends in the club's time zone:
    `expiry_days` after the day they were earned, or the end of that month."""
    if programme.expiry_days is None:
        return None
    last_day = local_day(earned_at, tz) + timedelta(days=programme.expiry_days)
    if programme.expire_at == ExpireAt.MONTH:
        last_day = end_of_month(last_day, tz)
    return end_of_range(last_day, tz)
