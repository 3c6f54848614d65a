"""Shared set-up for points tests."""

from __future__ import annotations

from datetime import datetime

from customers.models import Customer
from loyalty.models import EarnRule, Reward, Tier
from vafa.database import utcnow


async def member(session, phone: str = "+989121234567", **fields) -> Customer:
    customer = Customer(
        phone=phone, language=fields.pop("language", "fa"), created_at=utcnow(), **fields
    )
    session.add(customer)
    await session.flush()
    return customer


async def spend_rule(session, *, rials_per_point: int = 10_000, **fields) -> EarnRule:
    rule = EarnRule(
        name=fields.pop("name", "Base"),
        kind="spend",
        rials_per_point=rials_per_point,
        multiplier_percent=fields.pop("multiplier_percent", 100),
        category_multipliers=fields.pop("category_multipliers", {}),
        tier_multipliers=fields.pop("tier_multipliers", {}),
        **fields,
    )
    session.add(rule)
    await session.flush()
    return rule


async def bonus_rule(session, kind: str, points: int, **fields) -> EarnRule:
    rule = EarnRule(
        name=kind, kind=kind, points=points, category_multipliers={}, tier_multipliers={}, **fields
    )
    session.add(rule)
    await session.flush()
    return rule


async def tier(session, rank: int, threshold: int, name: str, multiplier: int = 100) -> Tier:
    t = Tier(
        name={"fa": name, "en": name, "hy": name},
        rank=rank,
        threshold=threshold,
        earn_multiplier_percent=multiplier,
    )
    session.add(t)
    await session.flush()
    return t


async def reward(session, cost: int, **fields) -> Reward:
    r = Reward(
        title=fields.pop("title", {"fa": "قهوه", "en": "Coffee", "hy": "Սուրճ"}),
        description=fields.pop("description", {}),
        cost=cost,
        **fields,
    )
    session.add(r)
    await session.flush()
    return r


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
