"""Dates and numbers as each language shows them: Solar Hijri and Persian digits in fa."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import jdatetime
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal

from vafa.i18n import translate
from vafa.i18n.normalize import to_ascii_digits, to_persian_digits

JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
_BABEL_LOCALE = {"fa": "fa_IR", "hy": "hy_AM", "en": "en"}


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def format_date(value: date | datetime, language: str, tz: str = "Asia/Tehran") -> str:
    """A long date: «۵ آذر ۱۴۰۵» in fa, «25 November 2026» in en, Armenian in hy."""
    if isinstance(value, datetime):
        value = local(value, tz).date()
    if language == "fa":
        j = jdatetime.date.fromgregorian(date=value)
        return to_persian_digits(f"{j.day} {JALALI_MONTHS[j.month - 1]} {j.year}")
    return babel_format_date(value, "long", locale=_BABEL_LOCALE[language])


def format_short_date(value: date | datetime, language: str, tz: str = "Asia/Tehran") -> str:
    """A numeric date: ۱۴۰۵/۰۹/۰۴ in fa, ISO 2026-11-25 otherwise (unambiguous)."""
    if isinstance(value, datetime):
        value = local(value, tz).date()
    if language == "fa":
        j = jdatetime.date.fromgregorian(date=value)
        return to_persian_digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")
    return value.isoformat()


def format_time(value: datetime, language: str, tz: str = "Asia/Tehran") -> str:
    """The time of day in the club's zone, in the reader's digits: ۱۴:۰۵, 14:05."""
    time = babel_format_time(local(value, tz), "HH:mm", locale=_BABEL_LOCALE[language])
    return format_number_text(time, language)


def format_datetime(value: datetime, language: str, tz: str = "Asia/Tehran") -> str:
    when = local(value, tz)
    time = babel_format_time(when, "HH:mm", locale=_BABEL_LOCALE[language])
    return (
        f"{format_date(when.date(), language)}، {format_number_text(time, language)}"
        if (language == "fa")
        else f"{format_date(when.date(), language)}, {time}"
    )


def format_number(value: int | Decimal, language: str) -> str:
    """A number with the language's separators and digits (a Decimal keeps one
    decimal place: a tenth of a Toman)."""
    text = format_decimal(value, format="#,##0.#", locale=_BABEL_LOCALE[language])
    if language == "fa":
        # Persian writes the Arabic thousands (U+066C) and decimal (U+066B) separators
        # between Persian digits.
        return to_persian_digits(text).replace(",", "\u066c").replace(".", "\u066b")
    return text


def format_number_text(text: str, language: str) -> str:
    return to_persian_digits(text) if language == "fa" else text


_DATE = re.compile(r"^\s*([0-9]{4})\s*[/\-.]\s*([0-9]{1,2})\s*[/\-.]\s*([0-9]{1,2})\s*$", re.ASCII)


def parse_date(text: str) -> date:
    """Parse Y/M/D (any digits, / - or . between). Years before 1700 are Solar Hijri,
    so a Persian user can type ۱۳۷۰/۰۵/۱۲ and anyone can type 1991-08-03.
    Raises ValueError on anything else."""
    match = _DATE.match(to_ascii_digits(text))
    if not match:
        raise ValueError("not a date")
    year, month, day = (int(g) for g in match.groups())
    if year < 1700:
        return jdatetime.date(year, month, day).togregorian()
    return date(year, month, day)


def format_message(language: str, message: str, values: Mapping[str, object]) -> str:
    """`message` translated into `language` with its values filled in: a value named
    `field` is a label, translated too; numbers are written in the language's digits."""
    filled: dict[str, object] = {}
    for name, value in values.items():
        if name == "field":
            filled[name] = translate(language, str(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            filled[name] = format_number(value, language)
        else:
            filled[name] = value
    return translate(language, message, **filled)
