"""One-time codes and the per-address verify limit hold when requests arrive together.

Every scenario sends its requests at once through the real app. Litestar's
`AsyncTestClient` hands each request to the app in its own thread and waits for the
answer, so requests gathered over it still run one after another; `live_client`
instead runs the app in the test's own event loop (httpx's ASGI transport, the app's
lifespan entered once), so gathered requests really are in flight together and, on
PostgreSQL, really wait on each other's locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from litestar import Litestar
from sqlalchemy import func, select

from loyalty.verify import verify
from portal.web import VERIFY_PER_IP
from tests.conftest import latest_code, make_settings, post_form
from vafa.models import AuthSession, OtpChallenge, RateEvent
from vafa.server.app import create_app

PHONE = "09121234567"
E164 = "+989121234567"


async def ask_for_code(client, sessionmaker, phone: str = PHONE, e164: str = E164) -> str:
    response = await post_form(client, "/login", {"phone": phone})
    assert response.status_code == 302, response.text
    return await latest_code(sessionmaker, e164)


@asynccontextmanager
async def live_client(app: Litestar, count: int = 1) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` browsers (each its own cookies) on one running app, all in this loop."""
    async with app.lifespan(), AsyncExitStack() as stack:
        transport = httpx.ASGITransport(app=app)
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
            )
            for _ in range(count)
        ]


def wrong(code: str, i: int = 1) -> str:
    return f"{(int(code) + i) % 10**6:06d}"


async def challenges(sessionmaker) -> list[OtpChallenge]:
    async with sessionmaker() as s:
        return list((await s.scalars(select(OtpChallenge))).all())


async def test_forty_wrong_guesses_at_once_count_at_most_five(app, sessionmaker):
    async with live_client(app) as [client]:
        await forty_wrong_guesses(client, sessionmaker)


async def forty_wrong_guesses(client, sessionmaker) -> None:
    code = await ask_for_code(client, sessionmaker)
    guess = wrong(code)
    responses = await asyncio.gather(
        *(post_form(client, "/login/verify", {"code": guess}) for _ in range(40))
    )
    assert all(r.status_code == 400 for r in responses), [r.status_code for r in responses]
    [challenge] = await challenges(sessionmaker)
    assert challenge.attempts <= 5, challenge.attempts
    told_wrong = [r for r in responses if "not correct" in r.text or "درست نیست" in r.text]
    assert len(told_wrong) <= 5
    # Out of tries: the right code no longer logs in.
    response = await post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 400
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(AuthSession)) == 0
        assert await verify(s) == []


async def test_the_right_code_twenty_times_at_once_logs_in_once(app, sessionmaker):
    async with live_client(app) as [client]:
        code = await ask_for_code(client, sessionmaker)
        responses = await asyncio.gather(
            *(post_form(client, "/login/verify", {"code": code}) for _ in range(20))
        )
    logged_in = [r for r in responses if r.status_code == 302]
    assert len(logged_in) == 1, [r.status_code for r in responses]
    assert logged_in[0].headers["location"] == "/"
    assert all(r.status_code == 400 for r in responses if r.status_code != 302)
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(AuthSession)) == 1
        [challenge] = (await s.scalars(select(OtpChallenge))).all()
        assert challenge.consumed_at is not None
        assert await verify(s) == []


async def test_verify_limit_per_address_holds_under_concurrency(sessionmaker, settings):
    """Sixteen codes, five wrong guesses each, all eighty at once from one address:
    exactly the limit is checked, the rest are told to wait."""
    app = create_app(make_settings(settings.database_url, otp_per_ip=100))
    phones = [(f"0912000{i:04d}", f"+98912000{i:04d}") for i in range(16)]
    async with live_client(app, len(phones)) as clients:
        codes = [
            await ask_for_code(c, sessionmaker, phone, e164)
            for c, (phone, e164) in zip(clients, phones, strict=True)
        ]
        responses = await asyncio.gather(
            *(
                post_form(c, "/login/verify", {"code": wrong(code, i)})
                for c, code in zip(clients, codes, strict=True)
                for i in range(1, 6)
            )
        )
    statuses = [r.status_code for r in responses]
    assert statuses.count(429) == len(responses) - VERIFY_PER_IP, statuses
    assert statuses.count(400) == VERIFY_PER_IP, statuses
    checked = sum(c.attempts for c in await challenges(sessionmaker))
    assert checked == VERIFY_PER_IP
    async with sessionmaker() as s:
        counted = await s.scalar(
            select(func.count()).select_from(RateEvent).where(RateEvent.bucket == "otp_verify_ip")
        )
        assert counted == VERIFY_PER_IP
        assert await verify(s) == []
