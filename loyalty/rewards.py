"""The rewards catalogue, redemption into vouchers, and the voucher's life.

A voucher is bought with points; staff mark it used. Cancelled or expired unused
vouchers give the points back to the lots they came from, with their original expiry.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import keys, ledger
from loyalty.models import JournalEntry, Reward, Voucher, VoucherStatus
from loyalty.tiers import current_tier
from vafa import audit
from vafa.actor import SYSTEM, Actor
from vafa.calendar import end_of_range, local_day
from vafa.database import rowcount, utcnow
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.i18n.normalize import to_ascii_digits

# No 0/O, 1/I/L: codes are read aloud and typed at a till.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
TAKEN = (VoucherStatus.ISSUED, VoucherStatus.USED)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
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


def visible_to(reward: Reward, tier_rank: int) -> bool:
    """May a member of this tier see (and so take) the reward? The one place this rule
    lives: the catalogue, the reward page and redemption all ask it."""
    return reward.active and (reward.min_tier_rank is None or reward.min_tier_rank <= tier_rank)


async def catalogue(session: AsyncSession, *, tier_rank: int) -> list[Reward]:
    """Rewards a member of this tier can see now, cheapest first."""
    now = utcnow()
    rows = (
        await session.scalars(select(Reward).where(Reward.active).order_by(Reward.cost, Reward.id))
    ).all()
    return [r for r in rows if visible_to(r, tier_rank) and is_open(r, now)]


async def redeem(
    session: AsyncSession, *, actor: Actor, customer_id: int, reward_id: int, key: str, tz: str
) -> Voucher:
    """Spend points on a reward. The same key from the same asker returns the first
    voucher. A refusal leaves nothing behind: the voucher is issued inside the spend's
    savepoint, so a failed check undoes the spend."""
    reward = await session.get(Reward, reward_id)
    if reward is None:
        raise UserError(N_("This reward is not available."), status=409)
    issued: list[Voucher] = []

    async def issue(entry: JournalEntry) -> None:
        # After the spend: the wallet row's lock orders this member's redemptions, so
        # the limit check below sees every earlier one.
        now = utcnow()
        if not is_open(reward, now):
            raise UserError(N_("This reward is not available."), status=409)
        if reward.min_tier_rank is not None:
            tier = await current_tier(session, customer_id)
            if not visible_to(reward, tier.rank if tier else 0):
                raise UserError(N_("This reward is for a higher membership level."), status=409)
        if reward.per_member_limit is not None:
            taken = await session.scalar(
                select(func.count())
                .select_from(Voucher)
                .where(
                    Voucher.customer_id == customer_id,
                    Voucher.reward_id == reward.id,
                    Voucher.status.in_(TAKEN),
                )
            )
            if (taken or 0) >= reward.per_member_limit:
                raise UserError(
                    N_("You have already taken this reward as many times as allowed."), status=409
                )
        if reward.stock is not None:
            result = await session.execute(
                update(Reward)
                .where(Reward.id == reward.id, Reward.stock > 0)
                .values(stock=Reward.stock - 1)
            )
            if rowcount(result) != 1:
                raise UserError(N_("This reward has run out."), status=409)
        last_day = local_day(now, tz) + timedelta(days=reward.voucher_days)
        voucher = Voucher(
            code=new_code(),
            reward_id=reward.id,
            customer_id=customer_id,
            entry_id=entry.id,
            points=reward.cost,
            status=VoucherStatus.ISSUED,
            created_at=now,
            expires_at=end_of_range(last_day, tz),
        )
        session.add(voucher)
        await session.flush()
        issued.append(voucher)

    try:
        entry = await ledger.spend(
            session,
            customer_id=customer_id,
            points=reward.cost,
            key=keys.redemption(actor, key),
            cause=ledger.Cause("reward", reward.id),
            created_by=actor.label,
            then=issue,
        )
    except ledger.InsufficientPoints:
        raise UserError(
            N_("You do not have enough points for this reward."), status=409
        ) from None
    if issued:
        return issued[0]
    # The same form sent again: the voucher the first one issued.
    voucher = await session.scalar(select(Voucher).where(Voucher.entry_id == entry.id))
    assert voucher is not None
    return voucher


async def _close_with_refund(
    session: AsyncSession, voucher: Voucher, status: VoucherStatus, actor: Actor
) -> None:
    entry = await session.get(JournalEntry, voucher.entry_id)
    assert entry is not None
    await ledger.refund_spend(
        session,
        spend_entry=entry,
        key=keys.voucher_closed(voucher.id, status),
        cause=ledger.Cause("voucher", voucher.id),
        created_by=actor.label,
    )
    await session.execute(
        update(Reward)
        .where(Reward.id == voucher.reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1)
    )
    voucher.status = status
    voucher.closed_at = utcnow()
    await session.flush()


async def _locked(session: AsyncSession, voucher_id: int) -> Voucher | None:
    # The page loaded the voucher before: the locked read overwrites that copy with
    # the row as it is now (without `populate_existing` it would hand back the copy).
    return await session.get(Voucher, voucher_id, with_for_update=True, populate_existing=True)


async def cancel(session: AsyncSession, *, actor: Actor, voucher_id: int) -> Voucher:
    """The member (or staff) gives an unused voucher back; its points return."""
    voucher = await _locked(session, voucher_id)
    if voucher is None or (actor.kind == "customer" and voucher.customer_id != actor.id):
        raise UserError(N_("This voucher does not exist."), status=404)
    if voucher.status != VoucherStatus.ISSUED:
        raise UserError(N_("Only an unused voucher can be cancelled."), status=409)
    await _close_with_refund(session, voucher, VoucherStatus.CANCELLED, actor)
    return voucher


async def use(session: AsyncSession, *, actor: Actor, code: str) -> Voucher:
    """Staff accept a voucher at the till (typed or scanned)."""
    voucher = await session.scalar(
        select(Voucher)
        .where(Voucher.code == normalize_code(code))
        .with_for_update()
        .execution_options(populate_existing=True)  # the row as locked, not as first read
    )
    if voucher is None:
        raise UserError(N_("No voucher has this code."))
    if voucher.status == VoucherStatus.USED:
        raise UserError(N_("This voucher was already used."))
    if voucher.status != VoucherStatus.ISSUED or voucher.expires_at <= utcnow():
        raise UserError(N_("This voucher is no longer valid."))
    voucher.status = VoucherStatus.USED
    voucher.closed_at = utcnow()
    voucher.used_by = actor.staff_id
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="voucher.use",
        object_type="voucher",
        object_id=voucher.id,
        details={"code": voucher.code},
    )
    return voucher


async def expire_due(session: AsyncSession, *, now: datetime | None = None) -> int:
    now = now or utcnow()
    vouchers = (
        await session.scalars(
            select(Voucher)
            .where(Voucher.status == VoucherStatus.ISSUED, Voucher.expires_at <= now)
            .order_by(Voucher.id)
            .limit(500)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).all()
    for voucher in vouchers:
        await _close_with_refund(session, voucher, VoucherStatus.EXPIRED, SYSTEM)
    return len(vouchers)
