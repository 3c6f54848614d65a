"""The rewards catalogue, redemption into vouchers, and the voucher's life.

A voucher is bought with points; staff mark it used. Cancelled or expired unused
vouchers give the points back to the lots they came from, with their original expiry.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import ledger
from loyalty.models import JournalEntry, Reward, Voucher
from loyalty.programme import local_day, start_of_day
from loyalty.tiers import current_tier
from vafa.database import utcnow
from vafa.i18n import N_

# No 0/O, 1/I/L: codes are read aloud and typed at a till.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class RedeemError(Exception):
    """`args[0]` is an untranslated message for the member."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    from vafa.i18n.normalize import to_ascii_digits

    return "".join(ch for ch in to_ascii_digits(raw).upper() if ch.isascii() and ch.isalnum())[:16]


def title(reward: Reward, language: str) -> str:
    return (
        reward.title.get(language)
        or reward.title.get("en")
        or next(iter(reward.title.values()), "")
    )


def description(reward: Reward, language: str) -> str:
    return reward.description.get(language) or reward.description.get("en") or ""


def is_open(reward: Reward, now: datetime) -> bool:
    return (
        reward.active
        and (reward.valid_from is None or reward.valid_from <= now)
        and (reward.valid_until is None or now < reward.valid_until)
        and (reward.stock is None or reward.stock > 0)
    )


async def catalogue(session: AsyncSession, *, tier_rank: int) -> list[Reward]:
    """Rewards a member of this tier can see now, cheapest first."""
    now = utcnow()
    rows = (
        await session.scalars(
            select(Reward)
            .where(
                Reward.active,
                or_(Reward.min_tier_rank.is_(None), Reward.min_tier_rank <= tier_rank),
            )
            .order_by(Reward.cost, Reward.id)
        )
    ).all()
    return [r for r in rows if is_open(r, now)]


async def redeem(
    session: AsyncSession, *, customer_id: int, reward_id: int, key: str, tz: str
) -> Voucher:
    """Spend points on a reward. The same key returns the first voucher."""
    key = f"redeem:{customer_id}:{key}"
    existing = await session.scalar(
        select(Voucher)
        .join(JournalEntry, JournalEntry.id == Voucher.entry_id)
        .where(JournalEntry.idempotency_key == key)
    )
    if existing is not None:
        return existing
    reward = await session.get(Reward, reward_id)
    now = utcnow()
    if reward is None or not reward.active or not is_open(reward, now):
        raise RedeemError(N_("This reward is not available."))
    if reward.min_tier_rank is not None:
        tier = await current_tier(session, customer_id)
        if (tier.rank if tier else 0) < reward.min_tier_rank:
            raise RedeemError(N_("This reward is for a higher membership level."))
    try:
        # First the points: the wallet row's lock orders this member's redemptions,
        # so the limit check below sees every earlier one.
        entry = await ledger.spend(
            session,
            customer_id=customer_id,
            points=reward.cost,
            key=key,
            cause=ledger.Cause("reward", reward.id),
            created_by=f"customer:{customer_id}",
        )
    except ledger.InsufficientPoints:
        raise RedeemError(N_("You do not have enough points for this reward.")) from None
    if reward.per_member_limit is not None:
        taken = await session.scalar(
            select(func.count())
            .select_from(Voucher)
            .where(
                Voucher.customer_id == customer_id,
                Voucher.reward_id == reward.id,
                Voucher.status.in_(("issued", "used")),
            )
        )
        if (taken or 0) >= reward.per_member_limit:
            raise RedeemError(N_("You have already taken this reward as many times as allowed."))
    if reward.stock is not None:
        result = await session.execute(
            update(Reward)
            .where(Reward.id == reward.id, Reward.stock > 0)
            .values(stock=Reward.stock - 1)
        )
        if result.rowcount != 1:
            raise RedeemError(N_("This reward has run out."))
    last_day = local_day(now, tz) + timedelta(days=reward.voucher_days)
    voucher = Voucher(
        code=new_code(),
        reward_id=reward.id,
        customer_id=customer_id,
        entry_id=entry.id,
        points=reward.cost,
        status="issued",
        created_at=now,
        expires_at=start_of_day(last_day + timedelta(days=1), tz),
    )
    session.add(voucher)
    await session.flush()
    return voucher


async def _close_with_refund(session: AsyncSession, voucher: Voucher, status: str, by: str) -> None:
    entry = await session.get(JournalEntry, voucher.entry_id)
    assert entry is not None
    await ledger.refund_spend(
        session,
        spend_entry=entry,
        key=f"voucher-{status}:{voucher.id}",
        cause=ledger.Cause("voucher", voucher.id),
        created_by=by,
    )
    await session.execute(
        update(Reward)
        .where(Reward.id == voucher.reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1)
    )
    voucher.status = status
    voucher.closed_at = utcnow()
    await session.flush()


async def cancel(session: AsyncSession, *, voucher_id: int, by: str) -> Voucher:
    voucher = await session.get(Voucher, voucher_id, with_for_update=True)
    if voucher is None:
        raise RedeemError(N_("This voucher does not exist."))
    await session.refresh(voucher)
    if voucher.status != "issued":
        raise RedeemError(N_("Only an unused voucher can be cancelled."))
    await _close_with_refund(session, voucher, "cancelled", by)
    return voucher


async def use(session: AsyncSession, *, code: str, staff_id: int) -> Voucher:
    """Staff accept a voucher at the till (typed or scanned)."""
    voucher = await session.scalar(
        select(Voucher).where(Voucher.code == normalize_code(code)).with_for_update()
    )
    if voucher is None:
        raise RedeemError(N_("No voucher has this code."))
    await session.refresh(voucher)
    if voucher.status == "used":
        raise RedeemError(N_("This voucher was already used."))
    if voucher.status != "issued" or voucher.expires_at <= utcnow():
        raise RedeemError(N_("This voucher is no longer valid."))
    voucher.status = "used"
    voucher.closed_at = utcnow()
    voucher.used_by = staff_id
    await session.flush()
    return voucher


async def expire_due(session: AsyncSession, *, now: datetime | None = None) -> int:
    now = now or utcnow()
    vouchers = (
        await session.scalars(
            select(Voucher)
            .where(Voucher.status == "issued", Voucher.expires_at <= now)
            .order_by(Voucher.id)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for voucher in vouchers:
        await _close_with_refund(session, voucher, "expired", "system")
    return len(vouchers)
