"""Staff set up lines and codes: the editor says what a reply costs in SMS parts, an
edit applies to the next message, each code's numbers by day, and the contacts."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re

import pytest
from sqlalchemy import select

from customers.models import Customer
from sms_codes import queries
from sms_codes.models import Code, Coupon, Keyword, Line
from sms_codes.queries import ContactFilter
from sms_codes.text import sms_parts
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import make_settings, post_form
from tests.sms_codes.test_inbound import CARD, replies, set_up_line, text
from tests.vafa.test_concurrency import live_client
from vafa.audit import AuditLog
from vafa.i18n import translate
from vafa.i18n.formatting import format_number
from vafa.server.app import create_app

CODE = {
    "name": "کارت",
    "action": "card",
    "keywords": "سلام، Hello ,  ۲۰۰",
    "reply_fa": "کافه وفا؛ {name} عزیز خوش آمدید. امتیاز شما {balance} است. نشانی: خیابان ولیعصر، پلاک ۱۲",
    "reply_en": "Cafe Vafa, Valiasr St 12",
    "active": "on",
}


async def as_staff(client, sessionmaker, role: str) -> None:
    await make_staff(sessionmaker, role, role)
    assert (await staff_login(client, role)).status_code == 302


def page_text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


async def test_a_manager_sets_up_a_line_and_a_code_and_sees_its_cost(client, sessionmaker):
    await as_staff(client, sessionmaker, "manager")
    response = await post_form(
        client, "/admin/sms-codes/lines", {"number": "۱۰۰۰۲۰۰۰", "name": "خط دوم"}
    )
    assert response.status_code == 302
    async with sessionmaker() as s:
        line = await s.scalar(select(Line))
    assert line.number == "10002000"
    page = await client.get(f"/admin/sms-codes/codes/new?line={line.id}")
    assert page.status_code == 200 and 'data-testid="code-form"' in page.text
    response = await post_form(client, f"/admin/sms-codes/codes?line={line.id}", CODE)
    assert response.status_code == 302, page_text(response)
    async with sessionmaker() as s:
        code = await s.scalar(select(Code))
        keys = sorted((await s.scalars(select(Keyword.key))).all())
    assert keys == ["200", "hello", "سلام"] and code.replies["fa"] == CODE["reply_fa"]
    saved = await client.get(response.headers["location"])
    # Without JavaScript the page says what the reply costs, placeholders filled for a
    # sample member: Persian is UCS-2, 70 characters in one SMS, 67 per part beyond.
    filled = CODE["reply_fa"].replace("{name}", "فاطمه‌السادات").replace("{balance}", "۱۲٬۵۰۰")
    cost = sms_parts(filled)
    assert cost.unicode and cost.parts == 2
    expected = translate(
        "fa",
        "%(chars)s characters, %(parts)s SMS",
        chars=format_number(cost.characters, "fa"),
        parts=format_number(2, "fa"),
    )
    assert re.search(r'data-testid="count-fa">([^<]*)<', saved.text).group(1) == expected
    english = re.search(r'data-testid="count-en">([^<]*)<', saved.text).group(1)
    assert english == translate("fa", "%(chars)s characters, %(parts)s SMS", chars="۲۴", parts="۱")
    async with sessionmaker() as s:
        actions = (await s.scalars(select(AuditLog.action).order_by(AuditLog.id))).all()
    assert [a for a in actions if a.startswith("sms_")] == ["sms_line.create", "sms_code.create"]
    # Advertising goes out ending with "\nلغو۱۱": the count includes it.
    marketing = {**CODE, "marketing": "on"}
    saved = await post_form(client, response.headers["location"].split("?")[0], marketing)
    page = await client.get(saved.headers["location"])
    footer = sms_parts(filled + "\nلغو۱۱")
    assert re.search(r'data-testid="count-fa">([^<]*)<', page.text).group(1) == translate(
        "fa",
        "%(chars)s characters, %(parts)s SMS",
        chars=format_number(footer.characters, "fa"),
        parts=format_number(footer.parts, "fa"),
    )
    assert footer.characters == cost.characters + 6


async def test_an_edit_applies_to_the_next_message(client, sessionmaker):
    await set_up_line(sessionmaker)
    await text(client, "100")
    async with sessionmaker() as s:
        code = await s.scalar(select(Code).where(Code.name == "card"))
    await as_staff(client, sessionmaker, "manager")
    form = {
        "name": "card",
        "action": "card",
        "keywords": "100, کارت",
        "reply_fa": "نشانی تازه: خیابان انقلاب",
        "active": "on",
    }
    assert (await post_form(client, f"/admin/sms-codes/codes/{code.id}", form)).status_code == 302
    await text(client, "کارت")
    assert await replies(sessionmaker) == [CARD["fa"], "نشانی تازه: خیابان انقلاب"]


@pytest.mark.parametrize(
    ("changes", "msgid", "values"),
    [
        (
            {"keywords": "100"},
            "Another code on this line already answers to «%(word)s».",
            {"word": "100"},
        ),
        (
            {"keywords": "لغو"},
            "«%(word)s» is kept for opting out and in (11, 12, «لغو»).",
            {"word": "لغو"},
        ),
        ({"keywords": " ، "}, "Give the code at least one keyword.", {}),
        ({"reply_fa": "", "reply_en": ""}, "Write the reply in at least one language.", {}),
        ({"action": "coupon"}, "%(field)s: please fill this in.", {"field": "Coupons to give"}),
        ({"action": "lottery"}, "%(field)s: choose one of the options.", {"field": "What it does"}),
    ],
)
async def test_a_bad_code_is_refused_and_changes_nothing(
    client, sessionmaker, changes, msgid, values
):
    line_id = await set_up_line(sessionmaker)
    await as_staff(client, sessionmaker, "manager")
    response = await post_form(
        client, f"/admin/sms-codes/codes?line={line_id}", {**CODE, **changes}
    )
    assert response.status_code == 400
    shown = {k: translate("fa", v) if k == "field" else v for k, v in values.items()}
    assert translate("fa", msgid, **shown) in page_text(response)
    async with sessionmaker() as s:
        assert len((await s.scalars(select(Code))).all()) == 4


async def test_analysts_read_and_agents_do_not_change_codes(client, sessionmaker):
    line_id = await set_up_line(sessionmaker)
    await as_staff(client, sessionmaker, "analyst")
    assert (await client.get("/admin/sms-codes")).status_code == 200
    assert (
        await post_form(client, f"/admin/sms-codes/codes?line={line_id}", CODE)
    ).status_code == 403
    await as_staff(client, sessionmaker, "agent")
    assert (await client.get("/admin/sms-codes")).status_code == 403
    assert (await client.get("/admin/sms-contacts")).status_code == 200
    assert (await client.get("/admin/sms-codes/codes/999999")).status_code == 403


async def test_a_codes_numbers_by_day_in_a_chart_and_a_table(client, sessionmaker):
    await set_up_line(sessionmaker)
    await text(client, "تخفیف", "09120000001")
    await text(client, "تخفیف", "09120000002")
    await text(client, "تخفیف", "09120000002")  # the same number: one coupon
    await text(client, "عضویت", "09120000003")
    async with sessionmaker() as s:
        coupon = await s.scalar(select(Code).where(Code.name == "coupon"))
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get(f"/admin/sms-codes/codes/{coupon.id}")
    assert page.status_code == 200
    totals = page_text(page)
    for label, value in (("Messages", "۳"), ("Different senders", "۲"), ("Coupons given", "۲")):
        assert re.search(f"{translate('fa', label)}:\\s*{value}", totals), label
    chart = json.loads(html.unescape(re.search(r"data-chart='([^']+)'", page.text).group(1)))
    assert chart["locale"] == "fa-IR" and len(chart["labels"]) == 30
    assert re.fullmatch("[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2}", chart["labels"][-1])  # Solar Hijri
    assert chart["series"][0]["values"][-1] == 3 and chart["series"][2]["values"][-1] == 2
    table = re.search(r'data-testid="stats-table">(.*?)</table>', page.text, re.S).group(1)
    assert chart["labels"][-1] in table and "2026" not in table


async def test_contacts_show_members_and_who_opted_out(client, sessionmaker):
    await set_up_line(sessionmaker)
    await text(client, "عضویت", "09120000001")
    await text(client, "11", "09120000002")
    await as_staff(client, sessionmaker, "agent")
    page = await client.get("/admin/sms-contacts")
    assert page.status_code == 200
    assert page.text.count('data-testid="opted-out"') == 1
    assert translate("fa", "Member") in page_text(page)
    shown = page_text(page)
    assert "۰۹۱۲ ۰۰۰ ۰۰۰۱" in shown and "۰۹۱۲ ۰۰۰ ۰۰۰۲" in shown  # both who texted the line
    # The menu marks this page, and only this one (not the SMS log, /admin/sms).
    assert re.findall(r'href="([^"]+)" aria-current="page"', page.text) == ["/admin/sms-contacts"]
    home = await client.get("/admin/")
    assert re.findall(r'href="([^"]+)" aria-current="page"', home.text) == ["/admin/"]


async def test_contacts_are_filtered_and_exported_for_a_campaign(client, sessionmaker):
    """Filter by number (Persian digits), by the code texted, membership and opt-out;
    the CSV carries the same rows, opens in a spreadsheet (BOM) and runs no formula."""
    await set_up_line(sessionmaker)
    await text(client, "عضویت", "09120000001")  # a member
    async with sessionmaker() as s, s.begin():
        member = await s.scalar(select(Customer).where(Customer.phone == "+989120000001"))
        member.name = "=HYPERLINK(\"http://x\")"
    await text(client, "100", "09120000002")
    await text(client, "تخفیف", "09120000002")
    await text(client, "100", "09350000003")
    await text(client, "11", "09350000003")  # opted out
    async with sessionmaker() as s:
        card = await s.scalar(select(Code).where(Code.name == "card"))
    await as_staff(client, sessionmaker, "manager")

    async def shown(**params) -> tuple[str, set[str]]:
        page = await client.get("/admin/sms-contacts", params=params)
        assert page.status_code == 200
        found = set(re.findall(r"۰۹[۰-۹]{2} [۰-۹]{3} [۰-۹]{4}", page_text(page)))
        return page_text(page), found

    everyone = {"۰۹۱۲ ۰۰۰ ۰۰۰۱", "۰۹۱۲ ۰۰۰ ۰۰۰۲", "۰۹۳۵ ۰۰۰ ۰۰۰۳"}
    assert (await shown())[1] == everyone
    assert (await shown(phone="۰۹۳۵"))[1] == {"۰۹۳۵ ۰۰۰ ۰۰۰۳"}
    assert (await shown(code=str(card.id)))[1] == {"۰۹۱۲ ۰۰۰ ۰۰۰۲", "۰۹۳۵ ۰۰۰ ۰۰۰۳"}
    assert (await shown(membership="members"))[1] == {"۰۹۱۲ ۰۰۰ ۰۰۰۱"}
    assert (await shown(membership="guests", reachable="on"))[1] == {"۰۹۱۲ ۰۰۰ ۰۰۰۲"}
    text_, found = await shown(code="x", membership="nobody", page="abc")  # unreadable: ignored
    assert found == everyone and translate("fa", "%(count)s contacts", count="۳") in text_

    export = await client.get(
        "/admin/sms-contacts/export.csv", params={"membership": "guests", "reachable": "on"}
    )
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][0] == translate("fa", "Mobile number")
    assert [row[0] for row in rows[1:]] == ["+989120000002"]
    assert rows[1][5] == "card، coupon"
    assert re.fullmatch(r"14\d\d-\d\d-\d\d \d\d:\d\d", rows[1][2])  # Solar Hijri
    every = await client.get("/admin/sms-contacts/export.csv")
    rows = list(csv.reader(io.StringIO(every.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    by_phone = {row[0]: row for row in rows[1:]}
    assert by_phone["+989120000001"][1] == "'=HYPERLINK(\"http://x\")"  # text, never run
    assert by_phone["+989350000003"][6] == translate("fa", "Yes")
    async with sessionmaker() as s:
        exports = (
            await s.scalars(select(AuditLog).where(AuditLog.action == "sms_contacts.export"))
        ).all()
    assert [e.details["contacts"] for e in exports] == [1, 3]
    # What a campaign will send to: every number that did not opt out.
    async with sessionmaker() as s:
        reachable = (await s.scalars(queries.audience(ContactFilter(reachable=True)))).all()
    assert reachable == ["+989120000001", "+989120000002"]
    # An agent at the counter reads the list but takes no list of numbers away.
    await as_staff(client, sessionmaker, "agent")
    assert 'data-testid="export"' not in (await client.get("/admin/sms-contacts")).text
    assert (await client.get("/admin/sms-contacts/export.csv")).status_code == 403


async def test_a_coupon_is_accepted_at_the_counter_once(client, sessionmaker, settings):
    await set_up_line(sessionmaker)
    await text(client, "تخفیف")
    async with sessionmaker() as s:
        coupon = await s.scalar(select(Coupon))
        code_id = coupon.code_id
    await as_staff(client, sessionmaker, "agent")
    # Typed in lower case with Persian digits and a space, as a cashier might.
    typed = coupon.coupon.lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    typed = f"{typed[:4]} {typed[4:]}"
    response = await post_form(client, "/admin/sms-coupons/use", {"code": typed})
    assert response.status_code == 302
    page = await client.get(response.headers["location"])
    assert 'data-testid="coupon-used"' in page.text
    again = await post_form(client, "/admin/sms-coupons/use", {"code": coupon.coupon})
    assert again.status_code == 409
    assert translate("fa", "This coupon was already used.") in page_text(again)
    unknown = await post_form(client, "/admin/sms-coupons/use", {"code": "NOPE0000"})
    assert unknown.status_code == 400
    # The code's numbers count it as used.
    await as_staff(client, sessionmaker, "analyst")
    stats = page_text(await client.get(f"/admin/sms-codes/codes/{code_id}"))
    assert re.search(f"{translate('fa', 'Coupons used')}:\\s*۱", stats)


async def test_two_tills_accepting_one_coupon_at_once_accept_it_once(sessionmaker, settings):
    await set_up_line(sessionmaker)
    async with sessionmaker() as s, s.begin():
        code = await s.scalar(select(Code).where(Code.name == "coupon"))
        s.add(Coupon(code_id=code.id, phone="+989120000001", coupon="ABCD2345"))
    await make_staff(sessionmaker, "agent", "agent")
    app = create_app(make_settings(settings.database_url))
    async with live_client(app, 10) as clients:
        for c in clients:
            assert (await staff_login(c, "agent")).status_code == 302
        answers = await asyncio.gather(
            *(post_form(c, "/admin/sms-coupons/use", {"code": "abcd2345"}) for c in clients)
        )
    assert sorted(a.status_code for a in answers) == [302] + [409] * 9
    async with sessionmaker() as s:
        uses = (
            await s.scalars(select(AuditLog).where(AuditLog.action == "sms_coupon.use"))
        ).all()
    assert len(uses) == 1
