"""SMS login: codes work once, die after five wrong tries or when they expire, and
the number of codes per phone and per address is limited."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from customers.models import Customer
from tests.conftest import latest_code, login_customer, post_form
from vafa.database import utcnow
from vafa.models import AuthSession, OtpChallenge, SmsMessage

PHONE = "+989121234567"


async def request_code(client, phone: str = "0912 123 4567"):
    response = await post_form(client, "/login", {"phone": phone})
    assert response.status_code == 302, response.text
    assert response.headers["location"] == "/login/verify"
    return response


async def test_persian_digits_phone_logs_in_and_creates_member(client, sessionmaker):
    await request_code(client, "۰۹۱۲ ۱۲۳ ۴۵۶۷")
    code = await latest_code(sessionmaker, PHONE)
    response = await post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 302 and response.headers["location"] == "/"
    home = await client.get("/")
    assert home.status_code == 200
    assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in home.text  # their number, in Persian digits
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == 1
        customer = await s.scalar(select(Customer))
        assert customer.phone == PHONE and customer.language == "fa"


async def test_code_typed_in_persian_digits_is_accepted(client, sessionmaker):
    await request_code(client)
    code = await latest_code(sessionmaker, PHONE)
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = await post_form(client, "/login/verify", {"code": persian})
    assert response.headers.get("location") == "/"


async def test_code_works_only_once(client, sessionmaker):
    await request_code(client)
    code = await latest_code(sessionmaker, PHONE)
    otp_cookie = client.cookies["vafa_otp"]
    assert (await post_form(client, "/login/verify", {"code": code})).status_code == 302
    # Replay the same code with the same challenge, from a fresh browser.
    client.cookies.clear()
    client.cookies.set("vafa_otp", otp_cookie, path="/login")
    replay = await post_form(client, "/login/verify", {"code": code})
    assert replay.status_code == 400
    assert "vafa_session" not in replay.cookies
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(AuthSession)) == 1


async def test_sixth_try_fails_even_with_the_right_code(client, sessionmaker):
    await request_code(client)
    code = await latest_code(sessionmaker, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = await post_form(client, "/login/verify", {"code": wrong})
        assert response.status_code == 400
    response = await post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 400
    assert "vafa_session" not in response.cookies
    async with sessionmaker() as s:
        challenge = await s.scalar(select(OtpChallenge))
        assert challenge.attempts == 5 and challenge.consumed_at is None
        assert await s.scalar(select(func.count()).select_from(Customer)) == 0


async def test_wrong_try_is_counted_and_says_how_many_are_left(client, sessionmaker):
    await request_code(client)
    code = await latest_code(sessionmaker, PHONE)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    response = await post_form(client, "/login/verify", {"code": wrong})
    assert response.status_code == 400
    assert "۴" in response.text  # four tries left, in Persian digits
    # The fifth... first right code still works after a wrong one.
    assert (await post_form(client, "/login/verify", {"code": code})).status_code == 302


async def test_expired_code_fails(client, sessionmaker):
    await request_code(client)
    code = await latest_code(sessionmaker, PHONE)
    async with sessionmaker() as s, s.begin():
        await s.execute(update(OtpChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 400
    assert "vafa_session" not in response.cookies


async def test_new_code_invalidates_the_old_one(client, sessionmaker):
    await request_code(client)
    first = await latest_code(sessionmaker, PHONE)
    first_cookie = client.cookies["vafa_otp"]
    await request_code(client)
    second = await latest_code(sessionmaker, PHONE)
    client.cookies.set("vafa_otp", first_cookie, path="/login")
    assert (await post_form(client, "/login/verify", {"code": first})).status_code == 400
    client.cookies.delete("vafa_otp")
    await request_code(client)
    third = await latest_code(sessionmaker, PHONE)
    assert (await post_form(client, "/login/verify", {"code": second})).status_code == 400
    assert (await post_form(client, "/login/verify", {"code": third})).status_code == 302


async def test_fourth_code_in_ten_minutes_is_refused(client, sessionmaker):
    for _ in range(3):
        await request_code(client)
    response = await post_form(client, "/login", {"phone": "09121234567"})
    assert response.status_code == 429
    assert 'role="alert"' in response.text
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(SmsMessage)) == 3
    # Another number is not affected by this one's limit.
    await request_code(client, "09351112233")


async def test_per_address_limit(client, sessionmaker, settings):
    for i in range(settings.otp_per_ip):
        await request_code(client, f"0912000{i:04d}")
    response = await post_form(client, "/login", {"phone": "09129999999"})
    assert response.status_code == 429
    async with sessionmaker() as s:
        count = await s.scalar(select(func.count()).select_from(SmsMessage))
    assert count == settings.otp_per_ip


def _without_token_and_phone(page: str) -> str:
    page = re.sub(r"[0-9a-f]{40,}", "TOKEN", page)
    return re.sub(r'<bdi dir="ltr">.*?</bdi>', "PHONE", page)


async def test_reply_does_not_reveal_membership(client, sessionmaker):
    await login_customer(client, sessionmaker)  # +989121234567 is now a member
    client.cookies.clear()
    member = await post_form(client, "/login", {"phone": "09121234567"})
    member_page = await client.get("/login/verify")
    client.cookies.clear()
    stranger = await post_form(client, "/login", {"phone": "09127654321"})
    stranger_page = await client.get("/login/verify")
    assert member.status_code == stranger.status_code == 302
    assert member.headers["location"] == stranger.headers["location"]
    assert member_page.status_code == stranger_page.status_code == 200
    assert _without_token_and_phone(member_page.text) == _without_token_and_phone(
        stranger_page.text
    )


async def test_code_is_stored_hashed(client, sessionmaker):
    await request_code(client)
    code = await latest_code(sessionmaker, PHONE)
    async with sessionmaker() as s:
        challenge = await s.scalar(select(OtpChallenge))
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64


async def test_verify_without_a_code_request_goes_back_to_login(client):
    response = await client.get("/login/verify", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/login"
    response = await post_form(client, "/login/verify", {"code": "123456"})
    assert response.status_code == 400
