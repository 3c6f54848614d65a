"""`vafa ledger verify`: re-derive every balance from the journal and the lots.

For every member account: cached balance == credits - debits in the journal; the
wallet equals the remainders of the member's available lots, the pending account
those of their pending lots; every lot's remainder equals its points minus its
allocations; and across all accounts the journal sums to zero (the books balance).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty.models import DEBT, PENDING, WALLET, Account, Allocation, JournalEntry, Lot


@dataclass(frozen=True)
class Problem:
    account_id: int | None
    customer_id: int | None
    phone: str | None
    message: str

    def __str__(self) -> str:
        who = (
            f"wallet of member {self.customer_id} ({self.phone})"
            if self.customer_id
            else (f"account {self.account_id}")
        )
        return f"{who}: {self.message}"


async def verify(session: AsyncSession) -> list[Problem]:
    derived: dict[int, int] = defaultdict(int)
    for account_id, total in await session.execute(
        select(JournalEntry.credit_account_id, func.sum(JournalEntry.amount)).group_by(
            JournalEntry.credit_account_id
        )
    ):
        derived[account_id] += int(total)
    for account_id, total in await session.execute(
        select(JournalEntry.debit_account_id, func.sum(JournalEntry.amount)).group_by(
            JournalEntry.debit_account_id
        )
    ):
        derived[account_id] -= int(total)

    lots: dict[tuple[int, bool], int] = defaultdict(int)
    for customer_id, available, total in await session.execute(
        select(Lot.customer_id, Lot.available, func.sum(Lot.remaining)).group_by(
            Lot.customer_id, Lot.available
        )
    ):
        lots[(customer_id, bool(available))] = int(total)

    phones = dict((await session.execute(select(Customer.id, Customer.phone))).all())
    problems: list[Problem] = []
    accounts = (await session.execute(select(Account))).scalars().all()
    for account in accounts:

        def problem(message: str, account: Account = account) -> None:
            problems.append(
                Problem(account.id, account.customer_id, phones.get(account.customer_id or 0), message)
            )

        expected = derived.get(account.id, 0)
        member = account.customer_id or 0
        if account.kind in (WALLET, PENDING, DEBT) and account.balance != expected:
            problem(f"{account.kind} balance {account.balance} != journal {expected}")
        if account.kind in (WALLET, PENDING):
            in_lots = lots.get((member, account.kind == WALLET), 0)
            if account.balance != in_lots:
                problem(f"{account.kind} balance {account.balance} != lot remainders {in_lots}")
        if account.kind in (WALLET, PENDING) and expected < 0:
            problem(f"{account.kind} journal total {expected} is negative")

    allocated = (
        select(Allocation.lot_id, func.sum(Allocation.amount).label("used"))
        .group_by(Allocation.lot_id)
        .subquery()
    )
    for lot_id, customer_id, points, remaining, used in await session.execute(
        select(Lot.id, Lot.customer_id, Lot.points, Lot.remaining, allocated.c.used)
        .outerjoin(allocated, allocated.c.lot_id == Lot.id)
        .where(Lot.points - Lot.remaining != func.coalesce(allocated.c.used, 0))
    ):
        problems.append(
            Problem(
                None,
                customer_id,
                phones.get(customer_id),
                f"lot {lot_id}: {points} points - {used or 0} allocated != {remaining} left",
            )
        )

    total = sum(derived.values())
    if total != 0:
        problems.append(Problem(None, None, None, f"the books do not balance: {total}"))
    return problems
