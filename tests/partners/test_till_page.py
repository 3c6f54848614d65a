"""The cashier's page, /admin/till: a cashier works their partner's till only, with the
same services and the same once-only guarantee as the API; other staff work the
club's own till."""

from __future__ import annotations

import asyncio
import html
import re

from sqlalchemy import func, select

from loyalty import ledger
from loyalty.models import WALLET, JournalEntry, Purchase
from partners import services, till
from partners.models import IdempotentRequest, Partner, Transaction
from tests.admin.test_staff import PASSWORD, make_staff, staff_login
from tests.conftest import post_form
from tests.partners.conftest import ADMIN, E164, PHONE, consent_code
from vafa.i18n.normalize import to_persian_digits
from vafa.models import RateEvent, SmsMessage
from vafa.money import Currency, format_amount


async def as_cashier(client, sessionmaker, partner_id: int, username: str = "cashier-a") -> int:
    async with sessionmaker() as db, db.begin():
        staff = await services.add_cashier(
            db, actor=ADMIN, partner_id=partner_id, username=username, password=PASSWORD
        )
        staff_id = staff.id
    assert (await staff_login(client, username)).status_code == 302
    return staff_id


async def till_form(client) -> dict[str, str]:
    """The hidden fields of the till's form as the page gives them (a new key each time)."""
    page = await client.get("/admin/till")
    assert page.status_code == 200, page.text
    return {
        "key": re.search(r'name="key" value="([^"]+)"', page.text).group(1),
        "unit": re.search(r'name="unit" value="([^"]+)"', page.text).group(1),
    }


def shown(rials: int, form: dict[str, str]) -> str:
    """An amount typed in the unit the form was shown in, in Persian digits."""
    return format_amount(rials, "fa", Currency(form["unit"]))


async def balance(sessionmaker, customer_id: int) -> int:
    async with sessionmaker() as db:
        return (await ledger.balances(db, customer_id))[WALLET]


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_cashier_earns_from_their_partners_account(client, sessionmaker, club):
    staff_id = await as_cashier(client, sessionmaker, club.a)
    page = await client.get("/admin/till")
    assert 'data-testid="till-partner">کافه نادری<' in page.text
    form = await till_form(client)
    response = await post_form(
        client,
        "/admin/till/earn",
        {**form, "member": "۰۹۱۲ ۱۲۳ ۴۵۶۷", "amount": shown(250_000, form), "receipt": "R-1"},
    )
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("/admin/till?done=")
    async with sessionmaker() as db:
        partner = await db.get(Partner, club.a)
        purchase = await db.scalar(select(Purchase))
        assert purchase.issuer_account_id == partner.account_id and purchase.amount == 250_000
        entry = await db.scalar(
            select(JournalEntry).where(
                JournalEntry.kind == "earn", JournalEntry.debit_account_id == partner.account_id
            )
        )
        assert entry.amount == 25 and entry.customer_id == club.customer_id
        done = await db.scalar(select(Transaction))
        assert done.partner_id == club.a and done.recorded_by == f"staff:{staff_id}"
    assert await balance(sessionmaker, club.customer_id) == 125
    after = await client.get(location)
    assert 'data-testid="till-done" data-kind="earn"' in after.text
    assert to_persian_digits("125") in re.search(
        r'data-testid="till-balance">([^<]+)<', after.text
    ).group(1)
    today = html.unescape(
        re.search(r'data-testid="till-today">.*?</ul>', after.text, re.S).group(0)
    )
    assert "۰۹۱۲***۴۵۶۷" in today and "R-1" in today
    assert "1234567" not in today and "۱۲۳۴۵۶۷" not in today  # the number is masked


async def test_a_cashier_sees_only_their_own_partners_till(client, sessionmaker, settings, club):
    # A sale at partner B (through its API till) is not on A's cashier's page.
    async with sessionmaker() as db, db.begin():
        partner_b = await db.get(Partner, club.b)
        theirs = await till.earn(
            db,
            till.Till.for_key(partner_b, 0, None),
            settings,
            phone=E164,
            amount=250_000,
            receipt="B-1",
            categories=[],
        )
    await as_cashier(client, sessionmaker, club.a)
    page = await client.get(f"/admin/till?done={theirs.id}")
    assert page.status_code == 200
    assert "نان سحر" not in page.text and "B-1" not in page.text
    assert 'data-testid="till-done"' not in page.text
    assert 'data-testid="till-today-empty"' in page.text


async def latest_consent_code(sessionmaker) -> str:
    async with sessionmaker() as db:
        message = await db.scalar(
            select(SmsMessage).where(SmsMessage.to == E164).order_by(SmsMessage.id.desc())
        )
    return re.search(r"[0-9]{6}", message.body).group(0)


async def test_a_cashier_redeems_with_a_consent_code_texted_to_the_member(
    client, sessionmaker, app, club
):
    await as_cashier(client, sessionmaker, club.a)
    form = await till_form(client)
    fields = {**form, "member": PHONE, "points": "۴۰", "receipt": "S-1"}
    asked = await post_form(client, "/admin/till/consent", fields)
    assert asked.status_code == 200 and 'data-testid="till-notice"' in asked.text
    assert 'value="09121234567"' in asked.text  # the form keeps what was typed
    code = await latest_consent_code(sessionmaker)
    assert code not in asked.text  # only the member's phone has it
    done = await post_form(client, "/admin/till/redeem", {**fields, "consent_code": code})
    assert done.status_code == 302, done.text
    assert await balance(sessionmaker, club.customer_id) == 60
    async with sessionmaker() as db:
        partner = await db.get(Partner, club.a)
        entry = await db.scalar(select(JournalEntry).where(JournalEntry.kind == "redeem"))
        assert entry.credit_account_id == partner.account_id and entry.amount == 40
        spent = await db.scalar(select(Transaction))
        assert spent.kind == "redeem" and spent.amount == 40 * 800
    after = await client.get(done.headers["location"])
    result = html.unescape(
        re.search(r'data-testid="till-done".*?</div>\s*</div>', after.text, re.S).group(0)
    )
    assert 'data-kind="redeem"' in result
    assert app.state.club.profile.money(32_000, "fa") in result  # the points' value
    assert to_persian_digits("60") in result  # the member's new balance


async def test_a_double_posted_form_moves_points_once(client, sessionmaker, settings, club):
    staff_id = await as_cashier(client, sessionmaker, club.a)
    form = await till_form(client)
    fields = {**form, "member": PHONE, "amount": shown(250_000, form), "receipt": "R-7"}
    first = await post_form(client, "/admin/till/earn", fields)
    assert first.status_code == 302
    done_id = first.headers["location"].removeprefix("/admin/till?done=")
    # The twin from htmx gets the till swapped in place, showing the same transaction.
    again = await post_form(client, "/admin/till/earn", fields, headers={"HX-Request": "true"})
    assert again.status_code == 200 and "<html" not in again.text
    assert f'data-testid="till-done" data-kind="earn" data-transaction="{done_id}"' in again.text
    assert await balance(sessionmaker, club.customer_id) == 125
    assert await count(sessionmaker, Transaction) == 1
    assert (
        await count(
            sessionmaker,
            IdempotentRequest,
            IdempotentRequest.key == f"form:{staff_id}:{form['key']}",
        )
        == 1
    )
    # The same form with other values: refused, nothing moves.
    other = await post_form(client, "/admin/till/earn", {**fields, "amount": shown(990_000, form)})
    assert other.status_code == 422 and 'data-testid="till-error"' in other.text
    assert await balance(sessionmaker, club.customer_id) == 125
    # A new form with the same receipt: the earlier sale, shown as such.
    same = await post_form(client, "/admin/till/earn", {**fields, **(await till_form(client))})
    assert same.status_code == 302 and same.headers["location"].endswith("&again=1")
    assert same.headers["location"].startswith(first.headers["location"])
    assert 'data-testid="till-again"' in (await client.get(same.headers["location"])).text
    assert await balance(sessionmaker, club.customer_id) == 125
    # A member code shown from the portal spends once, however often the form is sent.
    async with sessionmaker() as db, db.begin():
        member_code = (await till.new_member_code(db, settings, club.customer_id)).code
    form = await till_form(client)
    spaced = to_persian_digits(" ".join(member_code[i : i + 3] for i in range(0, 10, 3)))
    spend = {**form, "member": spaced, "points": "30", "receipt": "S-2"}
    for _ in range(2):
        response = await post_form(client, "/admin/till/redeem", spend)
        assert response.status_code == 302, response.text
    assert await balance(sessionmaker, club.customer_id) == 95
    reused = await post_form(client, "/admin/till/redeem", {**spend, **(await till_form(client))})
    assert reused.status_code == 422  # a new form: the code was used
    assert await balance(sessionmaker, club.customer_id) == 95


async def test_wrong_consent_codes_count_and_stop_the_right_one(
    client, sessionmaker, settings, club
):
    await as_cashier(client, sessionmaker, club.a)
    code = await consent_code(sessionmaker, settings, club.a, 10)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    form = await till_form(client)
    fields = {**form, "member": PHONE, "points": "10", "receipt": "S-1"}
    for _ in range(5):
        refused = await post_form(client, "/admin/till/redeem", {**fields, "consent_code": wrong})
        assert refused.status_code == 422 and 'data-testid="till-error"' in refused.text
    assert await count(sessionmaker, RateEvent, RateEvent.bucket == "partner_consent_wrong") == 5
    blocked = await post_form(client, "/admin/till/redeem", {**fields, "consent_code": code})
    assert blocked.status_code == 429
    assert await balance(sessionmaker, club.customer_id) == 100
    # A missing consent code is a mistake to fix, not a guess: it is not counted.
    empty = await post_form(client, "/admin/till/redeem", fields)
    assert empty.status_code == 422
    assert await count(sessionmaker, RateEvent, RateEvent.bucket == "partner_consent_wrong") == 5


async def test_finding_a_member_and_wrong_member_codes_count(client, sessionmaker, club):
    await as_cashier(client, sessionmaker, club.a)
    form = await till_form(client)
    found = await post_form(client, "/admin/till/lookup", {**form, "member": "0912-123-4567"})
    assert found.status_code == 200
    member = html.unescape(
        re.search(r'data-testid="till-member".*?</div>\s*</div>', found.text, re.S).group(0)
    )
    assert "فاطمه" in member and "رضایی" not in member and to_persian_digits("100") in member
    wrong = await post_form(client, "/admin/till/lookup", {**form, "member": "123 456 789 0"})
    assert wrong.status_code == 422
    assert await count(sessionmaker, RateEvent, RateEvent.bucket == "partner_member_code") == 1


async def test_a_cashier_reaches_nothing_but_the_till(client, sessionmaker, club):
    await as_cashier(client, sessionmaker, club.a)
    home = await client.get("/admin/", follow_redirects=False)
    assert home.status_code in (302, 303) and home.headers["location"] == "/admin/till"
    for path in ("/admin/customers", "/admin/partners", "/admin/purchases", "/admin/members"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
    page = await client.get("/admin/till")
    menu = re.search(r'<nav class="admin-nav.*?</nav>', page.text, re.S).group(0)
    assert re.findall(r'<a href="([^"]+)"', menu) == ["/admin/till"]


async def test_other_staff_work_the_clubs_own_till(client, sessionmaker, club):
    await make_staff(sessionmaker, "agent", "agent")
    assert (await staff_login(client, "agent")).status_code == 302
    form = await till_form(client)
    response = await post_form(
        client,
        "/admin/till/earn",
        {**form, "member": PHONE, "amount": shown(250_000, form), "receipt": "R-1"},
    )
    assert response.status_code == 302, response.text
    async with sessionmaker() as db:
        home = await services.home_partner(db)
        programme = await ledger.programme_account(db)
        purchase = await db.scalar(select(Purchase))
        assert purchase.issuer_account_id == programme == home.account_id
        done = await db.scalar(select(Transaction))
        assert done.partner_id == home.id
    page = await client.get(response.headers["location"])
    assert f'data-testid="till-partner">{home.name["fa"]}<' in page.text
    # Staff who may not use a till are refused.
    await make_staff(sessionmaker, "analyst", "analyst")
    assert (await staff_login(client, "analyst")).status_code == 302
    assert (await client.get("/admin/till")).status_code == 403


async def test_a_form_tapped_five_times_at_once_earns_once(app, sessionmaker, club):
    """Really in flight together (see tests/vafa/test_concurrency.py): every tap gets
    the same answer, the first's, and the points move once."""
    from tests.vafa.test_concurrency import live_client

    async with sessionmaker() as db, db.begin():
        await services.add_cashier(
            db, actor=ADMIN, partner_id=club.a, username="cashier-a", password=PASSWORD
        )
    async with live_client(app) as [client]:
        assert (await staff_login(client, "cashier-a")).status_code == 302
        form = await till_form(client)
        fields = {**form, "member": PHONE, "amount": shown(250_000, form), "receipt": "R-9"}
        taps = await asyncio.gather(
            *(post_form(client, "/admin/till/earn", fields) for _ in range(5))
        )
    assert [t.status_code for t in taps] == [302] * 5, [t.text[-300:] for t in taps]
    assert len({t.headers["location"] for t in taps}) == 1
    assert await balance(sessionmaker, club.customer_id) == 125
    assert await count(sessionmaker, Transaction) == 1
