"""The member's points pages, redemption through the real app, and 200 redemptions
at once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlalchemy import func, select

from customers.models import Customer
from loyalty import ledger
from loyalty.models import Voucher
from loyalty.verify import verify
from tests.conftest import login_customer, post_form
from tests.loyalty.helpers import reward, tier
from vafa.database import utcnow

PHONE = "+989121234567"


async def member_id(sessionmaker) -> int:
    async with sessionmaker() as s:
        return await s.scalar(select(Customer.id).where(Customer.phone == PHONE))


async def give(sessionmaker, points: int, *, key: str = "gift", **kwargs) -> None:
    async with sessionmaker() as s, s.begin():
        await ledger.earn(
            s, customer_id=await member_id(sessionmaker), points=points, key=key, **kwargs
        )


async def new_reward(sessionmaker, cost: int, **fields) -> int:
    async with sessionmaker() as s, s.begin():
        return (await reward(s, cost, **fields)).id


async def redeem_key(client, reward_id: int) -> str:
    page = await client.get(f"/rewards/{reward_id}")
    assert page.status_code == 200, page.text
    return re.search(r'name="key" value="([^"]+)"', page.text).group(1)


async def test_home_shows_points_pending_expiry_tier_and_affordable_rewards(client, sessionmaker):
    await login_customer(client, sessionmaker)
    async with sessionmaker() as s, s.begin():
        await tier(s, 1, 100, "نقره‌ای")
        await tier(s, 2, 2000, "طلایی")
    await give(sessionmaker, 1250, expires_at=utcnow() + timedelta(days=40))
    await give(sessionmaker, 300, key="later", available_at=utcnow() + timedelta(days=14))
    await new_reward(sessionmaker, 1000, title={"fa": "قهوه رایگان", "en": "Free coffee"})
    await new_reward(sessionmaker, 5000, title={"fa": "سفر", "en": "Trip"})
    from loyalty import tiers

    async with sessionmaker() as s, s.begin():
        await tiers.review(s, await member_id(sessionmaker), tz="Asia/Tehran")
    page = (await client.get("/")).text
    assert "۱٬۲۵۰" in page  # available, Persian digits
    assert "۳۰۰" in page  # pending
    assert "نقره‌ای" in page and "طلایی" in page  # tier and the next one
    assert "قهوه رایگان" in page and "سفر" not in page  # only what they can afford
    lots = (await client.get("/points")).text
    assert "۱٬۲۵۰" in lots and "۳۰۰" in lots


async def test_member_redeems_and_sees_voucher_and_lower_balance(client, sessionmaker):
    await login_customer(client, sessionmaker)
    await give(sessionmaker, 120)
    reward_id = await new_reward(sessionmaker, 100, stock=3)
    key = await redeem_key(client, reward_id)
    response = await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})
    assert response.status_code == 302
    location = response.headers["location"]
    # A double submit of the same form gives the same voucher and spends once.
    again = await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})
    assert again.headers["location"] == location
    page = await client.get(location)
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    assert "۲۰" in page.text  # balance now 20
    cid = await member_id(sessionmaker)
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Voucher)) == 1
        assert (await ledger.balances(s, cid))["wallet"] == 20
    history = (await client.get("/points/history?kind=spend")).text
    assert "۱۰۰" in history


async def test_not_enough_points_is_a_clear_answer(client, sessionmaker):
    await login_customer(client, sessionmaker)
    await give(sessionmaker, 50)
    reward_id = await new_reward(sessionmaker, 100)
    key = "k" * 20
    response = await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})
    assert response.status_code == 409 and "امتیاز کافی" in response.text
    cid = await member_id(sessionmaker)
    async with sessionmaker() as s:
        assert (await ledger.balances(s, cid))["wallet"] == 50


async def test_vouchers_of_other_members_are_not_found(client, sessionmaker, settings):
    from litestar.testing import AsyncTestClient

    from vafa.server.app import create_app

    await login_customer(client, sessionmaker)
    await give(sessionmaker, 100)
    reward_id = await new_reward(sessionmaker, 100)
    key = await redeem_key(client, reward_id)
    location = (await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})).headers[
        "location"
    ]
    async with AsyncTestClient(
        app=create_app(settings), base_url="http://testserver.local"
    ) as other:
        await login_customer(other, sessionmaker, phone="09351112233", e164="+989351112233")
        assert (await other.get(location)).status_code == 404
        cancel = await post_form(other, f"{location}/cancel")
        assert cancel.status_code == 404
    async with sessionmaker() as s:
        assert (await s.scalar(select(Voucher))).status == "issued"


async def test_member_cancels_a_voucher_and_gets_points_back(client, sessionmaker):
    await login_customer(client, sessionmaker)
    await give(sessionmaker, 100)
    reward_id = await new_reward(sessionmaker, 100)
    key = await redeem_key(client, reward_id)
    location = (await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})).headers[
        "location"
    ]
    assert (await post_form(client, f"{location}/cancel")).status_code == 302
    cid = await member_id(sessionmaker)
    async with sessionmaker() as s:
        assert (await ledger.balances(s, cid))["wallet"] == 100
        assert (await s.scalar(select(Voucher))).status == "cancelled"


async def test_two_hundred_simultaneous_redemptions(client, sessionmaker, migrated):
    """100 points, a 10-point reward, 200 requests at once through the real app:
    exactly 10 vouchers, the rest told 'not enough points', balance 0, books verified."""
    await login_customer(client, sessionmaker)
    await give(sessionmaker, 100)
    reward_id = await new_reward(sessionmaker, 10)
    token = await redeem_key(client, reward_id)

    async def attempt(i: int):
        return await post_form(client, f"/rewards/{reward_id}/redeem", {"key": f"{token}-{i:03d}"})

    responses = await asyncio.gather(*(attempt(i) for i in range(200)))
    codes = [r.status_code for r in responses]
    assert codes.count(302) == 10, codes
    refused = [r for r in responses if r.status_code != 302]
    assert len(refused) == 190
    assert all(r.status_code == 409 and "امتیاز کافی" in r.text for r in refused)
    cid = await member_id(sessionmaker)
    async with sessionmaker() as s:
        assert (await ledger.balances(s, cid))["wallet"] == 0
        assert await s.scalar(select(func.count()).select_from(Voucher)) == 10
        assert await verify(s) == []
    import os
    import subprocess
    import sys

    from vafa.settings import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "vafa.server.cli", "ledger", "verify"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": migrated, "VAFA_SECRET_KEY": "x" * 40},
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


async def test_history_shows_points_arriving_as_no_gain_and_a_spend_as_a_loss(client, sessionmaker):
    await login_customer(client, sessionmaker)
    await give(sessionmaker, 300, key="later", available_at=utcnow() + timedelta(days=1))
    async with sessionmaker() as s, s.begin():
        await ledger.release_due(s, now=utcnow() + timedelta(days=2))
    async with sessionmaker() as s, s.begin():
        await ledger.spend(s, customer_id=await member_id(sessionmaker), points=40, key="tea")
    page = (await client.get("/points/history")).text
    amounts = re.findall(r'<div class="fw-bold ([a-z-]+)" dir="ltr">([+−]?)([۰-۹٬]+)</div>', page)
    # Newest first: the spend, the points arriving, the earning.
    assert amounts == [
        ("text-danger", "−", "۴۰"),
        ("text-secondary", "", "۳۰۰"),
        ("text-success", "+", "۳۰۰"),
    ]
