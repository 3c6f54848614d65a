"""A partner's cashier earns points for a member on a phone, the member sees them named
after the partner in Persian, the cashier spends some with a consent code texted to
the member, and the month's settlement shows both.

Elements are found by id, name, data-testid and role, and the checks are on data
(points, names, digits), not on wording still being translated.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from loyalty import ledger
from loyalty.models import WALLET
from partners import services, settlement
from partners.models import Partner, Transaction
from tests.e2e.conftest import _CSP_LISTENER, CUSTOMER_PHONE, BrowserProblems, LiveServer
from tests.e2e.test_journeys import PHONE_FA, expect_language, path_of, persian, submit
from tests.e2e.test_layout import controls_fit, no_sideways_scroll, owner_logs_in
from tests.loyalty.helpers import member, spend_rule
from vafa.actor import Actor
from vafa.calendar import local_day, month_of
from vafa.i18n.normalize import to_ascii_digits
from vafa.money import STORED_PER_UNIT, Currency

pytestmark = pytest.mark.e2e

ADMIN = Actor.system("test")
TZ = "Asia/Tehran"  # the app's default VAFA_TIMEZONE: Solar Hijri months
PARTNER_NAME = "کتاب‌فروشی ثالث"  # with a zero-width non-joiner, as Persian writes it
assert "\u200c" in PARTNER_NAME
CASHIER = "sales-cashier"
CASHIER_PASSWORD = "Till-pass-2026-strong"
RIALS_PER_POINT = 10_000
AMOUNT = 250_000  # Rials: 25 points
EARNED = AMOUNT // RIALS_PER_POINT
SPENT = 10
EARN_RECEIPT = "S-1001"
REDEEM_RECEIPT = "S-1002"
PERSIAN_DIGIT = re.compile("[۰-۹]")
ASCII_DIGIT = re.compile("[0-9]")


def number(text: str) -> int:
    """The number a page shows (Persian digits, thousands separators) as an int."""
    digits = re.sub(r"\D", "", to_ascii_digits(text))
    assert digits, f"no number in {text!r}"
    return int(digits)


async def newest_sms_id(server: LiveServer) -> int:
    result = await server.acli("sms", "outbox", "--json", "--to", CUSTOMER_PHONE, "--limit", "1")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return json.loads(lines[0])["id"] if lines else 0


async def code_texted(server: LiveServer, after: int, kind: str, timeout: float = 5.0) -> str:
    """The six-digit code in the newest SMS of `kind` to the member sent after message
    `after`, read from the outbox by the real CLI (other messages, such as what a
    purchase earned, may be texted meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await server.acli("sms", "outbox", "--json", "--to", CUSTOMER_PHONE)
        assert result.returncode == 0, f"vafa sms outbox failed:\n{result.stderr}"
        rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        fresh = [row for row in rows if row["id"] > after and row["kind"] == kind]
        if fresh:
            body = fresh[0]["body"]
            match = re.search(r"(?<!\d)\d{6}(?!\d)", to_ascii_digits(body))
            assert match, f"no six-digit code in the SMS: {body!r}"
            return match.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no new {kind} SMS to the member in {timeout} s: {rows[:3]}")
        await asyncio.sleep(0.2)


async def phone_context(browser: Browser, problems: BrowserProblems) -> BrowserContext:
    """Another phone (the member's, the owner's), reporting to the same problems list as
    the `context` fixture's."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="fa-IR",
    )

    def on_console(message: Any) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            problems.console_errors.append(f"{message.text} ({url})")

    def on_request_failed(request: Any) -> None:
        if request.failure != "net::ERR_ABORTED":
            problems.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    context.on("console", on_console)
    context.on("requestfailed", on_request_failed)
    context.on("weberror", lambda error: problems.page_errors.append(str(error.error)))
    await context.expose_binding(
        "__vafaCspViolation", lambda source, text: problems.csp_violations.append(text)
    )
    await context.add_init_script(_CSP_LISTENER)
    return context


@pytest.fixture
async def other_phones() -> AsyncIterator[list[BrowserContext]]:
    """Browser contexts a test opens besides the `page` fixture's, closed after it."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        await context.close()


async def new_phone(
    browser: Browser, problems: BrowserProblems, made: list[BrowserContext]
) -> Page:
    context = await phone_context(browser, problems)
    made.append(context)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return page


async def shot(page: Page, folder: Path, name: str) -> None:
    """As the `screenshot` fixture (test-artifacts/screenshots/<db>/<name>.png), for
    any of the phones, and leaving the page as it was: Playwright hides the caret by
    setting an inline style on every input and leaves `style=""` behind, which htmx's
    settling then copies onto the swapped-in till (`attributesToSettle` has "style"),
    and the page's CSP rightly reports that."""
    await page.evaluate("document.fonts.ready.then(() => true)")
    await page.screenshot(path=folder / f"{name}.png", full_page=True, caret="initial")


async def till_action(page: Page, testid: str, action: str) -> None:
    """Press a till button; htmx posts the form and swaps the till in place."""
    async with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/admin/till/{action}")
    ) as answer:
        await page.locator(f"[data-testid={testid}]").click()
    response = await answer.value
    assert response.status == 200, f"{action}: {response.status} {await response.text()}"


async def history_lines(page: Page) -> list[str]:
    return await page.locator("[data-testid=history] > li").all_inner_texts()


async def test_a_cashier_earns_the_member_sees_the_partner_and_the_statement_shows_both(
    server: LiveServer,
    page: Page,
    screenshot_dir: Path,
    browser: Browser,
    browser_problems: BrowserProblems,
    other_phones: list[BrowserContext],
    sessionmaker,
) -> None:
    # --- the club, the partner, its cashier and the member ------------------------------
    async with sessionmaker() as db, db.begin():
        await spend_rule(db, rials_per_point=RIALS_PER_POINT)
        partner = await services.create_partner(
            db,
            actor=ADMIN,
            terms=services.Terms(
                name={"fa": PARTNER_NAME, "en": "Sales Bookshop"},
                earn=True,
                redeem=True,
                earn_rials_per_point=1_000,
                redeem_rials_per_point=800,
                commission_bp=250,
            ),
        )
        partner_id = partner.id
        await services.add_cashier(
            db, actor=ADMIN, partner_id=partner_id, username=CASHIER, password=CASHIER_PASSWORD
        )
        customer = await member(db, CUSTOMER_PHONE, language="fa")
        customer_id = customer.id

    # --- the cashier logs in on a phone and lands on the till -----------------------------
    await page.goto(f"{server.url}/admin/login")
    await expect_language(page, "fa", "rtl")
    await page.locator("input[name=username]").fill(CASHIER)
    await page.locator("input[name=password]").fill(CASHIER_PASSWORD)
    await submit(page, page.locator('form[action="/admin/login"] button[type=submit]'))
    await page.wait_for_url(f"{server.url}/admin/till")
    await expect_language(page, "fa", "rtl")
    await expect(page.locator("[data-testid=till-partner]")).to_have_text(PARTNER_NAME)
    await expect(page.locator("[data-testid=till-today-empty]")).to_have_count(1)
    await no_sideways_scroll(page)
    await controls_fit(page)
    await shot(page, screenshot_dir, "partner-till-fa")

    # Earn: the member's number and the amount in Persian digits, then the receipt.
    unit = Currency(await page.locator("#till-form input[name=unit]").input_value())
    await page.locator("#till-member").press_sequentially(PHONE_FA)
    await page.locator("#till-amount").press_sequentially(
        persian(str(AMOUNT // STORED_PER_UNIT[unit]))
    )
    await page.locator("#till-receipt").fill(EARN_RECEIPT)
    await till_action(page, "earn", "earn")
    done = page.locator("[data-testid=till-done]")
    await expect(done).to_have_attribute("data-kind", "earn")
    async with sessionmaker() as db:
        earn = await db.scalar(select(Transaction).where(Transaction.kind == "earn"))
        assert earn is not None and earn.partner_id == partner_id
        assert earn.customer_id == customer_id and earn.points == EARNED
        assert earn.amount == AMOUNT and earn.receipt == EARN_RECEIPT
        assert (await ledger.balances(db, customer_id))[WALLET] == EARNED
    await expect(done).to_have_attribute("data-transaction", str(earn.id))
    await expect(page.locator("[data-testid=till-again]")).to_have_count(0)
    shown_points = await done.locator("> div").first.inner_text()
    assert number(shown_points) == EARNED and PERSIAN_DIGIT.search(shown_points), shown_points
    assert not ASCII_DIGIT.search(shown_points), shown_points
    assert number(await page.locator("[data-testid=till-balance]").inner_text()) == EARNED
    await expect(done.locator("bdi", has_text=EARN_RECEIPT)).to_have_count(1)
    today = page.locator("[data-testid=till-today] > li")
    await expect(today).to_have_count(1)
    await expect(today.first).to_have_attribute("data-kind", "earn")
    await no_sideways_scroll(page)
    await shot(page, screenshot_dir, "partner-till-earned-fa")

    # --- the member logs in on their own phone and reads the history ---------------------
    member_page = await new_phone(browser, browser_problems, other_phones)
    before_login = await newest_sms_id(server)
    await member_page.goto(f"{server.url}/login")
    await expect_language(member_page, "fa", "rtl")
    await member_page.locator("input[name=phone]").press_sequentially(PHONE_FA)
    await submit(member_page, member_page.locator('form[action="/login"] button[type=submit]'))
    code = await code_texted(server, before_login, "otp")
    await member_page.locator("input[name=code]").fill(code)
    await submit(
        member_page, member_page.locator('form[action="/login/verify"] button[type=submit]')
    )
    assert path_of(member_page, server) == "/"

    await member_page.goto(f"{server.url}/points/history")
    await expect_language(member_page, "fa", "rtl")
    lines = await history_lines(member_page)
    assert len(lines) == 1, lines
    [earned_line] = lines
    assert PARTNER_NAME in earned_line, earned_line  # the very name, half-space and all
    assert "کتابفروشی" not in earned_line and "کتاب فروشی" not in earned_line, earned_line
    assert "+" + persian(str(EARNED)) in earned_line, earned_line
    assert not ASCII_DIGIT.search(earned_line), earned_line  # points and date in Persian
    await no_sideways_scroll(member_page)
    await shot(member_page, screenshot_dir, "partner-member-history-earned-fa")

    # The partners page lists the shop, where points are earned and spent.
    await member_page.goto(f"{server.url}/partners")
    await expect_language(member_page, "fa", "rtl")
    card = member_page.locator(f"[data-testid=partner-{partner_id}]")
    assert (await card.locator("[data-testid=partner-name]").inner_text()).strip() == PARTNER_NAME
    await expect(card.locator("[data-testid=earn-here]")).to_have_count(1)
    await expect(card.locator("[data-testid=spend-here]")).to_have_count(1)
    await no_sideways_scroll(member_page)
    await controls_fit(member_page)
    await shot(member_page, screenshot_dir, "partner-member-partners-fa")

    # --- back at the till: the member pays with points, with a texted consent code --------
    before_consent = await newest_sms_id(server)
    await page.locator("#till-member").press_sequentially(PHONE_FA)
    await page.locator("#till-receipt").fill(REDEEM_RECEIPT)
    await page.locator("#till-points").press_sequentially(persian(str(SPENT)))
    await till_action(page, "ask-consent", "consent")
    notice = page.locator("[data-testid=till-notice]")
    await expect(notice).to_be_visible()
    assert persian(str(SPENT)) in await notice.inner_text()
    await expect(page.locator("[data-testid=till-error]")).to_have_count(0)
    # The form keeps what was typed, and the cursor waits in the consent field.
    assert number(await page.locator("#till-points").input_value()) == SPENT
    assert number(await page.locator("#till-member").input_value()) == number(CUSTOMER_PHONE[3:])
    await expect(page.locator("#till-consent")).to_be_focused()
    consent = await code_texted(server, before_consent, "text")
    content = await page.content()
    assert consent not in content and persian(consent) not in content  # the member's alone
    await no_sideways_scroll(page)
    await shot(page, screenshot_dir, "partner-till-consent-asked-fa")

    await page.locator("#till-consent").press_sequentially(persian(consent))
    await till_action(page, "redeem", "redeem")
    await expect(done).to_have_attribute("data-kind", "redeem")
    await expect(page.locator("[data-testid=till-error]")).to_have_count(0)
    async with sessionmaker() as db:
        spend = await db.scalar(select(Transaction).where(Transaction.kind == "redeem"))
        assert spend is not None and spend.partner_id == partner_id
        assert spend.points == SPENT and spend.receipt == REDEEM_RECEIPT
        assert spend.amount == SPENT * 800
        balance = (await ledger.balances(db, customer_id))[WALLET]
    assert balance == EARNED - SPENT
    await expect(done).to_have_attribute("data-transaction", str(spend.id))
    shown_points = await done.locator("> div").first.inner_text()
    assert number(shown_points) == SPENT and not ASCII_DIGIT.search(shown_points), shown_points
    shown_balance = await page.locator("[data-testid=till-balance]").inner_text()
    assert number(shown_balance) == balance and not ASCII_DIGIT.search(shown_balance)
    await expect(today).to_have_count(2)
    assert [await li.get_attribute("data-kind") for li in await today.all()] == ["redeem", "earn"]
    await no_sideways_scroll(page)
    await controls_fit(page)
    await shot(page, screenshot_dir, "partner-till-redeemed-fa")

    # The member's history shows the spending at the same shop, above the earning.
    await member_page.goto(f"{server.url}/points/history")
    lines = await history_lines(member_page)
    assert len(lines) == 2, lines
    spent_line, earned_again = lines
    assert earned_again == earned_line
    assert PARTNER_NAME in spent_line, spent_line
    assert "−" + persian(str(SPENT)) in spent_line, spent_line
    assert not ASCII_DIGIT.search(spent_line), spent_line
    await no_sideways_scroll(member_page)
    await shot(member_page, screenshot_dir, "partner-member-history-spent-fa")

    # --- the owner opens this month's settlement -------------------------------------------
    first, last = month_of(local_day(earn.created_at, TZ), TZ)
    async with sessionmaker() as db:
        expected = await settlement.figures(db, await db.get(Partner, partner_id), first, last, TZ)
    assert (expected.earned, expected.earned_gross, expected.earn_returned) == (EARNED, EARNED, 0)
    assert (expected.redeemed, expected.redeemed_gross, expected.redeem_returned) == (
        SPENT,
        SPENT,
        0,
    )
    assert expected.sales == AMOUNT

    owner_page = await new_phone(browser, browser_problems, other_phones)
    await owner_logs_in(owner_page, server, "fa")
    await owner_page.goto(
        f"{server.url}/admin/partners/settlement?first={first.isoformat()}&last={last.isoformat()}"
    )
    await expect_language(owner_page, "fa", "rtl")
    # This month is the one chosen among the month links.
    chosen = owner_page.locator("[data-testid=months] a[aria-current=page]")
    await expect(chosen).to_have_count(1)
    assert f"first={first.isoformat()}" in (await chosen.get_attribute("href") or "")
    statement = owner_page.locator(f"[data-testid=statement-{partner_id}]")
    await expect(statement).to_be_visible()
    assert PARTNER_NAME in await statement.locator("h3").inner_text()
    for name in ("earned", "earned_gross", "earn_returned", "redeemed", "redeemed_gross"):
        text = await statement.locator(f"[data-figure={name}]").inner_text()
        assert number(text) == getattr(expected, name), (name, text)
        assert not ASCII_DIGIT.search(text), (name, text)
    for name in ("sales", "earn_value", "redeem_value"):
        text = await statement.locator(f"[data-figure={name}]").inner_text()
        assert PERSIAN_DIGIT.search(text) and not ASCII_DIGIT.search(text), (name, text)
    assert await statement.locator("[data-figure=net]").get_attribute("data-net") == str(
        expected.net
    )
    await no_sideways_scroll(owner_page)
    await controls_fit(owner_page)
    await shot(owner_page, screenshot_dir, "partner-settlement-month-fa")

    browser_problems.assert_none()
