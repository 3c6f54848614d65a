"""Demo customers: a few dozen, Iranian and Armenian, some with consent."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import ConsentChange, Customer
from vafa.domain import DemoContext
from vafa.i18n.normalize import fold

FIRST = ["سارا", "علی", "مریم", "رضا", "نگار", "حسین", "زهرا", "امیر", "فاطمه", "مهدی"]
FIRST_HY = ["Anna", "Armen", "Lilit", "Narek", "Mariam", "Tigran"]
LAST = ["احمدی", "رضایی", "محمدی", "کریمی", "حسینی", "موسوی"]
LAST_HY = ["Petrosyan", "Hakobyan", "Sargsyan", "Grigoryan"]
COUNT = 40


async def seed(session: AsyncSession, demo: DemoContext) -> None:
    rng = demo.rng
    for i in range(COUNT):
        armenian = i % 5 == 4
        english = i % 7 == 3 and not armenian
        phone = (
            f"+3749{rng.randrange(1000000, 9999999)}"
            if armenian
            else f"+98912{rng.randrange(1000000, 9999999)}"
        )
        name = f"{rng.choice(FIRST_HY if armenian else FIRST)} {rng.choice(LAST_HY if armenian else LAST)}"
        consent = rng.random() < 0.7
        # Most joined before the demo's nine months of purchases; a few are new.
        joined = demo.now - timedelta(days=rng.randrange(5, 60) if i % 9 == 8 else rng.randrange(280, 700))
        customer = Customer(
            phone=phone,
            name=name,
            name_key=fold(name),
            birthday=date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35)),
            language="hy" if armenian else "en" if english else "fa",
            marketing_consent=consent,
            consent_at=joined if consent else None,
            consent_source="demo" if consent else None,
            created_at=joined,
        )
        session.add(customer)
        if consent:
            await session.flush()
            session.add(ConsentChange(customer_id=customer.id, given=True, source="demo", at=joined))
    await session.flush()
