"""The club's profile: its name and the unit money is shown and typed in (Rial or Toman
in Iran, Dram in Armenia), on every page, form and message, in every language."""

from __future__ import annotations

import asyncio
import html
import re

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from loyalty.models import EarnRule, Purchase
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import make_settings, post_form
from tests.loyalty.helpers import spend_rule
from vafa import club
from vafa.audit import AuditLog
from vafa.i18n import translate
from vafa.models import Club
from vafa.money import Currency, format_money
from vafa.server.app import create_app

PURCHASE = {"phone": "09121234567", "categories": "", "receipt": "R-1"}


async def as_staff(client, sessionmaker, role: str) -> None:
    await make_staff(sessionmaker, role, role)
    assert (await staff_login(client, role)).status_code == 302


def page_text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", response.text))


async def club_in_tomans(client, sessionmaker) -> None:
    """A club saved in Tomans, as the app reads it (the app started before the row)."""
    async with sessionmaker() as s, s.begin():
        s.add(Club(id=1, name="", timezone="Asia/Tehran", default_language="fa", currency="toman"))
    await client.app.state.club.refresh(sessionmaker)


async def stored_club(sessionmaker) -> Club | None:
    async with sessionmaker() as s:
        return await s.get(Club, 1)


async def test_the_owner_chooses_tomans_and_every_page_speaks_them(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)  # a point per 10,000 Rials
    await as_staff(client, sessionmaker, "owner")
    page = await client.get("/admin/club")
    assert page.status_code == 200 and 'value="rial" selected' in page.text  # Iran's default
    saved = await post_form(client, "/admin/club", {"name": " کافه\u200cوفا ", "currency": "toman"})
    assert saved.status_code == 302 and saved.headers["location"] == "/admin/club?saved=1"
    stored = await stored_club(sessionmaker)
    assert (stored.name, stored.currency) == ("کافه\u200cوفا", "toman")  # half-space kept

    counter = await client.get("/admin/purchases")
    assert '<input type="hidden" name="unit" value="toman">' in counter.text
    assert translate("fa", "Tomans") in page_text(counter)
    # 125,000 Tomans typed in Persian digits is 1,250,000 Rials: 125 points.
    response = await post_form(
        client, "/admin/purchases", {**PURCHASE, "amount": "۱۲۵٬۰۰۰", "unit": "toman"}
    )
    assert response.status_code == 302
    async with sessionmaker() as s:
        purchase = await s.scalar(select(Purchase))
    assert (purchase.amount, purchase.points) == (1_250_000, 125)
    shown = format_money(1_250_000, "fa", Currency.TOMAN)
    assert shown == "۱۲۵٬۰۰۰ تومان"
    assert shown in page_text(await client.get("/admin/purchases"))
    record = await client.get(f"/admin/customers/{purchase.customer_id}")
    assert translate(
        "fa", "Purchase of %(amount)s, receipt %(receipt)s", amount=shown, receipt="R-1"
    ) in page_text(record)
    audit = page_text(await client.get("/admin/audit"))
    assert shown in audit and translate("fa", "Toman (ten Rials)") in audit
    # The same pages in English.
    client.cookies.set("vafa_lang", "en")
    english = page_text(await client.get("/admin/purchases"))
    assert "125,000 Tomans" in english and "Rials" not in english


async def test_an_amount_is_read_in_the_unit_its_form_showed(client, sessionmaker):
    """A cashier's page opened before the owner switched units still means what it said."""
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await club_in_tomans(client, sessionmaker)
    await as_staff(client, sessionmaker, "owner")
    for receipt, unit, stored in (("R-1", "rial", 1_250_000), ("R-2", "toman", 12_500_000)):
        response = await post_form(
            client,
            "/admin/purchases",
            {**PURCHASE, "receipt": receipt, "amount": "1250000", "unit": unit},
        )
        assert response.status_code == 302
        async with sessionmaker() as s:
            amount = await s.scalar(
                select(Purchase.amount).where(Purchase.receipt_number == receipt)
            )
        assert amount == stored, unit
    # A tenth of a Toman is a Rial; a tenth of a Rial is refused, with the unit's limit.
    response = await post_form(
        client, "/admin/purchases", {**PURCHASE, "receipt": "R-3", "amount": "10.5", "unit": "rial"}
    )
    assert response.status_code == 400
    assert translate(
        "fa",
        "%(field)s: enter an amount more than zero and at most %(max)s.",
        field=translate("fa", "Amount"),
        max="۱٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰",
    ) in page_text(response)


async def test_rules_are_written_and_shown_in_the_clubs_unit(client, sessionmaker):
    await club_in_tomans(client, sessionmaker)
    await as_staff(client, sessionmaker, "owner")
    form = {
        "name": "پایه",
        "kind": "spend",
        "rials_per_point": "۱٬۰۰۰",
        "unit": "toman",
        "active": "on",
    }
    assert (await post_form(client, "/admin/rules", form)).status_code == 302
    async with sessionmaker() as s:
        rule = await s.scalar(select(EarnRule))
    assert rule.rials_per_point == 10_000
    listing = page_text(await client.get("/admin/rules"))
    assert translate("fa", "One point for every %(amount)s", amount="۱٬۰۰۰ تومان") in listing
    # The edit form offers the amount in Tomans, as it was typed.
    assert re.search(
        r'name="rials_per_point"[^>]*value="۱٬۰۰۰"', (await client.get("/admin/rules")).text
    )
    preview = await post_form(
        client,
        "/admin/rules/preview",
        {"kind": "spend", "rials_per_point": "1000", "sample_amount": "25000", "unit": "toman"},
    )
    assert 'data-points="25"' in preview.text
    assert "۲۵٬۰۰۰ تومان" in page_text(preview)


async def test_only_managers_change_the_club_and_bad_input_changes_nothing(client, sessionmaker):
    await as_staff(client, sessionmaker, "analyst")
    assert (await client.get("/admin/club")).status_code == 200  # may look
    refused = await post_form(client, "/admin/club", {"name": "x", "currency": "toman"})
    assert refused.status_code == 403
    await as_staff(client, sessionmaker, "owner")
    for form, msgid, values in (
        (
            {"name": "x", "currency": "dollar"},
            "%(field)s: choose one of the options.",
            {"field": translate("fa", "Money is shown in")},
        ),
        (
            {"name": "x" * 121, "currency": "toman"},
            "%(field)s: at most %(max)s characters.",
            {"field": translate("fa", "Club name"), "max": "۱۲۰"},
        ),
    ):
        response = await post_form(client, "/admin/club", form)
        assert response.status_code == 400
        assert translate("fa", msgid, **values) in page_text(response)
    assert await stored_club(sessionmaker) is None
    async with sessionmaker() as s:
        assert (
            await s.scalars(select(AuditLog.action).where(AuditLog.object_type == "club"))
        ).all() == []


async def test_an_armenian_club_counts_in_drams(sessionmaker, settings):
    armenian = make_settings(settings.database_url, timezone="Asia/Yerevan")
    async with sessionmaker() as s, s.begin():
        await spend_rule(s, rials_per_point=100)
    async with AsyncTestClient(
        app=create_app(armenian), base_url="http://testserver.local"
    ) as client:
        await as_staff(client, sessionmaker, "owner")
        client.cookies.set("vafa_lang", "hy")
        counter = await client.get("/admin/purchases")
        assert '<input type="hidden" name="unit" value="dram">' in counter.text
        response = await post_form(client, "/admin/purchases", {**PURCHASE, "amount": "12 500"})
        assert response.status_code == 302
        assert "12\u00a0500 դրամ" in page_text(await client.get("/admin/purchases"))
    async with sessionmaker() as s:
        assert await s.scalar(select(Purchase.points)) == 125


async def test_other_processes_follow_a_change_within_seconds(settings, sessionmaker, monkeypatch):
    monkeypatch.setattr(club, "REFRESH_SECONDS", 0.05)
    async with (
        AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as first,
        AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as second,
    ):
        await as_staff(first, sessionmaker, "owner")
        assert (await staff_login(second, "owner")).status_code == 302
        assert 'value="rial"' in (await second.get("/admin/purchases")).text
        saved = await post_form(first, "/admin/club", {"name": "", "currency": "toman"})
        assert saved.status_code == 302
        for _ in range(100):
            if 'name="unit" value="toman"' in (await second.get("/admin/purchases")).text:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the second process still shows Rials")
