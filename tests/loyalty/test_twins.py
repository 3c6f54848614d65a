"""Twins: the same form (the same idempotency key, receipt, or event) arriving many
times at once through the real app. The first one does the work; every twin gets the
first one's answer, never a 500, and the books still balance.

Requests run in the test's event loop (see `tests.vafa.test_concurrency.live_client`),
so on PostgreSQL the twins really wait on the first one's locks and then meet its
committed rows.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from customers.events import MemberJoined
from customers.models import Customer
from loyalty import ledger, purchases
from loyalty.models import (
    EarnRule,
    EntryKind,
    JournalEntry,
    Lot,
    MemberTier,
    Purchase,
    Refund,
    Reward,
    RuleAward,
    Voucher,
    VoucherStatus,
)
from loyalty.programme import get_programme
from loyalty.verify import verify
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import csrf_token, login_customer, post_form
from tests.loyalty.helpers import bonus_rule, member, reward, spend_rule
from tests.vafa.test_concurrency import live_client
from vafa.actor import SYSTEM
from vafa.audit import AuditLog
from vafa.events import publish

PHONE = "09121234567"
E164 = "+989121234567"
TWINS = 20
TZ = "Asia/Tehran"


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def wallet(sessionmaker, customer_id: int) -> int:
    async with sessionmaker() as s:
        return (await ledger.balances(s, customer_id))["wallet"]


async def books_balance(sessionmaker) -> None:
    async with sessionmaker() as s:
        assert await verify(s) == []


async def customer_id(sessionmaker, phone: str = E164) -> int:
    async with sessionmaker() as s:
        found = await s.scalar(select(Customer.id).where(Customer.phone == phone))
    assert found is not None
    return found


async def at_once(client, url: str, form: dict[str, str], times: int = TWINS) -> list:
    await csrf_token(client)  # the page's cookie first, as a browser has it
    return list(await asyncio.gather(*(post_form(client, url, form) for _ in range(times))))


def redirects(responses) -> Counter[str]:
    assert [r.status_code for r in responses] == [302] * len(responses), [
        (r.status_code, r.text[:300]) for r in responses if r.status_code != 302
    ]
    return Counter(r.headers["location"] for r in responses)


@pytest.mark.parametrize(
    ("points", "fields"),
    [
        (100, {"stock": 5}),
        (10, {}),  # the first one takes every point: twins must not be told "not enough"
        (100, {"stock": 1}),  # ... nor "run out"
        (100, {"per_member_limit": 1}),  # ... nor "already taken"
    ],
)
async def test_the_same_redemption_form_twenty_times_at_once(app, sessionmaker, points, fields):
    async with sessionmaker() as s, s.begin():
        reward_id = (await reward(s, 10, **fields)).id
    async with live_client(app) as [client]:
        await login_customer(client, sessionmaker)
        cid = await customer_id(sessionmaker)
        async with sessionmaker() as s, s.begin():
            await ledger.earn(s, customer_id=cid, points=points, key="gift")
        page = await client.get(f"/rewards/{reward_id}")
        key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
        responses = await at_once(client, f"/rewards/{reward_id}/redeem", {"key": key})
    async with sessionmaker() as s:
        voucher = await s.scalar(select(Voucher))
        stock = (await s.get_one(Reward, reward_id)).stock
    assert redirects(responses) == {f"/vouchers/{voucher.code}": TWINS}
    assert await count(sessionmaker, Voucher) == 1
    assert await count(sessionmaker, JournalEntry, JournalEntry.kind == EntryKind.REDEEM) == 1
    assert stock == (fields["stock"] - 1 if "stock" in fields else None)
    assert await wallet(sessionmaker, cid) == points - 10
    await books_balance(sessionmaker)


async def test_the_same_receipt_twenty_times_at_once(app, sessionmaker):
    """A new member's first purchase, sent twenty times: one purchase, one member, one
    award (within the rule's budget once), nineteen told 'duplicate'."""
    async with sessionmaker() as s, s.begin():
        rule_id = (await spend_rule(s, budget=1000)).id
    await make_staff(sessionmaker, "agent", "agent")
    form = {"phone": PHONE, "amount": "500000", "receipt": "R-77"}
    async with live_client(app) as [client]:
        assert (await staff_login(client, "agent")).status_code == 302
        responses = await at_once(client, "/admin/purchases", form)
    locations = redirects(responses)
    async with sessionmaker() as s:
        purchase = await s.scalar(select(Purchase))
        rule = await s.get_one(EarnRule, rule_id)
    assert locations == {
        f"/admin/purchases?recorded={purchase.id}": 1,
        f"/admin/purchases?duplicate={purchase.id}": TWINS - 1,
    }
    assert await count(sessionmaker, Purchase) == 1
    assert await count(sessionmaker, Customer) == 1
    assert await count(sessionmaker, RuleAward) == 1
    assert await count(sessionmaker, MemberTier) == 1
    assert await count(sessionmaker, AuditLog, AuditLog.action == "purchase.record") == 1
    assert purchase.points == 50 and rule.budget_used == 50
    assert await wallet(sessionmaker, purchase.customer_id) == 50
    await books_balance(sessionmaker)


async def test_one_new_members_different_receipts_at_once(app, sessionmaker):
    """Twenty different purchases of one new member at once: every one earns, the
    member and their tier row are made once."""
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await make_staff(sessionmaker, "agent", "agent")
    async with live_client(app) as [client]:
        assert (await staff_login(client, "agent")).status_code == 302
        await csrf_token(client)
        responses = await asyncio.gather(
            *(
                post_form(
                    client,
                    "/admin/purchases",
                    {"phone": PHONE, "amount": "100000", "receipt": f"R-{i}"},
                )
                for i in range(TWINS)
            )
        )
    assert all(loc.startswith("/admin/purchases?recorded=") for loc in redirects(responses))
    assert await count(sessionmaker, Purchase) == TWINS
    assert await count(sessionmaker, Customer) == 1
    assert await count(sessionmaker, MemberTier) == 1
    assert await wallet(sessionmaker, await customer_id(sessionmaker)) == 10 * TWINS
    await books_balance(sessionmaker)


async def test_the_same_refund_form_twenty_times_at_once(app, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
        recorded = await purchases.record_purchase(
            s,
            actor=SYSTEM,
            phone=E164,
            amount=1_000_000,
            categories=[],
            receipt_number="R-1",
            tz=TZ,
        )
        purchase_id, cid = recorded.purchase.id, recorded.purchase.customer_id
    await make_staff(sessionmaker, "agent", "agent")
    form = {"amount": "500000", "key": "refund-form-key-0001"}
    async with live_client(app) as [client]:
        assert (await staff_login(client, "agent")).status_code == 302
        responses = await at_once(client, f"/admin/purchases/{purchase_id}/refund", form)
    locations = redirects(responses)
    async with sessionmaker() as s:
        refund = await s.scalar(select(Refund))
        purchase = await s.get_one(Purchase, purchase_id)
    assert locations == {f"/admin/purchases?refund={refund.id}": TWINS}
    assert await count(sessionmaker, Refund) == 1
    assert (purchase.refunded_amount, purchase.points_taken_back) == (500_000, 50)
    assert await count(sessionmaker, AuditLog, AuditLog.action == "purchase.refund") == 1
    assert await wallet(sessionmaker, cid) == 50
    await books_balance(sessionmaker)


@pytest.mark.parametrize("points", [30, -30])
async def test_the_same_adjustment_form_twenty_times_at_once(app, sessionmaker, points):
    async with sessionmaker() as s, s.begin():
        cid = (await member(s)).id
        await ledger.earn(s, customer_id=cid, points=100, key="gift")
        # The migration made the programme's settings row; these tests emptied it.
        await get_programme(s)
    await make_staff(sessionmaker, "manager", "manager")
    form = {"points": str(points), "reason": "twins", "key": "adjust-form-key-0001"}
    async with live_client(app) as [client]:
        assert (await staff_login(client, "manager")).status_code == 302
        responses = await at_once(client, f"/admin/members/{cid}/adjust", form)
    assert redirects(responses) == {f"/admin/members/{cid}?adjusted=1": TWINS}
    assert await count(sessionmaker, JournalEntry, JournalEntry.kind == EntryKind.ADJUST) == 1
    assert await count(sessionmaker, AuditLog, AuditLog.action == "points.adjust") == 1
    assert await wallet(sessionmaker, cid) == 100 + points
    await books_balance(sessionmaker)


async def test_the_profile_completed_twenty_times_at_once(app, sessionmaker):
    async with sessionmaker() as s, s.begin():
        rule_id = (await bonus_rule(s, "profile", 30, budget=1000)).id
    form = {"name": "Sara", "birthday": "1370/05/12", "language": "fa"}
    async with live_client(app) as [client]:
        await login_customer(client, sessionmaker)
        responses = await at_once(client, "/profile", form)
    assert redirects(responses) == {"/profile?saved=1": TWINS}
    cid = await customer_id(sessionmaker)
    assert await count(sessionmaker, RuleAward) == 1
    assert await count(sessionmaker, Lot) == 1
    assert await wallet(sessionmaker, cid) == 30
    async with sessionmaker() as s:
        assert (await s.get_one(EarnRule, rule_id)).budget_used == 30
    await books_balance(sessionmaker)


async def test_the_signup_bonus_heard_twenty_times_at_once(sessionmaker):
    """`MemberJoined` handled in twenty transactions at once (a login and a
    purchase opening the same member, a retried job): one bonus, budget spent once."""
    async with sessionmaker() as s, s.begin():
        rule_id = (await bonus_rule(s, "signup", 50, budget=1000, daily_cap=50)).id
        cid = (await member(s)).id

    async def hear() -> None:
        async with sessionmaker() as s, s.begin():
            await publish(s, MemberJoined(cid))

    await asyncio.gather(*(hear() for _ in range(TWINS)))
    assert await count(sessionmaker, RuleAward) == 1
    assert await wallet(sessionmaker, cid) == 50
    async with sessionmaker() as s:
        assert (await s.get_one(EarnRule, rule_id)).budget_used == 50
    await books_balance(sessionmaker)


async def test_one_voucher_cancelled_and_used_twenty_times_at_once(app, sessionmaker):
    async with sessionmaker() as s, s.begin():
        reward_id = (await reward(s, 10, stock=5)).id
    await make_staff(sessionmaker, "agent", "agent")
    async with live_client(app, 2) as [customer, staff]:
        await login_customer(customer, sessionmaker)
        cid = await customer_id(sessionmaker)
        async with sessionmaker() as s, s.begin():
            await ledger.earn(s, customer_id=cid, points=100, key="gift")
        keys = [f"redeem-form-key-{i:04d}" for i in range(2)]
        for key in keys:
            response = await post_form(customer, f"/rewards/{reward_id}/redeem", {"key": key})
            assert response.status_code == 302
        async with sessionmaker() as s:
            first, second = (await s.scalars(select(Voucher).order_by(Voucher.id))).all()
        cancels = await at_once(customer, f"/vouchers/{first.code}/cancel", {})
        assert (await staff_login(staff, "agent")).status_code == 302
        uses = await at_once(staff, "/admin/vouchers/use", {"code": second.code})
    assert sorted(r.status_code for r in cancels) == [302] + [409] * (TWINS - 1)
    assert sorted(r.status_code for r in uses) == [302] + [400] * (TWINS - 1)
    async with sessionmaker() as s:
        statuses = (await s.scalars(select(Voucher.status).order_by(Voucher.id))).all()
    assert statuses == [VoucherStatus.CANCELLED, VoucherStatus.USED]
    assert await count(sessionmaker, JournalEntry, JournalEntry.kind == EntryKind.REVERSE) == 1
    assert await count(sessionmaker, AuditLog, AuditLog.action == "voucher.use") == 1
    assert await wallet(sessionmaker, cid) == 90
    await books_balance(sessionmaker)
