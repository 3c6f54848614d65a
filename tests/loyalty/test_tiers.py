"""Tier thresholds rise with rank: a higher tier can never be easier to reach."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loyalty import services, tiers
from loyalty.models import Tier
from tests.loyalty.helpers import member
from vafa.actor import Actor
from vafa.errors import UserError

STAFF = Actor.staff(1)


def tier(rank: int, threshold: int) -> dict:
    return {
        "name": {"fa": f"سطح {rank}"},
        "rank": rank,
        "threshold": threshold,
        "earn_multiplier_percent": 100,
    }


async def test_thresholds_must_rise_with_rank(db):
    await services.save_tier(db, actor=STAFF, tier_id=None, values=tier(1, 100))
    await services.save_tier(db, actor=STAFF, tier_id=None, values=tier(3, 5000))
    for bad in (tier(5, 10), tier(2, 100), tier(2, 5000), tier(2, 6000), tier(4, 4999)):
        with pytest.raises(UserError):
            async with db.begin_nested():
                await services.save_tier(db, actor=STAFF, tier_id=None, values=bad)
    middle = await services.save_tier(db, actor=STAFF, tier_id=None, values=tier(2, 1000))
    # Editing a tier is held to the same rule against its neighbours.
    with pytest.raises(UserError):
        async with db.begin_nested():
            await services.save_tier(db, actor=STAFF, tier_id=middle.id, values=tier(2, 50))
    ranks = [(t.rank, t.threshold) for t in (await db.scalars(select(Tier).order_by(Tier.rank)))]
    assert ranks == [(1, 100), (2, 1000), (3, 5000)]


async def test_a_member_climbs_tiers_in_order(db):
    await services.save_tier(db, actor=STAFF, tier_id=None, values=tier(1, 50))
    with pytest.raises(UserError):
        await services.save_tier(db, actor=STAFF, tier_id=None, values=tier(5, 10))
    c = await member(db)
    from loyalty import ledger

    await ledger.earn(db, customer_id=c.id, points=60, key="k")
    await tiers.review(db, c.id, tz="Asia/Tehran")
    assert (await tiers.current_tier(db, c.id)).rank == 1
