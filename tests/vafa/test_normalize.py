"""Property-based tests of the one normalisation module."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vafa.i18n.normalize import (
    InvalidPhone,
    fold,
    normalize_phone,
    normalize_text,
    to_ascii_digits,
    to_persian_digits,
)

PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC = "٠١٢٣٤٥٦٧٨٩"

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@given(digits)
def test_persian_and_arabic_digits_become_ascii(text: str) -> None:
    persian = text.translate(str.maketrans("0123456789", PERSIAN))
    arabic = text.translate(str.maketrans("0123456789", ARABIC))
    assert to_ascii_digits(persian) == text
    assert to_ascii_digits(arabic) == text
    assert to_ascii_digits(to_persian_digits(text)) == text


@given(st.text(max_size=60))
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert fold(fold(text)) == fold(text)


@given(st.text(max_size=60))
def test_normalized_text_has_no_arabic_forms_joiners_or_foreign_digits(text: str) -> None:
    out = normalize_text(text)
    for forbidden in "يىك\u200c\u200d\u0640" + PERSIAN + ARABIC:
        assert forbidden not in out


def test_arabic_letters_match_persian() -> None:
    assert fold("كافي شاپ") == fold("کافی‌شاپ".replace("\u200c", " "))
    assert normalize_text("مي\u200cخواهم") == "میخواهم"


subscriber = st.integers(min_value=0, max_value=9_999_999).map(lambda n: f"{n:07d}")
ir_prefix = st.sampled_from(["912", "935", "901", "990", "921", "939"])


def _sep(draw: st.DrawFn, text: str) -> str:
    """Insert random spaces or dashes, the way people type numbers."""
    out = []
    for ch in text:
        out.append(ch)
        if draw(st.booleans()) and draw(st.booleans()):
            out.append(draw(st.sampled_from([" ", "-", " "])))
    return "".join(out).strip(" -")


@st.composite
def iranian_numbers(draw: st.DrawFn) -> tuple[str, str]:
    prefix, rest = draw(ir_prefix), draw(subscriber)
    national = prefix + rest
    form = draw(st.sampled_from(["0{}", "+98{}", "0098{}", "98{}", "{}"]))
    typed = _sep(draw, form.format(national))
    script = draw(st.sampled_from(["ascii", "persian", "arabic"]))
    if script == "persian":
        typed = typed.translate(str.maketrans("0123456789", PERSIAN))
    elif script == "arabic":
        typed = typed.translate(str.maketrans("0123456789", ARABIC))
    return typed, "+98" + national


@given(iranian_numbers())
def test_every_iranian_format_normalises_to_e164(case: tuple[str, str]) -> None:
    typed, expected = case
    assert normalize_phone(typed) == expected


@st.composite
def armenian_numbers(draw: st.DrawFn) -> tuple[str, str]:
    operator = draw(st.sampled_from(["77", "91", "93", "94", "95", "96", "98", "99", "55", "41"]))
    rest = f"{draw(st.integers(min_value=0, max_value=999_999)):06d}"
    national = operator + rest
    form = draw(st.sampled_from(["+374{}", "00374{}", "374{}", "0{}"]))
    typed = _sep(draw, form.format(national))
    if draw(st.booleans()):
        typed = typed.translate(str.maketrans("0123456789", PERSIAN))
    return typed, "+374" + national


@given(armenian_numbers())
def test_every_armenian_format_normalises_to_e164(case: tuple[str, str]) -> None:
    typed, expected = case
    assert normalize_phone(typed) == expected


@given(st.text(max_size=50))
def test_phone_normaliser_only_returns_e164_or_refuses(text: str) -> None:
    try:
        result = normalize_phone(text)
    except InvalidPhone:
        return
    assert result.startswith("+") and result[1:].isascii() and result[1:].isdigit()
    assert normalize_phone(result) == result


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "12345",
        "02188776655",
        "+98 21 8877 6655",
        "abc",
        "😀😀😀",
        "' OR 1=1 --",
        "0912" * 100,
        "<script>",
        "+1 555",
        "٠٩١٢",
    ],
)
def test_not_mobile_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(bad)
