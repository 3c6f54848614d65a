"""Layout on a phone (390x844), in Persian (right to left) and Armenian (the longest
words): the portal's bottom menu never covers the end of a page, and the staff and
audit pages fit the screen without sideways scrolling."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from customers.models import Customer
from loyalty import ledger
from loyalty.models import Purchase
from tests.e2e.conftest import CUSTOMER_PHONE, BrowserProblems, LiveServer, latest_code
from tests.e2e.test_journeys import STAFF_PASSWORD, expect_language, path_of, submit
from tests.loyalty.helpers import reward, spend_rule, tier
from vafa.database import utcnow
from vafa.i18n.formatting import format_number

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 390
LANGUAGES = {"fa": "rtl", "hy": "ltr"}
HISTORY_ENTRIES = 25  # more than one page of history (20)


async def switch_language(page: Page, language: str) -> None:
    """Choose the language from the header, as a person would."""
    if await page.locator(f"html[lang={language}]").count() == 0:
        await submit(page, page.locator(f'form.language-switch button[value="{language}"]'))
    await expect_language(page, language, LANGUAGES[language])


async def member_logs_in(page: Page, server: LiveServer) -> None:
    await page.goto(f"{server.url}/login")
    await page.locator("input[name=phone]").fill("09123456789")
    await submit(page, page.locator('form[action="/login"] button[type=submit]'))
    code = await latest_code(server, CUSTOMER_PHONE)
    await page.locator("input[name=code]").fill(code)
    await submit(page, page.locator('form[action="/login/verify"] button[type=submit]'))
    assert path_of(page, server) == "/"


async def owner_logs_in(page: Page, server: LiveServer, language: str) -> None:
    created = await server.acli(
        "staff", "create", "--username", "boss", "--role", "owner", stdin=f"{STAFF_PASSWORD}\n"
    )
    assert created.returncode == 0, created.stderr
    await page.goto(f"{server.url}/admin/login")
    await switch_language(page, language)
    await page.locator("input[name=username]").fill("boss")
    await page.locator("input[name=password]").fill(STAFF_PASSWORD)
    await submit(page, page.locator('form[action="/admin/login"] button[type=submit]'))
    assert path_of(page, server) == "/admin/"
    await expect_language(page, language, LANGUAGES[language])


async def viewport_shot(page: Page, folder: Path, name: str) -> None:
    """What the phone's screen shows right now (a fixed menu where it really is)."""
    await page.evaluate("document.fonts.ready.then(() => true)")
    await page.screenshot(path=folder / f"{name}.png")


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page is {width}px wide on a {PHONE_WIDTH}px screen"


async def controls_fit(page: Page) -> None:
    """Every button, field and card of the page lies within the screen, and no button
    has its label cut off."""
    problems = await page.evaluate(
        """width => [...document.querySelectorAll("main button, main input, main select, main .card")]
          .filter(e => e.type !== "hidden")
          .filter(e => {
            const r = e.getBoundingClientRect();
            return r.left < -0.5 || r.right > width + 0.5
              || (e.tagName === "BUTTON" && e.scrollWidth > e.clientWidth + 1);
          })
          .map(e => e.outerHTML.slice(0, 100))""",
        PHONE_WIDTH,
    )
    assert problems == [], problems


async def assert_above_the_menu(page: Page, button: Locator) -> None:
    """Scrolled to the very end, the last button sits wholly above the bottom menu, and
    a tap at its centre lands on it (not on the menu)."""
    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    await page.wait_for_function(
        "() => Math.abs(window.scrollY + innerHeight - document.documentElement.scrollHeight) < 2"
    )
    state: dict[str, Any] = await button.evaluate(
        """button => {
          const nav = document.querySelector("nav.portal-nav");
          const b = button.getBoundingClientRect();
          const n = nav.getBoundingClientRect();
          const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
          return {bottom: b.bottom, navTop: n.top, hitsButton: button.contains(hit),
                  hit: hit ? hit.outerHTML.slice(0, 80) : null};
        }"""
    )
    assert state["bottom"] <= state["navTop"], state
    assert state["hitsButton"], state


async def assert_menu_on_one_line(page: Page) -> None:
    lines = await page.evaluate(
        """() => [...document.querySelectorAll("nav.portal-nav a")].map(a => {
          const range = document.createRange();
          range.selectNodeContents(a);
          const lineHeight = parseFloat(getComputedStyle(a).lineHeight);
          const text = range.getBoundingClientRect();
          const box = a.getBoundingClientRect();
          return {label: a.textContent.trim(), lines: Math.round(text.height / lineHeight),
                  fits: text.width <= box.width + 0.5};
        })"""
    )
    assert len(lines) == 5, lines  # home, rewards, partners, history, profile
    assert all(line["lines"] == 1 and line["fits"] for line in lines), lines


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_the_bottom_menu_never_covers_the_end_of_a_page(
    server: LiveServer,
    page: Page,
    screenshot_dir: Path,
    browser_problems: BrowserProblems,
    sessionmaker,
    language: str,
) -> None:
    await member_logs_in(page, server)
    async with sessionmaker() as s, s.begin():
        customer_id = await s.scalar(select(Customer.id).where(Customer.phone == CUSTOMER_PHONE))
        for number in range(HISTORY_ENTRIES):
            await ledger.earn(
                s,
                customer_id=customer_id,
                points=10 + number,
                key=f"layout-{number}",
                expires_at=utcnow() + timedelta(days=40 + number),
            )
        # A long home page: a level to reach and rewards the member can take now.
        await tier(s, 1, 5000, "Gold")
        for cost in (100, 200, 300):
            await reward(s, cost)
    await page.reload()
    await switch_language(page, language)
    await assert_menu_on_one_line(page)
    await no_sideways_scroll(page)

    # Home: "log out" is the page's last button.
    logout = page.locator('main form[action="/logout"] button')
    await assert_above_the_menu(page, logout)
    await viewport_shot(page, screenshot_dir, f"layout-home-end-{language}")

    # The soonest expiry reads the same on home, rewards and the lots page.
    soonest = (await page.locator("[data-testid=next-expiry]").inner_text()).strip()
    await page.goto(f"{server.url}/rewards")
    await expect(page.locator("[data-testid=next-expiry]")).to_have_text(soonest)
    await viewport_shot(page, screenshot_dir, f"layout-rewards-{language}")
    await page.goto(f"{server.url}/points")
    use_by = (await page.locator("[data-testid=expiry]").first.inner_text()).strip()
    assert soonest.endswith(use_by), (soonest, use_by)
    await viewport_shot(page, screenshot_dir, f"layout-lots-{language}")

    # History, more than one page: "Older" is the last button, and a tap opens the
    # older entries (not Rewards, from the menu underneath).
    await page.goto(f"{server.url}/points/history")
    await expect(page.locator("[data-testid=history] > li")).to_have_count(20)
    older = page.locator("main a[href*='before=']")
    await assert_above_the_menu(page, older)
    await no_sideways_scroll(page)
    await viewport_shot(page, screenshot_dir, f"layout-history-end-{language}")
    await older.tap()
    await page.wait_for_url(f"{server.url}/points/history?before=*")
    await expect(page.locator("[data-testid=history] > li")).to_have_count(HISTORY_ENTRIES - 20)
    # A smaller phone still has the menu on one line.
    await page.set_viewport_size({"width": 360, "height": 740})
    await assert_menu_on_one_line(page)
    browser_problems.assert_none()


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_staff_page_fits_a_phone_and_says_what_was_saved(
    server: LiveServer,
    page: Page,
    screenshot,
    browser_problems: BrowserProblems,
    language: str,
) -> None:
    await owner_logs_in(page, server, language)
    await page.goto(f"{server.url}/admin/staff")
    await no_sideways_scroll(page)
    form = page.locator("form.staff-form")
    # A new account starts with the least power.
    await expect(form.locator("select[name=role]")).to_have_value("analyst")
    # Every field of the form is as wide as the form.
    widths = await form.evaluate(
        """form => {
          const style = getComputedStyle(form);
          const inner = form.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
          return {inner, fields: [...form.querySelectorAll("input:not([type=hidden]), select")]
            .map(f => f.getBoundingClientRect().width)};
        }"""
    )
    assert all(abs(width - widths["inner"]) < 1 for width in widths["fields"]), widths
    assert widths["inner"] > PHONE_WIDTH * 0.75, widths

    await form.locator("input[name=username]").fill("sara")
    await form.locator("input[name=password]").fill(STAFF_PASSWORD)
    await submit(page, form.locator("button[type=submit]"))
    saved = page.locator("main .alert-success")
    await expect(saved).to_have_count(1)
    await no_sideways_scroll(page)
    await controls_fit(page)
    await screenshot(f"staff-added-{language}")

    sara = page.locator("[data-testid=staff-member]", has_text="sara")
    await expect(sara.locator("select[name=role]")).to_have_value("analyst")
    await sara.locator("select[name=role]").select_option("agent")
    await submit(page, sara.locator("form.staff-role button[type=submit]"))
    await expect(page.locator("main .alert-success")).to_have_count(1)
    await expect(sara.locator("select[name=role]")).to_have_value("agent")

    await sara.locator("input[name=password]").fill(STAFF_PASSWORD + "!")
    await submit(page, sara.locator("form.staff-password button[type=submit]"))
    await expect(page.locator("main .alert-success")).to_have_count(1)
    await no_sideways_scroll(page)
    await controls_fit(page)
    await screenshot(f"staff-password-set-{language}")
    browser_problems.assert_none()


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_audit_log_fits_a_phone(
    server: LiveServer,
    page: Page,
    screenshot,
    browser_problems: BrowserProblems,
    sessionmaker,
    language: str,
) -> None:
    await owner_logs_in(page, server, language)
    # A few changes worth reading: a role change and points given by hand.
    await page.goto(f"{server.url}/admin/staff")
    form = page.locator("form.staff-form")
    await form.locator("input[name=username]").fill("sara.ahmadi")
    await form.locator("input[name=password]").fill(STAFF_PASSWORD)
    await submit(page, form.locator("button[type=submit]"))
    sara = page.locator("[data-testid=staff-member]", has_text="sara.ahmadi")
    await sara.locator("select[name=role]").select_option("manager")
    await submit(page, sara.locator("form.staff-role button[type=submit]"))
    async with sessionmaker() as s, s.begin():
        s.add(Customer(phone=CUSTOMER_PHONE, language="fa", created_at=utcnow()))
    await page.goto(f"{server.url}/admin/members?phone=09123456789")
    adjust = page.locator("[data-testid=adjust-form]")
    await adjust.locator("input[name=points]").fill("1500")
    await adjust.locator("input[name=reason]").fill("هدیهٔ سالگرد")
    await submit(page, adjust.locator("button[type=submit]"))

    await page.goto(f"{server.url}/admin/audit")
    await expect_language(page, language, LANGUAGES[language])
    log = page.locator("[data-testid=audit-log]")
    await expect(log).to_be_visible()
    await no_sideways_scroll(page)
    await controls_fit(page)
    await expect(log).to_contain_text(format_number(1500, language))  # ۱٬۵۰۰, 1 500
    # The role change reads from the old role to the new one in the page's direction.
    arrow, wrong_way = ("←", "→") if language == "fa" else ("→", "←")
    change = log.locator(".audit-details > div", has_text=arrow)
    await expect(change).to_have_count(1)
    assert wrong_way not in await log.inner_text()
    # On screen the old role comes first in reading order: right of the new one in
    # Persian, left of it in Armenian.
    old_role, new_role = await change.locator("bdi").evaluate_all(
        "values => values.map(v => v.getBoundingClientRect().left)"
    )
    assert (old_role > new_role) if language == "fa" else (old_role < new_role)
    await screenshot(f"audit-log-{language}")
    browser_problems.assert_none()


@pytest.mark.parametrize(
    ("language", "currency", "unit", "shown"),
    [
        ("fa", "toman", "تومان", "۱۲۵٬۰۰۰ تومان"),
        ("hy", "dram", "դրամ", "125\u00a0000 դրամ"),
    ],
)
async def test_the_counter_takes_and_shows_money_in_the_clubs_unit(
    server: LiveServer,
    page: Page,
    screenshot,
    browser_problems: BrowserProblems,
    sessionmaker,
    language: str,
    currency: str,
    unit: str,
    shown: str,
) -> None:
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await owner_logs_in(page, server, language)
    await page.goto(f"{server.url}/admin/club")
    await page.locator("select[name=currency]").select_option(currency)
    await submit(page, page.locator('form[action="/admin/club"] button[type=submit]'))
    await expect(page.locator(".alert-success")).to_be_visible()
    await no_sideways_scroll(page)
    await controls_fit(page)
    await screenshot(f"club-{language}")

    await page.goto(f"{server.url}/admin/purchases")
    form = page.locator("[data-testid=purchase-form]")
    await expect(form.locator(".input-group-text")).to_have_text(unit)
    await form.locator("input[name=phone]").fill("۰۹۱۲۳۴۵۶۷۸۹")
    await form.locator("input[name=amount]").fill("۱۲۵۰۰۰")
    await form.locator("input[name=receipt]").fill("F-1")
    await submit(page, form.locator("button[type=submit]"))
    await expect(page.locator("[data-testid=purchases] li").first).to_contain_text(shown)
    await no_sideways_scroll(page)
    await controls_fit(page)
    await screenshot(f"counter-money-{language}")
    async with sessionmaker() as s:
        stored = await s.scalar(select(Purchase.amount))
    assert stored == (1_250_000 if currency == "toman" else 125_000)
    browser_problems.assert_none()
