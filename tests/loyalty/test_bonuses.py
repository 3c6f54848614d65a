"""Signup, profile and referral bonuses through the real app."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from customers.models import Customer
from loyalty import ledger, purchases
from tests.conftest import login_customer, post_form
from tests.loyalty.helpers import bonus_rule, spend_rule
from vafa.actor import Actor
from vafa.server.app import create_app


async def points(sessionmaker, phone: str) -> int:
    async with sessionmaker() as s:
        cid = await s.scalar(select(Customer.id).where(Customer.phone == phone))
    async with sessionmaker() as s:
        return (await ledger.balances(s, cid))["wallet"]


async def test_signup_bonus_once(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await bonus_rule(s, "signup", 50)
    await login_customer(client, sessionmaker)
    await post_form(client, "/logout")
    await login_customer(client, sessionmaker)
    assert await points(sessionmaker, "+989121234567") == 50


async def test_profile_completion_bonus_once(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await bonus_rule(s, "profile", 30)
    await login_customer(client, sessionmaker)
    await post_form(client, "/profile", {"name": "Sara", "language": "fa"})
    assert await points(sessionmaker, "+989121234567") == 0  # not complete yet
    for _ in range(2):
        await post_form(
            client, "/profile", {"name": "Sara", "birthday": "1370/05/12", "language": "fa"}
        )
    assert await points(sessionmaker, "+989121234567") == 30


async def test_referral_pays_both_sides_after_the_friends_first_purchase(
    client, sessionmaker, settings
):
    async with sessionmaker() as s, s.begin():
        await bonus_rule(s, "referral", 100)
        await spend_rule(s)
    await login_customer(client, sessionmaker)  # the inviting member
    async with sessionmaker() as s:
        code = await s.scalar(
            select(Customer.referral_code).where(Customer.phone == "+989121234567")
        )
    assert code and code in (await client.get("/profile")).text  # they can share it
    async with AsyncTestClient(
        app=create_app(settings), base_url="http://testserver.local"
    ) as friend:
        await friend.get(f"/login?ref={code}")
        await login_customer(friend, sessionmaker, phone="09351112233", e164="+989351112233")
    assert await points(sessionmaker, "+989121234567") == 0  # nothing before a purchase
    for receipt in ("A-1", "A-2"):
        async with sessionmaker() as s, s.begin():
            await purchases.record_purchase(
                s,
                phone="+989351112233",
                amount=1_000_000,
                categories=[],
                receipt_number=receipt,
                actor=Actor.staff(1),
                tz="Asia/Tehran",
            )
    assert await points(sessionmaker, "+989121234567") == 100
    assert await points(sessionmaker, "+989351112233") == 100 + 200  # bonus + two purchases
