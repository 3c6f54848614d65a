"""Staff find a member by typing part of the number in Persian digits, and read the
member's one timeline on a phone: purchases and points movements together, signed
points, Solar Hijri dates, right to left, no sideways scrolling."""

from __future__ import annotations

import re
from datetime import datetime

import jdatetime
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import BrowserProblems, LiveServer, assert_assets_loaded
from tests.e2e.test_journeys import (
    STAFF_PASSWORD,
    TEHRAN,
    expect_language,
    path_of,
    persian,
    submit,
)
from tests.loyalty.helpers import spend_rule
from vafa.money import Currency, format_money

pytestmark = pytest.mark.e2e

MEMBER_PHONE = "+989121234567"
MEMBER_PHONE_FA = "۰۹۱۲ ۱۲۳ ۴۵۶۷"  # how the pages write the member's number in Persian
# Receipt numbers (one starting with digits: without isolation a Persian line would
# show "7002-b" as "b-7002") and amounts in Rials.
PURCHASES = (("rc-7001", 250_000), ("7002-b", 120_000))
RIALS_PER_POINT = 10_000  # 25 and 12 points
GIFT = (40, "هدیهٔ تولد")  # points given by hand, and why
CORRECTION = (-5, "اصلاح اشتباه")  # points taken by hand, and why
PHONE_WIDTH = 390


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1, f"the page is {width}px wide on a {PHONE_WIDTH}px screen"


async def test_staff_find_a_member_in_persian_digits_and_read_the_timeline(
    server: LiveServer, page: Page, screenshot, browser_problems: BrowserProblems, sessionmaker
) -> None:
    started = datetime.now(TEHRAN)

    # The club earns one point per 10,000 Rials spent; the owner comes from the CLI.
    async with sessionmaker() as s, s.begin():
        await spend_rule(s, rials_per_point=RIALS_PER_POINT)
    created = await server.acli(
        "staff", "create", "--username", "boss", "--role", "owner", stdin=f"{STAFF_PASSWORD}\n"
    )
    assert created.returncode == 0, created.stderr

    # The owner logs in; Persian is the default.
    await page.goto(f"{server.url}/admin/login")
    await expect_language(page, "fa", "rtl")
    await page.locator("input[name=username]").fill("boss")
    await page.locator("input[name=password]").fill(STAFF_PASSWORD)
    await submit(page, page.locator('form[action="/admin/login"] button[type=submit]'))
    assert path_of(page, server) == "/admin/"

    # Two purchases at the counter: the first makes the buyer a member.
    for receipt, amount in PURCHASES:
        await page.goto(f"{server.url}/admin/purchases")
        form = page.locator("[data-testid=purchase-form]")
        await form.locator("#purchase-phone").fill("09121234567")
        await form.locator("#purchase-amount").fill(str(amount))
        await form.locator("#purchase-receipt").fill(receipt)
        await submit(page, form.locator("button[type=submit]"))
        await expect(page.locator("[data-testid=purchase-recorded]")).to_contain_text(
            persian(str(amount // RIALS_PER_POINT))
        )

    # Points given and taken by hand, on the member's wallet page.
    await page.goto(f"{server.url}/admin/members?phone=09121234567")
    assert re.fullmatch(r"/admin/members/\d+", path_of(page, server)), page.url
    member_id = int(path_of(page, server).rsplit("/", 1)[1])
    for points, reason in (GIFT, CORRECTION):
        form = page.locator("[data-testid=adjust-form]")
        await form.locator("#adjust-points").fill(str(points))
        await form.locator("#adjust-reason").fill(reason)
        await submit(page, form.locator("button[type=submit]"))
        assert path_of(page, server) == f"/admin/members/{member_id}?adjusted=1"
    # 25 + 12 + 40 - 5
    await expect(page.locator("[data-testid=available]")).to_have_text(persian("72"))

    # Find the member from the customers page, typing part of the number in Persian.
    await page.goto(f"{server.url}/admin/")
    await submit(page, page.locator('nav a[href="/admin/customers"]'))
    assert path_of(page, server) == "/admin/customers"
    await expect_language(page, "fa", "rtl")
    await expect(page.locator("label[for=customer-q]")).to_have_text("شماره موبایل یا نام")
    await page.locator("#customer-q").press_sequentially("۱۲۳۴۵۶۷")
    await submit(page, page.locator("[data-testid=customer-search] button[type=submit]"))
    assert path_of(page, server).startswith("/admin/customers?q=")
    found = page.locator("[data-testid=customers] a")
    await expect(found).to_have_count(1)
    await expect(found).to_have_text(MEMBER_PHONE_FA)
    await submit(page, found)
    assert path_of(page, server) == f"/admin/customers/{member_id}"

    # The record, in Persian, right to left.
    await expect_language(page, "fa", "rtl")
    await expect(page.locator("[data-testid=customer-phone]")).to_have_text(MEMBER_PHONE_FA)
    timeline = page.locator("[data-testid=timeline]")
    await expect(timeline).to_be_visible()

    # Purchases and points movements on the one list, newest first.
    purchases = timeline.locator("li[data-kind=purchase]")
    await expect(purchases).to_have_count(2)
    for (receipt, amount), item in zip(reversed(PURCHASES), await purchases.all(), strict=True):
        await expect(item).to_contain_text("خرید")
        # The receipt keeps its own left-to-right order inside the Persian sentence.
        await expect(item.locator('bdi[dir="ltr"]', has_text=receipt)).to_have_text(receipt)
        await expect(item).to_contain_text(format_money(amount, "fa", Currency.RIAL))
        await expect(item.locator("[data-testid=points]")).to_have_text(
            "+" + persian(str(amount // RIALS_PER_POINT))
        )
    moves = timeline.locator("li[data-kind=points-adjust]")
    await expect(moves).to_have_count(2)
    taken, given = await moves.all()  # newest first
    await expect(given).to_contain_text(f"امتیاز: {GIFT[1]}")
    await expect(given.locator("bdi", has_text=GIFT[1])).to_have_count(1)
    await expect(given.locator("[data-testid=points]")).to_have_text("+" + persian(str(GIFT[0])))
    await expect(taken).to_contain_text(f"امتیاز: {CORRECTION[1]}")
    await expect(taken.locator("[data-testid=points]")).to_have_text(
        "−" + persian(str(-CORRECTION[0]))
    )
    kinds = await timeline.locator("li[data-kind]").evaluate_all(
        "items => items.map(li => li.dataset.kind)"
    )
    interesting = [k for k in kinds if k in ("purchase", "points-adjust")]
    assert interesting == ["points-adjust", "points-adjust", "purchase", "purchase"], kinds
    # Gains in green, losses in red.
    assert "text-success" in (await given.locator("[data-testid=points]").get_attribute("class"))
    assert "text-danger" in (await taken.locator("[data-testid=points]").get_attribute("class"))

    # Dates: Solar Hijri in Persian digits, this year, never a Gregorian year.
    text = await timeline.inner_text()
    expected_years = {
        persian(str(jdatetime.date.fromgregorian(date=moment.date()).year))
        for moment in (started, datetime.now(TEHRAN))
    }
    years = re.findall("(?<![۰-۹])[۰-۹]{4}(?![۰-۹])", text)
    assert years and all(y.startswith("۱۴") for y in years), text
    assert set(years) <= expected_years, (years, expected_years)
    assert not re.search(r"(?<![0-9])(19|20)[0-9]{2}(?![0-9])", text), text
    for item in await timeline.locator("li[data-kind]").all():
        when = (await item.locator(".small.text-secondary").inner_text()).strip()
        assert re.search("(?<![۰-۹])۱۴[۰-۹]{2}(?![۰-۹])", when), when
        assert not re.search("[0-9]", when), when

    await no_sideways_scroll(page)
    await assert_assets_loaded(page)
    await screenshot("customer-timeline-fa")

    # The same record in English, through the header's language switch.
    await submit(page, page.locator('form.language-switch button[value="en"]'))
    assert path_of(page, server) == f"/admin/customers/{member_id}"
    await expect_language(page, "en", "ltr")
    timeline = page.locator("[data-testid=timeline]")
    purchases = timeline.locator("li[data-kind=purchase]")
    await expect(purchases).to_have_count(2)
    await expect(purchases.first).to_contain_text(
        f"Purchase of 120,000 Rials, receipt {PURCHASES[1][0]}"
    )
    await expect(purchases.first.locator("[data-testid=points]")).to_have_text("+12")
    await expect(timeline.locator("li[data-kind=points-adjust]").first).to_contain_text(
        f"Points: {CORRECTION[1]}"
    )
    await expect(timeline.locator("li[data-kind=points-adjust] [data-testid=points]")).to_have_text(
        ["−5", "+40"]
    )
    # The page's own words use Latin digits; an SMS is quoted as the member got it
    # (in Persian, their language).
    for item in await timeline.locator("li:not([data-kind=sms])").all():
        assert not re.search("[۰-۹]", await item.inner_text())
    await no_sideways_scroll(page)
    await assert_assets_loaded(page)
    await screenshot("customer-timeline-en")

    browser_problems.assert_none()
