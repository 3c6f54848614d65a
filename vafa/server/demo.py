"""Demo data for the embedded default: the club, an owner, and each domain's demo."""

from __future__ import annotations

import random
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin import services as staff
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.domain import Composition, DemoContext
from vafa.models import Club
from vafa.money import Currency, default_currency
from vafa.permissions import Role
from vafa.settings import VAR_DIR, Settings

CREDENTIALS_FILE = VAR_DIR / "demo-login.txt"
OWNER = "owner"


async def seed(
    session: AsyncSession, *, settings: Settings, composition: Composition
) -> tuple[str, str] | None:
    """Create the demo club once; returns the owner's (username, password)."""
    if await session.scalar(select(Club.id)) is not None:
        return None
    # An Iranian café counts in Tomans, as its price list does.
    currency = default_currency(settings.timezone)
    session.add(
        Club(
            id=1,
            name="کافه وفا",
            timezone=settings.timezone,
            default_language="fa",
            currency=Currency.TOMAN if currency == Currency.RIAL else currency,
        )
    )
    password = secrets.token_urlsafe(12)
    await staff.create_staff(
        session, username=OWNER, password=password, role=Role.OWNER, actor=Actor.system("demo")
    )
    demo = DemoContext(settings, random.Random(1405), utcnow())  # noqa: S311 - not secrets
    for domain in composition.domains:
        if domain.demo is not None:
            await domain.demo(session, demo)
    return OWNER, password
