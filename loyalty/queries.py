"""Reads for the portal and the admin. Nothing here scans a member's history: the
home page costs the same at ten entries or a million (indexed lookups only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import ledger, rewards, tiers
from loyalty.models import (
    DEBT,
    OPEN,
    PENDING,
    WALLET,
    Account,
    EarnRule,
    JournalEntry,
    Lot,
    Purchase,
    Refund,
    Reward,
    Tier,
    Voucher,
    VoucherStatus,
)
from vafa.errors import NotFound
from vafa.i18n import N_, translate
from vafa.i18n.formatting import format_number

T = TypeVar("T")


@dataclass(frozen=True)
class Upcoming:
    points: int
    at: datetime


@dataclass(frozen=True)
class Summary:
    available: int
    pending: int
    debt: int
    next_arrival: Upcoming | None
    next_expiry: Upcoming | None


async def _next_expiry(session: AsyncSession, customer_id: int) -> Upcoming | None:
    # Served by the open-lots index: (customer_id, available, expires_at) WHERE open.
    at = await session.scalar(
        select(func.min(Lot.expires_at)).where(
            Lot.customer_id == customer_id, Lot.available.is_(True), OPEN
        )
    )
    if at is None:
        return None
    points = await session.scalar(
        select(func.coalesce(func.sum(Lot.remaining), 0)).where(
            Lot.customer_id == customer_id, Lot.available.is_(True), OPEN, Lot.expires_at == at
        )
    )
    return Upcoming(points=int(points or 0), at=at)


async def _next_arrival(session: AsyncSession, customer_id: int) -> Upcoming | None:
    # A member has only the few lots of their pending window; reading them through the
    # open-lots index beats a min() the planner might serve from the club-wide index.
    rows = (
        await session.execute(
            select(Lot.available_at, Lot.remaining).where(
                Lot.customer_id == customer_id, Lot.available.is_(False), OPEN
            )
        )
    ).all()
    if not rows:
        return None
    at = min(row[0] for row in rows)
    return Upcoming(points=sum(row[1] for row in rows if row[0] == at), at=at)


async def member_summary(session: AsyncSession, customer_id: int) -> Summary:
    balances = await ledger.balances(session, customer_id)
    return Summary(
        available=balances["wallet"],
        pending=balances["pending"],
        debt=-balances["debt"],
        next_arrival=await _next_arrival(session, customer_id),
        next_expiry=await _next_expiry(session, customer_id),
    )


async def lots(session: AsyncSession, customer_id: int) -> list[Lot]:
    """Every lot that still holds points, soonest expiry first."""
    return list(
        (
            await session.scalars(
                select(Lot)
                .where(Lot.customer_id == customer_id, OPEN)
                .order_by(Lot.available.desc(), Lot.expires_at.is_(None), Lot.expires_at, Lot.id)
            )
        ).all()
    )


@dataclass(frozen=True)
class HistoryLine:
    entry: JournalEntry
    change: int  # + or - on the member's usable points; 0 for moves between their accounts
    owed: bool  # a debt recorded after a return
    place: dict[str, str] | None = None  # where it happened, if at a named account (a partner)


async def history(
    session: AsyncSession,
    customer_id: int,
    *,
    kinds: tuple[str, ...] = (),
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[HistoryLine], int | None]:
    """A page of the member's history, newest first, keyset-paginated by entry id
    (constant cost on any page), and the id to continue before (or None)."""
    query = select(JournalEntry).where(JournalEntry.customer_id == customer_id)
    if kinds:
        query = query.where(JournalEntry.kind.in_(kinds))
    if before_id is not None:
        query = query.where(JournalEntry.id < before_id)
    entries = (await session.scalars(query.order_by(JournalEntry.id.desc()).limit(limit + 1))).all()
    accounts = dict(
        (
            await session.execute(
                select(Account.id, Account.kind).where(Account.customer_id == customer_id)
            )
        ).all()
    )
    usable = {i for i, kind in accounts.items() if kind in (WALLET, PENDING)}
    others = {
        e.credit_account_id if e.debit_account_id in accounts else e.debit_account_id
        for e in entries[:limit]
    } - set(accounts)
    names = (
        dict(
            (
                await session.execute(
                    select(Account.id, Account.name).where(
                        Account.id.in_(others), Account.name.is_not(None)
                    )
                )
            ).all()
        )
        if others
        else {}
    )
    lines = [
        HistoryLine(
            entry,
            (entry.amount if entry.credit_account_id in usable else 0)
            - (entry.amount if entry.debit_account_id in usable else 0),
            accounts.get(entry.debit_account_id) == DEBT,
            names.get(entry.debit_account_id) or names.get(entry.credit_account_id),
        )
        for entry in entries[:limit]
    ]
    return lines, entries[limit - 1].id if len(entries) > limit else None


# --- the member's pages ------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    summary: Summary
    standing: tiers.Standing
    affordable: list[Reward]  # a few rewards the member can take now


async def home(session: AsyncSession, customer_id: int) -> Home:
    summary = await member_summary(session, customer_id)
    standing = await tiers.standing(session, customer_id)
    rank = standing.tier.rank if standing.tier else 0
    catalogue = await rewards.catalogue(session, tier_rank=rank)
    return Home(summary, standing, [r for r in catalogue if r.cost <= summary.available][:3])


async def tier_rank(session: AsyncSession, customer_id: int) -> int:
    tier = await tiers.current_tier(session, customer_id)
    return tier.rank if tier else 0


async def member_catalogue(session: AsyncSession, customer_id: int) -> list[Reward]:
    return await rewards.catalogue(session, tier_rank=await tier_rank(session, customer_id))


async def member_reward(session: AsyncSession, customer_id: int, reward_id: int) -> Reward:
    """A reward this member may see; any other is simply not found."""
    reward = await session.get(Reward, reward_id)
    if reward is None or not rewards.visible_to(reward, await tier_rank(session, customer_id)):
        raise NotFound()
    return reward


async def member_voucher(session: AsyncSession, customer_id: int, code: str) -> Voucher:
    """Only the member's own vouchers: someone else's code is simply not found."""
    voucher = await session.scalar(
        select(Voucher).where(
            Voucher.code == rewards.normalize_code(code), Voucher.customer_id == customer_id
        )
    )
    if voucher is None:
        raise NotFound()
    return voucher


async def member_vouchers(
    session: AsyncSession, customer_id: int, limit: int = 50
) -> list[tuple[Voucher, Reward]]:
    rows = await session.execute(
        select(Voucher, Reward)
        .join(Reward, Reward.id == Voucher.reward_id)
        .where(Voucher.customer_id == customer_id)
        .order_by(Voucher.id.desc())
        .limit(limit)
    )
    return [(voucher, reward) for voucher, reward in rows.all()]


async def reward(session: AsyncSession, reward_id: int) -> Reward:
    found = await session.get(Reward, reward_id)
    if found is None:
        raise NotFound()
    return found


# --- staff pages -------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int
    has_next: bool


def _page(rows: Sequence[T], number: int, size: int) -> Page[T]:
    return Page(list(rows[:size]), number, len(rows) > size)


async def all_rules(session: AsyncSession) -> list[EarnRule]:
    """The current version of every rule, newest first."""
    return list(
        (
            await session.scalars(
                select(EarnRule)
                .where(EarnRule.superseded_at.is_(None))
                .order_by(func.coalesce(EarnRule.lineage_id, EarnRule.id).desc())
            )
        ).all()
    )


async def all_rewards(session: AsyncSession) -> list[Reward]:
    return list((await session.scalars(select(Reward).order_by(Reward.id.desc()))).all())


def _vouchers() -> Select[Voucher, Reward, str]:
    return (
        select(Voucher, Reward, Customer.phone)
        .join(Reward, Reward.id == Voucher.reward_id)
        .join(Customer, Customer.id == Voucher.customer_id)
    )


async def vouchers_page(
    session: AsyncSession, number: int, size: int
) -> Page[Row[Voucher, Reward, str]]:
    rows = await session.execute(
        _vouchers().order_by(Voucher.id.desc()).offset((number - 1) * size).limit(size + 1)
    )
    return _page(rows.all(), number, size)


async def used_voucher(
    session: AsyncSession, voucher_id: int
) -> Row[Voucher, Reward, str] | None:
    rows = await session.execute(
        _vouchers().where(Voucher.id == voucher_id, Voucher.status == VoucherStatus.USED)
    )
    return rows.first()


def _purchases() -> Select[Purchase, str]:
    return select(Purchase, Customer.phone).join(Customer, Customer.id == Purchase.customer_id)


async def purchases_page(
    session: AsyncSession, number: int, size: int
) -> Page[Row[Purchase, str]]:
    rows = await session.execute(
        _purchases().order_by(Purchase.id.desc()).offset((number - 1) * size).limit(size + 1)
    )
    return _page(rows.all(), number, size)


async def purchase(session: AsyncSession, purchase_id: int) -> Row[Purchase, str] | None:
    return (await session.execute(_purchases().where(Purchase.id == purchase_id))).first()


async def refund(session: AsyncSession, refund_id: int) -> Refund | None:
    return await session.get(Refund, refund_id)


async def member_id_by_phone(session: AsyncSession, phone: str) -> int | None:
    return await session.scalar(select(Customer.id).where(Customer.phone == phone))


async def recent_members(session: AsyncSession, limit: int = 20) -> list[Customer]:
    return list(
        (await session.scalars(select(Customer).order_by(Customer.id.desc()).limit(limit))).all()
    )


@dataclass(frozen=True)
class Wallet:
    """Everything the staff member page shows about one member's points."""

    customer: Customer
    summary: Summary
    standing: tiers.Standing
    lots: list[Lot]
    history: list[HistoryLine]
    more: int | None
    vouchers: list[tuple[Voucher, Reward]]


async def wallet(
    session: AsyncSession, customer_id: int, *, before_id: int | None, size: int
) -> Wallet:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound()
    lines, more = await history(session, customer_id, before_id=before_id, limit=size)
    return Wallet(
        customer=customer,
        summary=await member_summary(session, customer_id),
        standing=await tiers.standing(session, customer_id),
        lots=await lots(session, customer_id),
        history=lines,
        more=more,
        vouchers=await member_vouchers(session, customer_id, size),
    )


@dataclass(frozen=True)
class AtCounter:
    """Who a purchase is for, as the counter sees it before recording it."""

    customer: Customer
    tier: Tier | None
    available: int


async def at_counter(session: AsyncSession, phone: str) -> AtCounter | None:
    customer = await session.scalar(select(Customer).where(Customer.phone == phone))
    if customer is None:
        return None
    balances = await ledger.balances(session, customer.id)
    return AtCounter(customer, await tiers.current_tier(session, customer.id), balances[WALLET])


async def voucher_by_code(
    session: AsyncSession, code: str
) -> Row[Voucher, Reward, str] | None:
    """A voucher as the counter sees it before accepting it."""
    rows = await session.execute(_vouchers().where(Voucher.code == rewards.normalize_code(code)))
    return rows.first()


NO_TIER = N_("No tier")


async def member_facts(session: AsyncSession, customer_id: int, language: str) -> dict[str, str]:
    """The member's points and tier as other domains show them (an SMS reply)."""
    balance = (await ledger.balances(session, customer_id))[WALLET]
    tier = await tiers.current_tier(session, customer_id)
    return {
        "balance": format_number(balance, language),
        "tier": tiers.tier_name(tier, language) if tier else translate(language, NO_TIER),
    }
