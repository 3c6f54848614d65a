"""The one place where input is normalised: digits, Arabic letter forms, ZWNJ, phones.

Everything a person types goes through here before it is validated or matched.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_DIGITS = str.maketrans(
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩",  # Persian, then Arabic-Indic
    "01234567890123456789",
)
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ۀ": "ه"})
# ZWNJ, ZWJ, LRM/RLM and bidi controls, tatweel, Arabic diacritics and superscript alef.
_DROP = re.compile("[\u200c\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069\u0640\u064b-\u0652\u0670]")
_SPACE = re.compile(r"\s+")
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)

MAX_PHONE_INPUT = 40


def to_ascii_digits(text: str) -> str:
    """Persian (۰-۹) and Arabic-Indic (٠-٩) digits to ASCII."""
    return text.translate(_DIGITS)


def to_persian_digits(text: str) -> str:
    return text.translate(_TO_PERSIAN)


def normalize_text(text: str) -> str:
    """Canonical form for matching: NFKC, one yeh/kaf, no joiners or marks, ASCII digits,
    single spaces, trimmed. Case is kept; use `fold` to compare case-insensitively."""
    text = unicodedata.normalize("NFKC", text)
    text = to_ascii_digits(text.translate(_LETTERS))
    text = _DROP.sub("", text)
    return _SPACE.sub(" ", text).strip()


def tidy_text(text: str) -> str:
    """Text to store, as typed: one yeh and kaf, single spaces, trimmed; the Persian
    half-space (ZWNJ) and the digits stay as they were written."""
    text = unicodedata.normalize("NFKC", text).translate(_LETTERS)
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """`normalize_text` plus casefold: for keyword and username matching."""
    return normalize_text(text).casefold()


class InvalidPhone(ValueError):
    """The text is not a mobile number we can send a code to."""


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of an Iranian or Armenian mobile number (or any
    international mobile given with its country code).

    Accepts 0912..., 912..., +98..., 0098..., 98..., +374..., 00374..., 374..., and the
    Armenian national 0XX XXXXXX, with any Persian or Arabic-Indic digits, spaces,
    dashes, dots and brackets.
    """
    if len(raw) > MAX_PHONE_INPUT:
        raise InvalidPhone("too long")
    text = to_ascii_digits(unicodedata.normalize("NFKC", raw))
    text = _DROP.sub("", text)
    plus = text.strip().startswith("+")
    digits = "".join(_ASCII_DIGITS.findall(text))
    if re.search(r"[^0-9+\s\-().]", text, re.ASCII) or not digits:
        raise InvalidPhone("unexpected characters")
    if plus:
        candidate = "+" + digits
    elif digits.startswith("00"):
        candidate = "+" + digits[2:]
    elif digits.startswith("98") and len(digits) == 12:
        candidate = "+" + digits
    elif digits.startswith("374") and len(digits) == 11:
        candidate = "+" + digits
    elif digits.startswith("09") and len(digits) == 11:
        candidate = "+98" + digits[1:]
    elif digits.startswith("9") and len(digits) == 10:
        candidate = "+98" + digits
    elif digits.startswith("0") and len(digits) == 9:
        candidate = "+374" + digits[1:]
    else:
        raise InvalidPhone("unknown format")
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("unparseable") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid number")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidPhone("not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str, language: str) -> str:
    """A phone number as a person reads it in their language (national form at home)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if language == "fa":
        if number.country_code == 98:
            text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return to_persian_digits(text)
    return text
