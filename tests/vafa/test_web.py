"""Web base: CSRF, security headers, translated errors, bad input never a 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from customers.models import Customer
from loyalty.models import Reward
from tests.admin.test_staff import PASSWORD, make_staff, staff_login
from tests.conftest import csrf_token, login_customer, make_settings, post_form
from vafa.audit import AuditLog
from vafa.models import AuthSession, OtpChallenge, RateEvent, SmsMessage
from vafa.server.app import create_app
from vafa.settings import ROOT

PERSIAN_LETTERS = set("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی")


def _has_persian(text: str) -> bool:
    return any(ch in PERSIAN_LETTERS for ch in text)


async def _count(sessionmaker, model) -> int:
    async with sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def test_post_without_csrf_token_is_refused(client, sessionmaker):
    await client.get("/login")
    response = await client.post("/login", data={"phone": "09121234567"}, follow_redirects=False)
    assert response.status_code == 403
    assert _has_persian(response.text)
    assert await _count(sessionmaker, OtpChallenge) == 0
    assert await _count(sessionmaker, SmsMessage) == 0


async def test_post_with_a_wrong_csrf_token_is_refused(client, sessionmaker):
    await client.get("/login")
    response = await client.post(
        "/login", data={"phone": "09121234567", "_csrf_token": "0" * 64}, follow_redirects=False
    )
    assert response.status_code == 403
    assert await _count(sessionmaker, SmsMessage) == 0


async def test_htmx_header_carries_the_csrf_token(client, sessionmaker):
    page = await client.get("/login")
    token = client.cookies["vafa_csrf"]
    assert f'"x-csrftoken": "{token}"' in page.text
    response = await client.post(
        "/login",
        data={"phone": "09121234567"},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 302


async def test_security_headers(client):
    response = await client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    static = await client.get("/static/css/vafa.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"


async def test_pages_have_no_inline_script(client, sessionmaker):
    await login_customer(client, sessionmaker)
    for path in ("/", "/profile"):
        page = (await client.get(path)).text
        assert "<script>" not in page and " onclick=" not in page and " style=" not in page


@pytest.mark.parametrize(
    "phone",
    [
        "9" * 1_000_000,
        "😀😀😀📱",
        "'; DROP TABLE customers; --",
        "0912' OR '1'='1",
        "<script>alert(1)</script>",
        "\x00\x01",
        "",
    ],
)
async def test_bad_phone_gets_a_translated_error_and_changes_nothing(client, sessionmaker, phone):
    response = await post_form(client, "/login", {"phone": phone})
    assert response.status_code in (400, 413)
    assert _has_persian(response.text)
    assert "Traceback" not in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert await _count(sessionmaker, OtpChallenge) == 0
    assert await _count(sessionmaker, SmsMessage) == 0


async def test_oversized_body_is_refused_with_a_translated_page(client, settings):
    await client.get("/login")
    body = "phone=" + "9" * (settings.max_body_bytes + 10)
    response = await client.post(
        "/login",
        content=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-csrftoken": client.cookies["vafa_csrf"],
        },
    )
    assert response.status_code == 413 and _has_persian(response.text)


async def test_garbage_code_is_refused_kindly(client, sessionmaker):
    await post_form(client, "/login", {"phone": "09121234567"})
    for code in ("abcdef", "😀" * 6, "1" * 5000, "12345", "' OR 1=1"):
        response = await post_form(client, "/login/verify", {"code": code})
        assert response.status_code == 400 and _has_persian(response.text)
    async with sessionmaker() as s:
        assert (await s.scalar(select(OtpChallenge))).attempts == 0


@pytest.mark.parametrize("language", ["xx", "fr", "", "e" * 5000, "../../etc", "😀"])
async def test_unknown_language_code_is_a_translated_error(client, language):
    response = await post_form(client, "/language", {"language": language, "next": "/login"})
    assert response.status_code == 400 and _has_persian(response.text)
    assert "vafa_lang" not in response.cookies


async def test_language_switch_changes_direction_and_refuses_open_redirects(client):
    response = await post_form(
        client, "/language", {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.headers["location"] == "/"
    page = await client.get("/login")
    assert '<html lang="en" dir="ltr">' in page.text and "Log in" in page.text
    await post_form(client, "/language", {"language": "hy", "next": "/login"})
    page = await client.get("/login")
    assert '<html lang="hy" dir="ltr">' in page.text
    await post_form(client, "/language", {"language": "fa", "next": "//evil.example"})
    page = await client.get("/login")
    assert '<html lang="fa" dir="rtl">' in page.text


async def test_garbage_language_cookie_falls_back_to_persian(client):
    client.cookies.set("vafa_lang", "zz")
    page = await client.get("/login")
    assert '<html lang="fa" dir="rtl">' in page.text


async def test_404_is_a_translated_page(client):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert '<html lang="fa" dir="rtl">' in response.text and _has_persian(response.text)


async def test_htmx_request_gets_an_error_fragment(client):
    response = await client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "<html" not in response.text and 'role="alert"' in response.text
    assert response.headers["HX-Retarget"] == "#flash"


async def test_english_error_page(client):
    await post_form(client, "/language", {"language": "en", "next": "/"})
    response = await client.get("/no-such-page")
    assert "We could not find this page." in response.text


async def test_openapi_schema(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Vafa"
    assert "/healthz" in response.json()["paths"]
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_profile_in_solar_hijri(client, sessionmaker):
    await login_customer(client, sessionmaker)
    response = await post_form(
        client,
        "/profile",
        {
            "name": "سارا  احمدي",
            "birthday": "۱۳۷۰/۰۵/۱۲",
            "language": "fa",
            "marketing_consent": "on",
        },
    )
    assert response.status_code == 302
    async with sessionmaker() as s:
        customer = await s.scalar(select(Customer))
    assert customer.name == "سارا احمدی"  # Arabic yeh and double space normalised
    assert customer.birthday.isoformat() == "1991-08-03"
    assert customer.marketing_consent and customer.consent_source == "portal"
    assert customer.consent_at is not None
    page = await client.get("/profile")
    assert "۱۳۷۰/۰۵/۱۲" in page.text


async def test_withdrawing_consent_is_recorded(client, sessionmaker):
    await login_customer(client, sessionmaker)
    await post_form(client, "/profile", {"name": "", "language": "fa", "marketing_consent": "on"})
    async with sessionmaker() as s:
        given = (await s.scalar(select(Customer))).consent_at
    await post_form(client, "/profile", {"name": "", "language": "fa"})
    async with sessionmaker() as s:
        customer = await s.scalar(select(Customer))
    assert not customer.marketing_consent and customer.consent_at >= given


@pytest.mark.parametrize(
    "field",
    [
        {"birthday": "1403/13/40"},
        {"birthday": "tomorrow"},
        {"birthday": "2999-01-01"},
        {"name": "<b>x</b>"},
        {"name": "ن" * 500},
        {"language": "xx"},
    ],
)
async def test_bad_profile_input_changes_nothing(client, sessionmaker, field):
    await login_customer(client, sessionmaker)
    data = {"name": "Ali", "birthday": "", "language": "fa", **field}
    response = await post_form(client, "/profile", data)
    assert response.status_code == 400 and _has_persian(response.text)
    async with sessionmaker() as s:
        customer = await s.scalar(select(Customer))
    assert customer.name is None and customer.birthday is None


async def test_profile_language_sets_the_page_language(client, sessionmaker):
    await login_customer(client, sessionmaker)
    await post_form(client, "/profile", {"name": "Armen", "language": "hy"})
    page = await client.get("/")
    assert '<html lang="hy" dir="ltr">' in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/rewards/99999999999999999999",
        "/rewards/9223372036854775808",
        "/rewards/0",
        "/points/history?before=99999999999999999999999",
        "/vouchers/" + "Z" * 500,
        "/admin/members/99999999999999999999",
    ],
)
async def test_huge_or_odd_ids_are_bad_input_not_server_errors(client, sessionmaker, path):
    await login_customer(client, sessionmaker)
    response = await client.get(path, follow_redirects=False)
    assert response.status_code in (200, 302, 400, 404), (path, response.status_code)
    assert "Traceback" not in response.text


# --- forms in a wrong or unknown charset -------------------------------------------

# Enough for every form below to succeed, were it not for the one bad field.
GOOD_FIELDS = {
    "phone": "09121234567",
    "language": "en",
    "next": "/",
    "username": "boss",
    "password": PASSWORD,
    "title_fa": "کیک",
    "cost": "120",
    "voucher_days": "30",
    "active": "on",
}


def _multipart(bad_value: bytes, bad_type: str | None) -> tuple[bytes, str]:
    parts = [
        f'--x\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in GOOD_FIELDS.items()
    ]
    head = b'--x\r\nContent-Disposition: form-data; name="note"\r\n'
    if bad_type:
        head += f"Content-Type: {bad_type}\r\n".encode()
    parts.append(head + b"\r\n" + bad_value + b"\r\n")
    return b"".join(parts) + b"--x--\r\n", "multipart/form-data; boundary=x"


def _urlencoded(bad: bytes) -> tuple[bytes, str]:
    from urllib.parse import urlencode

    return urlencode(GOOD_FIELDS).encode() + b"&note=" + bad, "application/x-www-form-urlencoded"


BAD_BODIES = {
    "unknown charset": _multipart(b"hello", "text/plain; charset=x-unknown"),
    "not a text charset": _multipart(b"hello", "text/plain; charset=zlib"),
    "raw bytes": _multipart(b"\xff\xfe", None),
    "bad bytes for the charset named": _multipart(b"\xc3\x28", "text/plain; charset=utf-8"),
    "bad %-escapes": _urlencoded(b"%ff%fe"),
    "overlong %-escapes": _urlencoded(b"%c0%af"),
    "raw bytes, urlencoded": _urlencoded(b"\xff\xfe"),
}


async def _everything(sessionmaker) -> list[int]:
    models = (OtpChallenge, SmsMessage, RateEvent, AuditLog, AuthSession, Reward, Customer)
    return [await _count(sessionmaker, model) for model in models]


@pytest.mark.parametrize("token", [False, True], ids=["no token", "token"])
@pytest.mark.parametrize("body", list(BAD_BODIES), ids=list(BAD_BODIES))
@pytest.mark.parametrize("path", ["/login", "/language", "/admin/login", "/admin/rewards"])
async def test_a_form_in_a_wrong_or_unknown_charset_is_refused_and_changes_nothing(
    client, sessionmaker, path, body, token
):
    await make_staff(sessionmaker, "boss", "manager")
    if path == "/admin/rewards":
        await staff_login(client, "boss")
    headers = {"content-type": BAD_BODIES[body][1]}
    if token:
        headers["x-csrftoken"] = await csrf_token(client)
    before = await _everything(sessionmaker)
    response = await client.post(
        path, content=BAD_BODIES[body][0], headers=headers, follow_redirects=False
    )
    assert response.status_code == 400, response.text
    assert '<html lang="fa" dir="rtl">' in response.text and _has_persian(response.text)
    assert "Traceback" not in response.text
    assert not {"vafa_lang", "vafa_staff", "vafa_otp"} & set(response.cookies)
    assert await _everything(sessionmaker) == before


async def test_the_same_forms_in_good_utf8_still_work(client, sessionmaker):
    body, content_type = _multipart("سلام".encode(), "text/plain; charset=utf-8")
    response = await client.post(
        "/language",
        content=body,
        headers={"content-type": content_type, "x-csrftoken": await csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 302 and response.cookies["vafa_lang"] == "en"
    body, content_type = _urlencoded(b"%D8%B3%D9%84%D8%A7%D9%85+x")
    response = await client.post(
        "/language",
        content=body.replace(b"language=en", b"language=hy"),
        headers={"content-type": content_type, "x-csrftoken": await csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 302 and response.cookies["vafa_lang"] == "hy"


# --- headers -----------------------------------------------------------------------


async def test_hsts_on_every_response_when_cookies_are_secure(migrated, sessionmaker):
    app = create_app(make_settings(migrated, cookie_secure=True))
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as secure:
        responses = [
            await secure.get("/login"),
            await secure.get("/no-such-page"),
            await secure.get("/static/css/vafa.css"),
            await secure.get("/healthz"),
            await secure.put("/login"),
            await secure.post("/login", data={"phone": "09121234567"}),  # no CSRF token
        ]
    for response in responses:
        hsts = response.headers["strict-transport-security"]
        max_age = int(hsts.split("max-age=")[1].split(";")[0])
        assert max_age >= 365 * 24 * 3600 and "includesubdomains" in hsts.lower()


async def test_no_hsts_when_cookies_are_not_secure(client):
    for response in (await client.get("/login"), await client.get("/no-such-page")):
        assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/login", {"GET", "POST"}),
        ("DELETE", "/healthz", {"GET"}),
        ("POST", "/admin/sms", {"GET"}),
        ("PATCH", "/static/css/vafa.css", {"GET"}),
    ],
)
async def test_405_lists_the_allowed_methods(client, method, path, allowed):
    for accept in ("text/html", "application/json"):
        response = await client.request(method, path, headers={"accept": accept})
        assert response.status_code == 405
        listed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed <= listed and method not in listed
    assert _has_persian((await client.request(method, path)).text)


# --- files -------------------------------------------------------------------------

_PRIVATE_FILES = """
import asyncio, json, os, sys
os.umask(0o022)  # what most machines use: files readable by everyone
from sqlalchemy import text
from vafa.database import create_engine
from vafa.settings import VAR_DIR, Settings

async def main():
    older = VAR_DIR.parent / "older.db"
    older.write_bytes(b"")
    os.chmod(older, 0o644)
    modes = {}
    for url in (Settings().database_url, f"sqlite+aiosqlite:///{older}"):
        engine = create_engine(url)
        async with engine.begin() as conn:  # a write: the -wal and -shm files appear
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        for path in sorted(VAR_DIR.parent.rglob("*")):
            modes[str(path.relative_to(VAR_DIR.parent))] = oct(path.stat().st_mode & 0o777)
        await engine.dispose()
    print(json.dumps(modes))

asyncio.run(main())
"""


def test_var_dir_and_database_files_are_readable_by_their_owner_only(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VAFA_") and k not in ("DATABASE_URL",)
    }
    env["VAFA_VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "-c", _PRIVATE_FILES],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout)
    assert modes["var"] == "0o700"
    for name in ("vafa.db", "vafa.db-wal", "vafa.db-shm", "secret_key"):
        assert modes[f"var/{name}"] == "0o600", (name, modes)
    # A database file made earlier, readable by everyone, is closed to them too.
    for name in ("older.db", "older.db-wal", "older.db-shm"):
        assert modes[name] == "0o600", (name, modes)


# --- one expiry day on every page; the audit log in the page's language --------------


@pytest.mark.parametrize("language", ["fa", "hy", "en"])
async def test_every_page_gives_the_same_last_day_for_expiring_points(
    client, sessionmaker, language
):
    """Points whose expiry instant is the start of 1 July 2031 (Tehran) can be used
    through 30 June: the member's pages and the staff's member page all say so, in one
    wording, and none shows 1 July."""
    import re
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from loyalty import ledger
    from tests.admin.test_staff import make_staff, staff_login
    from tests.loyalty.helpers import reward
    from vafa.i18n import translate
    from vafa.i18n.formatting import format_date

    expires_at = datetime(2031, 7, 1, tzinfo=ZoneInfo("Asia/Tehran"))
    last_day = format_date(date(2031, 6, 30), language)
    first_day_without = format_date(date(2031, 7, 1), language)
    use_by = translate(language, "Use by %(date)s", date=last_day)

    await login_customer(client, sessionmaker)
    await post_form(client, "/language", {"language": language, "next": "/"})
    async with sessionmaker() as s, s.begin():
        customer_id = await s.scalar(select(Customer.id).where(Customer.phone == "+989121234567"))
        await ledger.earn(
            s, customer_id=customer_id, points=1500, key="expiring", expires_at=expires_at
        )
        reward_id = (await reward(s, 100, stock=5)).id
    page = (await client.get(f"/rewards/{reward_id}")).text
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    redeemed = await post_form(client, f"/rewards/{reward_id}/redeem", {"key": key})
    assert redeemed.status_code == 302, redeemed.text

    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    pages = {}
    for path in ("/", "/points", "/rewards", redeemed.headers["location"]):
        pages[path] = await client.get(path)
    pages["admin"] = await client.get(f"/admin/members/{customer_id}")
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert f'lang="{language}"' in response.text, name
        assert use_by in response.text, (name, use_by)
        assert first_day_without not in response.text, (name, first_day_without)


def test_audit_details_speak_the_page_language():
    """Numbers in the page's digits, roles and yes/no translated, coded settings named,
    and each change reads from the old value to the new one in the page's direction."""
    from vafa.i18n import current_language
    from vafa.web.labels import FIELD_LABELS, audit_details

    labels = {"expire_at_labels": {"day": "On the last day of their life"}}
    fields = {**FIELD_LABELS, "points": "Points", "expire_at": "Points expire"}
    change = {
        "before": {"role": "analyst", "active": True, "expire_at": "day"},
        "after": {"role": "manager", "active": False, "expire_at": "day"},
    }
    token = current_language.set("fa")
    try:
        lines = audit_details({"points": 1500, "username": "sara.k"}, fields, labels=labels)
        assert lines == ["امتیاز: <bdi>۱٬۵۰۰</bdi>", 'نام کاربری: <bdi dir="ltr">sara.k</bdi>']
        lines = audit_details(change, fields, labels=labels)
        assert lines == [
            "نقش: <bdi>تحلیل\u200cگر</bdi> ← <bdi>مدیر</bdi>",
            "فعال: <bdi>بله</bdi> ← <bdi>خیر</bdi>",
        ]
        # A value only one side has (a setting added later) shows a dash on the other.
        lines = audit_details({"before": {}, "after": {"expiry_days": 365}}, fields)
        assert lines == ["expiry_days: — ← <bdi>۳۶۵</bdi>"]
    finally:
        current_language.reset(token)
    token = current_language.set("hy")
    try:
        lines = audit_details(change, fields, labels=labels)
        assert lines[0] == "Դեր: <bdi>Վերլուծաբան</bdi> → <bdi>Մենեջեր</bdi>"
        assert audit_details({"points": 1500}, fields) == ["Միավորներ: <bdi>1\xa0500</bdi>"]
    finally:
        current_language.reset(token)


async def test_audit_page_names_coded_values(client, sessionmaker):
    """The page itself: a rule's kind and a points setting by name, not by code."""
    from tests.admin.test_staff import make_staff, staff_login
    from vafa.actor import SYSTEM
    from vafa.audit import record
    from vafa.i18n import translate

    async with sessionmaker() as s, s.begin():
        await record(
            s,
            actor=SYSTEM,
            action="programme.update",
            object_type="programme",
            object_id=1,
            details={"before": {"expire_at": "day"}, "after": {"expire_at": "month"}},
        )
        await record(
            s,
            actor=SYSTEM,
            action="rule.create",
            object_type="rule",
            object_id=7,
            details={"name": "تولد", "kind": "birthday"},
        )
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    page = (await client.get("/admin/audit")).text
    for msgid in ("On the last day of their life", "At the end of that month", "Birthday"):
        assert f"<bdi>{translate('fa', msgid)}</bdi>" in page, msgid
    assert ">month<" not in page and ">birthday<" not in page
