"""Reads for the portal and the admin. Nothing here scans a member's history: the
home page costs the same at ten entries or a million (indexed lookups only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import ledger
from loyalty.models import DEBT, OPEN, PENDING, WALLET, Account, JournalEntry, Lot


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
    lines = [
        HistoryLine(
            entry,
            (entry.amount if entry.credit_account_id in usable else 0)
            - (entry.amount if entry.debit_account_id in usable else 0),
            accounts.get(entry.debit_account_id) == DEBT,
        )
        for entry in entries[:limit]
    ]
    return lines, entries[limit - 1].id if len(entries) > limit else None
