"""The hard cases of the points engine."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from loyalty import ledger, purchases, rewards, rules, tiers
from loyalty.jobs import birthday_bonuses, send_expiry_reminders
from loyalty.models import Account, JournalEntry, Lot, Programme, RuleAward, TierChange, Voucher
from loyalty.programme import expiry_for, get_programme
from loyalty.verify import verify
from tests.loyalty.helpers import bonus_rule, member, reward, spend_rule, tier
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.errors import UserError
from vafa.models import SmsMessage
from vafa.settings import ROOT

TZ = "Asia/Tehran"
TEHRAN = ZoneInfo(TZ)


async def wallet(session, customer_id: int) -> dict[str, int]:
    return await ledger.balances(session, customer_id)


async def buy(
    session, phone="+989121234567", amount=1_000_000, receipt="R-1", categories=(), issuer=None
):
    return await purchases.record_purchase(
        session,
        phone=phone,
        amount=amount,
        categories=list(categories),
        receipt_number=receipt,
        actor=Actor.staff(1),
        tz=TZ,
        issuer=issuer,
    )


async def assert_books(session):
    problems = await verify(session)
    assert problems == [], [str(p) for p in problems]


async def test_purchase_earns_by_rule_with_category_and_tier_multipliers(db):
    await spend_rule(db, category_multipliers={"coffee": 200})
    await spend_rule(
        db,
        name="Campaign week",
        multiplier_percent=50,
        starts_at=utcnow() - timedelta(days=1),
        ends_at=utcnow() + timedelta(days=6),
    )
    await spend_rule(
        db,
        name="Ended",
        starts_at=utcnow() - timedelta(days=9),
        ends_at=utcnow() - timedelta(days=2),
    )
    recorded = await buy(db, amount=1_234_567, categories=["Coffee"])
    # base: 123 points x 2 (coffee) = 246; campaign: half of 123 = 61; ended rule: none
    assert recorded.purchase.points == 246 + 61
    assert (await wallet(db, recorded.purchase.customer_id))["wallet"] == 307
    await assert_books(db)


async def test_same_receipt_posted_twice_earns_once(db):
    await spend_rule(db)
    first = await buy(db, receipt="  r-77 ")
    again = await buy(db, receipt="R-77")
    assert again.duplicate and again.purchase.id == first.purchase.id
    assert (await wallet(db, first.purchase.customer_id))["wallet"] == 100
    with pytest.raises(UserError):
        await buy(db, receipt="R-77", amount=5_000_000)
    with pytest.raises(UserError):
        await buy(db, receipt="R-77", phone="+989351112233")
    assert (await wallet(db, first.purchase.customer_id))["wallet"] == 100
    await assert_books(db)


async def test_return_after_points_were_spent_records_a_debt_paid_by_future_earnings(db):
    await spend_rule(db)
    bought = await buy(db, amount=1_000_000)  # 100 points
    cid = bought.purchase.customer_id
    await ledger.spend(db, customer_id=cid, points=80, key="coffee")
    refund = await purchases.record_refund(
        db, purchase_id=bought.purchase.id, amount=1_000_000, key="ret-1", actor=Actor.staff(1)
    )
    assert (refund.points, refund.taken, refund.debt, refund.forgiven) == (100, 20, 80, 0)
    assert await wallet(db, cid) == {"wallet": 0, "pending": 0, "debt": -80}
    # The balance never goes below zero; the next earnings pay the debt first.
    await buy(db, amount=500_000, receipt="R-2")  # 50 points, all to the debt
    assert await wallet(db, cid) == {"wallet": 0, "pending": 0, "debt": -30}
    await buy(db, amount=1_000_000, receipt="R-3")  # 100 points: 30 to the debt, 70 left
    assert await wallet(db, cid) == {"wallet": 70, "pending": 0, "debt": 0}
    # Replaying the return changes nothing.
    again = await purchases.record_refund(
        db, purchase_id=bought.purchase.id, amount=1_000_000, key="ret-1", actor=Actor.staff(1)
    )
    assert again.id == refund.id
    assert await wallet(db, cid) == {"wallet": 70, "pending": 0, "debt": 0}
    await assert_books(db)


async def test_return_after_spending_with_the_forgive_policy(db):
    (await get_programme(db)).return_policy = "forgive"
    await spend_rule(db)
    bought = await buy(db)
    cid = bought.purchase.customer_id
    await ledger.spend(db, customer_id=cid, points=80, key="coffee")
    refund = await purchases.record_refund(
        db, purchase_id=bought.purchase.id, amount=1_000_000, key="ret-1", actor=Actor.staff(1)
    )
    assert (refund.taken, refund.debt, refund.forgiven, refund.policy) == (20, 0, 80, "forgive")
    assert await wallet(db, cid) == {"wallet": 0, "pending": 0, "debt": 0}
    await assert_books(db)


async def test_partial_returns_take_back_in_proportion_and_never_more(db):
    await spend_rule(db)
    bought = await buy(db, amount=1_000_000)  # 100 points
    pid, cid = bought.purchase.id, bought.purchase.customer_id
    for i in range(3):
        await purchases.record_refund(
            db, purchase_id=pid, amount=333_333, key=f"r{i}", actor=Actor.staff(1)
        )
    assert (await wallet(db, cid))["wallet"] == 100 - 99
    await purchases.record_refund(db, purchase_id=pid, amount=1, key="r4", actor=Actor.staff(1))
    assert (await wallet(db, cid))["wallet"] == 0
    with pytest.raises(UserError):
        await purchases.record_refund(db, purchase_id=pid, amount=1, key="r5", actor=Actor.staff(1))
    await assert_books(db)


async def test_expiry_exactly_at_the_day_boundary_in_tehran(db):
    programme = await get_programme(db)
    programme.expiry_days = 0  # points live until the end of the day they were earned
    earned = datetime(2026, 3, 19, 20, 0, tzinfo=UTC)  # 23:30 in Tehran
    expires = expiry_for(earned, programme, TZ)
    assert expires == datetime(2026, 3, 20, 0, 0, tzinfo=TEHRAN)  # local midnight
    c = await member(db)
    await ledger.earn(db, customer_id=c.id, points=50, key="e", expires_at=expires)
    just_before = expires - timedelta(microseconds=1)
    assert await ledger.expire_due(db, now=just_before) == 0
    assert (await wallet(db, c.id))["wallet"] == 50
    assert await ledger.expire_due(db, now=expires) == 1
    assert (await wallet(db, c.id))["wallet"] == 0
    assert await ledger.expire_due(db, now=expires + timedelta(days=1)) == 0  # twice: nothing
    await assert_books(db)


def test_expiry_at_the_end_of_the_solar_hijri_month():
    programme = Programme(expiry_days=10, expire_at="month")
    earned = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 4 Azar 1405; +10 days = 14 Azar
    # Azar 1405 has 30 days: 30 Azar 1405 = 21 December 2026; expiry at its end.
    assert expiry_for(earned, programme, TZ) == datetime(2026, 12, 22, 0, 0, tzinfo=TEHRAN)
    assert expiry_for(earned, programme, "Asia/Yerevan") == datetime(
        2027, 1, 1, 0, 0, tzinfo=ZoneInfo("Asia/Yerevan")
    )
    assert expiry_for(earned, Programme(expiry_days=None, expire_at="day"), TZ) is None


async def test_tier_comes_from_points_earned_not_the_balance(db):
    silver = await tier(db, 1, 500, "Silver")
    gold = await tier(db, 2, 1000, "Gold", multiplier=150)
    await spend_rule(db)
    first = await buy(db, amount=10_000_000)  # 1000 points
    cid = first.purchase.customer_id
    await ledger.spend(db, customer_id=cid, points=990, key="tv")
    assert (await wallet(db, cid))["wallet"] == 10
    assert (await tiers.current_tier(db, cid)).id == gold.id
    changes = (await db.scalars(select(TierChange))).all()
    assert [(c.to_tier_id, c.reason) for c in changes] == [(gold.id, "earned")]
    sms = (await db.scalars(select(SmsMessage).where(SmsMessage.body.contains("Gold")))).all()
    assert len(sms) == 1
    # Gold earns 1.5x from now on.
    second = await buy(db, amount=1_000_000, receipt="R-2")
    assert second.purchase.points == 150
    assert silver.rank < gold.rank


async def test_tier_downgrade_waits_for_the_grace_period(db):
    await tier(db, 1, 100, "Silver")
    await spend_rule(db)
    bought = await buy(db, amount=1_000_000)  # 100 points -> Silver
    cid = bought.purchase.customer_id
    await purchases.record_refund(
        db, purchase_id=bought.purchase.id, amount=1_000_000, key="ret", actor=Actor.staff(1)
    )
    now = utcnow()
    assert await tiers.review(db, cid, tz=TZ, now=now) is None  # grace starts
    assert (await tiers.current_tier(db, cid)) is not None
    assert await tiers.review(db, cid, tz=TZ, now=now + timedelta(days=29)) is None
    change = await tiers.review(db, cid, tz=TZ, now=now + timedelta(days=31))
    assert change is not None and change.reason == "grace ended" and change.to_tier_id is None
    assert await tiers.current_tier(db, cid) is None


async def test_cancelled_voucher_gives_points_back_with_their_original_expiry(db):
    c = await member(db)
    soon = utcnow() + timedelta(days=3)
    later = utcnow() + timedelta(days=300)
    await ledger.earn(db, customer_id=c.id, points=60, key="a", expires_at=soon)
    await ledger.earn(db, customer_id=c.id, points=60, key="b", expires_at=later)
    prize = await reward(db, cost=100, stock=5)
    voucher = await rewards.redeem(db, actor=Actor.customer(c.id), customer_id=c.id, reward_id=prize.id, key="k1", tz=TZ)
    lots = {lot.expires_at: lot.remaining for lot in (await db.scalars(select(Lot))).all()}
    assert lots == {soon: 0, later: 20}  # soonest expiry spent first
    assert (await db.get(type(prize), prize.id)).stock == 4
    await rewards.cancel(db, actor=Actor.staff(1), voucher_id=voucher.id)
    lots = {lot.expires_at: lot.remaining for lot in (await db.scalars(select(Lot))).all()}
    assert lots == {soon: 60, later: 60}
    assert (await wallet(db, c.id))["wallet"] == 120
    assert (await db.get(type(prize), prize.id)).stock == 5
    assert (await db.get(Voucher, voucher.id)).status == "cancelled"
    with pytest.raises(UserError):
        await rewards.cancel(db, actor=Actor.staff(1), voucher_id=voucher.id)
    # The returned points still expire when they always would have.
    assert await ledger.expire_due(db, now=soon) == 1
    assert (await wallet(db, c.id))["wallet"] == 60
    await assert_books(db)


async def test_expired_voucher_returns_points(db):
    c = await member(db)
    await ledger.earn(db, customer_id=c.id, points=100, key="a")
    prize = await reward(db, cost=100, voucher_days=0)
    voucher = await rewards.redeem(db, actor=Actor.customer(c.id), customer_id=c.id, reward_id=prize.id, key="k", tz=TZ)
    assert await rewards.expire_due(db, now=voucher.expires_at) == 1
    assert (await db.get(Voucher, voucher.id)).status == "expired"
    assert (await wallet(db, c.id))["wallet"] == 100
    with pytest.raises(UserError):
        await rewards.use(db, code=voucher.code, actor=Actor.staff(1))
    await assert_books(db)


async def test_voucher_rules_limit_stock_tier_and_use(db):
    c = await member(db)
    await ledger.earn(db, customer_id=c.id, points=1000, key="a")
    limited = await reward(db, cost=10, per_member_limit=1, stock=1)
    voucher = await rewards.redeem(db, actor=Actor.customer(c.id), customer_id=c.id, reward_id=limited.id, key="1", tz=TZ)
    assert (
        await rewards.redeem(db, actor=Actor.customer(c.id), customer_id=c.id, reward_id=limited.id, key="1", tz=TZ)
    ).id == voucher.id
    gold_only = await reward(db, cost=10, min_tier_rank=2)
    for reward_id in (limited.id, gold_only.id):
        with pytest.raises(UserError):
            async with db.begin_nested():
                await rewards.redeem(db, actor=Actor.customer(c.id), customer_id=c.id, reward_id=reward_id, key="2", tz=TZ)
    assert (await wallet(db, c.id))["wallet"] == 990
    used = await rewards.use(db, code=voucher.code.lower(), actor=Actor.staff(7))
    assert used.status == "used" and used.used_by == 7
    with pytest.raises(UserError):
        await rewards.use(db, code=voucher.code, actor=Actor.staff(7))


async def test_pending_points_arrive_later_and_cannot_be_spent_before(db):
    await spend_rule(db, pending_days=14)
    bought = await buy(db)
    cid = bought.purchase.customer_id
    assert await wallet(db, cid) == {"wallet": 0, "pending": 100, "debt": 0}
    with pytest.raises(ledger.InsufficientPoints):
        async with db.begin_nested():
            await ledger.spend(db, customer_id=cid, points=1, key="x")
    assert await ledger.release_due(db, now=utcnow() + timedelta(days=13)) == 0
    assert await ledger.release_due(db, now=utcnow() + timedelta(days=14, minutes=1)) == 1
    assert await wallet(db, cid) == {"wallet": 100, "pending": 0, "debt": 0}
    await assert_books(db)


async def test_daily_cap_and_budget(db):
    await spend_rule(db, daily_cap=150, budget=220)
    a = await buy(db, amount=1_000_000, receipt="1")
    b = await buy(db, amount=1_000_000, receipt="2")
    assert (a.purchase.points, b.purchase.points) == (100, 50)  # capped at 150 today
    other = await buy(db, phone="+989351112233", amount=1_000_000, receipt="3")
    assert other.purchase.points == 70  # the rule's budget had 70 left
    nothing = await buy(db, phone="+989351112233", amount=1_000_000, receipt="4")
    assert nothing.purchase.points == 0
    assert await db.scalar(select(func.sum(RuleAward.points))) == 220
    await assert_books(db)


def test_preview_shows_what_a_rule_gives_before_saving():
    from loyalty.models import EarnRule

    draft = EarnRule(
        name="draft",
        kind="spend",
        active=True,
        rials_per_point=5_000,
        multiplier_percent=300,
        category_multipliers={"bread": 50},
        tier_multipliers={},
    )
    lines = rules.preview([draft], amount=100_000, categories=["bread"], tier=None, now=utcnow())
    assert [line.points for line in lines] == [30]


async def test_birthday_bonus_in_the_solar_hijri_birthday_month(db, settings):
    import jdatetime

    await bonus_rule(db, "birthday", 200)
    today = jdatetime.date.fromgregorian(date=utcnow().astimezone(TEHRAN).date())
    born = jdatetime.date(1369, today.month, min(today.day, 29)).togregorian()
    other_month = today.month % 12 + 1
    c = await member(db, birthday=born)
    other = await member(
        db, phone="+989351112233", birthday=jdatetime.date(1369, other_month, 1).togregorian()
    )
    assert await birthday_bonuses(db, settings) == 1
    assert await birthday_bonuses(db, settings) == 0  # once a year
    assert (await wallet(db, c.id))["wallet"] == 200
    assert (await wallet(db, other.id))["wallet"] == 0


async def test_expiry_reminder_is_sent_once(db, settings):
    c = await member(db)
    await ledger.earn(
        db, customer_id=c.id, points=70, key="a", expires_at=utcnow() + timedelta(days=10)
    )
    await ledger.earn(
        db, customer_id=c.id, points=30, key="b", expires_at=utcnow() + timedelta(days=200)
    )
    assert await send_expiry_reminders(db, settings) == 1
    assert await send_expiry_reminders(db, settings) == 0
    messages = (await db.scalars(select(SmsMessage))).all()
    assert len(messages) == 1 and "۷۰" in messages[0].body


async def test_idempotency_key_reused_for_another_movement_is_refused(db):
    c = await member(db)
    await ledger.earn(db, customer_id=c.id, points=10, key="same")
    with pytest.raises(ledger.IdempotencyConflict):
        await ledger.spend(db, customer_id=c.id, points=5, key="same")


async def test_balance_check_constraint_holds_even_against_a_direct_update(db):
    c = await member(db)
    await ledger.earn(db, customer_id=c.id, points=10, key="a")
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with db.begin_nested():
            await db.execute(
                update(Account)
                .where(Account.customer_id == c.id, Account.kind == "wallet")
                .values(balance=-1)
            )


async def test_ledger_verify_command_names_the_broken_wallet(migrated, sessionmaker):
    async with sessionmaker() as s, s.begin():
        c = await member(s, phone="+989127778899")
        await ledger.earn(s, customer_id=c.id, points=10, key="a")
    env = {**os.environ, "DATABASE_URL": migrated, "VAFA_SECRET_KEY": "x" * 40}
    command = [sys.executable, "-m", "vafa.server.cli", "ledger", "verify"]
    ok = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert ok.returncode == 0, ok.stderr
    async with sessionmaker() as s, s.begin():
        await s.execute(
            update(Account)
            .where(Account.customer_id == c.id, Account.kind == "wallet")
            .values(balance=11)
        )
    bad = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert bad.returncode == 1
    assert "+989127778899" in bad.stderr and "wallet balance 11" in bad.stderr


async def test_expiry_job_and_redemptions_run_side_by_side(sessionmaker):
    """The worker expiring lots while the member spends: both take the member's
    account locks before lot locks, so neither deadlocks and the books still add up."""
    import asyncio

    async with sessionmaker() as s, s.begin():
        c = await member(s)
        cid = c.id
        past = utcnow() - timedelta(seconds=1)
        for i in range(30):
            await ledger.earn(
                s,
                customer_id=cid,
                points=10,
                key=f"old{i}",
                expires_at=past if i % 2 else utcnow() + timedelta(days=30),
            )

    async def spend(i: int) -> bool:
        try:
            async with sessionmaker() as s, s.begin():
                await ledger.spend(s, customer_id=cid, points=7, key=f"s{i}")
            return True
        except ledger.InsufficientPoints:
            return False

    async def expire() -> int:
        async with sessionmaker() as s, s.begin():
            return await ledger.expire_due(s)

    results = await asyncio.gather(*(spend(i) for i in range(20)), expire(), expire())
    spent = sum(1 for r in results[:20] if r)
    async with sessionmaker() as s:
        assert await verify(s) == []
        balance = (await ledger.balances(s, cid))["wallet"]
        expired = await s.scalar(
            select(func.coalesce(func.sum(JournalEntry.amount), 0)).where(
                JournalEntry.kind == "expire"
            )
        )
    assert balance == 300 - spent * 7 - expired >= 0
    assert expired > 0 and spent > 0


async def test_a_purchase_at_another_issuer_moves_points_from_its_account(db):
    """Points earned at a partner come from the partner's account, and a return sends
    them back there; receipt numbers are the issuer's own (R-1 at the club and R-1 at
    the partner are two purchases); the books balance."""
    await spend_rule(db)
    partner = Account(kind="partner", balance=0)
    db.add(partner)
    await db.flush()
    home = await buy(db, amount=1_000_000, receipt="R-1")  # 100 points from the programme
    there = await buy(db, amount=500_000, receipt="R-1", issuer=partner.id)
    assert not there.duplicate and there.purchase.id != home.purchase.id
    assert there.purchase.issuer_account_id == partner.id
    cid = there.purchase.customer_id
    assert await wallet(db, cid) == {"wallet": 150, "pending": 0, "debt": 0}

    async def moved(account_id: int) -> int:
        credits = await db.scalar(
            select(func.coalesce(func.sum(JournalEntry.amount), 0)).where(
                JournalEntry.credit_account_id == account_id
            )
        )
        debits = await db.scalar(
            select(func.coalesce(func.sum(JournalEntry.amount), 0)).where(
                JournalEntry.debit_account_id == account_id
            )
        )
        return credits - debits

    assert await moved(partner.id) == -50
    await purchases.record_refund(
        db, purchase_id=there.purchase.id, amount=200_000, key="ret-p", actor=Actor.staff(1)
    )
    assert await moved(partner.id) == -30  # 20 points went back to the partner
    assert await wallet(db, cid) == {"wallet": 130, "pending": 0, "debt": 0}
    # The same receipt again at the partner is the same purchase.
    again = await buy(db, amount=500_000, receipt="r-1", issuer=partner.id)
    assert again.duplicate and again.purchase.id == there.purchase.id
    await assert_books(db)
