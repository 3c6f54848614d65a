"""The partners staff pages: adding a partner as typed, its API keys (shown once,
revocable) and cashiers, who may change what, and settlement: the page's figures are the
ledger's, closing freezes them, the CSV is a spreadsheet's and safe to open."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import jdatetime
from sqlalchemy import func, select

from partners import services, settlement
from partners.models import ApiKey, Cashier, Partner, Statement
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import post_form
from tests.partners.conftest import ADMIN, PHONE, api, consent_code
from vafa import clock
from vafa.calendar import local_day, previous_month, start_of_day
from vafa.i18n.formatting import JALALI_MONTHS
from vafa.i18n.normalize import to_ascii_digits
from vafa.models import StaffUser

TZ = "Asia/Tehran"
ZWNJ = "\u200c"
NAME_FA = f"کتاب{ZWNJ}فروشی نون"  # a half-space inside, as typed
TERMS = {
    "name_fa": NAME_FA,
    "name_en": "Noon Books",
    "category": "leisure",
    "contact_name": "مریم احمدی",
    "phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹",
    "address": "تهران، خیابان انقلاب",
    "earn": "on",
    "redeem": "on",
    "unit": "toman",  # the form was shown in Tomans: ten Rials each
    "earn_rials_per_point": "۱٬۲۰۰",
    "redeem_rials_per_point": "۸۰۰",
    "commission": "۲٫۵",
    "monthly_earn_cap": "۵۰۰۰",
    "monthly_redeem_cap": "",
    "starts": "۱۴۰۵/۰۱/۰۱",
    "ends": "",
    "active": "on",
}


async def as_staff(client, sessionmaker, role: str) -> None:
    await make_staff(sessionmaker, role, role)
    assert (await staff_login(client, role)).status_code == 302


def page_text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def number(text: str) -> int:
    """A number as a page writes it (Persian digits, separators, a unit), as an int."""
    ascii_text = to_ascii_digits(text)
    digits = re.sub(r"[^0-9]", "", ascii_text)
    return -int(digits) if ascii_text.strip().startswith(("-", "\u2212")) else int(digits)


def figure(response, partner_id: int, name: str) -> int:
    card = response.text.split(f'data-testid="statement-{partner_id}"', 1)[1]
    found = re.search(rf'data-figure="{name}"[^>]*>(.*?)</', card, re.S)
    assert found, name
    return number(html.unescape(found.group(1)))


async def partner_count(sessionmaker) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(Partner).where(~Partner.home))


# --- partners -----------------------------------------------------------------------


async def test_a_manager_adds_a_partner_as_typed(client, sessionmaker):
    await as_staff(client, sessionmaker, "manager")
    listing = await client.get("/admin/partners")
    assert listing.status_code == 200 and 'data-testid="partner-form"' in listing.text
    response = await post_form(client, "/admin/partners", TERMS)
    assert response.status_code == 302, page_text(response)
    async with sessionmaker() as db:
        partner = await db.scalar(select(Partner).where(~Partner.home))
        home = await db.scalar(select(Partner).where(Partner.home))
    assert response.headers["location"] == f"/admin/partners/{partner.id}?saved=create"
    assert partner.name == {"fa": NAME_FA, "en": "Noon Books"}  # the half-space kept
    assert partner.category == "leisure" and partner.phone == "+989123456789"
    assert partner.contact_name == "مریم احمدی" and partner.address == "تهران، خیابان انقلاب"
    assert partner.earn and partner.redeem and partner.active and not partner.enrol
    # Typed in Tomans, stored in Rials; the commission in basis points.
    assert (partner.earn_rials_per_point, partner.redeem_rials_per_point) == (12_000, 8_000)
    assert partner.commission_bp == 250
    assert (partner.monthly_earn_cap, partner.monthly_redeem_cap) == (5_000, None)
    first = jdatetime.date(1405, 1, 1).togregorian()
    assert partner.starts_at == start_of_day(first, TZ) and partner.ends_at is None
    # The list: the club's own tills first, then the new partner under its name.
    listing = await client.get("/admin/partners")
    assert listing.text.index(f'data-testid="partner-{home.id}"') < listing.text.index(
        f'data-testid="partner-{partner.id}"'
    )
    assert NAME_FA in listing.text
    # Its page shows the terms back in the club's unit (Rials, the club's setting) and
    # the reader's digits: saving it unchanged changes nothing.
    page = await client.get(f"/admin/partners/{partner.id}")
    assert page.status_code == 200
    form = re.search(r'name="earn_rials_per_point"[^>]*value="([^"]*)"', page.text).group(1)
    assert number(form) == 12_000
    commission = re.search(r'name="commission"[^>]*value="([^"]*)"', page.text).group(1)
    assert to_ascii_digits(commission).replace("\u066b", ".") == "2.5"
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
    same = {k: html.unescape(v) for k, v in fields.items() if k != "_csrf_token"}
    same.update(category="leisure", address=TERMS["address"], unit="rial")
    same = {k: v for k, v in same.items() if k not in ("earn", "redeem", "enrol", "active")}
    same.update(earn="on", redeem="on", active="on")
    saved = await post_form(client, f"/admin/partners/{partner.id}", same)
    assert saved.status_code == 302, page_text(saved)
    async with sessionmaker() as db:
        again = await db.get(Partner, partner.id)
    assert again.name == partner.name and again.commission_bp == 250
    assert again.earn_rials_per_point == 12_000 and again.starts_at == partner.starts_at


async def test_a_refused_partner_form_is_shown_again_and_saves_nothing(client, sessionmaker):
    await as_staff(client, sessionmaker, "manager")
    for changes in (
        {"commission": "۱۵۰"},  # more than 100 percent
        {"commission": "2.555"},  # three decimals
        {"phone": "12ab"},
        {"starts": "۱۴۰۵/۰۲/۰۱", "ends": "۱۴۰۵/۰۱/۰۱"},
        {"monthly_earn_cap": "0"},
        {"name_fa": "", "name_en": ""},
        {"earn_rials_per_point": "-5"},
    ):
        response = await post_form(client, "/admin/partners", {**TERMS, **changes})
        assert response.status_code == 400, changes
        assert 'class="alert alert-danger"' in response.text
        # The form keeps what was typed.
        assert html.unescape(TERMS["address"]) in page_text(response)
    assert await partner_count(sessionmaker) == 0
    page = await post_form(client, "/admin/partners", {**TERMS, "commission": "۱۵۰"})
    assert NAME_FA in html.unescape(page.text)


async def test_an_analyst_reads_but_cannot_change(client, sessionmaker, club):
    await as_staff(client, sessionmaker, "analyst")
    listing = await client.get("/admin/partners")
    assert listing.status_code == 200 and "کافه نادری" in listing.text
    assert 'data-testid="partner-form"' not in listing.text
    page = await client.get(f"/admin/partners/{club.a}")
    assert page.status_code == 200 and 'data-testid="key-form"' not in page.text
    assert (await post_form(client, "/admin/partners", TERMS)).status_code == 403
    assert (await post_form(client, f"/admin/partners/{club.a}", TERMS)).status_code == 403
    made = await post_form(client, f"/admin/partners/{club.a}/keys", {"name": "x"})
    revoke = await post_form(client, f"/admin/partners/{club.a}/keys/{club.key_a_id}/revoke")
    cashier = await post_form(
        client,
        f"/admin/partners/{club.a}/cashiers",
        {"username": "c1", "password": "a-long-password-1"},
    )
    assert made.status_code == revoke.status_code == cashier.status_code == 403
    today = local_day(clock.now(), TZ)
    first, last = previous_month(today, TZ)
    close = await post_form(
        client,
        f"/admin/partners/settlement/{club.a}/close",
        {"first": first.isoformat(), "last": last.isoformat()},
    )
    assert close.status_code == 403
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(ApiKey)) == 2
        assert (await db.get(ApiKey, club.key_a_id)).revoked_at is None
        assert await db.scalar(select(func.count()).select_from(Cashier)) == 0
        assert await db.scalar(select(func.count()).select_from(Statement)) == 0
    # A cashier sees none of it.
    async with sessionmaker() as db, db.begin():
        await services.add_cashier(
            db, actor=ADMIN, partner_id=club.a, username="till", password="a-long-password-1"
        )
    client.cookies.clear()
    assert (await staff_login(client, "till", "a-long-password-1")).status_code == 302
    assert (await client.get("/admin/partners")).status_code == 403
    assert (await client.get("/admin/partners/settlement")).status_code == 403


async def test_what_a_request_names_must_exist_and_belong_to_the_partner(
    client, sessionmaker, club
):
    await as_staff(client, sessionmaker, "manager")
    assert (await client.get("/admin/partners/987654")).status_code == 404
    missing = await post_form(client, "/admin/partners/987654/keys", {"name": "till"})
    assert missing.status_code == 404
    # Partner A's key, revoked through partner B's page: not found, and still working.
    other = await post_form(client, f"/admin/partners/{club.b}/keys/{club.key_a_id}/revoke")
    assert other.status_code == 404
    async with sessionmaker() as db:
        assert (await db.get(ApiKey, club.key_a_id)).revoked_at is None
    lookup = await client.post(
        "/api/v1/members/lookup", json={"phone": PHONE}, headers=api(club.key_a, None)
    )
    assert lookup.status_code == 200
    printed = await client.get("/admin/partners/settlement/987654/print")
    assert printed.status_code == 404


async def test_a_new_key_is_shown_once_and_works_until_revoked(client, sessionmaker, club):
    await as_staff(client, sessionmaker, "manager")
    response = await post_form(client, f"/admin/partners/{club.a}/keys", {"name": "صندوق ۲"})
    assert response.status_code == 200, page_text(response)
    secret = re.search(r'data-testid="new-key-secret"', response.text) and re.search(
        r'value="(vafa_[A-Za-z0-9_-]{20,})"', response.text
    ).group(1)
    assert secret
    async with sessionmaker() as db:
        key = await db.scalar(select(ApiKey).where(ApiKey.name == "صندوق ۲"))
    assert key.key_hash == services.key_hash(secret) and key.partner_id == club.a
    assert secret not in str(key.__dict__)
    # Never again: the page shows the key's name and prefix only.
    later = await client.get(f"/admin/partners/{club.a}")
    assert secret not in later.text and key.prefix in later.text
    assert 'data-testid="new-key"' not in later.text
    headers = {"Authorization": f"Bearer {secret}"}
    lookup = await client.post("/api/v1/members/lookup", json={"phone": PHONE}, headers=headers)
    assert lookup.status_code == 200 and lookup.json()["points_spendable"] == 100
    revoked = await post_form(client, f"/admin/partners/{club.a}/keys/{key.id}/revoke")
    assert revoked.status_code == 302
    refused = await client.post("/api/v1/members/lookup", json={"phone": PHONE}, headers=headers)
    assert refused.status_code == 401
    # The partner's other key still works.
    still = await client.post(
        "/api/v1/members/lookup", json={"phone": PHONE}, headers=api(club.key_a, None)
    )
    assert still.status_code == 200
    # A key needs a name: refused on the page, nothing made.
    unnamed = await post_form(client, f"/admin/partners/{club.a}/keys", {"name": "  "})
    assert unnamed.status_code == 400 and 'data-testid="new-key"' not in unnamed.text
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(ApiKey)) == 3


async def test_adding_a_cashier_makes_a_login_bound_to_the_partner(client, sessionmaker, club):
    await as_staff(client, sessionmaker, "manager")
    weak = await post_form(
        client, f"/admin/partners/{club.a}/cashiers", {"username": "naderi.1", "password": "short"}
    )
    assert weak.status_code == 400 and "short" not in weak.text
    response = await post_form(
        client,
        f"/admin/partners/{club.a}/cashiers",
        {"username": "Naderi.1", "password": "a-long-password-1"},
    )
    assert response.status_code == 302
    async with sessionmaker() as db:
        staff = await db.scalar(select(StaffUser).where(StaffUser.username == "naderi.1"))
        bound = await db.get(Cashier, staff.id)
    assert staff.role == "cashier" and bound.partner_id == club.a
    page = await client.get(f"/admin/partners/{club.a}")
    assert "naderi.1" in page.text
    assert "naderi.1" not in (await client.get(f"/admin/partners/{club.b}")).text
    taken = await post_form(
        client,
        f"/admin/partners/{club.b}/cashiers",
        {"username": "naderi.1", "password": "a-long-password-1"},
    )
    assert taken.status_code == 400
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Cashier)) == 1


async def test_every_staff_form_that_posts_carries_the_csrf_token(client, sessionmaker, club):
    await as_staff(client, sessionmaker, "owner")
    for url in ("/admin/partners", f"/admin/partners/{club.a}", "/admin/partners/settlement"):
        page = await client.get(url)
        forms = re.findall(r'<form[^>]*method="post".*?</form>', page.text, re.S)
        assert forms, url
        for form in forms:
            assert 'name="_csrf_token"' in form, (url, form[:200])
        # CSP: no inline styles or scripts.
        assert " style=" not in page.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)


async def test_the_menu_marks_one_entry_current(client, sessionmaker, club):
    await as_staff(client, sessionmaker, "manager")

    def current(response) -> list[str]:
        nav = response.text.split('class="admin-nav', 1)[1].split("</nav>", 1)[0]
        return re.findall(r'<a href="([^"]+)" aria-current="page"', nav)

    assert current(await client.get("/admin/partners")) == ["/admin/partners"]
    settle = await client.get("/admin/partners/settlement")
    assert current(settle) == ["/admin/partners/settlement"]
    assert len(current(await client.get(f"/admin/partners/{club.a}"))) <= 1


# --- settlement ----------------------------------------------------------------------


async def activity(client, sessionmaker, settings, club) -> None:
    """At partner A: a sale of 500,000 Rials partly returned (100,000), and 20 points
    spent."""
    sale = await client.post(
        "/api/v1/earn",
        json={"phone": PHONE, "amount": 500_000, "receipt": "R-1"},
        headers=api(club.key_a),
    )
    assert sale.status_code == 201, sale.text
    back = await client.post(
        f"/api/v1/transactions/{sale.json()['id']}/reverse",
        json={"amount": 100_000},
        headers=api(club.key_a),
    )
    assert back.status_code == 201, back.text
    code = await consent_code(sessionmaker, settings, club.a, 20)
    spent = await client.post(
        "/api/v1/redemptions",
        json={"phone": PHONE, "points": 20, "consent_code": code, "receipt": "S-1"},
        headers=api(club.key_a),
    )
    assert spent.status_code == 201, spent.text


def last_month():
    return previous_month(local_day(clock.now(), TZ), TZ)


async def in_last_month(client, sessionmaker, settings, club) -> None:
    """The activity, recorded on a day of the club's previous month."""
    first, _ = last_month()
    with clock.frozen_at(start_of_day(first + timedelta(days=3), TZ) + timedelta(hours=10)):
        await activity(client, sessionmaker, settings, club)


NAMES = (
    "earned_gross",
    "earn_returned",
    "earned",
    "redeemed_gross",
    "redeem_returned",
    "redeemed",
    "sales",
    "earn_value",
    "commission",
    "redeem_value",
)


async def test_the_settlement_page_shows_the_ledgers_figures(client, sessionmaker, settings, club):
    await in_last_month(client, sessionmaker, settings, club)
    first, last = last_month()
    async with sessionmaker() as db:
        partner = await db.get(Partner, club.a)
        expected = await settlement.figures(db, partner, first, last, TZ)
    assert (expected.earned, expected.redeemed, expected.sales) == (40, 20, 400_000)
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get("/admin/partners/settlement")  # the previous month by default
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    for name in NAMES:
        assert figure(page, club.a, name) == getattr(expected, name), name
    net = re.search(rf'data-testid="statement-{club.a}".*?data-net="(-?\d+)"', page.text, re.S)
    assert int(net.group(1)) == expected.net == 40_000 + 10_000 - 16_000
    # The month is named in Solar Hijri, and no Gregorian date is shown to a Persian reader.
    j = jdatetime.date.fromgregorian(date=first)
    shown = page.text.split('data-testid="period"', 1)[1].split("</div>", 1)[0]
    assert JALALI_MONTHS[j.month - 1] in shown and str(j.year) in to_ascii_digits(shown)
    assert str(first.year) not in to_ascii_digits(page_text(page))  # what a reader sees
    # Partner B had nothing; this month has nothing yet.
    assert figure(page, club.b, "earned") == 0
    this_month = await client.get(
        "/admin/partners/settlement?"
        f"first={local_day(clock.now(), TZ).isoformat()}&last={local_day(clock.now(), TZ).isoformat()}"
    )
    assert figure(this_month, club.a, "earned") == 0
    # The period can be typed in Solar Hijri, in Persian digits.
    j_last = jdatetime.date.fromgregorian(date=last)
    typed = await client.get(
        "/admin/partners/settlement",
        params={
            "first": f"{j.year}/{j.month:02d}/{j.day:02d}".translate(
                str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
            ),
            "last": f"{j_last.year}/{j_last.month:02d}/{j_last.day:02d}",
        },
    )
    assert figure(typed, club.a, "earned") == 40
    bad = await client.get("/admin/partners/settlement?first=1405-13-40&last=x")
    assert bad.status_code == 400 and 'data-testid="error"' in bad.text
    # The printable statement: the club's name, the partner, the same figures.
    printed = await client.get(
        f"/admin/partners/settlement/{club.a}/print?first={first.isoformat()}&last={last.isoformat()}"
    )
    assert printed.status_code == 200 and 'dir="rtl"' in printed.text
    assert "کافه نادری" in printed.text and 'class="admin statement"' in printed.text
    for name in NAMES:
        assert figure(printed, club.a, name) == getattr(expected, name), name
    async with sessionmaker() as db:
        home = await services.home_partner(db)
        await db.commit()
    assert (await client.get(f"/admin/partners/settlement/{home.id}/print")).status_code == 404


def csv_rows(response) -> list[list[str]]:
    assert response.text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))


async def test_the_csv_is_a_safe_spreadsheet_in_rials(client, sessionmaker, settings, club):
    await in_last_month(client, sessionmaker, settings, club)
    async with sessionmaker() as db, db.begin():
        await services.create_partner(
            db,
            actor=ADMIN,
            terms=services.Terms(name={"fa": '=HYPERLINK("http://evil.example","x")'}),
        )
    first, last = last_month()
    await as_staff(client, sessionmaker, "manager")
    response = await client.get(
        f"/admin/partners/settlement.csv?first={first.isoformat()}&last={last.isoformat()}"
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert len(body) == 3 and all(len(row) == len(header) for row in body)
    by_name = {row[0]: row for row in body}
    assert '\'=HYPERLINK("http://evil.example","x")' in by_name
    assert not any(row[0].startswith("=") for row in body)
    row = by_name["کافه نادری"]
    # Days in Solar Hijri for a Persian reader; amounts as plain integers in Rials.
    j = jdatetime.date.fromgregorian(date=first)
    assert row[1] == f"{j.year:04d}-{j.month:02d}-{j.day:02d}"
    assert row[3:17] == [
        "50", "10", "40", "20", "0", "20", "400000", "1000", "800", "250",
        "40000", "10000", "16000", "34000",
    ]  # fmt: skip
    client.cookies.set("vafa_lang", "en")
    english = await client.get(
        f"/admin/partners/settlement.csv?first={first.isoformat()}&last={last.isoformat()}"
    )
    english_rows = csv_rows(english)
    assert english_rows[1][1] == first.isoformat()
    assert any("Rials" in column for column in english_rows[0])


async def close(client, partner_id, first, last):
    return await post_form(
        client,
        f"/admin/partners/settlement/{partner_id}/close",
        {"first": first.isoformat(), "last": last.isoformat()},
    )


async def test_a_closed_period_keeps_its_figures_after_the_terms_change(
    client, sessionmaker, settings, club
):
    await in_last_month(client, sessionmaker, settings, club)
    first, last = last_month()
    await as_staff(client, sessionmaker, "manager")
    response = await close(client, club.a, first, last)
    assert response.status_code == 302, page_text(response)
    async with sessionmaker() as db:
        stored = await db.scalar(select(Statement))
    assert (stored.partner_id, stored.first_day, stored.last_day) == (club.a, first, last)
    assert stored.figures["net"] == 34_000 and stored.closed_by.startswith("staff:")
    shown = await client.get(response.headers["location"])
    assert shown.status_code == 200 and 'data-testid="closed-now"' in shown.text
    again = await close(client, club.a, first, last)
    assert again.status_code == 409 and 'data-testid="error"' in again.text
    # New rates through the partner's page.
    async with sessionmaker() as db:
        partner = await db.get(Partner, club.a)
    terms = {
        "name_fa": partner.name["fa"],
        "name_en": partner.name["en"],
        "category": "cafe",
        "earn": "on",
        "redeem": "on",
        "earn_rials_per_point": "5000",
        "redeem_rials_per_point": "4000",
        "commission": "10",
        "active": "on",
    }
    assert (await post_form(client, f"/admin/partners/{club.a}", terms)).status_code == 302
    async with sessionmaker() as db:
        partner = await db.get(Partner, club.a)
        live = await settlement.figures(db, partner, first, last, TZ)
    assert live.net != 34_000  # the live figures would have moved
    page = await client.get(
        f"/admin/partners/settlement?first={first.isoformat()}&last={last.isoformat()}"
    )
    assert (
        figure(page, club.a, "earn_value") == 40_000
        and figure(page, club.a, "commission") == 10_000
    )
    assert f'data-testid="statement-{club.a}"' in page.text
    card = page.text.split(f'data-testid="statement-{club.a}"', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="closed"' in card and 'data-net="34000"' in card and "manager" in card
    assert "/close" not in card
    rows = csv_rows(
        await client.get(
            f"/admin/partners/settlement.csv?first={first.isoformat()}&last={last.isoformat()}"
        )
    )
    row = next(r for r in rows[1:] if r[0] == "کافه نادری")
    assert row[16] == "34000" and row[10] == "1000" and row[18] == "manager"
    # Partner B is still open for the same period.
    other = page.text.split(f'data-testid="statement-{club.b}"', 1)[1].split("</section>", 1)[0]
    assert 'data-testid="closed"' not in other and "/close" in other


async def test_a_period_ending_today_cannot_be_closed(client, sessionmaker, club):
    await as_staff(client, sessionmaker, "manager")
    today = local_day(clock.now(), TZ)
    response = await close(client, club.a, today - timedelta(days=5), today)
    assert response.status_code == 409 and 'data-testid="error"' in response.text
    page = await client.get(
        f"/admin/partners/settlement?first={(today - timedelta(days=5)).isoformat()}"
        f"&last={today.isoformat()}"
    )
    card = page.text.split(f'data-testid="statement-{club.a}"', 1)[1].split("</section>", 1)[0]
    assert re.search(r"<button[^>]*disabled", card)
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Statement)) == 0
