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
    return OWNER, password
