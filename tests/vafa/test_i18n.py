"""Every visible string is translated; Persian pages carry no English."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import login_customer, post_form
from vafa.i18n import LOCALES_DIR
from vafa.i18n.formatting import format_date, format_number, parse_date
from vafa.settings import ROOT


def _extract(tmp: Path) -> set[str]:
    out = tmp / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(out),
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    with out.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return _extract(tmp_path_factory.mktemp("pot"))


@pytest.mark.parametrize("language", ["fa", "hy"])
def test_every_string_is_translated(source_messages, language):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=language)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and m.string and (isinstance(m.string, str) or all(m.string)) and not m.fuzzy
    }
    missing = sorted(source_messages - translated)
    assert not missing, f"{language}: untranslated (run `make messages`): {missing}"


@pytest.mark.parametrize("language", ["fa", "hy"])
def test_placeholders_survive_translation(language):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=language)
    for m in catalog:
        if m.id and m.string:
            source = m.id if isinstance(m.id, str) else m.id[0]
            target = m.string if isinstance(m.string, str) else m.string[0]
            assert set(re.findall(r"%\(\w+\)s", source)) == set(re.findall(r"%\(\w+\)s", target)), (
                source
            )


class _VisibleText(HTMLParser):
    """Visible text and user-facing attributes, skipping parts marked with another lang."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []  # True where a foreign `lang` starts
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        foreign = attrs.get("lang") not in (None, "fa") and tag != "html"
        void = tag in {"input", "meta", "link", "br", "img", "hr"}
        if foreign and not void:
            self.skip += 1
        if not void:
            self.stack.append(foreign)
        if tag in {"script", "style", "title"} and not void:
            self.skip += 1
            self.stack[-1] = True
        if not self.skip and not foreign:
            for name in ("placeholder", "aria-label", "title", "alt"):
                if attrs.get(name):
                    self.parts.append(attrs[name])

    def handle_endtag(self, tag):
        if self.stack and self.stack.pop():
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def english_words(page: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(page)
    text = " ".join(parser.parts)
    # Usernames shown to staff are data, not interface; keep the check for words.
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in {"owner", "agent"}]


async def test_persian_pages_have_no_english(client, sessionmaker):
    pages = {}
    pages["login"] = (await client.get("/login")).text
    await post_form(client, "/login", {"phone": "09121234567"})
    pages["verify"] = (await client.get("/login/verify")).text
    await login_customer(client, sessionmaker)
    for path in (
        "/",
        "/profile",
        "/no-such-page",
        "/points",
        "/points/history",
        "/rewards",
        "/vouchers",
    ):
        pages[path] = (await client.get(path)).text
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    for path in (
        "/admin/",
        "/admin/sms",
        "/admin/staff",
        "/admin/audit",
        "/admin/login",
        "/admin/programme",
        "/admin/rules",
        "/admin/tiers",
        "/admin/purchases",
        "/admin/vouchers",
        "/admin/members",
    ):
        pages[path] = (await client.get(path)).text
    for name, page in pages.items():
        assert '<html lang="fa" dir="rtl">' in page, name
        assert english_words(page) == [], (name, english_words(page))


def test_solar_hijri_and_persian_digits():
    assert format_date(date(2026, 11, 25), "fa") == "۴ آذر ۱۴۰۵"
    assert format_date(date(2025, 3, 21), "fa") == "۱ فروردین ۱۴۰۴"
    assert format_date(date(2026, 11, 25), "en") == "November 25, 2026"
    assert format_number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert parse_date("۱۴۰۳/۱۲/۳۰") == date(2025, 3, 20)  # 1403 is a leap year
    with pytest.raises(ValueError):
        parse_date("1404/12/30")  # 1404 is not
