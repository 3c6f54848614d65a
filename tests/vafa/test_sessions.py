"""JWT cookie sessions: pinned algorithm, audiences, server-side revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from litestar.testing import AsyncTestClient

from tests.conftest import login_customer, post_form


async def _is_logged_in(client) -> bool:
    response = await client.get("/", follow_redirects=False)
    if response.status_code == 302:
        assert response.headers["location"] == "/login"
        return False
    assert response.status_code == 200
    return True


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def test_session_cookie_flags(client, sessionmaker):
    await post_form(client, "/login", {"phone": "09121234567"})
    from tests.conftest import latest_code

    code = await latest_code(sessionmaker, "+989121234567")
    response = await post_form(client, "/login/verify", {"code": code})
    header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("vafa_session=")
    )
    assert "HttpOnly" in header and "SameSite=lax" in header.replace("Lax", "lax")
    claims = _claims(client.cookies["vafa_session"])
    assert claims["aud"] == "vafa:customer" and claims["jti"] and claims["exp"]
    assert jwt.get_unverified_header(client.cookies["vafa_session"])["alg"] == "HS256"


async def test_secure_flag_is_on_by_default(app, sessionmaker, settings, monkeypatch):
    from dataclasses import replace

    from vafa.server.app import create_app
    from vafa.settings import Settings

    monkeypatch.delenv("VAFA_COOKIE_SECURE", raising=False)
    assert Settings(database_url=settings.database_url, secret_key="k" * 40).cookie_secure
    secure_app = create_app(replace(settings, cookie_secure=True))
    async with AsyncTestClient(app=secure_app, base_url="https://testserver.local") as client:
        await client.get("/login")
        await post_form(client, "/login", {"phone": "09121234567"})
        from tests.conftest import latest_code

        code = await latest_code(sessionmaker, "+989121234567")
        response = await post_form(client, "/login/verify", {"code": code})
        cookies = response.headers.get_list("set-cookie")
        assert cookies and all("Secure" in c for c in cookies)


async def test_alg_none_token_is_refused(client, sessionmaker):
    await login_customer(client, sessionmaker)
    claims = _claims(client.cookies["vafa_session"])
    forged = jwt.encode(claims, key=None, algorithm="none")
    client.cookies.set("vafa_session", forged)
    assert not await _is_logged_in(client)


async def test_token_signed_with_another_key_is_refused(client, sessionmaker):
    await login_customer(client, sessionmaker)
    claims = _claims(client.cookies["vafa_session"])
    forged = jwt.encode(claims, "not-the-server-secret-but-long-enough-0123456789", "HS256")
    client.cookies.set("vafa_session", forged)
    assert not await _is_logged_in(client)


async def test_expired_token_is_refused(client, sessionmaker, settings):
    await login_customer(client, sessionmaker)
    claims = _claims(client.cookies["vafa_session"])
    claims["exp"] = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    client.cookies.set("vafa_session", jwt.encode(claims, settings.secret_key, "HS256"))
    assert not await _is_logged_in(client)


async def test_revoked_jti_is_refused(client, sessionmaker):
    await login_customer(client, sessionmaker)
    token = client.cookies["vafa_session"]
    assert await _is_logged_in(client)
    response = await post_form(client, "/logout")
    assert response.status_code == 302 and response.headers["location"] == "/login"
    client.cookies.set("vafa_session", token)  # the stolen copy of the old cookie
    assert not await _is_logged_in(client)


async def test_log_out_everywhere(settings, sessionmaker):
    from vafa.server.app import create_app

    # Two devices: two app instances (a test client runs its app on its own loop).
    async with (
        AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as phone,
        AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as laptop,
    ):
        await login_customer(phone, sessionmaker)
        await login_customer(laptop, sessionmaker)
        assert await _is_logged_in(phone) and await _is_logged_in(laptop)
        await post_form(laptop, "/logout/all")
        assert not await _is_logged_in(phone)
        assert not await _is_logged_in(laptop)


async def test_customer_cookie_does_not_open_admin(client, sessionmaker):
    await login_customer(client, sessionmaker)
    token = client.cookies["vafa_session"]
    response = await client.get("/admin/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/admin/login"
    # Even presented as a staff cookie, the customer audience is refused.
    client.cookies.set("vafa_staff", token, path="/admin")
    response = await client.get("/admin/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/admin/login"
    response = await client.get(
        "/admin/", headers={"Authorization": f"Bearer {token}"}, follow_redirects=False
    )
    assert response.status_code == 302


async def test_unauthenticated_htmx_request_gets_a_client_redirect(client):
    response = await client.get("/profile", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.headers.get("HX-Redirect") == "/login"
