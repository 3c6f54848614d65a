"""The customer record: search by number in any digits or by name, one timeline fed by
every domain, staff notes with permissions, consent history, names stored as typed,
and refusals that leave nothing behind."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from customers.models import ConsentChange, Customer, CustomerNote
from loyalty import ledger, purchases
from loyalty.programme import get_programme
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import login_customer, post_form
from tests.loyalty.helpers import spend_rule
from vafa.actor import Actor
from vafa.audit import AuditLog
from vafa.errors import UserError

PHONE = "+989121234567"
TZ = "Asia/Tehran"


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def customer_id(sessionmaker, phone: str = PHONE) -> int:
    async with sessionmaker() as s:
        return await s.scalar(select(Customer.id).where(Customer.phone == phone))


async def buy(sessionmaker, receipt: str, amount: int = 1_200_000, phone: str = PHONE) -> None:
    async with sessionmaker() as s, s.begin():
        await purchases.record_purchase(
            s,
            actor=Actor.staff(1),
            phone=phone,
            amount=amount,
            categories=[],
            receipt_number=receipt,
            tz=TZ,
        )


async def as_staff(client, sessionmaker, role: str) -> None:
    await make_staff(sessionmaker, role, role)
    assert (await staff_login(client, role)).status_code == 302


async def test_profile_name_is_stored_as_typed_and_found_folded(client, sessionmaker):
    await login_customer(client, sessionmaker)
    typed = "مهدي  نیک‌نام"  # Arabic yeh, a double space, a half-space (ZWNJ)
    response = await post_form(client, "/profile", {"name": typed, "language": "fa"})
    assert response.status_code == 302
    async with sessionmaker() as s:
        customer = await s.scalar(select(Customer))
    assert customer.name == "مهدی نیک\u200cنام"  # one yeh, one space, the half-space kept
    assert customer.name_key == "مهدی نیکنام"
    await as_staff(client, sessionmaker, "agent")
    for query in ("نیكنام", "نیک‌نام", "مهدي"):  # Arabic kaf, ZWNJ, Arabic yeh
        page = await client.get("/admin/customers", params={"q": query})
        assert f'href="/admin/customers/{customer.id}"' in page.text, query


@pytest.mark.parametrize(
    "typed", ["۰۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧", "+98 912 123 4567", "۱۲۳۴۵۶۷", "4567", "0912-123"]
)
async def test_search_by_phone_in_any_digits_and_format(client, sessionmaker, typed):
    await buy(sessionmaker, "a1")
    await buy(sessionmaker, "b1", phone="+989359876543")
    wanted, other = await customer_id(sessionmaker), await customer_id(sessionmaker, "+989359876543")
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get("/admin/customers", params={"q": typed})
    assert page.status_code == 200
    assert f'href="/admin/customers/{wanted}"' in page.text
    assert f'href="/admin/customers/{other}"' not in page.text


async def test_search_pages_through_customers(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        for i in range(35):
            s.add(Customer(phone=f"+98912000{i:04d}", language="fa"))
    await as_staff(client, sessionmaker, "analyst")
    first = await client.get("/admin/customers", params={"q": "0912000"})
    second = await client.get("/admin/customers", params={"q": "0912000", "page": "2"})
    ids = lambda page: set(re.findall(r'href="/admin/customers/(\d+)"', page.text))  # noqa: E731
    assert len(ids(first)) == 30 and len(ids(second)) == 5
    assert not ids(first) & ids(second)
    assert "page=2" in first.text and "page=2" not in second.text
    nothing = await client.get("/admin/customers", params={"q": "۹۹۹۹۹۹"})
    assert 'data-testid="no-customers"' in nothing.text


async def test_timeline_holds_every_domains_items_newest_first(client, sessionmaker):
    await login_customer(client, sessionmaker)  # a login
    await post_form(
        client, "/profile", {"name": "Sara", "language": "fa", "marketing_consent": "on"}
    )  # a consent change
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await buy(sessionmaker, "R-100")  # a purchase: 120 points
    cid = await customer_id(sessionmaker)
    async with sessionmaker() as s, s.begin():
        await ledger.earn(
            s, customer_id=cid, points=30, key="gift", kind="adjust", memo="جبران تاخیر"
        )
    await as_staff(client, sessionmaker, "agent")
    note = await post_form(client, f"/admin/customers/{cid}/notes", {"body": "تماس گرفت"})
    assert note.status_code == 302
    page = await client.get(f"/admin/customers/{cid}")
    text = html.unescape(page.text)
    assert '<html lang="fa" dir="rtl">' in page.text
    kinds = re.findall(r'data-kind="([a-z-]+)"', page.text)
    # The purchase and the SMS telling the member what it earned, a moment apart.
    assert kinds[:4] == ["note", "points-adjust", "sms", "purchase"], kinds
    assert {"login", "consent", "sms"} <= set(kinds)
    assert "R-100" in text and "۱۲۰" in text and "جبران تاخیر" in text and "تماس گرفت" in text
    assert re.search("۱۴[۰-۹]{2}", text)  # Solar Hijri years in Persian digits
    assert "2026" not in text and "2027" not in text
    # Login codes never show on staff pages, not even in the timeline.
    assert not re.search(r"[0-9۰-۹]{6}", re.sub(r"<[^>]+>", "", page.text).replace("۰۹۱۲", ""))


async def test_timeline_pages_back_in_time(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
        (await get_programme(s)).purchase_sms = False  # one item per purchase
    for n in range(35):
        await buy(sessionmaker, f"R-{n}")
    cid = await customer_id(sessionmaker)
    await as_staff(client, sessionmaker, "analyst")
    first = await client.get(f"/admin/customers/{cid}")
    receipts = lambda page: re.findall(r"R-(\d+)", html.unescape(page.text))  # noqa: E731
    assert len(receipts(first)) == 30 and receipts(first)[0] == "34"
    more = re.search(r'hx-get="(\?before=[^"]+)"', first.text).group(1)
    older = await client.get(f"/admin/customers/{cid}{html.unescape(more)}", headers={"HX-Request": "true"})
    assert older.status_code == 200 and "<html" not in older.text  # a fragment for htmx
    assert sorted(int(r) for r in receipts(older)) == list(range(5))


async def test_notes_need_permission_and_a_refused_note_leaves_nothing(client, sessionmaker):
    await buy(sessionmaker, "a1")
    cid = await customer_id(sessionmaker)
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get(f"/admin/customers/{cid}")
    assert 'data-testid="note-form"' not in page.text  # the template asks can(...)
    refused = await post_form(client, f"/admin/customers/{cid}/notes", {"body": "hello"})
    assert refused.status_code == 403
    await as_staff(client, sessionmaker, "agent")
    empty = await post_form(client, f"/admin/customers/{cid}/notes", {"body": "   "})
    assert empty.status_code == 400 and 'role="alert"' in empty.text
    missing = await post_form(client, "/admin/customers/999999/notes", {"body": "hello"})
    assert missing.status_code == 404
    assert await count(sessionmaker, CustomerNote) == 0
    assert await count(sessionmaker, AuditLog, AuditLog.action == "customer.note") == 0
    assert (await post_form(client, f"/admin/customers/{cid}/notes", {"body": "ok"})).status_code == 302
    async with sessionmaker() as s:
        audit = await s.scalar(select(AuditLog).where(AuditLog.action == "customer.note"))
    assert audit.actor_kind == "staff" and audit.object_id == str(cid)


async def test_consent_changes_are_kept_as_history(client, sessionmaker):
    await login_customer(client, sessionmaker)
    for consent in ("on", "", "on"):
        data = {"name": "", "language": "fa", **({"marketing_consent": "on"} if consent else {})}
        assert (await post_form(client, "/profile", data)).status_code == 302
    async with sessionmaker() as s:
        changes = (await s.scalars(select(ConsentChange).order_by(ConsentChange.id))).all()
    assert [c.given for c in changes] == [True, False, True]
    assert {c.source for c in changes} == {"portal"}


async def test_a_conflicting_receipt_creates_no_member(sessionmaker):
    await buy(sessionmaker, "R-1")
    async with sessionmaker() as s, s.begin():
        with pytest.raises(UserError):
            await purchases.record_purchase(
                s,
                actor=Actor.staff(1),
                phone="+989350000000",
                amount=5,
                categories=[],
                receipt_number="R-1",
                tz=TZ,
            )
        # Refused before anything was written, in the same transaction.
        assert await s.scalar(select(func.count()).select_from(Customer)) == 1


async def test_a_refusal_is_rolled_back_and_a_success_committed(client, sessionmaker):
    """The request's session commits below 400 only: a refused purchase form keeps
    nothing, a recorded one is there."""
    await buy(sessionmaker, "R-1")
    await as_staff(client, sessionmaker, "agent")
    form = {"phone": "09350000000", "amount": "5", "receipt": "R-1"}
    refused = await post_form(client, "/admin/purchases", form)
    assert refused.status_code == 400
    assert await count(sessionmaker, Customer) == 1
    ok = await post_form(client, "/admin/purchases", {**form, "receipt": "R-2"})
    assert ok.status_code == 302
    assert await count(sessionmaker, Customer) == 2


async def test_a_refusal_is_problem_json_for_json_clients(client, sessionmaker):
    await login_customer(client, sessionmaker)
    response = await client.get("/vouchers/ABCDEFGH", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["detail"] and body["title"]
