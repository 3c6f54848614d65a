"""Reading the SMS codes forms: a line's settings and replies, a code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sms_codes.models import CodeAction
from sms_codes.queries import ContactFilter, Membership
from sms_codes.services import LINE_REPLIES
from vafa.i18n import N_
from vafa.i18n.normalize import to_ascii_digits
from vafa.settings import LANGUAGES
from vafa.web.forms import MAX_FIELD, day_range, parse_choice, parse_int, parse_text

_KEYWORD_SEPARATORS = re.compile("[,،\n]")
MAX_POOL = 1_000_000
MAX_BUDGET = 1_000_000


def replies(data: dict[str, str], prefix: str) -> dict[str, str]:
    """`<prefix>_fa`, `<prefix>_en`, ... as typed (the services tidy and check them)."""
    return {language: data.get(f"{prefix}_{language}", "")[:MAX_FIELD] for language in LANGUAGES}


def parse_line(data: dict[str, str]) -> dict[str, Any]:
    budget = parse_int(
        data, "daily_budget", N_("Replies a day"), minimum=0, maximum=MAX_BUDGET, default=500
    )
    return {
        "name": parse_text(data, "name", N_("Name"), limit=120),
        "daily_budget": budget,
        "active": data.get("active") == "on",
        **{name: replies(data, name) for name in LINE_REPLIES},
    }


def parse_code(data: dict[str, str], tz: str) -> dict[str, Any]:
    action = parse_choice(data, "action", N_("What it does"), CodeAction)
    starts_at, ends_at = day_range(data, "starts", "ends", (N_("First day"), N_("Last day")), tz)
    pool = None
    if action == CodeAction.COUPON:
        pool = parse_int(data, "coupon_pool", N_("Coupons to give"), minimum=1, maximum=MAX_POOL)
    return {
        "name": parse_text(data, "name", N_("Name"), limit=120, required=True),
        "action": action,
        "keywords": _KEYWORD_SEPARATORS.split(data.get("keywords", "")[:MAX_FIELD]),
        "replies": replies(data, "reply"),
        "marketing": data.get("marketing") == "on",
        "active": data.get("active") == "on",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "coupon_pool": pool,
    }


def contact_filter(params: Mapping[str, str]) -> ContactFilter:
    """The contacts filter from a query string; what cannot be read is left out (a
    filter narrows a list, it has nothing to refuse)."""
    digits = re.sub(r"\D", "", to_ascii_digits(params.get("phone", "")[:40])).lstrip("0")
    code = params.get("code", "")
    membership = params.get("membership", "")
    return ContactFilter(
        phone=digits[:15],
        code_id=int(code) if code.isascii() and code.isdigit() and len(code) <= 18 else None,
        membership=Membership(membership) if membership in set(Membership) else Membership.ANYONE,
        reachable=params.get("reachable") == "on",
    )
