"""Three partners of the demo café, with two months of sales and redemptions at their
tills (through the same services as the API), so settlement has something to show."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty.programme import get_programme
from partners import services, till
from partners.models import Category
from vafa import clock
from vafa.actor import Actor
from vafa.domain import DemoContext
from vafa.errors import UserError

DEMO = Actor.system("demo")
PARTNERS = (
    (
        {"fa": "کتاب‌فروشی ثالث", "en": "Sales Bookshop", "hy": "Սալես գրախանութ"},
        Category.LEISURE,
        "خیابان انقلاب، روبه‌روی دانشگاه",
        True,
    ),
    (
        {"fa": "نان سحر", "en": "Sahar Bakery", "hy": "Սահար հացատուն"},
        Category.GROCERY,
        "خیابان ولیعصر، کوچه‌ی بهار",
        False,
    ),
    (
        {"fa": "گل‌فروشی یاس", "en": "Yas Flowers", "hy": "Յաս ծաղկի խանութ"},
        Category.HOME,
        "میدان ونک",
        True,
    ),
)


async def seed(session: AsyncSession, demo: DemoContext) -> None:
    rng, now, settings = demo.rng, demo.now, demo.settings
    await services.home_partner(session)
    programme = await get_programme(session)
    programme.purchase_sms = False  # past sales are not texted to anyone today
    members = list((await session.scalars(select(Customer).order_by(Customer.id))).all())
    for index, (name, category, address, spend) in enumerate(PARTNERS):
        partner = await services.create_partner(
            session,
            actor=DEMO,
            terms=services.Terms(
                name=name,
                category=category,
                address=address,
                earn=True,
                redeem=spend,
                earn_rials_per_point=1_200,
                redeem_rials_per_point=1_000,
                commission_bp=200,
                enrol=index == 0,
            ),
        )
        await services.create_key(session, actor=DEMO, partner_id=partner.id, name="Till 1")
        at_till = till.Till(partner, DEMO, "demo")
        for n, member in enumerate(rng.sample(members, min(12, len(members)))):
            moment = now - timedelta(days=rng.randrange(1, 60), hours=rng.randrange(0, 8))
            with clock.frozen_at(max(moment, member.created_at + timedelta(hours=1))):
                if moment >= now:
                    continue
                await till.earn(
                    session,
                    at_till,
                    settings,
                    phone=member.phone,
                    amount=rng.randrange(30, 300) * 10_000,
                    receipt=f"P{partner.id}-{n}",
                    categories=[],
                )
                if not spend or rng.random() > 0.4:
                    continue
                points = rng.choice([20, 50, 100])
                consent, _ = await till.new_consent(session, settings, partner, member.id, points)
                try:
                    async with session.begin_nested():
                        await till.redeem(
                            session,
                            at_till,
                            settings,
                            member=till.Member(member),
                            points=points,
                            consent=consent,
                            receipt=f"P{partner.id}-{n}",
                        )
                except UserError:  # not enough points
                    continue
    programme.purchase_sms = True
