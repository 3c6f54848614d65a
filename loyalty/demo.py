"""Demo points data that looks like a club that has lived: rules, tiers and rewards,
nine months of purchases spread over the Solar Hijri months, some returns, vouchers
taken, used and given back, points that expired, and members in every tier. All of it
is recorded through the real services, each on its own day (`vafa.clock`)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import ledger, purchases, rewards, tiers
from loyalty.models import EarnRule, Reward, RuleKind, Tier
from loyalty.programme import get_programme
from vafa import clock
from vafa.actor import Actor
from vafa.domain import DemoContext
from vafa.errors import UserError

MONTHS = 9
LIFE_DAYS = 180  # points live six months here, so the demo has expired points to show


def _catalogue() -> list[object]:
    return [
        EarnRule(
            name="هر ۱۰٬۰۰۰ ریال یک امتیاز",
            kind=RuleKind.SPEND,
            rials_per_point=10_000,
            category_multipliers={"coffee": 200},
            tier_multipliers={},
            pending_days=0,
        ),
        EarnRule(
            name="هدیه عضویت",
            kind=RuleKind.SIGNUP,
            points=50,
            category_multipliers={},
            tier_multipliers={},
        ),
        EarnRule(
            name="هدیه تولد",
            kind=RuleKind.BIRTHDAY,
            points=200,
            category_multipliers={},
            tier_multipliers={},
        ),
        Tier(name={"fa": "برنزی", "hy": "Բրոնզ", "en": "Bronze"}, rank=1, threshold=100),
        Tier(
            name={"fa": "نقره‌ای", "hy": "Արծաթ", "en": "Silver"},
            rank=2,
            threshold=1_000,
            earn_multiplier_percent=125,
        ),
        Tier(
            name={"fa": "طلایی", "hy": "Ոսկի", "en": "Gold"},
            rank=3,
            threshold=5_000,
            earn_multiplier_percent=150,
        ),
        Reward(
            title={"fa": "یک فنجان قهوه", "hy": "Մեկ բաժակ սուրճ", "en": "A cup of coffee"},
            description={"fa": "هر نوشیدنی گرم به انتخاب شما", "en": "Any hot drink"},
            cost=150,
        ),
        Reward(
            title={"fa": "کیک روز", "hy": "Օրվա տորթ", "en": "Cake of the day"},
            description={},
            cost=300,
            stock=20,
        ),
        Reward(
            title={"fa": "ناهار برای دو نفر", "hy": "Ճաշ երկուսի համար", "en": "Lunch for two"},
            description={},
            cost=2_000,
            per_member_limit=1,
            min_tier_rank=2,
        ),
    ]


def _moment(rng: random.Random, now: datetime, months_back: int) -> datetime:
    """A shop-hours moment somewhere in the month `months_back` months ago."""
    day = now - timedelta(days=30 * months_back + rng.randrange(0, 30))
    return day.replace(hour=rng.randrange(5, 17), minute=rng.randrange(0, 60))  # UTC


async def seed(session: AsyncSession, demo: DemoContext) -> None:
    rng, now, tz = demo.rng, demo.now, demo.settings.timezone
    programme = await get_programme(session)
    programme.expiry_days = LIFE_DAYS
    # Months of past purchases are not texted to anyone today.
    programme.purchase_sms = False
    session.add_all(_catalogue())
    await session.flush()
    members = list((await session.scalars(select(Customer).order_by(Customer.id))).all())
    catalogue = list((await session.scalars(select(Reward).order_by(Reward.cost))).all())
    counter = Actor.system("demo")
    # A few regulars spend a lot (the top tiers), most come now and then, some never.
    habits = {m.id: rng.choice([0, 1, 1, 2, 2, 3, 6]) for m in members}
    for regular in rng.sample(members, 3):
        habits[regular.id] = 14
    recorded: list[purchases.Recorded] = []
    for months_back in range(MONTHS - 1, -1, -1):
        for member in members:
            for n in range(rng.randrange(0, habits[member.id] + 1)):
                moment = _moment(rng, now, months_back)
                if moment <= member.created_at or moment >= now:
                    continue
                big = habits[member.id] > 6
                with clock.frozen_at(moment):
                    recorded.append(
                        await purchases.record_purchase(
                            session,
                            actor=counter,
                            phone=member.phone,
                            amount=rng.randrange(80 if big else 20, 900 if big else 400) * 10_000,
                            categories=rng.choice([["coffee"], ["food"], []]),
                            receipt_number=f"D{months_back}-{member.id}-{n}",
                            tz=tz,
                            language=member.language,
                        )
                    )
    # Some purchases come back, in part or whole, a few days later.
    for bought in rng.sample(recorded, len(recorded) // 20):
        purchase = bought.purchase
        with clock.frozen_at(min(purchase.created_at + timedelta(days=3), now)):
            await purchases.record_refund(
                session,
                actor=counter,
                purchase_id=purchase.id,
                amount=purchase.amount // rng.choice([1, 2, 4]),
                key=f"demo-return-{purchase.id}",
            )
    # Members with points take rewards; the counter accepts most, a few are given back.
    for member in members:
        for reward in catalogue:
            if rng.random() > 0.35:
                continue
            taken = now - timedelta(days=rng.randrange(1, 25), hours=rng.randrange(1, 9))
            with clock.frozen_at(taken):
                try:
                    voucher = await rewards.redeem(
                        session,
                        actor=Actor.customer(member.id),
                        customer_id=member.id,
                        reward_id=reward.id,
                        key=f"demo-{member.id}-{reward.id}",
                        tz=tz,
                    )
                except UserError:  # not enough points, a higher tier's reward, ...
                    continue
            fate = rng.random()
            with clock.frozen_at(taken + timedelta(hours=1)):
                if fate < 0.6:
                    await rewards.use(session, actor=counter, code=voucher.code)
                elif fate < 0.75:
                    await rewards.cancel(session, actor=counter, voucher_id=voucher.id)
    # What the worker would have done meanwhile: pending points arrived, old ones
    # expired, tiers reviewed.
    await ledger.release_due(session, now=now)
    while await ledger.expire_due(session, now=now):
        pass
    for member in members:
        await tiers.review(session, member.id, tz=tz, now=now)
    programme.purchase_sms = True
