"""The points engine's forms: what staff type, as typed values for the services.
Every value is normalised (Persian digits, separators) and checked; `UserError` is
raised before anything is written."""

from __future__ import annotations

from typing import Any

from loyalty import purchases
from loyalty.labels import DESCRIPTION_FIELDS, NAME_FIELDS, TITLE_FIELDS
from loyalty.models import ExpireAt, ReturnPolicy, RuleKind, Tier, TierWindow
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.i18n.normalize import fold, to_ascii_digits
from vafa.money import Currency
from vafa.web.forms import (
    INT32,
    MAX_DAYS,
    NUMBER_NOISE,
    day_range,
    parse_choice,
    parse_int,
    parse_money,
    parse_names,
    parse_text,
)

PAGE_SIZE = 50
HISTORY_SIZE = 20
MAX_PERCENT = 100_000  # a thousand times: beyond any real multiplier
MAX_POINTS = 1_000_000_000
MAX_RIALS = purchases.MAX_AMOUNT
MAX_CATEGORY_LINES = 50


def parse_categories(raw: str) -> list[str]:
    return purchases.clean_categories(raw.replace("،", ",").split(","))


def parse_category_multipliers(raw: str) -> dict[str, int]:
    """Lines of `category=percent`."""
    lines = [line for line in to_ascii_digits(raw).splitlines() if line.strip()]
    if len(lines) > MAX_CATEGORY_LINES:
        raise UserError(N_("Too many categories."))
    result: dict[str, int] = {}
    for line in lines:
        name, sep, percent = line.partition("=")
        category = fold(name)[:40]
        number = NUMBER_NOISE.sub("", percent)
        if not (sep and category and number.isascii() and number.isdigit() and len(number) <= 7):
            raise UserError(
                N_(
                    "Category multipliers: write one a line as category=percent, "
                    "for example coffee=200."
                )
            )
        if int(number) > MAX_PERCENT:
            raise UserError(
                N_("%(field)s: enter a whole number from %(min)s to %(max)s."),
                field=N_("Category multipliers"),
                min=0,
                max=MAX_PERCENT,
            )
        result[category] = int(number)
    return result


def parse_programme(data: dict[str, str]) -> dict[str, Any]:
    return {
        "expiry_days": parse_int(
            data,
            "expiry_days",
            N_("Points last (days)"),
            minimum=1,
            maximum=36_500,
            required=False,
        ),
        "expire_at": parse_choice(data, "expire_at", N_("Points expire"), ExpireAt),
        "return_policy": parse_choice(
            data, "return_policy", N_("Returns after the points were spent"), ReturnPolicy
        ),
        "reminder_days": parse_int(
            data,
            "reminder_days",
            N_("Reminder before expiry (days)"),
            minimum=0,
            maximum=MAX_DAYS,
        ),
        "tier_window": parse_choice(data, "tier_window", N_("Tier window"), TierWindow),
        "tier_window_days": parse_int(
            data, "tier_window_days", N_("Tier window (days)"), minimum=1, maximum=MAX_DAYS
        ),
        "tier_grace_days": parse_int(
            data,
            "tier_grace_days",
            N_("Grace period before moving down (days)"),
            minimum=0,
            maximum=MAX_DAYS,
        ),
        "purchase_sms": data.get("purchase_sms") == "on",
    }


def parse_rule(
    data: dict[str, str],
    tier_list: list[Tier],
    tz: str,
    *,
    currency: Currency,
    draft: bool = False,
) -> dict[str, Any]:
    """The columns of an EarnRule. A draft (for the preview) may have no name yet.
    Money is typed in `currency`."""
    kind = parse_choice(data, "kind", N_("Kind"), RuleKind)
    values: dict[str, Any] = {
        "name": parse_text(data, "name", N_("Name"), limit=120, required=not draft),
        "kind": kind,
        "active": draft or data.get("active") == "on",
        "rials_per_point": None,
        "multiplier_percent": 100,
        "category_multipliers": {},
        "tier_multipliers": {},
        "points": None,
    }
    if kind == RuleKind.SPEND:
        values["rials_per_point"] = parse_money(
            data,
            "rials_per_point",
            N_("Amount for one point"),
            currency=currency,
            maximum=MAX_RIALS,
        )
        values["multiplier_percent"] = parse_int(
            data,
            "multiplier_percent",
            N_("Multiplier (percent)"),
            minimum=0,
            maximum=MAX_PERCENT,
            default=100,
        )
        values["category_multipliers"] = parse_category_multipliers(
            data.get("category_multipliers", "")
        )
        for tier in tier_list:
            percent = parse_int(
                data,
                f"tier_{tier.id}",
                N_("Tier multiplier (percent)"),
                minimum=0,
                maximum=MAX_PERCENT,
                required=False,
            )
            if percent is not None:
                values["tier_multipliers"][str(tier.id)] = percent
    else:
        values["points"] = parse_int(data, "points", N_("Points"), minimum=1, maximum=10_000_000)
    values["starts_at"], values["ends_at"] = day_range(
        data, "starts", "ends", (N_("First day"), N_("Last day")), tz
    )
    values["pending_days"] = parse_int(
        data,
        "pending_days",
        N_("Days before the points can be used"),
        minimum=0,
        maximum=MAX_DAYS,
        default=0,
    )
    values["daily_cap"] = parse_int(
        data,
        "daily_cap",
        N_("Most points a member can get a day"),
        minimum=1,
        maximum=INT32,
        required=False,
    )
    values["budget"] = parse_int(
        data, "budget", N_("Points budget"), minimum=1, maximum=MAX_RIALS, required=False
    )
    return values


def parse_tier(data: dict[str, str], language: str) -> dict[str, Any]:
    return {
        "name": parse_names(data, "name", NAME_FIELDS, limit=60, required=language),
        "rank": parse_int(data, "rank", N_("Rank"), minimum=1, maximum=1_000),
        "threshold": parse_int(
            data, "threshold", N_("Points needed"), minimum=0, maximum=MAX_RIALS
        ),
        "earn_multiplier_percent": parse_int(
            data,
            "earn_multiplier_percent",
            N_("Multiplier (percent)"),
            minimum=0,
            maximum=MAX_PERCENT,
            default=100,
        ),
    }


def parse_reward(
    data: dict[str, str], language: str, tier_ranks: set[int], tz: str
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": parse_names(data, "title", TITLE_FIELDS, limit=120, required=language),
        "description": parse_names(
            data, "description", DESCRIPTION_FIELDS, limit=1000, required=None
        ),
        "cost": parse_int(data, "cost", N_("Cost in points"), minimum=1, maximum=MAX_POINTS),
        "stock": parse_int(data, "stock", N_("Stock"), minimum=0, maximum=INT32, required=False),
        "per_member_limit": parse_int(
            data,
            "per_member_limit",
            N_("Times one member can take it"),
            minimum=1,
            maximum=1_000_000,
            required=False,
        ),
        "voucher_days": parse_int(
            data,
            "voucher_days",
            N_("Voucher valid for (days)"),
            minimum=1,
            maximum=MAX_DAYS,
            default=30,
        ),
        "min_tier_rank": parse_int(
            data, "min_tier_rank", N_("Lowest tier"), minimum=1, maximum=1_000, required=False
        ),
        "active": data.get("active") == "on",
    }
    if values["min_tier_rank"] is not None and values["min_tier_rank"] not in tier_ranks:
        raise UserError(N_("%(field)s: choose one of the options."), field=N_("Lowest tier"))
    values["valid_from"], values["valid_until"] = day_range(
        data, "valid_from", "valid_until", (N_("First day"), N_("Last day")), tz
    )
    return values


