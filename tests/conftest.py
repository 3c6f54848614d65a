"""Test setup: the same tests run on a SQLite file and on a real PostgreSQL server.

`--db=sqlite` (default) or `--db=postgres`. The schema is built by the Alembic
migrations, so every run also proves they work on that engine.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vafa import migrate
from vafa.database import Base, create_engine, make_sessionmaker
from vafa.models import SmsMessage
from vafa.server import composition
from vafa.server.app import create_app
from vafa.settings import Settings

WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=("sqlite", "postgres"), default="sqlite")


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'vafa.db'}"
        return
    if os.environ.get("VAFA_TEST_PG_URL"):
        yield os.environ["VAFA_TEST_PG_URL"]
        return
    from tests.pgserver import start

    url, stop = start()
    try:
        yield url
    finally:
        stop()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret-key-for-vafa-tests-only-0123456789",
        "sms_webhook_secret": WEBHOOK_SECRET,
        "cookie_secure": False,
        "sms_backend": "outbox",
        "embedded_worker": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    migrate.upgrade_in_thread(make_settings(database_url))
    return database_url


@pytest.fixture(scope="session")
async def engine(migrated: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessionmaker(
    engine: AsyncEngine, settings: Settings
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Every test starts from empty tables. Sessions carry the domains' event
    subscribers, as the app's do."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    for attempt in range(5):
        try:
            async with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    await conn.execute(
                        text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                    )
                else:
                    for name in tables:
                        await conn.execute(text(f"DELETE FROM {name}"))
            break
        except DBAPIError as exc:
            # A browser test's live server runs its worker meanwhile; PostgreSQL may
            # pick the emptying transaction as a deadlock victim. Try again.
            if "deadlock" not in str(exc) or attempt == 4:
                raise
            await asyncio.sleep(0.2)
    yield make_sessionmaker(engine, bus=composition().event_bus(settings))


@pytest.fixture
async def db(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def settings(migrated: str) -> Settings:
    return make_settings(migrated)


@pytest.fixture
def app(settings: Settings, sessionmaker: Any) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


# --- helpers -----------------------------------------------------------------------


async def csrf_token(client: AsyncTestClient[Litestar]) -> str:
    """The CSRF token a browser would hold after loading a page."""
    if "vafa_csrf" not in client.cookies:
        await client.get("/login")
    return client.cookies["vafa_csrf"]


async def post_form(
    client: AsyncTestClient[Litestar], url: str, data: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    form = {"_csrf_token": await csrf_token(client), **(data or {})}
    return await client.post(url, data=form, follow_redirects=False, **kwargs)


async def latest_code(sessionmaker: async_sessionmaker[AsyncSession], phone: str) -> str:
    """Read the login code from the SMS outbox, as the customer reads their phone."""
    async with sessionmaker() as session:
        message = await session.scalar(
            select(SmsMessage).where(SmsMessage.to == phone).order_by(SmsMessage.id.desc())
        )
    assert message is not None, f"no SMS to {phone}"
    match = re.search(r"[0-9]{6}", message.body)
    assert match, message.body
    return match.group(0)


async def login_customer(
    client: AsyncTestClient[Litestar],
    sessionmaker: async_sessionmaker[AsyncSession],
    phone: str = "09121234567",
    e164: str = "+989121234567",
) -> None:
    response = await post_form(client, "/login", {"phone": phone})
    assert response.status_code == 302, response.text
    code = await latest_code(sessionmaker, e164)
    response = await post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 302 and response.headers["location"] == "/", response.text


@pytest.fixture(autouse=True, scope="session")
def _quiet_http_client_logs() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
