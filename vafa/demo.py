"""Demo data for the embedded default: a club, a few dozen members and an owner."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin import service as staff_service
from customers.models import Customer
from vafa.database import utcnow
from vafa.models import Club
from vafa.settings import VAR_DIR

CREDENTIALS_FILE = VAR_DIR / "demo-login.txt"
OWNER = "owner"

FIRST = [
    "سارا",
    "علی",
    "مریم",
    "رضا",
    "نگار",
    "حسین",
    "زهرا",
    "امیر",
    "فاطمه",
    "مهدی",
    "Anna",
    "Armen",
    "Lilit",
    "Narek",
    "Mariam",
    "Tigran",
]
LAST = [
    "احمدی",
    "رضایی",
    "محمدی",
    "کریمی",
    "حسینی",
    "موسوی",
    "Petrosyan",
    "Hakobyan",
    "Sargsyan",
    "Grigoryan",
]


async def seed(session: AsyncSession, *, customers: int) -> tuple[str, str] | None:
    """Create the demo club once; returns the owner's (username, password)."""
    if await session.scalar(select(Club.id)) is not None:
        return None
    rng = random.Random(1405)  # noqa: S311 - demo names, not secrets
    session.add(Club(id=1, name="کافه وفا", timezone="Asia/Tehran", default_language="fa"))
    password = secrets.token_urlsafe(12)
    await staff_service.create_staff(
        session, username=OWNER, password=password, role="owner", actor_id=None
    )
    now = utcnow()
    for i in range(customers):
        armenian = i % 5 == 4
        phone = (
            f"+3749{rng.randrange(1000000, 9999999)}"
            if armenian
            else f"+98912{rng.randrange(1000000, 9999999)}"
        )
        first = rng.choice(FIRST[10:] if armenian else FIRST[:10])
        last = rng.choice(LAST[6:] if armenian else LAST[:6])
        consent = rng.random() < 0.7
        session.add(
            Customer(
                phone=phone,
                name=f"{first} {last}",
                birthday=date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35)),
                language="hy" if armenian else "fa",
                marketing_consent=consent,
                consent_at=now if consent else None,
                consent_source="demo" if consent else None,
                created_at=now - timedelta(days=rng.randrange(0, 700)),
            )
        )
    await session.flush()
    await _seed_points(session, rng)
    return OWNER, password


async def _seed_points(session: AsyncSession, rng: random.Random) -> None:
    """Rules, tiers, rewards and a few months of purchases, through the real services."""
    from loyalty import purchases
    from loyalty.models import EarnRule, Reward, Tier

    session.add_all(
        [
            EarnRule(
                name="هر ۱۰٬۰۰۰ ریال یک امتیاز",
                kind="spend",
                rials_per_point=10_000,
                category_multipliers={"coffee": 200},
                tier_multipliers={},
                pending_days=0,
            ),
            EarnRule(
                name="هدیه عضویت",
                kind="signup",
                points=50,
                category_multipliers={},
                tier_multipliers={},
            ),
            EarnRule(
                name="هدیه تولد",
                kind="birthday",
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
    customers = (await session.scalars(select(Customer).order_by(Customer.id))).all()
    for customer in customers[: len(customers) // 2]:
        for n in range(rng.randrange(1, 6)):
            await purchases.record_purchase(
                session,
                phone=customer.phone,
                amount=rng.randrange(20, 400) * 10_000,
                categories=rng.choice([["coffee"], ["food"], []]),
                receipt_number=f"demo-{customer.id}-{n}",
                recorded_by="demo",
                tz="Asia/Tehran",
                language=customer.language,
            )
