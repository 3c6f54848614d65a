"""The member's side of partners: the list of partners, the one-time code shown at a
till, the history and the customer record naming the partner, each item once."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from loyalty import ledger, purchases
from loyalty.models import WALLET
from partners import services, till
from partners import timeline as partner_timeline
from partners.models import Category, MemberCode, Partner
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import login_customer, post_form
from tests.partners.conftest import E164, PHONE, api, make_partner
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.i18n.normalize import to_ascii_digits

NADERI = "کافه نادری"  # partner A's Persian name (tests/partners/conftest.py)


def card(page: str, testid: str) -> str:
    """The <li> of one partner on the list page."""
    match = re.search(rf'<li[^>]*data-testid="{testid}".*?</li>', page, re.S)
    assert match, testid
    return html.unescape(match.group(0))


async def test_members_see_the_partners_where_points_are_earned_and_spent(
    client, sessionmaker, app, club
):
    typed = "شیرینی\u200cسرای ناردون"  # the half-space (ZWNJ) as typed
    async with sessionmaker() as db, db.begin():
        shop, _, _ = await make_partner(
            db,
            typed,
            category=Category.CAFE,
            address="خیابان ولیعصر، پلاک ۱۲",
            redeem_rials_per_point=1_500,
        )
        earn_only, _, _ = await make_partner(db, "کتاب‌فروشی", redeem=False)
        closed, _, _ = await make_partner(db, "بسته", active=False)
        ended, _, _ = await make_partner(db, "تمام‌شده", ends_at=utcnow() - timedelta(days=1))
        home = await services.home_partner(db)
    await login_customer(client, sessionmaker)
    page = await client.get("/partners")
    assert page.status_code == 200
    assert '<a href="/partners" aria-current="page">' in page.text  # in the member's menu
    listed = {int(i) for i in re.findall(r'data-testid="partner-(\d+)"', page.text)}
    assert listed == {club.a, club.b, shop, earn_only}
    assert closed not in listed and ended not in listed and home.id not in listed
    mine = card(page.text, f"partner-{shop}")
    assert typed in mine  # exactly as typed, the half-space kept
    assert "خیابان ولیعصر، پلاک ۱۲" in mine
    assert 'data-testid="earn-here"' in mine and 'data-testid="spend-here"' in mine
    # What a point is worth there, in the club's unit and the page's digits.
    assert app.state.club.profile.money(1_500, "fa") in mine
    earn_card = card(page.text, f"partner-{earn_only}")
    assert 'data-testid="earn-here"' in earn_card and 'data-testid="spend-here"' not in earn_card
    assert 'data-testid="point-value"' not in earn_card
    # In the reader's language: the English name an English reader.
    client.cookies.set("vafa_lang", "en")
    english = card((await client.get("/partners")).text, f"partner-{shop}")
    assert "Naderi Cafe" in english and typed not in english


async def show_code(client) -> str:
    """Ask for a code as the member does, and read it off the page."""
    page = await post_form(client, "/partners/code")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    shown = re.search(r'data-testid="member-code">([^<]+)<', page.text).group(1)
    assert re.fullmatch("[۰-۹]{3} [۰-۹]{3} [۰-۹]{3} [۰-۹]", shown), (
        shown
    )  # Persian digits, in threes
    assert 'src="data:image/svg+xml' in page.text  # the QR code
    return to_ascii_digits(shown).replace(" ", "")


async def test_a_member_code_works_once_and_a_new_one_replaces_it(client, sessionmaker, club):
    await login_customer(client, sessionmaker)
    first = await show_code(client)
    second = await show_code(client)
    assert first != second
    async with sessionmaker() as db:
        stored = (await db.scalars(select(MemberCode))).all()
    assert len(stored) == 2 and all(
        first not in c.code_hash and second not in c.code_hash for c in stored
    )
    old = await client.post(
        "/api/v1/members/lookup", json={"member_code": first}, headers=api(club.key_a, None)
    )
    assert old.status_code == 422 and old.json()["code"] == "invalid_member_code"
    body = {"member_code": second, "points": 30, "receipt": "S-1"}
    done = await client.post("/api/v1/redemptions", json=body, headers=api(club.key_a))
    assert done.status_code == 201, done.text
    assert done.json()["balance"] == 70
    again = await client.post("/api/v1/redemptions", json=body, headers=api(club.key_a))
    assert again.status_code == 422 and again.json()["code"] == "invalid_member_code"
    async with sessionmaker() as db:
        assert (await ledger.balances(db, club.customer_id))[WALLET] == 70
    # Coming back to the code's address asks for a new code; it is not shown again.
    back = await client.get("/partners/code", follow_redirects=False)
    assert back.status_code in (302, 303) and back.headers["location"] == "/partners"


async def test_the_history_names_the_partner_of_an_earn_and_a_redemption(
    client, sessionmaker, club
):
    earned = await client.post(
        "/api/v1/earn",
        json={"phone": PHONE, "amount": 250_000, "receipt": "R-1"},
        headers=api(club.key_a),
    )
    assert earned.status_code == 201
    await login_customer(client, sessionmaker)
    code = await show_code(client)
    spent = await client.post(
        "/api/v1/redemptions",
        json={"member_code": code, "points": 30, "receipt": "S-1"},
        headers=api(club.key_a),
    )
    assert spent.status_code == 201
    page = await client.get("/points/history")
    text = html.unescape(page.text)
    assert text.count(NADERI) == 2  # the earn and the redemption; the seed points none
    assert "نان سحر" not in text


async def test_the_customer_record_shows_partner_activity_once(client, sessionmaker, club):
    earned = await client.post(
        "/api/v1/earn",
        json={"phone": PHONE, "amount": 250_000, "receipt": "R-1"},
        headers=api(club.key_a),
    )
    assert earned.status_code == 201
    async with sessionmaker() as db, db.begin():
        # A purchase at the club's own counter: the points engine's item, as before.
        await purchases.record_purchase(
            db,
            actor=Actor.staff(1),
            phone=E164,
            amount=120_000,
            categories=[],
            receipt_number="C-1",
            tz="Asia/Tehran",
        )
    await login_customer(client, sessionmaker)
    code = await show_code(client)
    spent = await client.post(
        "/api/v1/redemptions",
        json={"member_code": code, "points": 30, "receipt": "S-1"},
        headers=api(club.key_a),
    )
    assert spent.status_code == 201
    back = await client.post(
        f"/api/v1/transactions/{spent.json()['id']}/reverse", json={}, headers=api(club.key_a)
    )
    assert back.status_code == 201
    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302
    page = await client.get(f"/admin/customers/{club.customer_id}")
    assert page.status_code == 200
    kinds = re.findall(r'data-kind="([a-z-]+)"', page.text)
    assert kinds.count("partner-earn") == 1
    assert kinds.count("partner-redeem") == 1
    assert kinds.count("partner-reverse") == 1
    assert kinds.count("purchase") == 1  # the counter's; the partner's is not repeated
    assert not {"points-redeem", "points-reverse"} & set(kinds), kinds
    items = {
        kind: html.unescape(body)
        for kind, body in re.findall(r'data-kind="([a-z-]+)">(.*?)</li>', page.text, re.S)
    }
    for kind in ("partner-earn", "partner-redeem", "partner-reverse"):
        assert NADERI in items[kind], kind
    assert "+۲۵" in items["partner-earn"] and "−۳۰" in items["partner-redeem"]
    assert "+۳۰" in items["partner-reverse"]
    assert "R-1" in items["partner-earn"]


async def test_the_timeline_source_pages_newest_first(sessionmaker, settings, club):
    async with sessionmaker() as db, db.begin():
        partner = await db.get(Partner, club.a)
        desk = till.Till.for_key(partner, club.key_a_id, None)
        for receipt in ("R-1", "R-2", "R-3"):
            await till.earn(
                db, desk, settings, phone=E164, amount=100_000, receipt=receipt, categories=[]
            )
        home = await services.home_partner(db)
        await till.earn(
            db,
            till.Till.for_key(home, 0, None),
            settings,
            phone=E164,
            amount=100_000,
            receipt="H-1",
            categories=[],
        )
    async with sessionmaker() as db:
        newest = await partner_timeline.timeline(db, club.customer_id, None, 2)
        assert [i.values["receipt"] for i in newest] == ["R-3", "R-2"]
        assert all(i.kind == "partner-earn" and i.points == 10 for i in newest)
        older = await partner_timeline.timeline(db, club.customer_id, newest[-1].at, 10)
        assert [i.values["receipt"] for i in older] == ["R-1"]  # not the club's own H-1
