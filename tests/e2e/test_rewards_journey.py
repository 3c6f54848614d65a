"""A member redeems a reward on a phone and sees the voucher and the lower balance;
staff accept the voucher at the counter."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from customers.models import Customer
from loyalty import ledger
from loyalty.models import Voucher
from tests.e2e.conftest import CUSTOMER_PHONE, BrowserProblems, LiveServer, latest_code
from tests.e2e.test_journeys import STAFF_PASSWORD, expect_language, path_of, submit
from tests.loyalty.helpers import reward

pytestmark = pytest.mark.e2e


async def test_member_redeems_a_reward_and_staff_mark_the_voucher_used(
    server: LiveServer, page: Page, screenshot, browser_problems: BrowserProblems, sessionmaker
) -> None:
    await page.goto(f"{server.url}/login")
    await page.locator("input[name=phone]").fill("09123456789")
    await submit(page, page.locator('form[action="/login"] button[type=submit]'))
    code = await latest_code(server, CUSTOMER_PHONE)
    await page.locator("input[name=code]").fill(code)
    await submit(page, page.locator('form[action="/login/verify"] button[type=submit]'))
    assert path_of(page, server) == "/"

    async with sessionmaker() as s, s.begin():
        customer_id = await s.scalar(select(Customer.id).where(Customer.phone == CUSTOMER_PHONE))
        await ledger.earn(s, customer_id=customer_id, points=1500, key="welcome")
        prize = await reward(
            s,
            1200,
            title={"fa": "یک فنجان قهوه", "en": "A cup of coffee", "hy": "Մեկ բաժակ սուրճ"},
            stock=10,
        )
        prize_id = prize.id

    await page.reload()
    await expect(page.locator("[data-testid=available]")).to_have_text("۱٬۵۰۰")
    await page.locator("nav.portal-nav a[href='/rewards']").click()
    await page.wait_for_url(f"{server.url}/rewards")
    await submit(page, page.locator(f"a[href='/rewards/{prize_id}']"))
    await expect_language(page, "fa", "rtl")
    await screenshot("reward-confirm-fa")
    await submit(page, page.locator(f"form[action='/rewards/{prize_id}/redeem'] button"))

    assert path_of(page, server).startswith("/vouchers/")
    voucher_code = (await page.locator("[data-testid=voucher-code]").inner_text()).strip()
    assert len(voucher_code) == 8
    await expect(page.locator("img.qr")).to_be_visible()
    # The QR code really decodes as an image (a broken data: URI has no natural size).
    assert await page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
    await expect(page.locator("[data-testid=voucher]")).to_contain_text("۳۰۰")  # 1500 - 1200
    await screenshot("voucher-fa")

    # Staff, at the counter: type the code the member shows.
    created = await server.acli(
        "staff", "create", "--username", "cashier", "--role", "agent", stdin=f"{STAFF_PASSWORD}\n"
    )
    assert created.returncode == 0, created.stderr
    await page.goto(f"{server.url}/admin/login")
    await page.locator("input[name=username]").fill("cashier")
    await page.locator("input[name=password]").fill(STAFF_PASSWORD)
    await submit(page, page.locator('form[action="/admin/login"] button[type=submit]'))
    await page.goto(f"{server.url}/admin/vouchers")
    await expect_language(page, "fa", "rtl")
    form = page.locator("[data-testid=voucher-use]")
    await form.locator("input[name=code]").fill(voucher_code.lower())
    await submit(page, form.locator("button[type=submit]"))
    await expect(page.locator("main")).to_contain_text("یک فنجان قهوه")
    await screenshot("admin-voucher-used-fa")
    async with sessionmaker() as s:
        assert (await s.scalar(select(Voucher.status))) == "used"

    # The member sees it used.
    await page.goto(f"{server.url}/vouchers/{voucher_code}")
    await expect(page.locator("[data-testid=voucher-status]")).to_have_text("استفاده‌شده")
    browser_problems.assert_none()
