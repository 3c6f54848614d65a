"""Journeys through the real server in a phone-sized headless Chromium.

Persian is the default language: pages are right to left, dates Solar Hijri with
Persian digits. Screenshots land in test-artifacts/screenshots/<db>/.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import (
    CUSTOMER_PHONE,
    BrowserProblems,
    LiveServer,
    assert_assets_loaded,
    latest_code,
)
from vafa.i18n.formatting import JALALI_MONTHS

pytestmark = pytest.mark.e2e

TEHRAN = ZoneInfo("Asia/Tehran")  # the app's default VAFA_TIMEZONE
PERSIAN_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
PHONE_FA = "۰۹۱۲ ۳۴۵ ۶۷۸۹"
STAFF_PASSWORD = "correct-horse-battery"


def persian(text: str) -> str:
    return text.translate(TO_PERSIAN)


async def submit(page: Page, button: Locator) -> None:
    """Click a submit button and wait until the page it leads to has loaded."""
    async with page.expect_navigation():
        await button.click()


async def expect_language(page: Page, lang: str, direction: str) -> None:
    await expect(page.locator(f"html[lang={lang}][dir={direction}]")).to_have_count(1)


def path_of(page: Page, server: LiveServer) -> str:
    assert page.url.startswith(server.url), page.url
    return page.url[len(server.url) :]


async def test_customer_logs_in_in_persian_switches_to_english_and_logs_out(
    server: LiveServer, page: Page, screenshot, browser_problems: BrowserProblems
) -> None:
    started = datetime.now(TEHRAN)

    # Not logged in: the home page sends the customer to the login page.
    await page.goto(f"{server.url}/")
    assert path_of(page, server) == "/login"
    await expect_language(page, "fa", "rtl")
    await assert_assets_loaded(page)

    # The number as a Persian phone keyboard types it: Persian digits and spaces.
    await page.locator("input[name=phone]").press_sequentially(PHONE_FA)
    await submit(page, page.locator('form[action="/login"] button[type=submit]'))
    assert path_of(page, server) == "/login/verify"
    await expect_language(page, "fa", "rtl")

    code = await latest_code(server, CUSTOMER_PHONE)
    await page.locator("input[name=code]").press_sequentially(code)
    await submit(page, page.locator('form[action="/login/verify"] button[type=submit]'))
    assert path_of(page, server) == "/"

    # Home, in Persian: a Solar Hijri date in Persian digits.
    await expect_language(page, "fa", "rtl")
    today = (await page.locator("[data-testid=today]").inner_text()).strip()
    assert any(month in today for month in PERSIAN_MONTHS), today
    assert re.search("[۰-۹]", today), today
    assert not re.search("[0-9]", today), today
    years = re.findall("(?<![۰-۹])[۰-۹]{4}(?![۰-۹])", today)
    assert years and all(y.startswith("۱۴") for y in years), today
    expected_years = {
        persian(str(jdatetime.date.fromgregorian(date=moment.date()).year))
        for moment in (started, datetime.now(TEHRAN))
    }
    assert set(years) <= expected_years, (today, expected_years)
    assert PERSIAN_MONTHS == JALALI_MONTHS  # the test's list is the app's spelling
    await expect(page.locator("main")).to_contain_text(PHONE_FA)
    await assert_assets_loaded(page)
    await screenshot("customer-home-fa")

    # Switch to English from the header.
    await submit(page, page.locator('form.language-switch button[value="en"]'))
    assert path_of(page, server) == "/"
    await expect_language(page, "en", "ltr")
    today = (await page.locator("[data-testid=today]").inner_text()).strip()
    assert any(month in today for month in calendar.month_name[1:]), today
    years = {str(moment.year) for moment in (started, datetime.now(TEHRAN))}
    assert any(re.search(rf"\b{year}\b", today) for year in years), (today, years)
    assert not re.search("[۰-۹]", today), today
    await assert_assets_loaded(page)
    await screenshot("customer-home-en")

    # Log out: back to the login page, and the home page is closed again.
    await submit(page, page.locator('main form[action="/logout"] button', has_text="Log out"))
    assert path_of(page, server) == "/login"
    await page.goto(f"{server.url}/")
    assert path_of(page, server) == "/login"

    browser_problems.assert_none()


async def wait_until_sent(server: LiveServer, phone: str, timeout: float = 10.0) -> dict:
    """The embedded worker delivers the outbox: wait for the newest message to be sent."""
    deadline = time.monotonic() + timeout
    while True:
        result = await server.acli("sms", "outbox", "--json", "--to", phone)
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        if lines and json.loads(lines[0])["status"] == "sent":
            return json.loads(lines[0])
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the worker did not send the SMS within {timeout} s: {lines[:1]}\n"
                f"--- server log ---\n{server.server_log()}"
            )
        await asyncio.sleep(0.2)


async def test_staff_reads_the_sms_log_with_login_codes_masked(
    server: LiveServer, page: Page, screenshot, browser_problems: BrowserProblems
) -> None:
    # A customer asks for a login code: one SMS in the outbox.
    await page.goto(f"{server.url}/login")
    await page.locator("input[name=phone]").fill("0912 345 6789")
    await submit(page, page.locator('form[action="/login"] button[type=submit]'))
    assert path_of(page, server) == "/login/verify"
    code = await latest_code(server, CUSTOMER_PHONE)
    sent = await wait_until_sent(server, CUSTOMER_PHONE)
    assert sent["kind"] == "otp", sent

    # The owner account comes from the command line, password on standard input.
    created = await server.acli(
        "staff", "create", "--username", "boss", "--role", "owner", stdin=f"{STAFF_PASSWORD}\n"
    )
    assert created.returncode == 0, created.stderr

    await page.goto(f"{server.url}/admin/login")
    await expect_language(page, "fa", "rtl")
    await page.locator("input[name=username]").fill("boss")
    await page.locator("input[name=password]").fill(STAFF_PASSWORD)
    await submit(page, page.locator('form[action="/admin/login"] button[type=submit]'))
    assert path_of(page, server) == "/admin/"
    await expect_language(page, "fa", "rtl")

    await submit(page, page.locator('nav a[href="/admin/sms"]'))
    assert path_of(page, server) == "/admin/sms"
    await expect_language(page, "fa", "rtl")

    # One entry per message: a table row, or a card on the phone-friendly list.
    log = page.locator("[data-testid=sms-log]")
    await expect(log).to_be_visible()
    row = log.locator("tbody > tr, li").filter(has_text=PHONE_FA)
    await expect(row).to_have_count(1)
    await expect(row.locator(".badge.status-sent")).to_have_count(1)
    await expect(row).to_contain_text("•" * len(code))

    # Staff never see a login code, in either digit script.
    text = await page.locator("html").text_content() or ""
    assert code not in text
    assert persian(code) not in text
    assert code not in await page.locator("body").inner_text()

    await assert_assets_loaded(page)
    await screenshot("admin-sms-log-fa")

    browser_problems.assert_none()
