"""Messages go in the member's saved language; the profile keeps the language the
member is browsing in."""

from __future__ import annotations

import re

from sqlalchemy import select

from customers.models import Customer
from tests.conftest import login_customer, post_form
from vafa.models import SmsMessage

PHONE = "+989121234567"


async def test_login_code_comes_in_the_members_saved_language(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        s.add(Customer(phone=PHONE, language="hy"))
    client.cookies.set("vafa_lang", "fa")  # browsing in Persian on a new device
    response = await post_form(client, "/login", {"phone": "09121234567"})
    assert response.status_code == 302
    async with sessionmaker() as s:
        body = await s.scalar(select(SmsMessage.body).where(SmsMessage.to == PHONE))
    assert re.search("[\u0531-\u0587]", body), body  # Armenian letters
    assert not re.search("[\u0600-\u06ff]", body), body
    # A number the club does not know yet gets the page's language.
    await post_form(client, "/login", {"phone": "09351234567"})
    async with sessionmaker() as s:
        other = await s.scalar(select(SmsMessage.body).where(SmsMessage.to == "+989351234567"))
    assert re.search("[\u0600-\u06ff]", other), other


async def test_saving_the_profile_keeps_the_language_being_browsed(client, sessionmaker):
    await login_customer(client, sessionmaker)  # saved language: fa
    client.cookies.set("vafa_lang", "en")
    page = await client.get("/profile")
    chosen = re.search(r'<option value="(\w+)"[^>]*selected', page.text).group(1)
    assert chosen == "en"
    response = await post_form(client, "/profile", {"name": "Sara", "language": chosen})
    assert response.status_code == 302
    assert '<html lang="en"' in (await client.get("/profile")).text
    async with sessionmaker() as s:
        assert (await s.scalar(select(Customer))).language == "en"
