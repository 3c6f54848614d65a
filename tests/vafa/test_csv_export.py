"""CSV cells a spreadsheet shows as text and never runs."""

from datetime import UTC, datetime

import pytest

from vafa.web.csv_export import cell, moment


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("+989121234567", "+989121234567"),  # a number stays a number
        ("-1,250", "-1,250"),
        ("فاطمه‌السادات", "فاطمه‌السادات"),  # as typed, half-space included
        (None, ""),
        (True, "1"),
        (12, "12"),
    ],
)
def test_a_cell_is_text_not_a_formula(value, written):
    assert cell(value) == written


def test_times_are_solar_hijri_for_a_persian_reader():
    at = datetime(2026, 11, 26, 16, 54, tzinfo=UTC)
    assert moment(at, "fa", "Asia/Tehran") == "1405-09-05 20:24"
    assert moment(at, "en", "Asia/Tehran") == "2026-11-26 20:24"
    assert moment(at, "hy", "Asia/Yerevan") == "2026-11-26 20:54"
