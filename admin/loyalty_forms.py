"""Parsing the points engine's admin forms: every value a person typed is normalised
(Persian digits, separators) and checked, and FormError is raised before anything is
written."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from loyalty import purchases
from loyalty.models import (
    RULE_KINDS,
    Tier,
)
from loyalty.programme import start_of_day
from vafa.database import utcnow
from vafa.i18n import N_, current_language, gettext
from vafa.i18n.formatting import format_number, format_short_date, parse_date
from vafa.i18n.normalize import (
    fold,
    normalize_text,
    to_ascii_digits,
)
from vafa.security.guards import require_roles
from vafa.settings import LANGUAGES
from vafa.web.labels import (
    RULE_KIND_LABELS,
)

PAGE_SIZE = 50
HISTORY_SIZE = 20
INT32 = 2_147_483_647
MAX_PERCENT = 100_000  # a thousand times: beyond any real multiplier
MAX_POINTS = 1_000_000_000
MAX_RIALS = purchases.MAX_AMOUNT
MAX_DAYS = 3_650
MAX_CATEGORY_LINES = 50
EXPIRE_AT = ("day", "month")
RETURN_POLICIES = ("debt", "forgive")
TIER_WINDOWS = ("rolling", "calendar")

# Who may do what (role names from vafa.settings.ROLES).
managers = require_roles("owner", "manager")  # settings, rules, tiers, rewards, adjustments
counter_staff = require_roles("owner", "manager", "agent")  # purchases, returns, vouchers
setup_readers = require_roles("owner", "manager", "analyst")  # see the settings pages
readers = require_roles("owner", "manager", "agent", "analyst")  # members and lists

NAME_FIELDS = {
    "fa": N_("Name in Persian"),
    "hy": N_("Name in Armenian"),
    "en": N_("Name in English"),
}
TITLE_FIELDS = {
    "fa": N_("Title in Persian"),
    "hy": N_("Title in Armenian"),
    "en": N_("Title in English"),
}
DESCRIPTION_FIELDS = {
    "fa": N_("Description in Persian"),
    "hy": N_("Description in Armenian"),
    "en": N_("Description in English"),
}
CAUSE_LABELS = {
    "purchase": N_("Purchase"),
    "refund": N_("Return of a purchase"),
    "debt": N_("Paid toward a debt"),
    "reward": N_("Reward"),
    "voucher": N_("Voucher given back"),
    **{kind: label for kind, label in RULE_KIND_LABELS.items() if kind != "spend"},
}

# --- forms -------------------------------------------------------------------------


class FormError(ValueError):
    """`args[0]` is an untranslated message; `variables` fill its placeholders: a
    `field` is a label translated when shown, numbers are written in the page's digits."""

    def __init__(self, message: str, **variables: object) -> None:
        super().__init__(message)
        self.variables = variables

    def text(self) -> str:
        language = current_language.get()
        values: dict[str, object] = {}
        for name, value in self.variables.items():
            if name == "field":
                values[name] = gettext(str(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                values[name] = format_number(value, language)
            else:
                values[name] = value
        return gettext(self.args[0], **values)


def error_text(exc: Exception) -> str:
    """The translated message of a refusal raised by a form parser or a service."""
    if isinstance(exc, FormError):
        return exc.text()
    return gettext(exc.args[0])


# Thousands separators (ASCII and Persian), spaces and invisible direction marks.
_NUMBER_NOISE = re.compile("[,\u066c\\s\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MINUS = ("-", "\u2212")
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def parse_int(
    data: dict[str, str],
    name: str,
    label: str,
    *,
    minimum: int,
    maximum: int,
    default: int | None = None,
    required: bool = True,
) -> int | None:
    """A whole number typed in any digits, with or without thousands separators."""
    raw = _NUMBER_NOISE.sub("", to_ascii_digits(data.get(name, "")))
    if not raw:
        if default is not None:
            return default
        if required:
            raise FormError(N_("%(field)s: please fill this in."), field=label)
        return None
    negative = raw[0] in _MINUS
    digits = raw[1:] if negative or raw[0] == "+" else raw
    if digits.isascii() and digits.isdigit() and len(digits) <= 19:
        value = -int(digits) if negative else int(digits)
        if minimum <= value <= maximum:
            return value
    raise FormError(
        N_("%(field)s: enter a whole number from %(min)s to %(max)s."),
        field=label,
        min=minimum,
        max=maximum,
    )


def required_int(data: dict[str, str], name: str, label: str, **limits: int) -> int:
    value = parse_int(data, name, label, **limits)
    assert value is not None
    return value


def parse_text(
    data: dict[str, str], name: str, label: str, *, limit: int, required: bool = False
) -> str:
    text = "".join(ch for ch in normalize_text(data.get(name, "")) if ord(ch) >= 32)
    if required and not text:
        raise FormError(N_("%(field)s: please fill this in."), field=label)
    if len(text) > limit:
        raise FormError(N_("%(field)s: at most %(max)s characters."), field=label, max=limit)
    return text


def parse_choice(data: dict[str, str], name: str, label: str, choices: tuple[str, ...]) -> str:
    value = data.get(name, "")
    if value not in choices:
        raise FormError(N_("%(field)s: choose one of the options."), field=label)
    return value


def parse_day(data: dict[str, str], name: str, label: str) -> date | None:
    """A date typed as Solar Hijri (۱۴۰۴/۰۱/۱۵) or ISO (2025-04-04); empty is None."""
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        day = parse_date(raw)
    except (ValueError, OverflowError):
        day = None
    if day is None or not 2000 <= day.year <= 2200:
        example = format_short_date(utcnow().date(), current_language.get())
        raise FormError(
            N_("%(field)s: enter a date like %(example)s."), field=label, example=example
        )
    return day


def day_range(
    data: dict[str, str], first: str, last: str, labels: tuple[str, str], tz: str
) -> tuple[datetime | None, datetime | None]:
    """From the start of the first day to the end of the last day (both optional),
    as UTC instants at local midnight."""
    start_day = parse_day(data, first, labels[0])
    last_day = parse_day(data, last, labels[1])
    if start_day and last_day and last_day < start_day:
        raise FormError(N_("The last day cannot be before the first day."))
    return (
        start_of_day(start_day, tz) if start_day else None,
        start_of_day(last_day + timedelta(days=1), tz) if last_day else None,
    )


def parse_key(data: dict[str, str]) -> str:
    """The random token a form carries so that sending it twice changes things once."""
    key = data.get("key", "")
    if not _KEY.fullmatch(key):
        raise FormError(N_("This form has expired. Please reload the page and try again."))
    return key


def new_key() -> str:
    return secrets.token_urlsafe(16)


def parse_categories(raw: str) -> list[str]:
    return purchases.clean_categories(raw.replace("،", ",").split(","))


def parse_category_multipliers(raw: str) -> dict[str, int]:
    """Lines of `category=percent`."""
    lines = [line for line in to_ascii_digits(raw).splitlines() if line.strip()]
    if len(lines) > MAX_CATEGORY_LINES:
        raise FormError(N_("Too many categories."))
    result: dict[str, int] = {}
    for line in lines:
        name, sep, percent = line.partition("=")
        category = fold(name)[:40]
        number = _NUMBER_NOISE.sub("", percent)
        if not (sep and category and number.isascii() and number.isdigit() and len(number) <= 7):
            raise FormError(
                N_(
                    "Category multipliers: write one a line as category=percent, "
                    "for example coffee=200."
                )
            )
        if int(number) > MAX_PERCENT:
            raise FormError(
                N_("%(field)s: enter a whole number from %(min)s to %(max)s."),
                field=N_("Category multipliers"),
                min=0,
                max=MAX_PERCENT,
            )
        result[category] = int(number)
    return result


def parse_names(
    data: dict[str, str], prefix: str, labels: dict[str, str], *, limit: int, required: str | None
) -> dict[str, str]:
    """One text per language (`prefix_fa`, ...); `required` names the language that
    must be filled in."""
    names = {}
    for language in LANGUAGES:
        text = parse_text(
            data,
            f"{prefix}_{language}",
            labels[language],
            limit=limit,
            required=language == required,
        )
        if text:
            names[language] = text
    return names


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
        "expire_at": parse_choice(data, "expire_at", N_("Points expire"), EXPIRE_AT),
        "return_policy": parse_choice(
            data, "return_policy", N_("Returns after the points were spent"), RETURN_POLICIES
        ),
        "reminder_days": parse_int(
            data,
            "reminder_days",
            N_("Reminder before expiry (days)"),
            minimum=0,
            maximum=MAX_DAYS,
        ),
        "tier_window": parse_choice(data, "tier_window", N_("Tier window"), TIER_WINDOWS),
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
    }


def parse_rule(
    data: dict[str, str], tier_list: list[Tier], tz: str, *, draft: bool = False
) -> dict[str, Any]:
    """The columns of an EarnRule. A draft (for the preview) may have no name yet."""
    kind = parse_choice(data, "kind", N_("Kind"), RULE_KINDS)
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
    if kind == "spend":
        values["rials_per_point"] = parse_int(
            data, "rials_per_point", N_("Rials for one point"), minimum=1, maximum=MAX_RIALS
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
        raise FormError(N_("%(field)s: choose one of the options."), field=N_("Lowest tier"))
    values["valid_from"], values["valid_until"] = day_range(
        data, "valid_from", "valid_until", (N_("First day"), N_("Last day")), tz
    )
    return values


# --- services: each writes one change and its audit row -----------------------------

PROGRAMME_FIELDS = (
    "expiry_days",
    "expire_at",
    "return_policy",
    "reminder_days",
    "tier_window",
    "tier_window_days",
    "tier_grace_days",
)
