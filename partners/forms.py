"""Reading the partners pages' forms: a partner's terms, a settlement period."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from partners.labels import NAME_FIELDS
from partners.models import Category, Partner
from partners.services import MAX_CAP, MAX_RATE, NAME_MAX, Terms
from vafa.calendar import last_day
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.i18n.formatting import format_number, format_short_date
from vafa.i18n.normalize import to_ascii_digits, to_persian_digits
from vafa.money import Currency, format_amount
from vafa.web.forms import (
    NUMBER_NOISE,
    day_range,
    parse_choice,
    parse_day,
    parse_int,
    parse_money,
    parse_phone,
    parse_text,
)
from vafa.web.forms import parse_names as _parse_names

CONTACT_MAX = 120
ADDRESS_MAX = 300
# A percent with at most two decimals: 2.5, ۲٫۵, 2,5 (the Armenian decimal comma), 12/75
# (as many Iranians write it), with or without a percent sign.
_PERCENT = re.compile(r"^(\d{1,3})(?:[.,\u066b/](\d{1,2}))?[%\u066a]?$", re.ASCII)
_PERCENT_NOISE = re.compile("[\\s\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def parse_rate(data: Mapping[str, str], name: str, label: str, *, currency: Currency) -> int:
    """A point's value typed in the club's unit, in Rials: empty or zero is 0 (no
    money changes hands for those points)."""
    raw = to_ascii_digits(NUMBER_NOISE.sub("", data.get(name, "")))
    if not raw.strip("0.\u066b"):
        return 0
    return parse_money(data, name, label, currency=currency, maximum=MAX_RATE)


def parse_percent(data: Mapping[str, str], name: str, label: str) -> int:
    """A percent with up to two decimals, in basis points (2.5 is 250); empty is 0."""
    raw = to_ascii_digits(_PERCENT_NOISE.sub("", data.get(name, "")))
    if not raw:
        return 0
    match = _PERCENT.match(raw)
    if match is not None:
        whole, fraction = match.groups()
        basis = int(whole) * 100 + int((fraction or "0").ljust(2, "0"))
        if basis <= 10_000:
            return basis
    raise UserError(
        N_("%(field)s: enter a percent from 0 to 100, with at most two decimals."), field=label
    )


def percent_text(basis: int, language: str) -> str:
    """Basis points as a percent, the way the reader writes decimals: 2.5, ۲٫۵, 2,5."""
    text = str(basis // 100)
    if basis % 100:
        text += "." + f"{basis % 100:02d}".rstrip("0")
    if language == "fa":
        return to_persian_digits(text).replace(".", "\u066b")
    return text.replace(".", ",") if language == "hy" else text


def parse_terms(
    data: Mapping[str, str],
    *,
    currency: Currency,
    tz: str,
    language: str,
    home: Partner | None = None,
) -> Terms:
    """A partner's terms from its form. The club's own tills (`home`) keep what their
    form does not show: they earn and spend at no cost, with no caps."""
    phone = data.get("phone", "")
    starts_at, ends_at = day_range(data, "starts", "ends", (N_("First day"), N_("Last day")), tz)
    terms = Terms(
        name=_parse_names(data, "name", NAME_FIELDS, limit=NAME_MAX, required=language),
        category=parse_choice(data, "category", N_("Category"), Category)
        if home is None
        else Category(home.category),
        contact_name=parse_text(data, "contact_name", N_("Contact person"), limit=CONTACT_MAX),
        phone=parse_phone(phone) if phone.strip() else None,
        address=parse_text(data, "address", N_("Address"), limit=ADDRESS_MAX),
        earn=data.get("earn") == "on",
        redeem=data.get("redeem") == "on",
        earn_rials_per_point=parse_rate(
            data, "earn_rials_per_point", N_("Partner pays per point earned"), currency=currency
        ),
        redeem_rials_per_point=parse_rate(
            data, "redeem_rials_per_point", N_("Club pays per point spent"), currency=currency
        ),
        commission_bp=parse_percent(data, "commission", N_("Commission (percent)")),
        enrol=data.get("enrol") == "on",
        monthly_earn_cap=parse_int(
            data,
            "monthly_earn_cap",
            N_("Most points earned there a month"),
            minimum=1,
            maximum=MAX_CAP,
            required=False,
        ),
        monthly_redeem_cap=parse_int(
            data,
            "monthly_redeem_cap",
            N_("Most points spent there a month"),
            minimum=1,
            maximum=MAX_CAP,
            required=False,
        ),
        starts_at=starts_at,
        ends_at=ends_at,
        active=data.get("active") == "on",
    )
    if home is not None:
        terms = replace(
            terms,
            earn=True,
            redeem=True,
            earn_rials_per_point=home.earn_rials_per_point,
            redeem_rials_per_point=home.redeem_rials_per_point,
            commission_bp=home.commission_bp,
            monthly_earn_cap=home.monthly_earn_cap,
            monthly_redeem_cap=home.monthly_redeem_cap,
        )
    return terms


def terms_values(partner: Partner, *, currency: Currency, tz: str, language: str) -> dict[str, str]:
    """A partner as its edit form shows it: money in the club's unit, numbers and days
    in the reader's digits and calendar."""

    def number(value: int | None) -> str:
        return "" if value is None else format_number(value, language)

    def rate(value: int) -> str:
        return format_amount(value, language, currency) if value else ""

    until = last_day(partner.ends_at, tz)
    return {
        **{f"name_{code}": partner.name.get(code, "") for code in NAME_FIELDS},
        "category": partner.category,
        "contact_name": partner.contact_name,
        "phone": partner.phone or "",
        "address": partner.address,
        "earn": "on" if partner.earn else "",
        "redeem": "on" if partner.redeem else "",
        "earn_rials_per_point": rate(partner.earn_rials_per_point),
        "redeem_rials_per_point": rate(partner.redeem_rials_per_point),
        "commission": percent_text(partner.commission_bp, language)
        if partner.commission_bp
        else "",
        "enrol": "on" if partner.enrol else "",
        "monthly_earn_cap": number(partner.monthly_earn_cap),
        "monthly_redeem_cap": number(partner.monthly_redeem_cap),
        "starts": format_short_date(partner.starts_at, language, tz) if partner.starts_at else "",
        "ends": format_short_date(until, language) if until else "",
        "active": "on" if partner.active else "",
    }


def parse_period(
    params: Mapping[str, str], default: tuple[date, date] | None = None
) -> tuple[date, date]:
    """The settlement period a query string or form names (`first`, `last`: Solar
    Hijri or ISO); without either, `default` (the club's previous month) if given."""
    first = parse_day(params, "first", N_("First day"))
    last = parse_day(params, "last", N_("Last day"))
    if first is None and last is None and default is not None:
        return default
    if first is None or last is None:
        raise UserError(N_("Give the period's first and last days."))
    return first, last
