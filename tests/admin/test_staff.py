"""Staff: argon2id passwords, lockout, roles enforced by guards, audit log, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin import services as service
from tests.conftest import login_customer, post_form
from vafa.actor import SYSTEM
from vafa.audit import AuditLog
from vafa.database import utcnow
from vafa.models import RateEvent, StaffUser
from vafa.settings import ROOT

PASSWORD = "correct-horse-battery"


async def make_staff(sessionmaker, username: str, role: str) -> int:
    async with sessionmaker() as s, s.begin():
        staff = await service.create_staff(
            s, username=username, password=PASSWORD, role=role, actor=SYSTEM
        )
        return staff.id


async def staff_login(client, username: str, password: str = PASSWORD):
    return await post_form(client, "/admin/login", {"username": username, "password": password})


async def test_password_is_argon2id(sessionmaker):
    await make_staff(sessionmaker, "owner", "owner")
    async with sessionmaker() as s:
        staff = await s.scalar(select(StaffUser))
    assert staff.password_hash.startswith("$argon2id$")
    assert PASSWORD not in staff.password_hash


async def test_owner_logs_in_and_sees_admin(client, sessionmaker):
    await make_staff(sessionmaker, "owner", "owner")
    response = await staff_login(client, "OWNER")  # usernames are case-insensitive
    assert response.status_code == 302 and response.headers["location"] == "/admin/"
    home = await client.get("/admin/")
    assert home.status_code == 200 and 'dir="rtl"' in home.text
    # The staff cookie is scoped to /admin: the portal does not see a customer.
    assert (await client.get("/", follow_redirects=False)).status_code == 302


async def test_wrong_password_and_unknown_user_look_the_same(client, sessionmaker):
    await make_staff(sessionmaker, "owner", "owner")
    wrong = await staff_login(client, "owner", "wrong-password-123")
    unknown = await staff_login(client, "nobody", "wrong-password-123")
    assert wrong.status_code == unknown.status_code == 400
    assert "vafa_staff" not in wrong.cookies


async def _failures(sessionmaker) -> int:
    async with sessionmaker() as s:
        return await s.scalar(
            select(func.count()).select_from(RateEvent).where(RateEvent.bucket == service.FAILURES)
        )


async def _wait_over(sessionmaker, seconds: float) -> None:
    """Move every counted wrong password back in time, as if the wait had passed."""
    async with sessionmaker() as s, s.begin():
        for event in (await s.scalars(select(RateEvent))).all():
            event.at -= timedelta(seconds=seconds)


async def _lock(sessionmaker, username: str, address: str) -> timedelta:
    async with sessionmaker() as s, s.begin():
        login = await service.authenticate(
            s, username=username, password=PASSWORD, address=address
        )
    assert login.result is service.LoginResult.LOCKED
    return login.locked_until - utcnow()


async def test_lockout_grows_and_blocks_even_the_right_password(client, sessionmaker):
    # The lock holds for the name from the address the wrong passwords came from
    # (the test client's); see the next test for everyone else.
    await make_staff(sessionmaker, "owner", "owner")
    for _ in range(service.FREE_FAILURES):
        assert (await staff_login(client, "owner", "wrong-password-123")).status_code == 400
    response = await staff_login(client, "owner")  # right password, but now locked
    assert response.status_code == 429 and "vafa_staff" not in response.cookies
    first_lock = await _lock(sessionmaker, "owner", "testclient")
    assert timedelta(seconds=20) < first_lock <= service.LOCK_BASE
    assert service.lock_delay(service.FREE_FAILURES + 1) > service.lock_delay(service.FREE_FAILURES)
    assert service.lock_delay(50) == service.LOCK_MAX
    # When the wait is over one more wrong password waits twice as long.
    await _wait_over(sessionmaker, first_lock.total_seconds() + 1)
    assert (await staff_login(client, "owner", "wrong-password-123")).status_code == 400
    assert (await staff_login(client, "owner")).status_code == 429
    second_lock = await _lock(sessionmaker, "owner", "testclient")
    assert service.LOCK_BASE < second_lock <= 2 * service.LOCK_BASE
    # When that wait is over the right password works and the count starts again.
    await _wait_over(sessionmaker, second_lock.total_seconds() + 1)
    assert (await staff_login(client, "owner")).status_code == 302
    assert await _failures(sessionmaker) == 0
    async with sessionmaker() as s:
        staff = await s.scalar(select(StaffUser))
    assert staff.failed_logins == 0 and staff.locked_until is None


async def test_a_stranger_cannot_lock_a_staff_member_out(migrated, sessionmaker):
    from litestar.testing import AsyncTestClient

    from tests.conftest import make_settings
    from vafa.server.app import create_app

    # Behind a trusted proxy, so each client says where it is.
    app = create_app(make_settings(migrated, trusted_proxies=("testclient",)))
    await make_staff(sessionmaker, "owner", "owner")
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        stranger = {"x-forwarded-for": "203.0.113.9"}
        owner = {"x-forwarded-for": "198.51.100.7"}
        for _ in range(service.FREE_FAILURES + 3):
            await post_form(
                client,
                "/admin/login",
                {"username": "owner", "password": "wrong-password-123"},
                headers=stranger,
            )
        refused = await post_form(
            client, "/admin/login", {"username": "owner", "password": PASSWORD}, headers=stranger
        )
        assert refused.status_code == 429 and "vafa_staff" not in refused.cookies
        # The owner, from their own address, gets in with the right password.
        response = await post_form(
            client, "/admin/login", {"username": "owner", "password": PASSWORD}, headers=owner
        )
        assert response.status_code == 302 and "vafa_staff" in response.cookies
        # ...and the stranger is still waiting.
        again = await post_form(
            client, "/admin/login", {"username": "owner", "password": PASSWORD}, headers=stranger
        )
        assert again.status_code == 429


async def test_known_and_unknown_names_get_the_same_answers(client, sessionmaker):
    await make_staff(sessionmaker, "owner", "owner")
    answers = {}
    for name in ("owner", "nobody"):
        answers[name] = [
            await staff_login(client, name, "wrong-password-123")
            for _ in range(service.FREE_FAILURES + 2)
        ]
    statuses = [[r.status_code for r in answers[name]] for name in ("owner", "nobody")]
    expected = [400] * service.FREE_FAILURES + [429, 429]
    assert statuses == [expected, expected]
    for known, unknown in zip(answers["owner"], answers["nobody"], strict=True):
        assert known.text.replace("owner", "NAME") == unknown.text.replace("nobody", "NAME")
    # An unknown name is locked as a known one is: the right password changes nothing.
    assert (await staff_login(client, "nobody", PASSWORD)).status_code == 429


async def test_agent_cannot_manage_staff(client, sessionmaker):
    await make_staff(sessionmaker, "agent", "agent")
    await staff_login(client, "agent")
    assert (await client.get("/admin/staff")).status_code == 403
    response = await post_form(
        client, "/admin/staff", {"username": "intruder", "password": PASSWORD, "role": "owner"}
    )
    assert response.status_code == 403
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(StaffUser)) == 1
    # ...but sees the SMS log.
    assert (await client.get("/admin/sms")).status_code == 200


async def test_analyst_cannot_read_sms_or_audit(client, sessionmaker):
    await make_staff(sessionmaker, "numbers", "analyst")
    await staff_login(client, "numbers")
    assert (await client.get("/admin/sms")).status_code == 403
    assert (await client.get("/admin/audit")).status_code == 403
    assert (await client.get("/admin/")).status_code == 200


async def test_owner_manages_staff_and_every_change_is_audited(client, sessionmaker):
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    response = await post_form(
        client, "/admin/staff", {"username": "sara", "password": PASSWORD, "role": "agent"}
    )
    assert response.status_code == 302
    async with sessionmaker() as s:
        sara = await s.scalar(select(StaffUser).where(StaffUser.username == "sara"))
    response = await post_form(
        client, f"/admin/staff/{sara.id}", {"role": "manager", "active": "on"}
    )
    assert response.status_code == 302
    response = await post_form(client, f"/admin/staff/{sara.id}/password", {"password": "x"})
    assert response.status_code == 400  # too short, refused
    async with sessionmaker() as s:
        actions = (await s.scalars(select(AuditLog.action).order_by(AuditLog.id))).all()
        sara = await s.get(StaffUser, sara.id)
    assert sara.role == "manager"
    assert actions == ["staff.create", "staff.login", "staff.create", "staff.update"]
    audit_page = await client.get("/admin/audit")
    assert audit_page.status_code == 200 and "sara" in audit_page.text


async def test_deactivating_staff_ends_their_sessions(settings, client, sessionmaker):
    from litestar.testing import AsyncTestClient

    from vafa.server.app import create_app

    await make_staff(sessionmaker, "owner", "owner")
    agent_id = await make_staff(sessionmaker, "agent", "agent")
    async with AsyncTestClient(
        app=create_app(settings), base_url="http://testserver.local"
    ) as agent:
        await staff_login(agent, "agent")
        assert (await agent.get("/admin/")).status_code == 200
        await staff_login(client, "owner")
        await post_form(client, f"/admin/staff/{agent_id}", {"role": "agent"})  # active off
        assert (await agent.get("/admin/", follow_redirects=False)).status_code == 302


async def test_last_owner_cannot_be_demoted(client, sessionmaker):
    owner_id = await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    response = await post_form(
        client, f"/admin/staff/{owner_id}", {"role": "agent", "active": "on"}
    )
    assert response.status_code == 400
    async with sessionmaker() as s:
        assert (await s.get(StaffUser, owner_id)).role == "owner"


async def test_staff_cookie_does_not_open_the_portal(client, sessionmaker):
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    token = client.cookies["vafa_staff"]
    client.cookies.set("vafa_session", token)
    assert (await client.get("/", follow_redirects=False)).status_code == 302


async def test_customer_session_is_not_staff(client, sessionmaker):
    await login_customer(client, sessionmaker)
    assert (await client.get("/admin/staff", follow_redirects=False)).status_code == 302


@pytest.mark.parametrize("password", [PASSWORD, "short"])
async def test_cli_creates_staff_reading_password_from_stdin(migrated, sessionmaker, password):
    env = {**os.environ, "DATABASE_URL": migrated, "VAFA_SECRET_KEY": "x" * 40}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vafa.server.cli",
            "staff",
            "create",
            "--username",
            "Cli.User",
            "--role",
            "manager",
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    if password == "short":
        assert result.returncode != 0 and "10 characters" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    assert password not in result.stdout + result.stderr
    async with sessionmaker() as s:
        staff = await s.scalar(select(StaffUser).where(StaffUser.username == "cli.user"))
        audit = await s.scalar(select(AuditLog).where(AuditLog.action == "staff.create"))
    assert staff.role == "manager" and audit.actor_id is None


def _selected_new_role(page: str) -> str:
    import re

    form = page[page.index('id="new-role"') :]
    form = form[: form.index("</select>")]
    return re.findall(r'<option value="(\w+)" selected>', form)[0]


async def test_new_staff_start_as_analysts_and_every_save_is_confirmed(client, sessionmaker):
    from vafa.i18n import translate

    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    page = (await client.get("/admin/staff")).text
    assert _selected_new_role(page) == "analyst"  # the least power, raised on purpose
    assert "alert-success" not in page
    response = await post_form(
        client, "/admin/staff", {"username": "sara", "password": PASSWORD, "role": "analyst"}
    )
    assert response.headers["location"] == "/admin/staff?saved=create"
    async with sessionmaker() as s:
        sara = await s.scalar(select(StaffUser).where(StaffUser.username == "sara"))
    assert sara.role == "analyst"
    confirmations = [(response.headers["location"], "Staff member added")]
    response = await post_form(client, f"/admin/staff/{sara.id}", {"role": "agent", "active": "on"})
    confirmations.append((response.headers["location"], "Staff member changed"))
    response = await post_form(client, f"/admin/staff/{sara.id}/password", {"password": PASSWORD})
    confirmations.append((response.headers["location"], "Password set"))
    assert [url for url, _ in confirmations] == [
        "/admin/staff?saved=create",
        "/admin/staff?saved=update",
        "/admin/staff?saved=password",
    ]
    for url, msgid in confirmations:
        page = (await client.get(url)).text
        assert f'<div class="alert alert-success" role="status">{translate("fa", msgid)}</div>' in (
            page
        ), url
    # A refused form keeps what was typed (but the password), and is no success.
    response = await post_form(
        client, "/admin/staff", {"username": "x y", "password": "short", "role": "agent"}
    )
    assert response.status_code == 400
    assert "alert-success" not in response.text and _selected_new_role(response.text) == "agent"
    # Anything else after `saved=` says nothing.
    assert "alert-success" not in (await client.get("/admin/staff?saved=<b>")).text
