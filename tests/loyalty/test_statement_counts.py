"""SQL statements per hot operation, pinned so that no change adds any unnoticed.

Before the domains were split into vertical slices (SQLite / PostgreSQL):
staff purchase request 34 / 32, `record_purchase` 30 / 29, redemption request 19 / 17,
portal home request 11 / 9. Now authentication shares the request's session (one
BEGIN fewer on SQLite), a redemption no longer looks its key up twice, and
`record_purchase` writes its own audit row (the staff request wrote it before).
Telling the member by SMS what a purchase earned costs four more (the setting, the
club's name, the balance, the message): 33 / 32 before it.

Then the work on speed: 37 / 36 for a staff purchase, 35 / 34 for `record_purchase`,
17 / 16 for a redemption. The programme, rules, tiers and the club's profile are kept
in each process (`vafa.cache`: one read of their versions instead); an earning claims
its journal key and a purchase its receipt with `INSERT ... ON CONFLICT DO NOTHING`
instead of a read and a savepoint; the member's accounts come with their balances in
one read; new points add to the member's qualifying points instead of a sum over their
history (`tiers.earned`). Now 18 / 17, 16 / 15 and 16 / 15.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from customers.models import Customer
from loyalty import ledger, purchases
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import login_customer, post_form
from tests.loyalty.helpers import reward, spend_rule, tier
from vafa.actor import SYSTEM

PHONE = "+989121234567"
LIMITS = {
    "sqlite": {"staff purchase": 18, "record_purchase": 16, "redemption": 16, "home": 10},
    "postgres": {"staff purchase": 17, "record_purchase": 15, "redemption": 15, "home": 9},
}


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", before)


async def purchase(sessionmaker, receipt: str) -> None:
    async with sessionmaker() as s, s.begin():
        await purchases.record_purchase(
            s,
            actor=SYSTEM,
            phone=PHONE,
            amount=500_000,
            categories=[],
            receipt_number=receipt,
            tz="Asia/Tehran",
        )


async def test_statements_per_purchase_redemption_and_home(client, sessionmaker, db_kind):
    await login_customer(client, sessionmaker)
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
        await tier(s, 1, 10, "برنزی")
        reward_id = (await reward(s, 10)).id
        customer_id = await s.scalar(select(Customer.id).where(Customer.phone == PHONE))
        await ledger.earn(s, customer_id=customer_id, points=100, key="gift")
    await purchase(sessionmaker, "r0")  # the first purchase creates accounts and a tier
    counts: dict[str, int] = {}
    with counting() as sql:
        await purchase(sessionmaker, "r1")
    counts["record_purchase"] = len(sql)

    await client.get("/")
    with counting() as sql:
        assert (await client.get("/")).status_code == 200
    counts["home"] = len(sql)

    page = await client.get(f"/rewards/{reward_id}")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    with counting() as sql:
        response = await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})
        assert response.status_code == 302
    counts["redemption"] = len(sql)

    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302
    form = {"phone": PHONE, "amount": "500000", "receipt": "r2"}
    await post_form(client, "/admin/purchases", form)
    with counting() as sql:
        response = await post_form(client, "/admin/purchases", {**form, "receipt": "r3"})
        assert response.status_code == 302, response.text
    counts["staff purchase"] = len(sql)

    print(f"\nSQL statements on {db_kind}: {counts}")
    for name, limit in LIMITS[db_kind].items():
        assert counts[name] <= limit, f"{name}: {counts[name]} statements, at most {limit}"
