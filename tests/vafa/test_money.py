"""Money is stored in Rials (Drams) and shown in the club's unit, in every language."""

from __future__ import annotations

import pytest

from vafa.money import Currency, format_amount, format_money, to_stored

T, R, D = Currency.TOMAN, Currency.RIAL, Currency.DRAM


@pytest.mark.parametrize(
    ("stored", "language", "currency", "shown"),
    [
        (1_250_000, "fa", T, "۱۲۵٬۰۰۰ تومان"),
        (1_250_000, "fa", R, "۱٬۲۵۰٬۰۰۰ ریال"),
        (1_250_000, "en", T, "125,000 Tomans"),
        (1_250_000, "en", R, "1,250,000 Rials"),
        (1_250_005, "fa", T, "۱۲۵٬۰۰۰٫۵ تومان"),  # a Rial short of a whole Toman
        (1_250_005, "en", T, "125,000.5 Tomans"),
        (12_500, "hy", D, "12\u00a0500 դրամ"),
        (12_500, "en", D, "12,500 Drams"),
        (1_250_000, "hy", T, "125\u00a0000 թուման"),
    ],
)
def test_amounts_read_as_each_language_writes_money(stored, language, currency, shown):
    assert format_money(stored, language, currency) == shown


@pytest.mark.parametrize(
    ("typed", "currency", "stored"),
    [
        ("125000", T, 1_250_000),
        ("۱۲۵۰۰۰", T, 1_250_000),
        ("١٢٥٠٠٠", T, 1_250_000),
        ("125000.5", T, 1_250_005),
        ("۱۲۵۰۰۰٫۵", T, 1_250_005),
        ("125000", R, 125_000),
        ("12500", D, 12_500),
        ("125000.5", R, None),  # no half Rials
        ("125000.55", T, None),
        ("12,500", R, None),  # separators are removed by the form parser first
        ("-5", T, None),
        ("", T, None),
        ("1" * 20, R, None),
    ],
)
def test_typed_amounts_become_stored_units(typed, currency, stored):
    assert to_stored(typed, currency) == stored


def test_the_number_alone_round_trips_through_the_form():
    for stored in (10, 1_234_560, 1_234_565):
        assert to_stored(format_amount(stored, "en", T).replace(",", ""), T) == stored
