"""Demo points data: rules, tiers, rewards and a few months of purchases, recorded
through the real services."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import purchases
from loyalty.models import EarnRule, Reward, RuleKind, Tier
from vafa.actor import Actor
from vafa.domain import DemoContext


async def seed(session: AsyncSession, demo: DemoContext) -> None:
    rng = demo.rng
    session.add_all(
        [
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
    )
    await session.flush()
    members = (await session.scalars(select(Customer).order_by(Customer.id))).all()
    actor = Actor.system("demo")
    for customer in members[: len(members) // 2]:
        for n in range(rng.randrange(1, 6)):
            await purchases.record_purchase(
                session,
                actor=actor,
                phone=customer.phone,
                amount=rng.randrange(20, 400) * 10_000,
                categories=rng.choice([["coffee"], ["food"], []]),
                receipt_number=f"demo-{customer.id}-{n}",
                tz=demo.settings.timezone,
                language=customer.language,
            )
