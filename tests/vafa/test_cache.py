"""What a process keeps in memory (`vafa.cache`) follows changes made by any process
from its next transaction. Two engines on one database stand for two processes: each
keeps its own copy."""

from __future__ import annotations

from sqlalchemy import delete, select

from loyalty import purchases
from loyalty.models import Account, EarnRule
from loyalty.programme import CURRENT, current
from tests.loyalty.helpers import spend_rule
from vafa.actor import SYSTEM
from vafa.database import create_engine, make_sessionmaker
from vafa.models import CacheVersion
from vafa.server import composition


async def earn(sessionmaker, receipt: str) -> int:
    async with sessionmaker() as s, s.begin():
        recorded = await purchases.record_purchase(
            s,
            actor=SYSTEM,
            phone="+989121234567",
            amount=1_000_000,
            categories=[],
            receipt_number=receipt,
            tz="Asia/Tehran",
        )
        return recorded.purchase.points


async def test_a_rule_changed_in_one_process_applies_in_another_at_once(
    sessionmaker, database_url, settings
):
    async with sessionmaker() as s, s.begin():
        s.add(CacheVersion(name="loyalty", version=1))  # as the migration leaves it
    async with sessionmaker() as s, s.begin():
        rule = await spend_rule(s, rials_per_point=10_000)
    other_engine = create_engine(database_url)
    other = make_sessionmaker(other_engine, bus=composition().event_bus(settings))
    try:
        assert await earn(other, "r1") == 100  # the other process now holds the rule
        async with sessionmaker() as s, s.begin():
            changed = await s.get(EarnRule, rule.id)
            changed.rials_per_point = 5_000
        assert await earn(other, "r2") == 200
        async with sessionmaker() as s, s.begin():
            (await s.get(EarnRule, rule.id)).active = False
        assert await earn(other, "r3") == 0
    finally:
        await other_engine.dispose()


async def test_the_copy_is_kept_while_nothing_changes_and_never_without_a_version(
    sessionmaker,
):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
        await current(s)  # the emptied database gets its programme and account back
    async with sessionmaker() as s:
        first = await current(s)
    async with sessionmaker() as s:
        assert await current(s) is first  # kept: the version did not move
    async with sessionmaker() as s, s.begin():
        await s.execute(delete(CacheVersion))
    async with sessionmaker() as s:
        assert await current(s) is not first  # no version row: nothing is trusted
    async with sessionmaker() as s:
        versions = (await s.scalars(select(CacheVersion.name))).all()
        assert versions == []
        assert CURRENT.name == "loyalty"


async def test_a_load_that_wrote_and_was_rolled_back_is_not_kept(sessionmaker):
    """An emptied database lacks the programme's account: the first reader creates it.
    If that reader's transaction is rolled back, no process may keep the account's id."""
    async with sessionmaker() as s, s.begin():
        s.add(CacheVersion(name="loyalty", version=1))
    async with sessionmaker() as s:
        await current(s)  # creates the programme and its account ...
        await s.rollback()  # ... which are gone again
    async with sessionmaker() as s, s.begin():
        account = (await current(s)).account
        assert await s.get(Account, account) is not None
