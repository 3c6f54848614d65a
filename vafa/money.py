"""Money as the club shows it. Amounts are stored as whole Rials (Drams in Armenia);
the club chooses the unit its pages, forms and messages use: Rial or Toman (ten Rials)
in Iran, Dram in Armenia."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

from vafa.i18n import N_, translate
from vafa.i18n.formatting import format_number
from vafa.i18n.normalize import to_ascii_digits


class Currency(StrEnum):
    RIAL = "rial"
    TOMAN = "toman"
    DRAM = "dram"


# Stored units in one shown unit.
STORED_PER_UNIT: Mapping[Currency, int] = {
    Currency.RIAL: 1,
    Currency.TOMAN: 10,
    Currency.DRAM: 1,
}
UNIT_NAMES: Mapping[Currency, str] = {
    Currency.RIAL: N_("Rials"),
    Currency.TOMAN: N_("Tomans"),
    Currency.DRAM: N_("Drams"),
}
AMOUNTS: Mapping[Currency, str] = {
    Currency.RIAL: N_("%(amount)s Rials"),
    Currency.TOMAN: N_("%(amount)s Tomans"),
    Currency.DRAM: N_("%(amount)s Drams"),
}
CURRENCY_LABELS: Mapping[str, str] = {
    Currency.TOMAN: N_("Toman (ten Rials)"),
    Currency.RIAL: N_("Rial"),
    Currency.DRAM: N_("Armenian dram"),
}


def default_currency(timezone: str) -> Currency:
    return Currency.DRAM if timezone == "Asia/Yerevan" else Currency.RIAL


def format_amount(stored: int, language: str, currency: Currency) -> str:
    """The number alone, in the unit and digits of the page: 125,000 Rials shown in
    Tomans is «۱۲٬۵۰۰»; a Rial that does not make a whole Toman shows as a tenth."""
    per_unit = STORED_PER_UNIT[currency]
    if stored % per_unit:
        return format_number(Decimal(stored) / per_unit, language)
    return format_number(stored // per_unit, language)


def format_money(stored: int, language: str, currency: Currency) -> str:
    """An amount with its unit, in the language's words and digits."""
    return translate(language, AMOUNTS[currency], amount=format_amount(stored, language, currency))


_AMOUNT = re.compile(r"^(\d{1,19})(?:[.\u066b](\d))?$", re.ASCII)


def to_stored(text: str, currency: Currency) -> int | None:
    """A typed amount (digits in any script, separators already removed) in stored units;
    None when it is not an amount in this unit. Tomans take one decimal (a Rial)."""
    match = _AMOUNT.match(to_ascii_digits(text))
    if match is None:
        return None
    whole, tenth = match.groups()
    per_unit = STORED_PER_UNIT[currency]
    if tenth is not None and (per_unit != 10):
        return None
    return int(whole) * per_unit + int(tenth or 0)
