"""Earning rules: what a purchase or an event is worth, with caps and budgets.

Rules are data staff edit; `spend_points` and `preview` are pure, so the admin can
show what a rule gives before it is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import keys, ledger
from loyalty.models import EarnRule, JournalEntry, RuleAward, RuleKind, Tier
from loyalty.programme import current, expiry_for
from vafa.calendar import local_day
from vafa.database import utcnow

HUNDRED = 100


def applies(rule: EarnRule, kind: str, now: datetime) -> bool:
    return (
        rule.active
        and rule.kind == kind
        and (rule.starts_at is None or rule.starts_at <= now)
        and (rule.ends_at is None or now < rule.ends_at)
    )


def spend_points(rule: EarnRule, *, amount: int, categories: list[str], tier: Tier | None) -> int:
    """Points for spending `amount`: one per `rials_per_point`, times the rule's
    multiplier, the best matching category multiplier, and the tier's (all percent).
    Integer arithmetic only; fractions of a point are dropped."""
    if not rule.rials_per_point:
        return 0
    category = (
        max((rule.category_multipliers.get(c, HUNDRED) for c in categories), default=HUNDRED)
        if rule.category_multipliers
        else HUNDRED
    )
    tier_percent = HUNDRED
    if tier is not None:
        tier_percent = rule.tier_multipliers.get(str(tier.id), tier.earn_multiplier_percent)
    numerator = amount * rule.multiplier_percent * category * tier_percent
    return numerator // (rule.rials_per_point * HUNDRED**3)


@dataclass(frozen=True)
class PreviewLine:
    rule: EarnRule
    points: int


def preview(
    rules: list[EarnRule],
    *,
    amount: int,
    categories: list[str],
    tier: Tier | None,
    now: datetime,
) -> list[PreviewLine]:
    """What a purchase would earn under these rules, before caps and budgets."""
    return [
        PreviewLine(rule, spend_points(rule, amount=amount, categories=categories, tier=tier))
        for rule in rules
        if applies(rule, RuleKind.SPEND, now)
    ]


def lineage(rule: EarnRule) -> Select[int]:
    """Every version of a rule: what it gave today counts toward its daily cap."""
    return select(EarnRule.id).where(func.coalesce(EarnRule.lineage_id, EarnRule.id) == rule.lineage)


def combined_preview(
    rules: list[EarnRule],
    draft: EarnRule,
    *,
    replacing: int | None,
    amount: int,
    categories: list[str],
    tier: Tier | None,
) -> list[PreviewLine]:
    """What a sample purchase would earn under every active spend rule with the draft
    among them (in place of the version it replaces): rules add up, one line each."""
    now = utcnow()
    if draft.starts_at is not None and draft.starts_at > now:
        now = draft.starts_at  # as on the draft's first day
    others = [r for r in rules if r.id != replacing and r.kind == RuleKind.SPEND]
    candidates = [*others, draft] if draft.kind == RuleKind.SPEND else others
    return preview(candidates, amount=amount, categories=categories, tier=tier, now=now)


def draft_points(
    rule: EarnRule, *, amount: int, categories: list[str], tier: Tier | None
) -> int | None:
    """What a rule not yet saved would give: for a sample purchase (spend rules) or
    as its bonus, on its first day if it starts later. None when it would not apply."""
    now = utcnow()
    if rule.starts_at is not None and rule.starts_at > now:
        now = rule.starts_at
    if rule.kind == RuleKind.SPEND:
        lines = preview([rule], amount=amount, categories=categories, tier=tier, now=now)
        return lines[0].points if lines else None
    return rule.points if applies(rule, rule.kind, now) else None


async def active_rules(session: AsyncSession, kind: str, now: datetime) -> list[EarnRule]:
    """The rules of `kind` that apply at `now` (the process's copy: read, never change)."""
    return [r for r in (await current(session)).rules if applies(r, kind, now)]


async def award(
    session: AsyncSession,
    *,
    rule: EarnRule,
    customer_id: int,
    points: int,
    key: str,
    cause: ledger.Cause,
    tz: str,
    created_by: str = "system",
    now: datetime | None = None,
    issuer: int | None = None,
) -> JournalEntry | None:
    """Give a rule's points, after the member's daily cap and the rule's budget.
    Returns the new entry, or None when nothing new was given (capped, out of budget,
    or already given under this key). `issuer`: see `ledger.earn`."""
    now = now or utcnow()
    key = keys.rule_award(key, rule.id)  # given before under it: the ledger gives nothing
    day = local_day(now, tz)
    if rule.daily_cap is not None:
        used = await session.scalar(
            select(func.coalesce(func.sum(RuleAward.points), 0)).where(
                RuleAward.rule_id.in_(lineage(rule)),
                RuleAward.customer_id == customer_id,
                RuleAward.day == day,
            )
        )
        points = min(points, rule.daily_cap - int(used or 0))
    if points > 0 and rule.budget is not None:
        # Lock the rule row so two purchases cannot both spend the last of the budget.
        # The session already holds the rule as read before the lock: the locked read
        # overwrites it, so the budget used is the one every earlier award left.
        locked = await session.scalar(
            select(EarnRule)
            .where(EarnRule.id == rule.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert locked is not None
        points = min(points, (locked.budget or 0) - locked.budget_used)
    if points <= 0:
        return None
    programme = (await current(session)).programme
    given: list[JournalEntry] = []

    async def record(entry: JournalEntry) -> None:
        # Only for new points, inside the earning's savepoint: a twin with the same
        # key (which gets the first one's entry) spends no budget and adds no award.
        if rule.budget is not None:
            await session.execute(
                update(EarnRule)
                .where(EarnRule.id == rule.id)
                .values(budget_used=EarnRule.budget_used + points)
            )
        session.add(
            RuleAward(
                rule_id=rule.id, customer_id=customer_id, entry_id=entry.id, points=points, day=day
            )
        )
        await session.flush()
        given.append(entry)

    await ledger.earn(
        session,
        customer_id=customer_id,
        points=points,
        key=key,
        cause=cause,
        memo=rule.name[:200],
        created_by=created_by,
        available_at=now + timedelta(days=rule.pending_days) if rule.pending_days else None,
        expires_at=expiry_for(now, programme, tz),
        then=record,
        issuer=issuer,
    )
    return given[0] if given else None


async def award_bonus(
    session: AsyncSession,
    *,
    kind: str,
    customer_id: int,
    key: str,
    tz: str,
    created_by: str = "system",
) -> int:
    """Fixed bonuses (signup, birthday, profile, referral, survey): every active rule of
    that kind gives its points once per `key`. Returns the points given."""
    now = utcnow()
    total = 0
    for rule in await active_rules(session, kind, now):
        if not rule.points:
            continue
        entry = await award(
            session,
            rule=rule,
            customer_id=customer_id,
            points=rule.points,
            key=key,
            cause=ledger.Cause(kind, customer_id),
            tz=tz,
            created_by=created_by,
            now=now,
        )
        total += entry.amount if entry is not None else 0
    return total
