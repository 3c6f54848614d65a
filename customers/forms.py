"""The customer's profile form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from vafa.errors import UserError
from vafa.i18n import N_, parse_language
from vafa.i18n.formatting import parse_date


@dataclass(frozen=True)
class Profile:
    name: str
    birthday: date | None
    language: str
    marketing_consent: bool


def parse_profile(data: Mapping[str, str]) -> Profile:
    birthday = None
    if data.get("birthday", "").strip():
        try:
            birthday = parse_date(data["birthday"])
        except (ValueError, OverflowError):
            raise UserError(N_("The birthday is not a valid date.")) from None
    return Profile(
        name=data.get("name", ""),
        birthday=birthday,
        language=parse_language(data.get("language")) or "",
        marketing_consent=data.get("marketing_consent") == "on",
    )
