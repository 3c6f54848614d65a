"""Web base: CSRF, security headers, translated errors, bad input never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from customers.models import Customer
from tests.conftest import login_customer, post_form
from vafa.models import OtpChallenge, SmsMessage

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
