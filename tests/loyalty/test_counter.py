"""At the counter, staff see whom a purchase is for and what a voucher is before they
record or accept anything."""

from __future__ import annotations

import html

from loyalty import ledger, rewards
from tests.admin.test_staff import make_staff, staff_login
from tests.loyalty.helpers import member, reward, tier
from vafa.actor import Actor

HX = {"HX-Request": "true"}


async def as_agent(client, sessionmaker) -> None:
    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302


async def test_purchase_form_shows_who_the_number_belongs_to(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        c = await member(s, name="سارا رضایی")
        await tier(s, 1, 10, "نقره‌ای")
        await ledger.earn(s, customer_id=c.id, points=1_250, key="k")
        from loyalty import tiers

        await tiers.review(s, c.id, tz="Asia/Tehran")
    await as_agent(client, sessionmaker)
    form = await client.get("/admin/purchases")
    assert 'hx-get="/admin/purchases/who"' in form.text
    known = await client.get("/admin/purchases/who", params={"phone": "۰۹۱۲ ۱۲۳ ۴۵۶۷"}, headers=HX)
    text = html.unescape(known.text)
    assert 'data-testid="who"' in known.text
    assert "سارا رضایی" in text and "نقره‌ای" in text and "۱٬۲۵۰" in text
    new = await client.get("/admin/purchases/who", params={"phone": "09351234567"}, headers=HX)
    assert 'data-testid="who-new"' in new.text
    bad = await client.get("/admin/purchases/who", params={"phone": "12"}, headers=HX)
    assert bad.status_code == 200 and "data-testid" not in bad.text


async def test_voucher_form_shows_the_voucher_before_it_is_used(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        c = await member(s)
        await ledger.earn(s, customer_id=c.id, points=100, key="k")
        item = await reward(s, 40, title={"fa": "کیک روز", "en": "Cake"})
        voucher = await rewards.redeem(
            s,
            actor=Actor.customer(c.id),
            customer_id=c.id,
            reward_id=item.id,
            key="v",
            tz="Asia/Tehran",
        )
        code = voucher.code
    await as_agent(client, sessionmaker)
    page = await client.get("/admin/vouchers/check", params={"code": code.lower()}, headers=HX)
    assert 'data-testid="voucher-check"' in page.text and "کیک روز" in page.text
    missing = await client.get("/admin/vouchers/check", params={"code": "ZZZZ"}, headers=HX)
    assert 'data-testid="voucher-check-none"' in missing.text
