"""Staff changes to the points engine: settings, earning rules, tiers, rewards, and
manual adjustments. Each writes one change and its audit row, and refuses with a
`UserError` before writing anything."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import images, keys, ledger
from loyalty.models import EarnRule, EntryKind, JournalEntry, Programme, Reward, Tier
from loyalty.programme import current, expiry_for, get_programme
from vafa import audit
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.errors import NotFound, UserError
from vafa.i18n import N_

PROGRAMME_FIELDS = (
    "expiry_days",
    "expire_at",
    "return_policy",
    "reminder_days",
    "tier_window",
    "tier_window_days",
    "tier_grace_days",
    "purchase_sms",
)


async def save_programme(
    session: AsyncSession, *, actor: Actor, values: dict[str, Any]
) -> Programme:
    programme = await get_programme(session)
    before = {name: getattr(programme, name) for name in PROGRAMME_FIELDS}
    for name in PROGRAMME_FIELDS:
        setattr(programme, name, values[name])
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="programme.update",
        object_type="programme",
        object_id=programme.id,
        details={"before": before, "after": {n: values[n] for n in PROGRAMME_FIELDS}},
    )
    return programme


async def create_rule(session: AsyncSession, *, actor: Actor, values: dict[str, Any]) -> EarnRule:
    rule = EarnRule(**values, budget_used=0, created_at=utcnow())
    session.add(rule)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="rule.create",
        object_type="rule",
        object_id=rule.id,
        details={"name": rule.name, "kind": rule.kind},
    )
    return rule


async def edit_rule(
    session: AsyncSession, *, actor: Actor, rule_id: int, values: dict[str, Any]
) -> EarnRule:
    """Change a rule: its current version closes now and a new version starts, so
    every past award still names the version that gave it. The kind stays; the
    budget already used carries over."""
    old = await session.scalar(
        select(EarnRule)
        .where(EarnRule.id == rule_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if old is None:
        raise NotFound()
    if old.superseded_at is not None:
        raise UserError(
            N_("This rule was changed meanwhile. Please reload the page and try again."),
            status=409,
        )
    now = utcnow()
    starts_at = values["starts_at"] if values["starts_at"] and values["starts_at"] > now else now
    rule = EarnRule(
        **{**values, "kind": old.kind, "starts_at": starts_at},
        budget_used=old.budget_used,
        previous_id=old.id,
        lineage_id=old.lineage,
        created_at=now,
    )
    old.superseded_at = now
    if old.ends_at is None or old.ends_at > now:
        old.ends_at = now
    session.add(rule)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="rule.edit",
        object_type="rule",
        object_id=rule.id,
        details={"name": rule.name, "previous": old.id},
    )
    return rule


async def set_rule_active(
    session: AsyncSession, *, actor: Actor, rule_id: int, active: bool
) -> EarnRule:
    rule = await session.get(EarnRule, rule_id, with_for_update=True, populate_existing=True)
    if rule is None:
        raise NotFound()
    if rule.superseded_at is not None:
        raise UserError(
            N_("This rule was changed meanwhile. Please reload the page and try again."),
            status=409,
        )
    if rule.active != active:
        rule.active = active
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="rule.activate" if active else "rule.deactivate",
            object_type="rule",
            object_id=rule.id,
            details={"name": rule.name},
        )
    return rule


async def save_tier(
    session: AsyncSession, *, actor: Actor, tier_id: int | None, values: dict[str, Any]
) -> Tier:
    """Create a tier (`tier_id` None) or change one; ranks are unique."""
    tier = None
    if tier_id is not None:
        tier = await session.get(Tier, tier_id, with_for_update=True, populate_existing=True)
        if tier is None:
            raise NotFound()
    others = (await session.scalars(select(Tier).where(Tier.id != (tier_id or 0)))).all()
    if any(other.rank == values["rank"] for other in others):
        raise UserError(N_("Another tier already has this rank."))
    # Higher tiers ask for more points: a member climbs them in order.
    below = [o.threshold for o in others if o.rank < values["rank"]]
    above = [o.threshold for o in others if o.rank > values["rank"]]
    if (below and values["threshold"] <= max(below)) or (
        above and values["threshold"] >= min(above)
    ):
        raise UserError(
            N_(
                "A tier needs more points than every lower tier and fewer than every "
                "higher one."
            )
        )
    try:
        async with session.begin_nested():
            if tier is None:
                tier = Tier(**values)
                session.add(tier)
            else:
                for name, value in values.items():
                    setattr(tier, name, value)
    except IntegrityError:  # the same rank saved at the same moment
        if tier is not None and tier_id is not None:
            await session.refresh(tier)  # the savepoint undid the change; show the row
        raise UserError(N_("Another tier already has this rank.")) from None
    await audit.record(
        session,
        actor=actor,
        action="tier.create" if tier_id is None else "tier.update",
        object_type="tier",
        object_id=tier.id,
        details={"rank": tier.rank, "points": tier.threshold},
    )
    return tier


async def save_reward(
    session: AsyncSession,
    *,
    actor: Actor,
    reward_id: int | None,
    values: dict[str, Any],
    image: bytes | None = None,
) -> Reward:
    """Create or change a reward, with a new picture when one is given (checked by
    its content before anything is written)."""
    if image is not None:
        images.check(image)
    reward = None
    if reward_id is not None:
        reward = await session.get(Reward, reward_id, with_for_update=True, populate_existing=True)
        if reward is None:
            raise NotFound()
    if image is not None:
        values = {**values, "image": images.save(image)}
    if reward is None:
        reward = Reward(**values, created_at=utcnow())
        session.add(reward)
    else:
        for name, value in values.items():
            setattr(reward, name, value)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="reward.create" if reward_id is None else "reward.update",
        object_type="reward",
        object_id=reward.id,
        details={"cost": reward.cost, "active": reward.active},
    )
    return reward


async def adjust_points(
    session: AsyncSession,
    *,
    actor: Actor,
    customer_id: int,
    points: int,
    reason: str,
    key: str,
    tz: str,
) -> JournalEntry:
    """Give (positive) or take (negative) points by hand, with the reason, audited.
    The same form sent twice changes the wallet once."""
    if points == 0:
        raise UserError(
            N_("Points: enter a positive number to give or a negative number to take.")
        )
    if not reason:
        raise UserError(N_("Please write the reason for this change."))
    if await session.get(Customer, customer_id) is None:
        raise NotFound()
    key = keys.adjustment(actor, customer_id, key)
    existing = await session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))
    if existing is not None:
        return existing

    async def audited(entry: JournalEntry) -> None:
        # Inside the movement's savepoint, and only for the first of twin forms.
        await audit.record(
            session,
            actor=actor,
            action="points.adjust",
            object_type="customer",
            object_id=customer_id,
            details={"points": points, "reason": reason},
        )

    common: dict[str, Any] = {
        "customer_id": customer_id,
        "key": key,
        "cause": ledger.Cause("staff", actor.id),
        "kind": EntryKind.ADJUST,
        "memo": reason[:200],
        "created_by": actor.label,
        "then": audited,
    }
    if points > 0:
        programme = (await current(session)).programme
        return await ledger.earn(
            session, points=points, expires_at=expiry_for(utcnow(), programme, tz), **common
        )
    try:
        return await ledger.spend(session, points=-points, **common)
    except ledger.InsufficientPoints:
        raise UserError(
            N_("The member does not have %(points)s points available to take."),
            points=-points,
        ) from None
