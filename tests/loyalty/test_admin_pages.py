"""Staff pages of the points engine: roles, forms in Persian digits, refusals that change
nothing, audit rows, and what each page does to the ledger."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from customers.models import Customer
from loyalty import ledger, rewards, tiers
from loyalty.models import (
    EarnRule,
    JournalEntry,
    Lot,
    Purchase,
    Refund,
    Reward,
    Tier,
    Voucher,
)
from loyalty.programme import get_programme
from loyalty.verify import verify
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import post_form
from tests.loyalty.helpers import member, reward, spend_rule, tier
from vafa.actor import Actor
from vafa.audit import AuditLog
from vafa.calendar import start_of_day
from vafa.database import utcnow
from vafa.i18n import translate
from vafa.i18n.formatting import format_number, format_short_date
from vafa.money import Currency, format_money

TZ = "Asia/Tehran"
PHONE = "+989121234567"
PERSIAN_PHONE = "۰۹۱۲ ۱۲۳ ۴۵۶۷"
TODAY = "today, as the page writes it"


def fa(number: int) -> str:
    return format_number(number, "fa")


def said(msgid: str, **variables: object) -> str:
    """A message as the Persian page shows it (whatever the catalog holds today)."""
    values = {
        k: translate("fa", v) if k == "field" else fa(v) if isinstance(v, int) else v
        for k, v in variables.items()
    }
    return translate("fa", msgid, **values)


def rials(amount: int) -> str:
    """Money as a Persian page of a club counting in Rials shows it."""
    return format_money(amount, "fa", Currency.RIAL)


def text(response) -> str:
    return html.unescape(response.text)


def assert_refused(response, msgid: str, **variables: object) -> None:
    assert response.status_code == 400, response.text
    page = text(response)
    assert '<div class="alert alert-danger" role="alert">' in response.text
    assert said(msgid, **variables) in page, page
    assert 'dir="rtl"' in page


async def as_staff(client, sessionmaker, role: str) -> int:
    staff_id = await make_staff(sessionmaker, role, role)
    response = await staff_login(client, role)
    assert response.status_code == 302
    return staff_id


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def actions(sessionmaker) -> list[str]:
    async with sessionmaker() as s:
        rows = await s.scalars(
            select(AuditLog.action).where(AuditLog.action.not_like("staff.%")).order_by(AuditLog.id)
        )
        return list(rows.all())


async def balances(sessionmaker, customer_id: int) -> dict[str, int]:
    async with sessionmaker() as s:
        return await ledger.balances(s, customer_id)


async def books_balance(sessionmaker) -> None:
    async with sessionmaker() as s:
        problems = await verify(s)
    assert problems == [], [str(p) for p in problems]


def form_key(page: str, action: str) -> str:
    """The hidden idempotency token of the form posting to `action`."""
    match = re.search(
        rf'action="{re.escape(action)}".*?name="key" value="([A-Za-z0-9_-]+)"', page, re.S
    )
    assert match, f"no key in the form for {action}"
    return match.group(1)


# --- navigation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("owner", ["/admin/purchases", "/admin/rules", "/admin/programme"], []),
        (
            "agent",
            ["/admin/purchases", "/admin/vouchers", "/admin/members"],
            ["/admin/rules", "/admin/tiers", "/admin/rewards", "/admin/programme"],
        ),
        ("analyst", ["/admin/members", "/admin/rules", "/admin/tiers"], ["/admin/sms"]),
    ],
)
async def test_dashboard_links_follow_the_role(client, sessionmaker, role, shown, hidden):
    await as_staff(client, sessionmaker, role)
    home = await client.get("/admin/")
    assert home.status_code == 200
    for path in shown:
        assert f'href="{path}"' in home.text, path
    for path in hidden:
        assert f'href="{path}"' not in home.text, path


# --- programme settings -------------------------------------------------------------------

PROGRAMME_FORM = {
    "expiry_days": "۱۸۰",
    "expire_at": "month",
    "return_policy": "forgive",
    "reminder_days": "۱۴",
    "tier_window": "calendar",
    "tier_window_days": "۳۶۵",
    "tier_grace_days": "۶۰",
}


async def programme_row(sessionmaker) -> dict[str, object]:
    async with sessionmaker() as s, s.begin():
        p = await get_programme(s)
        return {k: getattr(p, k) for k in PROGRAMME_FORM}


async def test_manager_changes_the_programme_settings(client, sessionmaker):
    await as_staff(client, sessionmaker, "manager")
    page = await client.get("/admin/programme")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert 'data-testid="programme-form"' in page.text and "disabled" not in page.text
    assert 'value="۳۶۵"' in page.text  # the default expiry, in Persian digits
    response = await post_form(client, "/admin/programme", PROGRAMME_FORM)
    assert (
        response.status_code == 302 and response.headers["location"] == "/admin/programme?saved=1"
    )
    assert await programme_row(sessionmaker) == {
        "expiry_days": 180,
        "expire_at": "month",
        "return_policy": "forgive",
        "reminder_days": 14,
        "tier_window": "calendar",
        "tier_window_days": 365,
        "tier_grace_days": 60,
    }
    assert await actions(sessionmaker) == ["programme.update"]
    # An empty expiry means points never expire.
    response = await post_form(client, "/admin/programme", {**PROGRAMME_FORM, "expiry_days": ""})
    assert response.status_code == 302
    assert (await programme_row(sessionmaker))["expiry_days"] is None
    audit = await client.get("/admin/audit")
    assert said("Points settings changed") in text(audit)


@pytest.mark.parametrize(
    ("field", "value", "msgid", "variables"),
    [
        (
            "reminder_days",
            "ده",
            "%(field)s: enter a whole number from %(min)s to %(max)s.",
            {"field": "Reminder before expiry (days)", "min": 0, "max": 3650},
        ),
        (
            "reminder_days",
            "-۵",
            "%(field)s: enter a whole number from %(min)s to %(max)s.",
            {"field": "Reminder before expiry (days)", "min": 0, "max": 3650},
        ),
        (
            "expiry_days",
            "99999999999999999999999",
            "%(field)s: enter a whole number from %(min)s to %(max)s.",
            {"field": "Points last (days)", "min": 1, "max": 36500},
        ),
        (
            "tier_window_days",
            "",
            "%(field)s: please fill this in.",
            {"field": "Tier window (days)"},
        ),
        (
            "return_policy",
            "keep",
            "%(field)s: choose one of the options.",
            {"field": "Returns after the points were spent"},
        ),
    ],
)
async def test_programme_refuses_bad_input_and_changes_nothing(
    client, sessionmaker, field, value, msgid, variables
):
    await as_staff(client, sessionmaker, "owner")
    before = await programme_row(sessionmaker)
    response = await post_form(client, "/admin/programme", {**PROGRAMME_FORM, field: value})
    assert_refused(response, msgid, **variables)
    assert await programme_row(sessionmaker) == before
    assert await actions(sessionmaker) == []


async def test_programme_is_read_only_for_analysts_and_closed_to_agents(client, sessionmaker):
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get("/admin/programme")
    assert page.status_code == 200 and "<fieldset disabled>" in page.text
    before = await programme_row(sessionmaker)
    assert (await post_form(client, "/admin/programme", PROGRAMME_FORM)).status_code == 403
    await as_staff(client, sessionmaker, "agent")
    assert (await client.get("/admin/programme")).status_code == 403
    assert (await post_form(client, "/admin/programme", PROGRAMME_FORM)).status_code == 403
    assert await programme_row(sessionmaker) == before
    assert await actions(sessionmaker) == []


# --- earning rules ------------------------------------------------------------------------


async def test_manager_creates_a_spend_rule_in_persian_digits(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        gold = await tier(s, 1, 100, "Gold")
    await as_staff(client, sessionmaker, "manager")
    page = await client.get("/admin/rules")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert 'data-testid="rule-form"' in page.text and f'name="tier_{gold.id}"' in page.text
    response = await post_form(
        client,
        "/admin/rules",
        {
            "name": "قهوه دوبل",
            "kind": "spend",
            "rials_per_point": "۱۰٬۰۰۰",
            "multiplier_percent": "۱۵۰",
            "category_multipliers": "Coffee=۲۰۰\nکیک = 300",
            f"tier_{gold.id}": "۱۲۰",
            "starts": "۱۴۰۴/۰۱/۰۱",
            "ends": "2030-12-31",
            "pending_days": "۷",
            "daily_cap": "",
            "budget": "۵۰۰٬۰۰۰",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.text
    async with sessionmaker() as s:
        rule = await s.scalar(select(EarnRule))
    assert (rule.name, rule.kind, rule.active) == ("قهوه دوبل", "spend", True)
    assert (rule.rials_per_point, rule.multiplier_percent) == (10_000, 150)
    assert rule.category_multipliers == {"coffee": 200, "کیک": 300}
    assert rule.tier_multipliers == {str(gold.id): 120}
    assert rule.points is None and rule.pending_days == 7 and rule.daily_cap is None
    assert rule.budget == 500_000
    # 1 Farvardin 1404 is 21 March 2025; the last day runs to its midnight.
    assert rule.starts_at == start_of_day(date(2025, 3, 21), TZ)
    assert rule.ends_at == start_of_day(date(2031, 1, 1), TZ)
    assert await actions(sessionmaker) == ["rule.create"]
    listing = await client.get("/admin/rules")
    assert said("One point for every %(amount)s", amount=rials(10_000)) in text(listing)


async def test_bonus_rule_and_switching_rules_on_and_off(client, sessionmaker):
    await as_staff(client, sessionmaker, "owner")
    response = await post_form(
        client, "/admin/rules", {"name": "Welcome", "kind": "signup", "points": "۵۰"}
    )
    assert response.status_code == 302
    async with sessionmaker() as s:
        rule = await s.scalar(select(EarnRule))
    assert (rule.kind, rule.points, rule.rials_per_point, rule.active) == (
        "signup",
        50,
        None,
        False,
    )
    assert (
        await post_form(client, f"/admin/rules/{rule.id}/active", {"active": "on"})
    ).status_code == 302
    async with sessionmaker() as s:
        assert (await s.get(EarnRule, rule.id)).active is True
    assert (await post_form(client, f"/admin/rules/{rule.id}/active", {})).status_code == 302
    async with sessionmaker() as s:
        assert (await s.get(EarnRule, rule.id)).active is False
    assert await actions(sessionmaker) == ["rule.create", "rule.activate", "rule.deactivate"]
    assert (await post_form(client, "/admin/rules/999999/active", {})).status_code == 404


@pytest.mark.parametrize(
    ("changes", "msgid", "variables"),
    [
        ({"kind": "lottery"}, "%(field)s: choose one of the options.", {"field": "Kind"}),
        ({"name": ""}, "%(field)s: please fill this in.", {"field": "Name"}),
        (
            {"rials_per_point": ""},
            "%(field)s: please fill this in.",
            {"field": "Amount for one point"},
        ),
        (
            {"rials_per_point": "ten"},
            "%(field)s: enter an amount more than zero and at most %(max)s.",
            {"field": "Amount for one point", "max": 10**15},
        ),
        (
            {"rials_per_point": "۰"},
            "%(field)s: enter an amount more than zero and at most %(max)s.",
            {"field": "Amount for one point", "max": 10**15},
        ),
        (
            {"multiplier_percent": "-50"},
            "%(field)s: enter a whole number from %(min)s to %(max)s.",
            {"field": "Multiplier (percent)", "min": 0, "max": 100_000},
        ),
        (
            {"category_multipliers": "coffee double"},
            "Category multipliers: write one a line as category=percent, for example coffee=200.",
            {},
        ),
        (
            {"starts": "1404/13/01"},
            "%(field)s: enter a date like %(example)s.",
            {"field": "First day", "example": TODAY},
        ),
        (
            {"starts": "2026-05-02", "ends": "2026-05-01"},
            "The last day cannot be before the first day.",
            {},
        ),
    ],
)
async def test_rule_form_refuses_bad_input_and_creates_nothing(
    client, sessionmaker, changes, msgid, variables
):
    await as_staff(client, sessionmaker, "manager")
    if variables.get("example") == TODAY:
        variables = {**variables, "example": format_short_date(utcnow().date(), "fa")}
    form = {"name": "Base", "kind": "spend", "rials_per_point": "10000", **changes}
    response = await post_form(client, "/admin/rules", form)
    assert_refused(response, msgid, **variables)
    assert await count(sessionmaker, EarnRule) == 0
    assert await actions(sessionmaker) == []


async def test_agents_and_analysts_cannot_change_rules(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        rule = await spend_rule(s)
    form = {"name": "Sneaky", "kind": "spend", "rials_per_point": "1"}
    await as_staff(client, sessionmaker, "agent")
    assert (await client.get("/admin/rules")).status_code == 403
    assert (await post_form(client, "/admin/rules", form)).status_code == 403
    assert (await post_form(client, f"/admin/rules/{rule.id}/active", {})).status_code == 403
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get("/admin/rules")
    assert page.status_code == 200 and f'data-testid="rule-{rule.id}"' in page.text
    assert 'data-testid="rule-form"' not in page.text
    assert (await post_form(client, "/admin/rules", form)).status_code == 403
    assert (await post_form(client, f"/admin/rules/{rule.id}/active", {})).status_code == 403
    async with sessionmaker() as s:
        assert (await s.scalars(select(EarnRule.active))).all() == [True]
    assert await actions(sessionmaker) == []


async def preview(client, form):
    return await post_form(client, "/admin/rules/preview", form, headers={"HX-Request": "true"})


async def test_preview_shows_what_the_draft_rule_would_give(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        gold = await tier(s, 1, 100, "Gold", multiplier=150)
    await as_staff(client, sessionmaker, "manager")
    draft = {
        "kind": "spend",
        "rials_per_point": "۱۰٬۰۰۰",
        "category_multipliers": "coffee=200",
        "sample_amount": "۱٬۲۳۴٬۵۶۷",
        "sample_categories": "Coffee, cake",
    }
    response = await preview(client, draft)
    # 123 points for the money, doubled for coffee.
    assert response.status_code == 200 and 'data-points="246"' in response.text
    assert said(
        "A purchase of %(amount)s would earn %(points)s points under this rule.",
        amount=rials(1_234_567),
        points=246,
    ) in text(response)
    assert "<html" not in response.text  # a fragment for #preview
    # The tier's own multiplier, then the rule's override for that tier.
    response = await preview(client, {**draft, "sample_tier": str(gold.id)})
    assert 'data-points="370"' in response.text
    response = await preview(
        client, {**draft, "sample_tier": str(gold.id), f"tier_{gold.id}": "100"}
    )
    assert 'data-points="246"' in response.text
    # A rule starting next year is previewed as on its first day; an ended one gives none.
    response = await preview(client, {**draft, "starts": "2100-01-01"})
    assert 'data-points="246"' in response.text
    response = await preview(client, {**draft, "starts": "2020-01-01", "ends": "2020-12-31"})
    assert response.status_code == 200 and "data-points" not in response.text
    assert said("The last day of this rule has passed, so it gives no points.") in text(response)
    # A bonus rule gives its fixed points.
    response = await preview(client, {"kind": "birthday", "points": "۷۵", "sample_amount": "1"})
    assert 'data-points="75"' in response.text
    # Nothing is saved by a preview.
    assert await count(sessionmaker, EarnRule) == 0
    assert await actions(sessionmaker) == []


async def test_preview_refuses_bad_samples_and_is_for_managers(client, sessionmaker):
    await as_staff(client, sessionmaker, "manager")
    response = await preview(
        client, {"kind": "spend", "rials_per_point": "100", "sample_amount": "abc"}
    )
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert said(
        "%(field)s: enter an amount more than zero and at most %(max)s.",
        field="Sample amount",
        max=10**15,
    ) in text(response)
    await as_staff(client, sessionmaker, "agent")
    response = await preview(
        client, {"kind": "spend", "rials_per_point": "100", "sample_amount": "100"}
    )
    assert response.status_code == 403


# --- tiers ---------------------------------------------------------------------------------

TIER_FORM = {
    "name_fa": "طلایی",
    "name_hy": "Ոսկե",
    "name_en": "Gold",
    "rank": "۲",
    "threshold": "۱٬۰۰۰",
    "earn_multiplier_percent": "۱۵۰",
}


async def test_manager_creates_and_edits_tiers(client, sessionmaker):
    await as_staff(client, sessionmaker, "manager")
    page = await client.get("/admin/tiers")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert (await post_form(client, "/admin/tiers", TIER_FORM)).status_code == 302
    async with sessionmaker() as s:
        gold = await s.scalar(select(Tier))
    assert gold.name == {"fa": "طلایی", "hy": "Ոսկե", "en": "Gold"}
    assert (gold.rank, gold.threshold, gold.earn_multiplier_percent) == (2, 1000, 150)
    page = await client.get("/admin/tiers")
    assert "طلایی" in page.text and 'value="۱٬۰۰۰"' in page.text
    response = await post_form(
        client, f"/admin/tiers/{gold.id}", {**TIER_FORM, "name_hy": "", "threshold": "2,500"}
    )
    assert response.status_code == 302
    async with sessionmaker() as s:
        gold = await s.get(Tier, gold.id)
    assert gold.threshold == 2500 and gold.name == {"fa": "طلایی", "en": "Gold"}
    assert await actions(sessionmaker) == ["tier.create", "tier.update"]


async def test_tier_form_refuses_bad_input_and_changes_nothing(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        silver = await tier(s, 1, 100, "Silver")
    await as_staff(client, sessionmaker, "owner")
    response = await post_form(client, "/admin/tiers", {**TIER_FORM, "rank": "۱"})
    assert_refused(response, "Another tier already has this rank.")
    response = await post_form(client, "/admin/tiers", {**TIER_FORM, "name_fa": ""})
    assert_refused(response, "%(field)s: please fill this in.", field="Name in Persian")
    response = await post_form(client, "/admin/tiers", {**TIER_FORM, "threshold": "-1"})
    assert_refused(
        response,
        "%(field)s: enter a whole number from %(min)s to %(max)s.",
        field="Points needed",
        min=0,
        max=10**15,
    )
    response = await post_form(client, f"/admin/tiers/{silver.id}", {**TIER_FORM, "rank": "x"})
    assert response.status_code == 400
    assert await count(sessionmaker, Tier) == 1
    async with sessionmaker() as s:
        assert (await s.get(Tier, silver.id)).name["en"] == "Silver"
    assert await actions(sessionmaker) == []


async def test_agents_cannot_see_or_change_tiers(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        silver = await tier(s, 1, 100, "Silver")
    await as_staff(client, sessionmaker, "agent")
    assert (await client.get("/admin/tiers")).status_code == 403
    assert (await post_form(client, "/admin/tiers", TIER_FORM)).status_code == 403
    await as_staff(client, sessionmaker, "analyst")
    assert (await client.get("/admin/tiers")).status_code == 200
    response = await post_form(client, f"/admin/tiers/{silver.id}", TIER_FORM)
    assert response.status_code == 403
    async with sessionmaker() as s:
        assert (await s.scalars(select(Tier.rank))).all() == [1]


# --- rewards -------------------------------------------------------------------------------

REWARD_FORM = {
    "title_fa": "قهوه رایگان",
    "title_en": "Free coffee",
    "description_fa": "یک فنجان",
    "cost": "۲۵۰",
    "stock": "۱۰",
    "per_member_limit": "۲",
    "voucher_days": "۱۴",
    "min_tier_rank": "",
    "valid_from": "۱۴۰۴/۰۱/۰۱",
    "valid_until": "",
    "active": "on",
}


async def test_manager_creates_and_edits_rewards(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await tier(s, 3, 100, "Gold")
    await as_staff(client, sessionmaker, "manager")
    page = await client.get("/admin/rewards")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    response = await post_form(client, "/admin/rewards", {**REWARD_FORM, "min_tier_rank": "3"})
    assert response.status_code == 302
    async with sessionmaker() as s:
        item = await s.scalar(select(Reward))
    assert item.title == {"fa": "قهوه رایگان", "en": "Free coffee"}
    assert item.description == {"fa": "یک فنجان"}
    assert (item.cost, item.stock, item.per_member_limit, item.voucher_days) == (250, 10, 2, 14)
    assert item.min_tier_rank == 3 and item.active is True
    assert item.valid_from == start_of_day(date(2025, 3, 21), TZ) and item.valid_until is None
    # Edit: no stock limit, switched off, valid through a last day.
    response = await post_form(
        client,
        f"/admin/rewards/{item.id}",
        {**REWARD_FORM, "stock": "", "active": "", "valid_until": "2026-01-31"},
    )
    assert response.status_code == 302
    async with sessionmaker() as s:
        item = await s.get(Reward, item.id)
    assert item.stock is None and item.active is False and item.min_tier_rank is None
    assert item.valid_until == start_of_day(date(2026, 2, 1), TZ)
    assert await actions(sessionmaker) == ["reward.create", "reward.update"]


@pytest.mark.parametrize(
    ("changes", "msgid", "variables"),
    [
        (
            {"cost": "0"},
            "%(field)s: enter a whole number from %(min)s to %(max)s.",
            {"field": "Cost in points", "min": 1, "max": 1_000_000_000},
        ),
        (
            {"cost": "صد"},
            "%(field)s: enter a whole number from %(min)s to %(max)s.",
            {"field": "Cost in points", "min": 1, "max": 1_000_000_000},
        ),
        ({"title_fa": ""}, "%(field)s: please fill this in.", {"field": "Title in Persian"}),
        ({"min_tier_rank": "9"}, "%(field)s: choose one of the options.", {"field": "Lowest tier"}),
    ],
)
async def test_reward_form_refuses_bad_input(client, sessionmaker, changes, msgid, variables):
    await as_staff(client, sessionmaker, "owner")
    response = await post_form(client, "/admin/rewards", {**REWARD_FORM, **changes})
    assert_refused(response, msgid, **variables)
    assert await count(sessionmaker, Reward) == 0
    assert await actions(sessionmaker) == []


async def test_agents_cannot_change_rewards(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        item = await reward(s, 100)
    await as_staff(client, sessionmaker, "agent")
    assert (await client.get("/admin/rewards")).status_code == 403
    assert (await post_form(client, "/admin/rewards", REWARD_FORM)).status_code == 403
    response = await post_form(client, f"/admin/rewards/{item.id}", {**REWARD_FORM, "cost": "1"})
    assert response.status_code == 403
    async with sessionmaker() as s:
        assert (await s.scalars(select(Reward.cost))).all() == [100]


# --- vouchers ------------------------------------------------------------------------------


async def issued_voucher(sessionmaker, cost: int = 100) -> Voucher:
    async with sessionmaker() as s, s.begin():
        customer = await member(s)
        await ledger.earn(s, customer_id=customer.id, points=500, key="seed")
        item = await reward(s, cost)
        return await rewards.redeem(s, actor=Actor.customer(customer.id), customer_id=customer.id, reward_id=item.id, key="k", tz=TZ)


async def test_agent_marks_a_voucher_used(client, sessionmaker):
    voucher = await issued_voucher(sessionmaker)
    agent_id = await as_staff(client, sessionmaker, "agent")
    page = await client.get("/admin/vouchers")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert 'data-testid="voucher-use"' in page.text and 'name="code"' in page.text
    assert said("Ready to use") in text(page)
    typed = " " + voucher.code[:4].lower() + " " + voucher.code[4:] + " "
    response = await post_form(client, "/admin/vouchers/use", {"code": typed})
    assert response.status_code == 302
    assert response.headers["location"] == f"/admin/vouchers?used={voucher.id}"
    async with sessionmaker() as s:
        used = await s.get(Voucher, voucher.id)
    assert used.status == "used" and used.used_by == agent_id
    page = await client.get(response.headers["location"])
    shown = text(page)
    assert 'data-testid="voucher-used"' in page.text and "قهوه" in shown
    assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in shown and said("Used") in shown
    assert await actions(sessionmaker) == ["voucher.use"]
    # The same code again is refused, and so is a code nobody has.
    response = await post_form(client, "/admin/vouchers/use", {"code": voucher.code})
    assert_refused(response, "This voucher was already used.")
    response = await post_form(client, "/admin/vouchers/use", {"code": "ZZZZ2222"})
    assert_refused(response, "No voucher has this code.")
    assert await actions(sessionmaker) == ["voucher.use"]


async def test_analyst_sees_vouchers_but_cannot_use_them(client, sessionmaker):
    voucher = await issued_voucher(sessionmaker)
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get("/admin/vouchers")
    assert page.status_code == 200 and voucher.code in page.text
    assert 'data-testid="voucher-use"' not in page.text
    response = await post_form(client, "/admin/vouchers/use", {"code": voucher.code})
    assert response.status_code == 403
    async with sessionmaker() as s:
        assert (await s.get(Voucher, voucher.id)).status == "issued"


# --- purchases and returns -----------------------------------------------------------------

PURCHASE = {
    "phone": PERSIAN_PHONE,
    "amount": "۱٬۰۰۰٬۰۰۰",
    "categories": "coffee، cake",
    "receipt": "R-1",
}


async def test_agent_records_a_purchase_and_the_same_receipt_earns_once(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s, category_multipliers={"cake": 150})
    await as_staff(client, sessionmaker, "agent")
    page = await client.get("/admin/purchases")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert 'data-testid="purchase-form"' in page.text
    response = await post_form(client, "/admin/purchases", PURCHASE)
    assert response.status_code == 302
    async with sessionmaker() as s:
        purchase = await s.scalar(select(Purchase))
        customer = await s.get(Customer, purchase.customer_id)
    assert response.headers["location"] == f"/admin/purchases?recorded={purchase.id}"
    assert customer.phone == PHONE and purchase.amount == 1_000_000
    assert purchase.categories == ["cake", "coffee"] and purchase.points == 150
    assert purchase.recorded_by.startswith("staff:")
    assert (await balances(sessionmaker, customer.id))["wallet"] == 150
    page = await client.get(response.headers["location"])
    assert said("Purchase recorded: %(points)s points.", points=150) in text(page)
    # The same receipt again (typed differently) earns nothing more.
    response = await post_form(client, "/admin/purchases", {**PURCHASE, "receipt": " r-1 "})
    assert response.status_code == 302
    assert response.headers["location"] == f"/admin/purchases?duplicate={purchase.id}"
    page = await client.get(response.headers["location"])
    assert said("This receipt was already recorded; no new points were given.") in text(page)
    assert await count(sessionmaker, Purchase) == 1
    assert (await balances(sessionmaker, customer.id))["wallet"] == 150
    assert await actions(sessionmaker) == ["purchase.record"]
    await books_balance(sessionmaker)


@pytest.mark.parametrize(
    ("changes", "msgid", "variables"),
    [
        (
            {"phone": "12345"},
            "Please enter a valid mobile number, for example 0912 345 6789.",
            {},
        ),
        (
            {"amount": "یک میلیون"},
            "%(field)s: enter an amount more than zero and at most %(max)s.",
            {"field": "Amount", "max": 10**15},
        ),
        (
            {"amount": "-۵۰۰"},
            "%(field)s: enter an amount more than zero and at most %(max)s.",
            {"field": "Amount", "max": 10**15},
        ),
        (
            {"amount": "۱" + "۰" * 16},
            "%(field)s: enter an amount more than zero and at most %(max)s.",
            {"field": "Amount", "max": 10**15},
        ),
        ({"receipt": ""}, "Enter the receipt number (up to 64 characters).", {}),
    ],
)
async def test_purchase_form_refuses_bad_input_and_creates_nothing(
    client, sessionmaker, changes, msgid, variables
):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await as_staff(client, sessionmaker, "agent")
    response = await post_form(client, "/admin/purchases", {**PURCHASE, **changes})
    assert_refused(response, msgid, **variables)
    assert await count(sessionmaker, Purchase) == 0
    assert await count(sessionmaker, Customer) == 0
    assert await count(sessionmaker, JournalEntry) == 0
    assert await actions(sessionmaker) == []


async def test_a_receipt_used_for_another_member_is_refused_without_a_trace(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await as_staff(client, sessionmaker, "manager")
    assert (await post_form(client, "/admin/purchases", PURCHASE)).status_code == 302
    response = await post_form(client, "/admin/purchases", {**PURCHASE, "phone": "09351112233"})
    assert_refused(response, "This receipt number was already recorded for another purchase.")
    # The new member the service opened before it refused is rolled back.
    assert await count(sessionmaker, Customer) == 1
    assert await actions(sessionmaker) == ["purchase.record"]


async def test_analyst_sees_purchases_but_cannot_record_them(client, sessionmaker):
    await as_staff(client, sessionmaker, "analyst")
    page = await client.get("/admin/purchases")
    assert page.status_code == 200 and 'data-testid="purchase-form"' not in page.text
    assert (await post_form(client, "/admin/purchases", PURCHASE)).status_code == 403
    assert await count(sessionmaker, Purchase) == 0


async def test_returns_take_points_back_once_and_report_the_debt(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await as_staff(client, sessionmaker, "agent")
    await post_form(client, "/admin/purchases", PURCHASE)  # 100 points
    async with sessionmaker() as s, s.begin():
        purchase = await s.scalar(select(Purchase))
        await ledger.spend(s, customer_id=purchase.customer_id, points=80, key="coffee")
    action = f"/admin/purchases/{purchase.id}/refund"
    key = form_key((await client.get("/admin/purchases")).text, action)
    response = await post_form(client, action, {"amount": "۵۰۰٬۰۰۰", "key": key})
    assert response.status_code == 302
    async with sessionmaker() as s:
        refund = await s.scalar(select(Refund))
    assert response.headers["location"] == f"/admin/purchases?refund={refund.id}"
    # Half the money: 50 points back; 20 were left in the wallet, 30 become a debt.
    assert (refund.points, refund.taken, refund.debt, refund.forgiven) == (50, 20, 30, 0)
    page = text(await client.get(response.headers["location"]))
    assert f"{said('Points taken back')}: {fa(20)}" in page
    assert f"{said('Points owed')}: {fa(30)}" in page
    assert f"{said('Points let go')}: {fa(0)}" in page
    # The same form sent twice records the return once.
    again = await post_form(client, action, {"amount": "۵۰۰٬۰۰۰", "key": key})
    assert again.headers["location"] == response.headers["location"]
    assert await count(sessionmaker, Refund) == 1
    assert await balances(sessionmaker, purchase.customer_id) == {
        "wallet": 0,
        "pending": 0,
        "debt": -30,
    }
    assert await actions(sessionmaker) == ["purchase.record", "purchase.refund"]
    await books_balance(sessionmaker)


async def test_return_refusals_change_nothing(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await spend_rule(s)
    await as_staff(client, sessionmaker, "manager")
    await post_form(client, "/admin/purchases", PURCHASE)
    async with sessionmaker() as s:
        purchase = await s.scalar(select(Purchase))
    action = f"/admin/purchases/{purchase.id}/refund"
    key = form_key((await client.get("/admin/purchases")).text, action)
    response = await post_form(client, action, {"amount": "2000000", "key": key})
    assert_refused(response, "The refund cannot be more than what is left of the purchase.")
    response = await post_form(client, action, {"amount": "abc", "key": key})
    assert response.status_code == 400
    response = await post_form(client, action, {"amount": "1000"})
    assert_refused(response, "This form has expired. Please reload the page and try again.")
    assert (
        await post_form(client, "/admin/purchases/99999/refund", {"amount": "1", "key": key})
    ).status_code == 404
    await as_staff(client, sessionmaker, "analyst")
    assert (await post_form(client, action, {"amount": "1000", "key": key})).status_code == 403
    assert await count(sessionmaker, Refund) == 0
    assert (await balances(sessionmaker, purchase.customer_id))["wallet"] == 100
    assert await actions(sessionmaker) == ["purchase.record"]


# --- members -------------------------------------------------------------------------------


async def test_find_a_member_by_phone(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        customer = await member(s)
    await as_staff(client, sessionmaker, "agent")
    page = await client.get("/admin/members")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert f'href="/admin/members/{customer.id}"' in page.text
    response = await client.get(
        "/admin/members", params={"phone": PERSIAN_PHONE}, follow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["location"] == f"/admin/members/{customer.id}"
    missing = await client.get("/admin/members", params={"phone": "09351112233"})
    assert missing.status_code == 200 and 'data-testid="member-not-found"' in missing.text
    bad = await client.get("/admin/members", params={"phone": "not a phone"})
    assert_refused(bad, "Please enter a valid mobile number, for example 0912 345 6789.")
    assert (await client.get("/admin/members/999999")).status_code == 404


async def test_member_page_shows_wallet_tier_lots_history_and_vouchers(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        await tier(s, 1, 0, "Bronze")
        customer = await member(s)
        for i in range(24):
            await ledger.earn(s, customer_id=customer.id, points=10, key=f"e{i}")
        await ledger.earn(
            s,
            customer_id=customer.id,
            points=7,
            key="later",
            available_at=utcnow() + timedelta(days=3),
        )
        item = await reward(s, 40)
        voucher = await rewards.redeem(
            s, actor=Actor.customer(customer.id), customer_id=customer.id, reward_id=item.id, key="v", tz=TZ
        )
        await tiers.review(s, customer.id, tz=TZ)
    await as_staff(client, sessionmaker, "analyst")
    response = await client.get(f"/admin/members/{customer.id}")
    assert response.status_code == 200 and 'dir="rtl"' in response.text
    page = response.text
    assert f'data-testid="available">{fa(200)}<' in page  # 240 earned, 40 on the voucher
    assert f'data-testid="pending">{fa(7)}<' in page
    assert f'data-testid="debt">{fa(0)}<' in page
    assert "Bronze" in page and voucher.code in page
    assert 'data-testid="adjust-form"' not in page  # analysts change nothing
    # History: newest first, twenty a page, then the rest before the last one shown.
    history = page.split('data-testid="history"')[1].split("</ul>")[0]
    assert history.count("<li") == 20
    assert f"−{fa(40)}" in history  # the voucher
    older = re.search(r'href="(/admin/members/\d+\?before=\d+)"', page).group(1)
    rest = (await client.get(older)).text.split('data-testid="history"')[1].split("</ul>")[0]
    assert rest.count("<li") == 6 and f"+{fa(10)}" in rest
    assert "?before=" not in (await client.get(older)).text.split('data-testid="history"')[1]


async def test_manager_adjusts_points_with_a_reason_and_it_is_audited(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        customer = await member(s)
    await as_staff(client, sessionmaker, "manager")
    page = await client.get(f"/admin/members/{customer.id}")
    assert 'data-testid="adjust-form"' in page.text
    action = f"/admin/members/{customer.id}/adjust"
    key = form_key(page.text, action)
    form = {"points": "۵۰", "reason": "رسید گم شده بود", "key": key}
    response = await post_form(client, action, form)
    assert response.status_code == 302
    assert response.headers["location"] == f"/admin/members/{customer.id}?adjusted=1"
    assert (await post_form(client, action, form)).status_code == 302  # sent twice: once
    assert (await balances(sessionmaker, customer.id))["wallet"] == 50
    async with sessionmaker() as s:
        entry = await s.scalar(select(JournalEntry).where(JournalEntry.kind == "adjust"))
        lot = await s.scalar(select(Lot))
        audit = (await s.scalars(select(AuditLog).where(AuditLog.action == "points.adjust"))).all()
    assert entry.memo == "رسید گم شده بود" and entry.created_by.startswith("staff:")
    assert lot.expires_at is not None  # the programme's expiry applies
    assert len(audit) == 1 and audit[0].details == {"points": 50, "reason": "رسید گم شده بود"}
    assert audit[0].object_id == str(customer.id)
    # A negative number takes points.
    key = form_key((await client.get(f"/admin/members/{customer.id}")).text, action)
    response = await post_form(client, action, {"points": "-۲۰", "reason": "اشتباه", "key": key})
    assert response.status_code == 302
    assert (await balances(sessionmaker, customer.id))["wallet"] == 30
    assert await actions(sessionmaker) == ["points.adjust", "points.adjust"]
    page = text(await client.get(f"/admin/members/{customer.id}"))
    assert "رسید گم شده بود" in page and f"−{fa(20)}" in page
    await books_balance(sessionmaker)


@pytest.mark.parametrize(
    ("form", "msgid", "variables"),
    [
        ({"points": "50", "reason": "  "}, "Please write the reason for this change.", {}),
        ({"points": "50"}, "Please write the reason for this change.", {}),
        (
            {"points": "۰", "reason": "x"},
            "Points: enter a positive number to give or a negative number to take.",
            {},
        ),
        (
            {"points": "پنجاه", "reason": "x"},
            "%(field)s: enter a whole number from %(min)s to %(max)s.",
            {"field": "Points", "min": -1_000_000_000, "max": 1_000_000_000},
        ),
        (
            {"points": "-۱۰۰", "reason": "x"},
            "The member does not have %(points)s points available to take.",
            {"points": 100},
        ),
    ],
)
async def test_adjustment_refusals_change_nothing(client, sessionmaker, form, msgid, variables):
    async with sessionmaker() as s, s.begin():
        customer = await member(s)
        await ledger.earn(s, customer_id=customer.id, points=30, key="seed")
    await as_staff(client, sessionmaker, "owner")
    action = f"/admin/members/{customer.id}/adjust"
    key = form_key((await client.get(f"/admin/members/{customer.id}")).text, action)
    response = await post_form(client, action, {**form, "key": key})
    assert_refused(response, msgid, **variables)
    assert (await balances(sessionmaker, customer.id))["wallet"] == 30
    assert await count(sessionmaker, JournalEntry, JournalEntry.kind == "adjust") == 0
    assert await actions(sessionmaker) == []


async def test_agent_cannot_adjust_points(client, sessionmaker):
    async with sessionmaker() as s, s.begin():
        customer = await member(s)
    await as_staff(client, sessionmaker, "agent")
    page = await client.get(f"/admin/members/{customer.id}")
    assert page.status_code == 200 and 'data-testid="adjust-form"' not in page.text
    response = await post_form(
        client,
        f"/admin/members/{customer.id}/adjust",
        {"points": "1000", "reason": "friend", "key": "k" * 22},
    )
    assert response.status_code == 403
    assert (await balances(sessionmaker, customer.id))["wallet"] == 0
    assert await count(sessionmaker, JournalEntry) == 0
    assert await actions(sessionmaker) == []
