"""The SMS code editor on a phone, in Persian and Armenian: the reply's length in SMS
parts follows the typing, the code's chart and table fit the screen, and a message
texted to the running server gets the new reply."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from sms_codes.models import Code
from tests.conftest import WEBHOOK_SECRET
from tests.e2e.conftest import BrowserProblems, LiveServer
from tests.e2e.test_journeys import submit
from tests.e2e.test_layout import controls_fit, no_sideways_scroll, owner_logs_in
from tests.sms_codes.test_inbound import LINE, answered, replies, set_up_line
from vafa.i18n import translate

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", ["fa", "hy"])
async def test_the_reply_editor_counts_sms_parts_as_staff_type(
    server: LiveServer,
    page: Page,
    screenshot,
    browser_problems: BrowserProblems,
    sessionmaker,
    language: str,
) -> None:
    await set_up_line(sessionmaker)
    hook = f"{server.url}/hooks/sms/kavenegar/{WEBHOOK_SECRET}"
    async with httpx.AsyncClient() as http:
        for n, sender in enumerate(("09120000001", "09120000002")):
            params = {"from": sender, "to": LINE, "message": "تخفیف", "messageid": f"e2e-{n}"}
            assert (await http.get(hook, params=params)).status_code == 200
            await answered(sessionmaker, f"e2e-{n}")
    async with sessionmaker() as s:
        coupon = await s.scalar(select(Code).where(Code.name == "coupon"))
    await owner_logs_in(page, server, language)
    await page.goto(f"{server.url}/admin/sms-codes/codes/{coupon.id}")
    # The chart is drawn beside the table, from the same numbers.
    canvas = page.locator("canvas[data-chart]")
    await expect(canvas).to_be_visible()
    assert await canvas.evaluate("c => window.Chart.getChart(c) !== undefined")
    await expect(page.locator("[data-testid=stats-table] tbody tr")).to_have_count(1)
    await no_sideways_scroll(page)
    await controls_fit(page)

    # 70 Persian characters fit one SMS; one more makes two (67 each).
    area = page.locator("textarea[name=reply_fa]")
    counter = page.locator("[data-testid=count-fa]")
    advertising = page.locator("input[name=marketing]")
    await advertising.uncheck()
    await area.fill("س" * 70)
    one = translate(language, "%(chars)s characters, %(parts)s SMS", chars="{c}", parts="{p}")
    digits = (lambda n: "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in str(n))) if language == "fa" else str
    await expect(counter).to_have_text(one.replace("{c}", digits(70)).replace("{p}", digits(1)))
    await area.fill("س" * 71)
    await expect(counter).to_have_text(one.replace("{c}", digits(71)).replace("{p}", digits(2)))
    # Advertising is sent ending with "\nلغو۱۱": six more characters, counted at once.
    await area.fill("س" * 64)
    await expect(counter).to_have_text(one.replace("{c}", digits(64)).replace("{p}", digits(1)))
    await advertising.check()
    await expect(counter).to_have_text(one.replace("{c}", digits(70)).replace("{p}", digits(1)))
    # The placeholder counts as the sample member's coupon (8 letters), not as "{coupon}".
    await area.fill("کد شما: {coupon}")
    await expect(counter).to_have_text(one.replace("{c}", digits(22)).replace("{p}", digits(1)))
    await screenshot(f"sms-code-editor-{language}")
    await page.locator("input[name=coupon_pool]").fill("۱۰۰")  # the first two are gone
    await submit(page, page.locator("[data-testid=code-form] button[type=submit]"))
    await expect(page.locator(".alert-success")).to_be_visible()
    async with httpx.AsyncClient() as http:
        params = {"from": "09120000009", "to": LINE, "message": "تخفیف", "messageid": "e2e-9"}
        assert (await http.post(hook, data=params)).status_code == 200
    await answered(sessionmaker, "e2e-9")
    sent = await replies(sessionmaker, "+989120000009")
    assert len(sent) == 1 and sent[0].startswith("کد شما: ") and sent[0].endswith("لغو۱۱")
    await page.goto(f"{server.url}/admin/sms-codes")
    await no_sideways_scroll(page)
    await screenshot(f"sms-codes-{language}")
    browser_problems.assert_none()
