"""Random earns, spends, refunds, returns, releases and expiries, with the ledger
invariants checked after every step (hypothesis stateful testing), on both engines."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import func, select, text

from customers.models import Customer
from loyalty import ledger
from loyalty.models import Account, JournalEntry, Lot
from loyalty.verify import verify
from vafa.database import Base, create_engine, make_sessionmaker, utcnow

MEMBERS = 3


def make_machine(database_url: str) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        spends = Bundle("spends")
        lots = Bundle("lots")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.engine = create_engine(database_url)
            self.sessions = make_sessionmaker(self.engine)
            self.now = utcnow()
            self.keys = 0
            self.wallet = [0] * MEMBERS
            self.pending = [0] * MEMBERS
            self.debt = [0] * MEMBERS
            self.last: tuple | None = None

        def run(self, coro):  # type: ignore[no-untyped-def]
            return self.loop.run_until_complete(coro)

        def key(self) -> str:
            self.keys += 1
            return f"k{self.keys}"

        def teardown(self) -> None:
            self.run(self.engine.dispose())
            self.loop.close()

        @initialize()
        def empty_database(self) -> None:
            async def work() -> list[int]:
                async with self.engine.begin() as conn:
                    for table in reversed(Base.metadata.sorted_tables):
                        await conn.execute(text(f"DELETE FROM {table.name}"))
                async with self.sessions() as s, s.begin():
                    ids = []
                    for i in range(MEMBERS):
                        c = Customer(phone=f"+98912000000{i}", language="fa", created_at=utcnow())
                        s.add(c)
                        await s.flush()
                        ids.append(c.id)
                    return ids

            self.members = self.run(work())

        async def _balances(self, member: int) -> dict[str, int]:
            async with self.sessions() as s:
                return await ledger.balances(s, self.members[member])

        def _repay(self, m: int) -> None:
            pay = min(self.debt[m], self.wallet[m])
            self.wallet[m] -= pay
            self.debt[m] -= pay

        @rule(
            target=lots,
            member=st.integers(0, MEMBERS - 1),
            points=st.integers(1, 500),
            pending=st.booleans(),
            expires_in=st.one_of(st.none(), st.integers(1, 6)),
        )
        def earn(self, member, points, pending, expires_in):
            key = self.key()

            async def work():
                async with self.sessions() as s, s.begin():
                    entry = await ledger.earn(
                        s,
                        customer_id=self.members[member],
                        points=points,
                        key=key,
                        available_at=self.now + timedelta(days=1) if pending else None,
                        expires_at=None
                        if expires_in is None
                        else self.now + timedelta(days=expires_in),
                    )
                    return (
                        await s.scalar(select(Lot.id).where(Lot.entry_id == entry.id))
                    ), entry.id

            lot_id, entry_id = self.run(work())
            if pending:
                self.pending[member] += points
            else:
                self.wallet[member] += points
                self._repay(member)
            self.last = ("earn", member, points, key, entry_id)
            return (member, lot_id)

        @rule(target=spends, member=st.integers(0, MEMBERS - 1), points=st.integers(1, 600))
        def spend(self, member, points):
            key = self.key()

            async def work():
                async with self.sessions() as s, s.begin():
                    return await ledger.spend(
                        s, customer_id=self.members[member], points=points, key=key
                    )

            if points > self.wallet[member]:
                with pytest.raises(ledger.InsufficientPoints):
                    self.run(work())
                return None
            entry = self.run(work())
            self.wallet[member] -= points
            self.last = ("spend", member, points, key, entry.id)
            return (member, entry.id)

        @rule(spent=consumes(spends))
        def refund(self, spent):
            if spent is None:
                return
            member, entry_id = spent

            async def work():
                async with self.sessions() as s, s.begin():
                    entry = await s.get(JournalEntry, entry_id)
                    await ledger.refund_spend(s, spend_entry=entry, key=f"refund:{entry_id}")
                    return entry.amount

            self.wallet[member] += self.run(work())

        @rule(
            lot=consumes(lots),
            fraction=st.integers(1, 100),
            policy=st.sampled_from(["debt", "forgive"]),
        )
        def take_back(self, lot, fraction, policy):
            member, lot_id = lot
            key = self.key()

            async def work():
                async with self.sessions() as s, s.begin():
                    row = await s.get(Lot, lot_id)
                    points = max(1, row.points * fraction // 100)
                    pending_left = 0 if row.available else row.remaining
                    result = await ledger.take_back(
                        s, lot=row, points=points, policy=policy, key=key
                    )
                    return points, pending_left, result

            points, pending_left, result = self.run(work())
            from_pending = min(points, pending_left)
            from_wallet = min(points - from_pending, self.wallet[member])
            short = points - from_pending - from_wallet
            assert result.taken == from_pending + from_wallet
            assert result.debt == (short if policy == "debt" else 0)
            assert result.forgiven == (0 if policy == "debt" else short)
            self.pending[member] -= from_pending
            self.wallet[member] -= from_wallet
            if policy == "debt":
                self.debt[member] += short

        @rule(days=st.integers(1, 7))
        def time_passes(self, days):
            self.now += timedelta(days=days)

            async def work():
                async with self.sessions() as s, s.begin():
                    before = await s.scalar(
                        select(func.count())
                        .select_from(JournalEntry)
                        .where(JournalEntry.kind == "expire")
                    )
                    await ledger.release_due(s, now=self.now)
                    await ledger.expire_due(s, now=self.now)
                    # Running the jobs again changes nothing.
                    assert await ledger.release_due(s, now=self.now) == 0
                    assert await ledger.expire_due(s, now=self.now) == 0
                    left = await s.scalar(
                        select(func.count())
                        .select_from(Lot)
                        .where(
                            Lot.remaining > 0, Lot.expires_at <= self.now, Lot.available.is_(True)
                        )
                    )
                    assert left == 0
                    return before

            self.run(work())
            # Pending points due by now arrived; expiry took what the lots held.
            for m in range(MEMBERS):
                actual = self.run(self._balances(m))
                self.pending[m] = actual["pending"]
                self.wallet[m] = actual["wallet"]
                self.debt[m] = -actual["debt"]

        @precondition(lambda self: self.last is not None)
        @rule()
        def repeat_last_with_same_key(self):
            kind, member, points, key, entry_id = self.last
            before = self.run(self._balances(member))

            async def work():
                async with self.sessions() as s, s.begin():
                    if kind == "earn":
                        return await ledger.earn(
                            s, customer_id=self.members[member], points=points, key=key
                        )
                    return await ledger.spend(
                        s, customer_id=self.members[member], points=points, key=key
                    )

            assert self.run(work()).id == entry_id
            assert self.run(self._balances(member)) == before

        @invariant()
        def ledger_is_consistent(self):
            async def work():
                async with self.sessions() as s:
                    problems = await verify(s)
                    negative = await s.scalar(
                        select(func.count())
                        .select_from(Account)
                        .where(Account.kind.in_(("wallet", "pending")), Account.balance < 0)
                    )
                    return problems, negative

            if not hasattr(self, "members"):
                return
            problems, negative = self.run(work())
            assert problems == [], [str(p) for p in problems]
            assert negative == 0
            for m in range(MEMBERS):
                actual = self.run(self._balances(m))
                assert actual == {
                    "wallet": self.wallet[m],
                    "pending": self.pending[m],
                    "debt": -self.debt[m],
                }, (m, actual)

    return LedgerMachine


def test_ledger_state_machine(migrated, sessionmaker):
    machine = make_machine(migrated)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine.TestCase().runTest()
