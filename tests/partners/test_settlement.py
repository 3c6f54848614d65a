"""Settlement: a statement's points are the partner account's ledger entries in the
period, to the point; its money follows the agreed rates; a closed period does not move."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from loyalty.models import JournalEntry
from partners import services, settlement
from partners.models import Partner
from tests.partners.conftest import ADMIN, PHONE, api, consent_code
from vafa import clock
from vafa.calendar import local_day, month_of, start_of_day
from vafa.errors import UserError

TZ = "Asia/Tehran"


async def activity(client, sessionmaker, settings, club) -> None:
    """Two sales (one partly returned) and two redemptions (one given back) at A."""
    for receipt, amount in (("R-1", 500_000), ("R-2", 300_000)):
        r = await client.post(
            "/api/v1/earn",
            json={"phone": PHONE, "amount": amount, "receipt": receipt},
            headers=api(club.key_a),
        )
        assert r.status_code == 201, r.text
        if receipt == "R-1":
            back = await client.post(
                f"/api/v1/transactions/{r.json()['id']}/reverse",
                json={"amount": 100_000},
                headers=api(club.key_a),
            )
            assert back.status_code == 201
    for points in (20, 15):
        code = await consent_code(sessionmaker, settings, club.a, points)
        r = await client.post(
            "/api/v1/redemptions",
            json={"phone": PHONE, "points": points, "consent_code": code, "receipt": "S"},
            headers=api(club.key_a),
        )
        assert r.status_code == 201, r.text
        if points == 15:
            back = await client.post(
                f"/api/v1/transactions/{r.json()['id']}/reverse", headers=api(club.key_a)
            )
            assert back.status_code == 201


async def ledger_sum(db, account_id: int, since: datetime, until: datetime) -> int:
    """Points the account issued less points it received, straight from the journal."""
    in_period = (JournalEntry.created_at >= since) & (JournalEntry.created_at < until)
    out = await db.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount), 0)).where(
            JournalEntry.debit_account_id == account_id, in_period
        )
    )
    into = await db.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount), 0)).where(
            JournalEntry.credit_account_id == account_id, in_period
        )
    )
    return int(out) - int(into)


async def test_the_statement_equals_the_ledger_to_the_point(client, sessionmaker, settings, club):
    await activity(client, sessionmaker, settings, club)
    today = local_day(clock.now(), TZ)
    first, last = month_of(today, TZ)
    async with sessionmaker() as db:
        [line] = await settlement.statements(db, first, last, TZ, partner_id=club.a)
        partner = await db.get(Partner, club.a)
        found = line.figures
        assert (found.earned_gross, found.earn_returned, found.earned) == (80, 10, 70)
        assert (found.redeemed_gross, found.redeem_returned, found.redeemed) == (35, 15, 20)
        assert found.earned - found.redeemed == await ledger_sum(
            db, partner.account_id, start_of_day(first, TZ), start_of_day(last + timedelta(1), TZ)
        )
        assert found.sales == 700_000
        assert found.earn_value == 70 * 1_000 and found.redeem_value == 20 * 800
        assert found.commission == 700_000 * 250 // 10_000
        assert found.net == 70_000 + 17_500 - 16_000
        # Partner B had nothing.
        [other] = await settlement.statements(db, first, last, TZ, partner_id=club.b)
        assert other.figures.earned == other.figures.redeemed == other.figures.net == 0


async def test_a_closed_period_does_not_move(client, sessionmaker, settings, club):
    await activity(client, sessionmaker, settings, club)
    today = local_day(clock.now(), TZ)
    first, last = today - timedelta(days=3), today
    async with sessionmaker() as db, db.begin():
        with pytest.raises(UserError) as refused:  # its last day is not over
            await settlement.close(
                db, actor=ADMIN, partner_id=club.a, first_day=first, last_day=last, tz=TZ
            )
        assert refused.value.code == "period_open"
    # Tomorrow, the period is over and can be closed.
    tomorrow = start_of_day(today + timedelta(days=1), TZ) + timedelta(hours=9)
    with clock.frozen_at(tomorrow):
        async with sessionmaker() as db, db.begin():
            before = (await settlement.statements(db, first, last, TZ, partner_id=club.a))[0]
            await settlement.close(
                db, actor=ADMIN, partner_id=club.a, first_day=first, last_day=last, tz=TZ
            )
        async with sessionmaker() as db, db.begin():
            with pytest.raises(UserError) as again:
                await settlement.close(
                    db,
                    actor=ADMIN,
                    partner_id=club.a,
                    first_day=first + timedelta(days=1),
                    last_day=last,
                    tz=TZ,
                )
            assert again.value.code == "period_closed"
            # New terms, and more activity: the closed period shows what it was closed with.
            partner = await db.get(Partner, club.a)
            terms = services.Terms(
                name=partner.name, earn=True, redeem=True, earn_rials_per_point=5_000,
                redeem_rials_per_point=4_000, commission_bp=1_000,
            )
            await services.update_partner(db, actor=ADMIN, partner_id=club.a, terms=terms)
        async with sessionmaker() as db:
            [after] = await settlement.statements(db, first, last, TZ, partner_id=club.a)
            assert after.closed is not None
            assert after.figures == before.figures
            live = await settlement.figures(db, partner, first, last, TZ)
            assert live.earn_value != before.figures.earn_value  # it would have moved


async def test_a_period_must_be_ordered_and_at_most_a_year(sessionmaker, club):
    async with sessionmaker() as db:
        for first, last in ((date(2026, 5, 2), date(2026, 5, 1)), (date(2025, 1, 1), date(2026, 3, 1))):
            with pytest.raises(UserError):
                await settlement.statements(db, first, last, TZ)


async def test_a_statement_for_every_partner_costs_the_same_queries_as_for_one(
    client, sessionmaker, settings, club
):
    from tests.loyalty.test_statement_counts import counting
    from tests.partners.conftest import make_partner

    await activity(client, sessionmaker, settings, club)
    first, last = month_of(local_day(clock.now(), TZ), TZ)
    async with sessionmaker() as db:
        with counting() as few:
            two = await settlement.statements(db, first, last, TZ)
    async with sessionmaker() as db, db.begin():
        for n in range(5):
            await make_partner(db, f"همکار {n}")
    async with sessionmaker() as db:
        with counting() as many:
            seven = await settlement.statements(db, first, last, TZ)
    assert len(two) == 2 and len(seven) == 7
    assert len(many) == len(few), (few, many)
    assert [line.figures for line in seven[:2]] == [line.figures for line in two]
