"""The counter: a new member joins with the signup bonus and a welcome SMS; every
member hears by SMS what a purchase earned (a club setting, on by default)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from customers.models import Customer
from loyalty import ledger
from loyalty.messages import EARNED, WELCOME_LINK
from loyalty.models import JournalEntry
from loyalty.programme import get_programme
from loyalty.verify import verify
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import make_settings, post_form
from tests.loyalty.helpers import bonus_rule, member, spend_rule
from vafa.i18n import translate
from vafa.i18n.formatting import format_number
from vafa.models import Club, SmsMessage
from vafa.server.app import create_app

PHONE = "+989121234567"
FORM = {"phone": "۰۹۱۲ ۱۲۳ ۴۵۶۷", "amount": "۱٬۲۰۰٬۰۰۰", "receipt": "R-1"}


async def messages(sessionmaker) -> list[SmsMessage]:
    async with sessionmaker() as s:
        return list((await s.scalars(select(SmsMessage).order_by(SmsMessage.id))).all())


async def as_agent(client, sessionmaker) -> None:
    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302


def fa(value: int) -> str:
    return format_number(value, "fa")


async def test_a_member_made_at_the_counter_gets_the_bonus_and_one_welcome(settings, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)  # 120 points for 1,200,000 Rials
        await bonus_rule(s, "signup", 50)
        s.add(Club(id=1, name="کافه\u200cوفا", timezone="Asia/Tehran", default_language="fa"))
    app = create_app(make_settings(settings.database_url, public_url="https://club.example.ir"))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        await as_agent(client, sessionmaker)
        assert (await post_form(client, "/admin/purchases", FORM)).status_code == 302
        # The same receipt again: the same purchase, no second message.
        assert (await post_form(client, "/admin/purchases", FORM)).status_code == 302
    async with sessionmaker() as s:
        customer = await s.scalar(select(Customer).where(Customer.phone == PHONE))
        causes = (
            await s.execute(
                select(JournalEntry.idempotency_key, JournalEntry.amount)
                .where(JournalEntry.customer_id == customer.id)
                .order_by(JournalEntry.id)
            )
        ).all()
        wallet = (await ledger.balances(s, customer.id))["wallet"]
        assert await verify(s) == []
    assert [(key.split(":")[0], points) for key, points in causes] == [
        ("signup", 50),
        ("purchase", 120),
    ]
    assert wallet == 170
    sent = await messages(sessionmaker)
    assert len(sent) == 1 and sent[0].to == PHONE and sent[0].urgent
    assert sent[0].body == translate(
        "fa",
        WELCOME_LINK,
        club="کافه\u200cوفا",
        points=fa(120),
        balance=fa(170),
        link="https://club.example.ir",
    )


async def test_every_purchase_is_texted_in_the_members_language(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
        customer = await member(s, PHONE, language="hy")
        await ledger.earn(s, customer_id=customer.id, points=30, key="gift")
    await as_agent(client, sessionmaker)
    assert (await post_form(client, "/admin/purchases", FORM)).status_code == 302
    sent = await messages(sessionmaker)
    # No club named yet: the message names the product, in Armenian.
    assert [m.body for m in sent] == [
        translate("hy", EARNED, club=translate("hy", "Vafa"), points="120", balance="150")
    ]
    # A purchase too small to earn anything is not worth a message.
    small = {**FORM, "amount": "5000", "receipt": "R-2"}
    assert (await post_form(client, "/admin/purchases", small)).status_code == 302
    assert len(await messages(sessionmaker)) == 1


async def test_the_club_can_stop_purchase_messages_but_not_the_welcome(client, sessionmaker):
    await make_staff(sessionmaker, "manager", "manager")
    assert (await staff_login(client, "manager")).status_code == 302
    page = await client.get("/admin/programme")
    assert 'name="purchase_sms" checked' in page.text  # on by default
    form = {
        "expiry_days": "365",
        "expire_at": "day",
        "return_policy": "debt",
        "reminder_days": "30",
        "tier_window": "rolling",
        "tier_window_days": "365",
        "tier_grace_days": "30",
    }  # the box left unticked
    assert (await post_form(client, "/admin/programme", form)).status_code == 302
    async with sessionmaker() as s, s.begin():
        assert (await get_programme(s)).purchase_sms is False
        await spend_rule(s)
        await member(s, PHONE)
    assert 'name="purchase_sms" checked' not in (await client.get("/admin/programme")).text
    assert (await post_form(client, "/admin/purchases", FORM)).status_code == 302
    assert await messages(sessionmaker) == []
    # A new member is still welcomed.
    newcomer = {**FORM, "phone": "09351112233", "receipt": "R-2"}
    assert (await post_form(client, "/admin/purchases", newcomer)).status_code == 302
    sent = await messages(sessionmaker)
    assert [m.to for m in sent] == ["+989351112233"]
    audit = await client.get("/admin/audit")
    assert translate("fa", "SMS after each purchase") in audit.text
