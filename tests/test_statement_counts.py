"""SQL statements per hot operation, pinned so that restructuring never adds any."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from customers.models import Customer
from loyalty import ledger, purchases
from tests.conftest import login_customer, post_form
from tests.loyalty.helpers import reward, spend_rule, tier
from vafa.actor import SYSTEM

PHONE = "+989121234567"


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


async def test_counts(client, sessionmaker, engine, db_kind):
    await login_customer(client, sessionmaker)
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
        await tier(s, 1, 10, "برنزی")
        reward_id = (await reward(s, 10)).id
        customer_id = await s.scalar(select(Customer.id).where(Customer.phone == PHONE))
        await ledger.earn(s, customer_id=customer_id, points=100, key="gift")
    async with sessionmaker() as s, s.begin():  # warm: first purchase creates accounts etc.
        await purchases.record_purchase(
            s, phone=PHONE, amount=500_000, categories=[], receipt_number="r0",
            actor=SYSTEM, tz="Asia/Tehran",
        )
    with counting() as purchase_sql:
        async with sessionmaker() as s, s.begin():
            await purchases.record_purchase(
                s, phone=PHONE, amount=500_000, categories=[], receipt_number="r1",
                actor=SYSTEM, tz="Asia/Tehran",
            )
    await client.get("/")
    with counting() as home_sql:
        assert (await client.get("/")).status_code == 200
    page = await client.get(f"/rewards/{reward_id}")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    with counting() as redeem_sql:
        response = await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})
        assert response.status_code == 302
    from tests.test_staff import make_staff, staff_login

    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302
    await post_form(client, "/admin/purchases", {"phone": PHONE, "amount": "500000", "receipt": "r2"})
    with counting() as staff_sql:
        response = await post_form(
            client, "/admin/purchases", {"phone": PHONE, "amount": "500000", "receipt": "r3"}
        )
        assert response.status_code == 302, response.text
    print(f"\nSTAFF PURCHASE {db_kind}: {len(staff_sql)}")
    print(f"\nSTATEMENTS {db_kind}: record_purchase={len(purchase_sql)} "
          f"redeem={len(redeem_sql)} home={len(home_sql)}")
    for name, sql in (("purchase", purchase_sql), ("redeem", redeem_sql), ("home", home_sql)):
        print(f"--- {name}")
        for line in sql:
            print("   ", line.replace("\n", " ")[:150])
