"""Partners, keys and a member with points, for the partner API's tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from loyalty import ledger
from partners import services, till
from tests.loyalty.helpers import member, spend_rule
from vafa.actor import Actor
from vafa.settings import Settings

PHONE = "09121234567"
E164 = "+989121234567"
ADMIN = Actor.system("test")


@dataclass
class Club:
    a: int  # partner ids
    b: int
    key_a: str
    key_b: str
    key_a_id: int
    customer_id: int


async def make_partner(db, name: str = "کافه نادری", **terms) -> tuple[int, str, int]:
    values = {
        "earn": True,
        "redeem": True,
        "earn_rials_per_point": 1_000,
        "redeem_rials_per_point": 800,
        "commission_bp": 250,
        **terms,
    }
    partner = await services.create_partner(
        db, actor=ADMIN, terms=services.Terms(name={"fa": name, "en": "Naderi Cafe"}, **values)
    )
    made = await services.create_key(db, actor=ADMIN, partner_id=partner.id, name="till 1")
    return partner.id, made.secret, made.key.id


@pytest.fixture
async def club(sessionmaker) -> Club:
    async with sessionmaker() as db, db.begin():
        a, key_a, key_a_id = await make_partner(db)
        b, key_b, _ = await make_partner(db, "نان سحر")
        await spend_rule(db, rials_per_point=10_000)  # a point per 10,000 Rials
        customer = await member(db, E164, name="فاطمه رضایی")
        await ledger.earn(db, customer_id=customer.id, points=100, key="test:seed")
    return Club(a, b, key_a, key_b, key_a_id, customer.id)


def api(key: str, idem: str | None = "new", language: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idem is not None:
        headers["Idempotency-Key"] = str(uuid.uuid4()) if idem == "new" else idem
    if language:
        headers["Accept-Language"] = language
    return headers


async def consent_code(
    sessionmaker, settings: Settings, partner_id: int, points: int, phone: str = PHONE
) -> str:
    """A consent code as the member would read it from the SMS (without the rate
    limits the API puts on asking)."""
    from partners.models import Partner

    async with sessionmaker() as db, db.begin():
        partner = await db.get(Partner, partner_id)
        asked = await till.ask_consent(
            db, till.Till.for_key(partner, 0, None), settings, phone=phone, points=points
        )
    return asked.code

