"""`vafa demo` seeds a club that looks lived in, through the real services, and its
books balance."""

from __future__ import annotations

import jdatetime
from sqlalchemy import func, select

from customers.models import Customer
from loyalty.models import JournalEntry, MemberTier, Purchase, Refund, Tier, Voucher
from loyalty.verify import verify
from vafa.calendar import local_day
from vafa.server import composition
from vafa.server.demo import seed


async def test_demo_club_has_history_in_every_shape(sessionmaker, settings):
    async with sessionmaker() as s, s.begin():
        created = await seed(s, settings=settings, composition=composition())
    assert created is not None
    async with sessionmaker() as s, s.begin():
        assert await seed(s, settings=settings, composition=composition()) is None  # once
    async with sessionmaker() as s:
        bought = (await s.scalars(select(Purchase.created_at))).all()
        months = {
            jdatetime.date.fromgregorian(date=local_day(at, settings.timezone)).month
            for at in bought
        }
        assert len(bought) > 100 and len(months) >= 6  # several Solar Hijri months
        assert await s.scalar(select(func.count()).select_from(Refund)) > 0
        statuses = set((await s.scalars(select(Voucher.status))).all())
        assert {"used", "cancelled", "issued"} <= statuses
        kinds = set((await s.scalars(select(JournalEntry.kind))).all())
        assert {"earn", "redeem", "expire", "reverse"} <= kinds
        tier_ids = set((await s.scalars(select(MemberTier.tier_id))).all())
        assert set((await s.scalars(select(Tier.id))).all()) <= tier_ids  # every tier
        languages = set((await s.scalars(select(Customer.language))).all())
        assert languages == {"fa", "hy", "en"}
        assert await verify(s) == []
