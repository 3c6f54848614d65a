"""The ledger: the only code that moves points.

Every movement is one journal entry from a debit account to a credit account. Member
wallet and pending balances are cached on their account rows and changed only here,
in the same transaction as the entry, by a conditional UPDATE (`balance >= n`, row
count checked) under `CHECK (balance >= 0)`. Spends draw from lots, soonest expiry
first, and record which lots they drew from. Every operation carries an idempotency
key: a repeat returns the first entry and changes nothing.

The programme account is not cached (it would be one hot row every transaction
waits for); `verify` derives it from the journal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import keys
from loyalty.models import (
    DEBT,
    MEMBER_KINDS,
    OPEN,
    PENDING,
    WALLET,
    Account,
    Allocation,
    EntryKind,
    JournalEntry,
    Lot,
)
from loyalty.programme import current as current_programme
from vafa.database import insert_new, insert_or_skip, rowcount, utcnow


class LedgerError(Exception):
    pass


class InsufficientPoints(LedgerError):  # noqa: N818 - reads as the refusal it is
    """The wallet does not hold enough available points."""


class IdempotencyConflict(LedgerError):  # noqa: N818
    """The key was used before for a different movement."""


@dataclass(frozen=True)
class MemberAccounts:
    wallet: int
    pending: int
    debt: int
    debt_balance: int = 0  # as read with the ids (not locked): whether earnings repay

    @property
    def ids(self) -> tuple[int, int, int]:
        """The accounts whose balances are cached on their rows."""
        return (self.wallet, self.pending, self.debt)


@dataclass(frozen=True)
class Cause:
    type: str
    id: str | int | None = None


async def programme_account(session: AsyncSession) -> int:
    return (await current_programme(session)).account


async def member_accounts(session: AsyncSession, customer_id: int) -> MemberAccounts:
    """The member's three accounts, created on first use (safe under concurrency)."""
    query = select(Account.kind, Account.id, Account.balance).where(
        Account.customer_id == customer_id
    )
    rows = {kind: (id_, balance) for kind, id_, balance in await session.execute(query)}
    if len(rows) < len(MEMBER_KINDS):
        await insert_new(
            session,
            Account,
            [{"kind": k, "customer_id": customer_id, "balance": 0} for k in MEMBER_KINDS],
            unique=["customer_id", "kind"],
        )
        rows = {kind: (id_, balance) for kind, id_, balance in await session.execute(query)}
    return MemberAccounts(
        wallet=rows[WALLET][0], pending=rows[PENDING][0], debt=rows[DEBT][0],
        debt_balance=rows[DEBT][1],
    )


async def balances(session: AsyncSession, customer_id: int) -> dict[str, int]:
    rows = (
        await session.execute(
            select(Account.kind, Account.balance).where(Account.customer_id == customer_id)
        )
    ).all()
    result: dict[str, int] = {WALLET: 0, PENDING: 0, DEBT: 0}
    result.update(dict(rows))
    return result


async def _existing(
    session: AsyncSession, key: str, *, kind: str, customer_id: int | None
) -> JournalEntry | None:
    entry = await session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))
    if entry is not None and (entry.kind != kind or entry.customer_id != customer_id):
        raise IdempotencyConflict(key)
    return entry


async def _move(
    session: AsyncSession,
    *,
    kind: str,
    amount: int,
    debit: int,
    credit: int,
    guarded: Sequence[int],
    accounts: MemberAccounts,
    customer_id: int | None,
    key: str,
    cause: Cause | None,
    memo: str | None,
    created_by: str,
) -> JournalEntry:
    """Write one entry and keep the cached balances of the member's `accounts` in step
    (the programme's and partners' balances are not cached)."""
    if amount <= 0:
        raise ValueError("amount must be positive")
    if debit in guarded:
        result = await session.execute(
            update(Account)
            .where(Account.id == debit, Account.balance >= amount)
            .values(balance=Account.balance - amount)
        )
        if rowcount(result) != 1:
            raise InsufficientPoints(amount)
    elif debit in accounts.ids:
        await session.execute(
            update(Account).where(Account.id == debit).values(balance=Account.balance - amount)
        )
    if credit in accounts.ids:
        await session.execute(
            update(Account).where(Account.id == credit).values(balance=Account.balance + amount)
        )
    entry = JournalEntry(**_entry_row(kind, amount, debit, credit, customer_id, key, cause, memo, created_by))
    session.add(entry)
    await session.flush()
    return entry


def _entry_row(
    kind: str,
    amount: int,
    debit: int,
    credit: int,
    customer_id: int | None,
    key: str,
    cause: Cause | None,
    memo: str | None,
    created_by: str,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "amount": amount,
        "debit_account_id": debit,
        "credit_account_id": credit,
        "customer_id": customer_id,
        "idempotency_key": key,
        "cause_type": cause.type if cause else None,
        "cause_id": None if cause is None or cause.id is None else str(cause.id),
        "memo": memo,
        "created_by": created_by,
        "created_at": utcnow(),
    }


async def _once(
    session: AsyncSession,
    key: str,
    kind: str,
    customer_id: int | None,
    work: Callable[[], Awaitable[JournalEntry]],
) -> JournalEntry:
    """Run `work` under a savepoint; a concurrent twin with the same key gets the
    first one's entry instead.

    A twin that passed the first look-up waits on the first one's row locks (the
    wallet, a rule's budget); when it goes on, the first has committed, and the twin
    either loses the race on the key's unique index or finds the points already gone
    (InsufficientPoints). Either way the savepoint is rolled back (on PostgreSQL the
    transaction is usable again only then) and the key is read again: under READ
    COMMITTED that new statement sees the first one's committed entry."""
    existing = await _existing(session, key, kind=kind, customer_id=customer_id)
    if existing is not None:
        return existing
    try:
        async with session.begin_nested():
            return await work()
    except (IntegrityError, LedgerError) as error:
        if isinstance(error, IdempotencyConflict):
            raise
        existing = await _existing(session, key, kind=kind, customer_id=customer_id)
        if existing is None:
            raise
        return existing


DRAW_BATCH = 32


def _take(session: AsyncSession, lot: Lot, left: int, entry_id: int) -> int:
    take = min(lot.remaining, left)
    lot.remaining -= take
    session.add(Allocation(entry_id=entry_id, lot_id=lot.id, amount=take))
    return left - take


async def _draw(
    session: AsyncSession,
    *,
    customer_id: int,
    amount: int,
    entry_id: int,
    first_lot: int | None = None,
) -> None:
    """Record which available lots `amount` came from: `first_lot` if given, then the
    soonest expiry first (never-expiring points last). Lots are read a few at a time
    through the open-lots index, so a long history costs nothing here."""
    left = amount
    if first_lot is not None:
        lot = await session.get(Lot, first_lot, with_for_update=True, populate_existing=True)
        if lot is not None and lot.available and lot.remaining:
            left = _take(session, lot, left, entry_id)
            await session.flush()
    while left:
        lots = (
            await session.scalars(
                select(Lot)
                .where(Lot.customer_id == customer_id, Lot.available.is_(True), OPEN)
                .order_by(Lot.expires_at.asc().nulls_last(), Lot.id)
                .limit(DRAW_BATCH)
                .with_for_update()
                # Lots the session read before (a return reads its purchase's lots)
                # are overwritten with the row as locked, not drawn from as first seen.
                .execution_options(populate_existing=True)
            )
        ).all()
        if not lots:
            raise LedgerError(f"lots of member {customer_id} hold less than the wallet balance")
        for lot in lots:
            left = _take(session, lot, left, entry_id)
            if not left:
                break
        # Emptied lots leave the open-lots index, so the next batch starts after them.
        await session.flush()


async def earn(
    session: AsyncSession,
    *,
    customer_id: int,
    points: int,
    key: str,
    cause: Cause | None = None,
    kind: EntryKind = EntryKind.EARN,
    memo: str | None = None,
    created_by: str = "system",
    available_at: datetime | None = None,
    expires_at: datetime | None = None,
    then: Callable[[JournalEntry], Awaitable[None]] | None = None,
    issuer: int | None = None,
) -> JournalEntry:
    """Give points: pending until `available_at` if that is in the future. `then`
    runs after a first (not a repeated) earning, as in `spend`: what a caller records
    about new points (a rule's award, an audit row) is written once, however many twins
    ask at the same moment. `issuer`: the account
    the points come from (a partner's, for a purchase there); the programme's if none."""
    accounts = await member_accounts(session, customer_id)
    source = issuer or await programme_account(session)
    now = utcnow()
    pending = available_at is not None and available_at > now
    credit = accounts.pending if pending else accounts.wallet
    # The entry first, claiming its key: a twin (the same key, even in flight in
    # another transaction, which it waits for) writes nothing and gets the first one's
    # entry. Nothing after it can be refused, so no savepoint is needed.
    if points <= 0:
        raise ValueError("amount must be positive")
    row = _entry_row(kind, points, source, credit, customer_id, key, cause, memo, created_by)
    entry = await insert_or_skip(session, JournalEntry, row, unique=["idempotency_key"])
    if entry is None:
        existing = await _existing(session, key, kind=kind, customer_id=customer_id)
        if existing is None:  # cannot be: the key's row conflicted
            raise LedgerError(f"idempotency key {key} neither new nor found")
        return existing
    await session.execute(
        update(Account).where(Account.id == credit).values(balance=Account.balance + points)
    )
    await session.execute(
        insert(Lot).values(
            customer_id=customer_id,
            entry_id=entry.id,
            points=points,
            remaining=points,
            available=not pending,
            available_at=available_at or now,
            expires_at=expires_at,
            created_at=now,
        )
    )
    if not pending and accounts.debt_balance < 0:
        await _repay_debt(session, accounts, customer_id, trigger=entry.id)
    if then is not None:
        await then(entry)
    return entry


async def spend(
    session: AsyncSession,
    *,
    customer_id: int,
    points: int,
    key: str,
    cause: Cause | None = None,
    kind: EntryKind = EntryKind.REDEEM,
    counter_account: int | None = None,
    memo: str | None = None,
    created_by: str = "system",
    then: Callable[[JournalEntry], Awaitable[None]] | None = None,
) -> JournalEntry:
    """Take available points from the wallet, or raise InsufficientPoints. `then` runs
    inside the same savepoint after a first (not a repeated) spend: what it writes
    stands or falls with the spend, and an exception from it undoes both."""
    accounts = await member_accounts(session, customer_id)
    counter = counter_account or await programme_account(session)

    async def work() -> JournalEntry:
        entry = await _move(
            session,
            kind=kind,
            amount=points,
            debit=accounts.wallet,
            credit=counter,
            guarded=(accounts.wallet,),
            accounts=accounts,
            customer_id=customer_id,
            key=key,
            cause=cause,
            memo=memo,
            created_by=created_by,
        )
        await _draw(session, customer_id=customer_id, amount=points, entry_id=entry.id)
        if then is not None:
            await then(entry)
        return entry

    return await _once(session, key, kind, customer_id, work)


async def refund_spend(
    session: AsyncSession,
    *,
    spend_entry: JournalEntry,
    key: str,
    cause: Cause | None = None,
    memo: str | None = None,
    created_by: str = "system",
) -> JournalEntry:
    """Give back a spend to the very lots it drew from, so the points keep their
    original expiry (a cancelled voucher)."""
    assert spend_entry.customer_id is not None
    customer_id = spend_entry.customer_id
    accounts = await member_accounts(session, customer_id)

    async def work() -> JournalEntry:
        entry = await _move(
            session,
            kind=EntryKind.REVERSE,
            amount=spend_entry.amount,
            debit=spend_entry.credit_account_id,
            credit=accounts.wallet,
            guarded=(),
            accounts=accounts,
            customer_id=customer_id,
            key=key,
            cause=cause,
            memo=memo,
            created_by=created_by,
        )
        allocations = (
            await session.scalars(select(Allocation).where(Allocation.entry_id == spend_entry.id))
        ).all()
        for allocation in allocations:
            lot = await session.get(
                Lot, allocation.lot_id, with_for_update=True, populate_existing=True
            )
            assert lot is not None
            lot.remaining += allocation.amount
            session.add(Allocation(entry_id=entry.id, lot_id=lot.id, amount=-allocation.amount))
        await session.flush()
        return entry

    return await _once(session, key, EntryKind.REVERSE, customer_id, work)


async def _repay_debt(
    session: AsyncSession, accounts: MemberAccounts, customer_id: int, *, trigger: int
) -> None:
    """New points pay off a debt from an earlier return before they can be spent."""
    debt = await session.scalar(select(Account.balance).where(Account.id == accounts.debt))
    wallet = await session.scalar(select(Account.balance).where(Account.id == accounts.wallet))
    pay = min(-(debt or 0), wallet or 0)
    if pay <= 0:
        return
    entry = await _move(
        session,
        kind=EntryKind.REVERSE,
        amount=pay,
        debit=accounts.wallet,
        credit=accounts.debt,
        guarded=(accounts.wallet,),
        accounts=accounts,
        customer_id=customer_id,
        key=keys.debt_repayment(trigger),
        cause=Cause("debt"),
        memo="debt repayment",
        created_by="system",
    )
    await _draw(session, customer_id=customer_id, amount=pay, entry_id=entry.id)


@dataclass(frozen=True)
class TakeBack:
    taken: int  # points removed from the member's wallet or pending points
    debt: int  # points recorded as owed, paid from future earnings
    forgiven: int  # points the policy let the member keep


async def take_back(
    session: AsyncSession,
    *,
    lot: Lot,
    points: int,
    policy: str,
    key: str,
    cause: Cause | None = None,
    created_by: str = "system",
    issuer: int | None = None,
) -> TakeBack:
    """Take back points earned into `lot` (a return): first from that lot, then from
    the rest of the wallet; what was already spent becomes a debt or is forgiven. The
    points go back to `issuer`, the account they came from (the programme's if none)."""
    if policy not in ("debt", "forgive"):
        raise ValueError(policy)
    customer_id = lot.customer_id
    accounts = await member_accounts(session, customer_id)
    programme = issuer or await programme_account(session)
    parts = [f"{key}:{part}" for part in ("pending", "wallet", "debt")]
    done = (
        await session.scalars(select(JournalEntry).where(JournalEntry.idempotency_key.in_(parts)))
    ).all()
    if done:  # replay: report what the first run did
        taken = sum(e.amount for e in done if e.debit_account_id != accounts.debt)
        debt = sum(e.amount for e in done if e.debit_account_id == accounts.debt)
        return TakeBack(taken=taken, debt=debt, forgiven=points - taken - debt)
    await lock_member(session, customer_id)  # accounts before lots, as everywhere
    await session.refresh(lot, with_for_update=True)
    taken = 0
    if not lot.available and lot.remaining:
        take = min(lot.remaining, points)
        entry = await _move(
            session,
            kind=EntryKind.REVERSE,
            amount=take,
            debit=accounts.pending,
            credit=programme,
            guarded=(accounts.pending,),
            accounts=accounts,
            customer_id=customer_id,
            key=keys.part(key, PENDING),
            cause=cause,
            memo=None,
            created_by=created_by,
        )
        lot.remaining -= take
        session.add(Allocation(entry_id=entry.id, lot_id=lot.id, amount=take))
        taken += take
    wallet = await session.scalar(select(Account.balance).where(Account.id == accounts.wallet))
    take = min(points - taken, wallet or 0)
    if take > 0:
        entry = await _move(
            session,
            kind=EntryKind.REVERSE,
            amount=take,
            debit=accounts.wallet,
            credit=programme,
            guarded=(accounts.wallet,),
            accounts=accounts,
            customer_id=customer_id,
            key=keys.part(key, WALLET),
            cause=cause,
            memo=None,
            created_by=created_by,
        )
        await _draw(
            session,
            customer_id=customer_id,
            amount=take,
            entry_id=entry.id,
            first_lot=lot.id if lot.available else None,
        )
        taken += take
    short = points - taken
    debt = 0
    if short and policy == "debt":
        await _move(
            session,
            kind=EntryKind.REVERSE,
            amount=short,
            debit=accounts.debt,
            credit=programme,
            guarded=(),
            accounts=accounts,
            customer_id=customer_id,
            key=keys.part(key, DEBT),
            cause=cause,
            memo="owed after a return",
            created_by=created_by,
        )
        debt = short
    await session.flush()
    return TakeBack(taken=taken, debt=debt, forgiven=short - debt)


async def lock_member(session: AsyncSession, customer_id: int) -> MemberAccounts:
    """Lock a member's accounts, in id order (wallet, pending, debt).

    Every transaction that touches a member's points takes these row locks before it
    locks any of their lots (a spend's conditional UPDATE of the wallet does the
    same), so a worker expiring lots and a member redeeming never wait on each other
    in opposite orders."""
    accounts = await member_accounts(session, customer_id)
    await session.execute(
        select(Account.id)
        .where(Account.customer_id == customer_id)
        .order_by(Account.id)
        .with_for_update()
    )
    return accounts


async def _due_lots(session: AsyncSession, condition: Any) -> list[Lot]:
    """Lots matching `condition`, each returned locked after its member's accounts,
    and still matching (another worker may have got there first)."""
    candidates = (
        await session.execute(
            select(Lot.id, Lot.customer_id).where(condition).order_by(Lot.id).limit(1000)
        )
    ).all()
    ready = []
    for lot_id, customer_id in candidates:
        await lock_member(session, customer_id)
        lot = await session.scalar(
            select(Lot)
            .where(Lot.id == lot_id, condition)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if lot is not None:
            ready.append(lot)
    return ready


async def release_due(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Pending lots whose time has come become spendable."""
    now = now or utcnow()
    lots = await _due_lots(session, and_(Lot.available.is_(False), Lot.available_at <= now))
    for lot in lots:
        accounts = await member_accounts(session, lot.customer_id)
        lot.available = True
        if lot.remaining:
            entry = await _move(
                session,
                kind="transfer",
                amount=lot.remaining,
                debit=accounts.pending,
                credit=accounts.wallet,
                guarded=(accounts.pending,),
                accounts=accounts,
                customer_id=lot.customer_id,
                key=keys.release(lot.id),
                cause=Cause("lot", lot.id),
                memo=None,
                created_by="system",
            )
            await session.flush()
            await _repay_debt(session, accounts, lot.customer_id, trigger=entry.id)
    await session.flush()
    return len(lots)


async def expire_due(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Remove what is left of lots past their expiry, with one compensating entry each.
    Running it twice changes nothing: an expired lot has nothing left."""
    now = now or utcnow()
    programme = await programme_account(session)
    lots = await _due_lots(session, and_(Lot.available.is_(True), OPEN, Lot.expires_at <= now))
    for lot in lots:
        accounts = await member_accounts(session, lot.customer_id)
        used = lot.points - lot.remaining
        entry = await _move(
            session,
            kind=EntryKind.EXPIRE,
            amount=lot.remaining,
            debit=accounts.wallet,
            credit=programme,
            guarded=(accounts.wallet,),
            accounts=accounts,
            customer_id=lot.customer_id,
            key=keys.expiry(lot.id, used),
            cause=Cause("lot", lot.id),
            memo=None,
            created_by="system",
        )
        session.add(Allocation(entry_id=entry.id, lot_id=lot.id, amount=lot.remaining))
        lot.remaining = 0
    await session.flush()
    return len(lots)
