"""Reading what people type: the posted form, ids and pages in URLs, and typed values
(numbers and dates in Persian, Arabic-Indic or ASCII digits, texts, choices, phone
numbers, form keys). Every parser raises `UserError` before anything is written."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.params import Parameter

from vafa.calendar import end_of_range, start_of_day
from vafa.club import ClubCache
from vafa.database import utcnow
from vafa.errors import UserError
from vafa.i18n import N_, current_language
from vafa.i18n.formatting import format_short_date, parse_date
from vafa.i18n.normalize import InvalidPhone, normalize_phone, tidy_text, to_ascii_digits
from vafa.money import STORED_PER_UNIT, Currency, to_stored
from vafa.settings import LANGUAGES

MAX_FIELD = 4096
INT32 = 2_147_483_647
MAX_DAYS = 3_650
E = TypeVar("E", bound=StrEnum)


class FormRequest(Request[Any, Any, Any]):
    """The app's request class: its form refuses text that is not what it says it is
    (a field that is not UTF-8, a charset nobody knows) with a 400, wherever the form
    is first read (the CSRF check or the handler), instead of failing with a 500 or
    passing on mangled text."""

    async def form(self) -> FormMultiDict:
        content_type, _ = self.content_type
        if content_type == RequestEncodingType.URL_ENCODED and not urlencoded_is_utf8(
            await self.body()
        ):
            raise ClientException("the form is not UTF-8")
        try:
            return await super().form()
        except (UnicodeError, LookupError) as exc:  # a multipart field's bytes or charset
            raise ClientException("a form field is not in the charset it names") from exc


def urlencoded_is_utf8(body: bytes) -> bool:
    """Whether an urlencoded body is ASCII whose %-escapes spell UTF-8 (what browsers
    send). Litestar would read raw bytes as Latin-1 and bad escapes as U+FFFD."""
    try:
        parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeError, ValueError):
        return False
    return True


async def form_data(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form as plain strings; oversized fields are cut (validators then
    refuse them with a clear message instead of choking on megabytes)."""
    data = await request.form()
    return {key: str(value)[:MAX_FIELD] for key, value in data.items() if isinstance(value, str)}


async def form_upload(request: Request[Any, Any, Any], name: str, limit: int) -> bytes | None:
    """The bytes of an uploaded file field, or None when no file was chosen. Reads at
    most `limit + 1` bytes, so the caller can refuse what is too large."""
    data = await request.form()
    upload = data.get(name)
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", ""):
        return None
    content = await upload.read(limit + 1)
    return content or None


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: a `next` parameter must never send someone elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


# Database ids a URL may name: a bigger number is refused as bad input (400) by the
# router, instead of failing inside the database driver.
MAX_ID = 2**63 - 1
PathId = Annotated[int, Parameter(ge=1, le=MAX_ID)]


def query_id(request: Request[Any, Any, Any], name: str) -> int | None:
    """A positive id from the query string, or None for anything else."""
    raw = request.query_params.get(name, "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw) or None
    return None


def query_page(request: Request[Any, Any, Any]) -> int:
    """A page number from 1 to 10,000 (anything else is the first page)."""
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1


# --- typed values ------------------------------------------------------------------

# Thousands separators (ASCII and Persian), spaces and invisible direction marks.
NUMBER_NOISE = re.compile("[,\u066c\\s\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MINUS = ("-", "\u2212")
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
PHONE_EXAMPLE = N_("Please enter a valid mobile number, for example 0912 345 6789.")


def parse_int(
    data: Mapping[str, str],
    name: str,
    label: str,
    *,
    minimum: int,
    maximum: int,
    default: int | None = None,
    required: bool = True,
) -> int | None:
    """A whole number typed in any digits, with or without thousands separators."""
    raw = NUMBER_NOISE.sub("", to_ascii_digits(data.get(name, "")))
    if not raw:
        if default is not None:
            return default
        if required:
            raise UserError(N_("%(field)s: please fill this in."), field=label)
        return None
    negative = raw[0] in _MINUS
    digits = raw[1:] if negative or raw[0] == "+" else raw
    if digits.isascii() and digits.isdigit() and len(digits) <= 19:
        value = -int(digits) if negative else int(digits)
        if minimum <= value <= maximum:
            return value
    raise UserError(
        N_("%(field)s: enter a whole number from %(min)s to %(max)s."),
        field=label,
        min=minimum,
        max=maximum,
    )


def required_int(
    data: Mapping[str, str], name: str, label: str, *, minimum: int, maximum: int
) -> int:
    value = parse_int(data, name, label, minimum=minimum, maximum=maximum)
    assert value is not None
    return value


def form_currency(request: Request[Any, Any, Any], data: Mapping[str, str]) -> Currency:
    """The unit the form was shown in (its `unit` field), else the club's unit now: an
    amount typed in Tomans stays Tomans even if the club switched to Rials since."""
    try:
        return Currency(data.get("unit", ""))
    except ValueError:
        cache: ClubCache = request.app.state.club
        return cache.profile.currency


def parse_money(
    data: Mapping[str, str], name: str, label: str, *, currency: Currency, maximum: int
) -> int:
    """An amount typed in `currency` (any digits, separators, a tenth of a Toman), in
    stored units: more than zero and at most `maximum`."""
    raw = NUMBER_NOISE.sub("", data.get(name, ""))
    if not raw:
        raise UserError(N_("%(field)s: please fill this in."), field=label)
    value = to_stored(raw, currency)
    if value is None or not 0 < value <= maximum:
        raise UserError(
            N_("%(field)s: enter an amount more than zero and at most %(max)s."),
            field=label,
            max=maximum // STORED_PER_UNIT[currency],
        )
    return value


def parse_text(
    data: Mapping[str, str], name: str, label: str, *, limit: int, required: bool = False
) -> str:
    """Text as typed (the half-space kept), without control characters."""
    text = "".join(ch for ch in tidy_text(data.get(name, "")) if ord(ch) >= 32)
    if required and not text:
        raise UserError(N_("%(field)s: please fill this in."), field=label)
    if len(text) > limit:
        raise UserError(N_("%(field)s: at most %(max)s characters."), field=label, max=limit)
    return text


def parse_choice(data: Mapping[str, str], name: str, label: str, choices: type[E]) -> E:
    try:
        return choices(data.get(name, ""))
    except ValueError:
        raise UserError(N_("%(field)s: choose one of the options."), field=label) from None


def parse_names(
    data: Mapping[str, str],
    prefix: str,
    labels: Mapping[str, str],
    *,
    limit: int,
    required: str | None,
) -> dict[str, str]:
    """One text per language (`prefix_fa`, ...); `required` names the language that
    must be filled in."""
    names = {}
    for language in LANGUAGES:
        text = parse_text(
            data, f"{prefix}_{language}", labels[language], limit=limit, required=language == required
        )
        if text:
            names[language] = text
    return names


def parse_day(data: Mapping[str, str], name: str, label: str) -> date | None:
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
        raise UserError(
            N_("%(field)s: enter a date like %(example)s."), field=label, example=example
        )
    return day


def day_range(
    data: Mapping[str, str], first: str, last: str, labels: tuple[str, str], tz: str
) -> tuple[datetime | None, datetime | None]:
    """From the start of the first day to the end of the last day (both optional),
    as UTC instants at local midnight."""
    start_day = parse_day(data, first, labels[0])
    last_day = parse_day(data, last, labels[1])
    if start_day and last_day and last_day < start_day:
        raise UserError(N_("The last day cannot be before the first day."))
    return (
        start_of_day(start_day, tz) if start_day else None,
        end_of_range(last_day, tz) if last_day else None,
    )


def parse_phone(raw: str) -> str:
    """A mobile number in any usual form and digits, as E.164."""
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        raise UserError(PHONE_EXAMPLE) from None


def parse_key(data: Mapping[str, str]) -> str:
    """The random token a form carries so that sending it twice changes things once."""
    key = data.get("key", "")
    if not _KEY.fullmatch(key):
        raise UserError(N_("This form has expired. Please reload the page and try again."))
    return key


def new_key() -> str:
    return secrets.token_urlsafe(16)

