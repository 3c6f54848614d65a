"""Editing an earning rule closes its version and starts a new one: past awards keep
naming the version that gave them, the daily cap and budget carry over, and the
preview shows what every active rule gives together."""

from __future__ import annotations

import re

from sqlalchemy import select

from loyalty import purchases
from loyalty.models import EarnRule, RuleAward
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import post_form
from tests.loyalty.helpers import spend_rule
from vafa.actor import Actor

PHONE = "+989121234567"


async def buy(sessionmaker, receipt: str, amount: int = 1_000_000):
    async with sessionmaker() as s, s.begin():
        return await purchases.record_purchase(
            s,
            actor=Actor.staff(1),
            phone=PHONE,
            amount=amount,
            categories=[],
            receipt_number=receipt,
            tz="Asia/Tehran",
        )


async def test_an_edit_starts_a_new_version_and_keeps_the_old_awards(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        rule = await spend_rule(s, rials_per_point=10_000, daily_cap=150)
        rule_id = rule.id
    first = await buy(sessionmaker, "a")  # 100 points under the first version
    assert first.purchase.points == 100
    await make_staff(sessionmaker, "manager", "manager")
    assert (await staff_login(client, "manager")).status_code == 302
    page = await client.get("/admin/rules")
    assert f'data-testid="rule-edit-{rule_id}"' in page.text
    form = {
        "name": "هر ۵٬۰۰۰ ریال یک امتیاز",
        "kind": "spend",
        "rials_per_point": "۵٬۰۰۰",
        "multiplier_percent": "100",
        "daily_cap": "150",
        "active": "on",
    }
    response = await post_form(client, f"/admin/rules/{rule_id}", form)
    assert response.status_code == 302, response.text
    second = await buy(sessionmaker, "b")  # 200 by the new rate, but 100 were given today
    assert second.purchase.points == 50  # the daily cap is the lineage's
    async with sessionmaker() as s:
        versions = (await s.scalars(select(EarnRule).order_by(EarnRule.id))).all()
        awards = (await s.scalars(select(RuleAward).order_by(RuleAward.id))).all()
    assert len(versions) == 2
    old, new = versions
    assert old.superseded_at is not None and new.previous_id == old.id
    assert new.lineage_id == old.id and new.rials_per_point == 5_000
    assert [a.rule_id for a in awards] == [old.id, new.id]
    listing = await client.get("/admin/rules")
    assert f'data-testid="rule-{new.id}"' in listing.text
    assert f'data-testid="rule-{old.id}"' not in listing.text
    # The old version cannot be edited or switched again.
    again = await post_form(client, f"/admin/rules/{old.id}", form)
    assert again.status_code == 409


async def test_preview_adds_up_every_active_rule(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s, rials_per_point=10_000, name="پایه")
    await make_staff(sessionmaker, "manager", "manager")
    assert (await staff_login(client, "manager")).status_code == 302
    draft = {
        "name": "دوبرابر",
        "kind": "spend",
        "rials_per_point": "10000",
        "multiplier_percent": "200",
        "sample_amount": "1000000",
    }
    response = await post_form(
        client, "/admin/rules/preview", draft, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'data-points="200"' in response.text  # the draft alone
    total = re.search(r'data-testid="preview-total" data-points="(\d+)"', response.text)
    assert total and total.group(1) == "300"  # with the base rule: three times, not two
