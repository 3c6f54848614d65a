"""Tiers, computed from points earned in a window (never from the balance).

Upgrades happen as soon as a member qualifies; a member who falls below their tier
keeps it through a grace period and is moved down only if still below when it ends.
Every change is recorded with its reason and the member is told by SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import programme as club_programme
from loyalty.models import EntryKind, JournalEntry, MemberTier, Purchase, Refund, Tier, TierChange
from vafa.calendar import year_start
from vafa.database import insert_new, utcnow
from vafa.i18n import N_, translate
from vafa.sms import outbox

TIER_UP = N_("Congratulations! You are now a %(tier)s member of %(club)s.")
TIER_DOWN = N_("Your %(club)s membership level is now %(tier)s.")


def tier_name(tier: Tier | None, language: str) -> str:
    if tier is None:
        return ""
    return tier.name.get(language) or tier.name.get("en") or next(iter(tier.name.values()), "")


async def all_tiers(session: AsyncSession) -> list[Tier]:
    """By rank (the process's copy: read, never change)."""
    return list((await club_programme.current(session)).tiers)


async def window_start(session: AsyncSession, now: datetime, tz: str) -> datetime:
    programme = (await club_programme.current(session)).programme
    if programme.tier_window == "calendar":
        return year_start(now, tz)
    return now - timedelta(days=programme.tier_window_days)


async def qualifying_points(session: AsyncSession, customer_id: int, since: datetime) -> int:
    """Points earned since `since`, less what returns took back: the balance, spending
    and expiry do not matter."""
    earned = await session.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount), 0)).where(
            JournalEntry.customer_id == customer_id,
            JournalEntry.kind == EntryKind.EARN,
            JournalEntry.created_at >= since,
        )
    )
    returned = await session.scalar(
        select(func.coalesce(func.sum(Refund.points), 0))
        .join(Purchase, Purchase.id == Refund.purchase_id)
        .where(Purchase.customer_id == customer_id, Refund.created_at >= since)
    )
    return max(int(earned or 0) - int(returned or 0), 0)


def best_tier(tiers: list[Tier], points: int) -> Tier | None:
    eligible = [t for t in tiers if t.threshold <= points]
    return max(eligible, key=lambda t: t.rank) if eligible else None


async def current_tier(session: AsyncSession, customer_id: int) -> Tier | None:
    return await session.scalar(
        select(Tier)
        .join(MemberTier, MemberTier.tier_id == Tier.id)
        .where(MemberTier.customer_id == customer_id)
    )


@dataclass(frozen=True)
class Standing:
    tier: Tier | None
    points: int
    next_tier: Tier | None
    to_next: int  # points still to earn for the next tier


async def standing(session: AsyncSession, customer_id: int) -> Standing:
    """From the last review (constant cost, whatever the member's history)."""
    state = await session.get(MemberTier, customer_id)
    points = state.points if state else 0
    tiers = await all_tiers(session)
    tier = next((t for t in tiers if state and t.id == state.tier_id), None)
    rank = tier.rank if tier else 0
    higher = [t for t in tiers if t.rank > rank]
    next_tier = higher[0] if higher else None
    return Standing(
        tier, points, next_tier, max(next_tier.threshold - points, 0) if next_tier else 0
    )


async def earned(
    session: AsyncSession, customer_id: int, points: int, *, tz: str, now: datetime
) -> TierChange | None:
    """New points count toward the member's tier at once, without summing their
    history: the member's qualifying points grow by `points`, and only when that
    reaches a higher tier (or the member has no tier row yet) does a full review
    decide, from the exact sum. Points leaving the window are the daily review's
    (`jobs.review_tiers`, which reviews every member not reviewed for a day)."""
    if points > 0:
        row = (
            await session.execute(
                update(MemberTier)
                .where(MemberTier.customer_id == customer_id)
                .values(points=MemberTier.points + points)
                .returning(MemberTier.points, MemberTier.tier_id)
            )
        ).first()
    else:
        row = (
            await session.execute(
                select(MemberTier.points, MemberTier.tier_id).where(
                    MemberTier.customer_id == customer_id
                )
            )
        ).first()
    if row is None:
        return await review(session, customer_id, tz=tz, now=now)
    tiers = await all_tiers(session)
    held = next((t.rank for t in tiers if t.id == row.tier_id), 0)
    target = best_tier(tiers, row.points)
    if target is not None and target.rank > held:
        return await review(session, customer_id, tz=tz, now=now)
    return None


async def _locked_state(session: AsyncSession, customer_id: int) -> MemberTier | None:
    # A page may have read the member's tier into the session before: the locked read
    # overwrites that copy with the row as it is now.
    return await session.get(MemberTier, customer_id, with_for_update=True, populate_existing=True)


async def review(
    session: AsyncSession, customer_id: int, *, tz: str, now: datetime | None = None
) -> TierChange | None:
    """Bring a member's tier up to date; returns the change, if any."""
    now = now or utcnow()
    tiers = await all_tiers(session)
    points = await qualifying_points(session, customer_id, await window_start(session, now, tz))
    target = best_tier(tiers, points)
    state = await _locked_state(session, customer_id)
    if state is None:
        # The member's first review; two at once (two first purchases) both get here.
        await insert_new(
            session,
            MemberTier,
            {"customer_id": customer_id, "tier_id": None, "since": now},
            unique=["customer_id"],
        )
        state = await _locked_state(session, customer_id)
        assert state is not None
    state.points = points
    state.reviewed_at = now
    current = next((t for t in tiers if t.id == state.tier_id), None)
    current_rank = current.rank if current else 0
    target_rank = target.rank if target else 0
    if target_rank == current_rank:
        state.below_since = None
        return None
    if target_rank > current_rank:
        reason = "earned"
    else:
        programme = (await club_programme.current(session)).programme
        if state.below_since is None:
            state.below_since = now
            return None
        if now - state.below_since < timedelta(days=programme.tier_grace_days):
            return None
        reason = "grace ended"
    change = TierChange(
        customer_id=customer_id,
        from_tier_id=state.tier_id,
        to_tier_id=target.id if target else None,
        qualifying_points=points,
        reason=reason,
        at=now,
    )
    state.tier_id = target.id if target else None
    state.since = now
    state.below_since = None
    session.add(change)
    customer = await session.get(Customer, customer_id)
    if customer is not None and target is not None:
        message = TIER_UP if reason == "earned" else TIER_DOWN
        await outbox.queue_text(
            session,
            to=customer.phone,
            body=translate(
                customer.language,
                message,
                tier=tier_name(target, customer.language),
                club=translate(customer.language, N_("Vafa")),
            ),
        )
    await session.flush()
    return change
