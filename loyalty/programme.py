"""The club's points settings, and when points earned at a moment expire (on the club
calendar: `vafa.calendar`).

`current(session)` is what every purchase, redemption and page reads: the settings,
the programme's ledger account, the active earning rules and the tiers, kept in each
process and read again only when staff changed one of them (`vafa.cache`). Code that
changes the settings reads them with `get_programme` in its own session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import (
    PROGRAMME,
    Account,
    EarnRule,
    ExpireAt,
    Programme,
    ReturnPolicy,
    Tier,
    TierWindow,
)
from vafa import cache
from vafa.calendar import end_of_month, end_of_range, local_day
from vafa.database import insert_new


async def get_programme(session: AsyncSession) -> Programme:
    programme = await session.get(Programme, 1)
    if programme is None:  # the migration creates it; an emptied database gets it back
        # Many requests may find it missing at once: the first insert wins.
        await insert_new(
            session,
            Programme,
            {
                "id": 1,
                "expiry_days": 365,
                "expire_at": ExpireAt.DAY,
                "return_policy": ReturnPolicy.DEBT,
                "reminder_days": 30,
                "tier_window": TierWindow.ROLLING,
                "tier_window_days": 365,
                "tier_grace_days": 30,
                "purchase_sms": True,
            },
            unique=["id"],
        )
        await cache.bump(session, CURRENT.name)
        programme = await session.get(Programme, 1)
        assert programme is not None
    return programme


async def programme_account(session: AsyncSession) -> int:
    """The account points come from and go back to (created by the migration)."""
    account_id = await session.scalar(
        select(Account.id).where(Account.kind == PROGRAMME).order_by(Account.id).limit(1)
    )
    if account_id is not None:
        return account_id
    try:  # an emptied database gets it back here
        async with session.begin_nested():
            account = Account(kind=PROGRAMME, balance=0)
            session.add(account)
        await cache.bump(session, CURRENT.name)
        return account.id
    except IntegrityError:
        return await programme_account(session)


@dataclass(frozen=True)
class Current:
    """Shared by every request of a process: read, never change."""

    programme: Programme
    account: int  # the programme's ledger account
    rules: tuple[EarnRule, ...]  # active rules of every kind; `rules.applies` says when
    tiers: tuple[Tier, ...]  # by rank


async def _load(session: AsyncSession) -> Current:
    programme = await get_programme(session)
    account = await programme_account(session)
    rules = (await session.scalars(select(EarnRule).where(EarnRule.active))).all()
    tiers = (await session.scalars(select(Tier).order_by(Tier.rank))).all()
    return Current(programme, account, tuple(rules), tuple(tiers))


CURRENT = cache.Cache("loyalty", _load, (Programme, EarnRule, Tier))


async def current(session: AsyncSession) -> Current:
    return await CURRENT.get(session)


def expiry_for(earned_at: datetime, programme: Programme, tz: str) -> datetime | None:
    """Points expire when the last day of their life ends in the club's time zone:
    `expiry_days` after the day they were earned, or the end of that month."""
    if programme.expiry_days is None:
        return None
    last_day = local_day(earned_at, tz) + timedelta(days=programme.expiry_days)
    if programme.expire_at == ExpireAt.MONTH:
        last_day = end_of_month(last_day, tz)
    return end_of_range(last_day, tz)
