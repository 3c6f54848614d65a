"""The migrations build exactly the schema the models describe, on both engines,
and upgrading a database that holds data keeps the data."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from customers.models import Customer
from vafa.database import Base, utcnow
from vafa.settings import ROOT


async def test_models_match_migrations(engine):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_upgrade_keeps_data(migrated, sessionmaker):
    async with sessionmaker() as s, s.begin():
        s.add(Customer(phone="+989121234567", name="سارا", language="fa", created_at=utcnow()))
    env = {**os.environ, "DATABASE_URL": migrated, "VAFA_SECRET_KEY": "x" * 40}
    result = subprocess.run(
        [sys.executable, "-m", "vafa.server.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == 1
        assert (await s.scalar(select(Customer))).name == "سارا"


async def test_upgrade_from_the_first_release_keeps_members(migrated, tmp_path):
    """A database at revision 0001 with members in it, upgraded to the newest schema."""
    from sqlalchemy import text

    from tests.conftest import make_settings
    from vafa import migrate
    from vafa.database import create_engine

    if migrated.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        admin = create_engine(migrated, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS vafa_upgrade"))
            await conn.execute(text("CREATE DATABASE vafa_upgrade"))
        await admin.dispose()
        url = migrated.rsplit("/", 1)[0] + "/vafa_upgrade"

    def run(revision: str) -> None:
        migrate.upgrade_in_thread(make_settings(url), revision)

    run("0001")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (phone, name, language, marketing_consent, created_at) "
                "VALUES ('+989121234567', 'سارا', 'fa', true, '2025-01-01 10:00:00')"
            )
        )
    run("head")
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT name, referral_code FROM customers"))).one()
        programme = await conn.scalar(
            text("SELECT count(*) FROM loyalty_accounts WHERE kind = 'programme'")
        )
    await engine.dispose()
    assert row[0] == "سارا" and row[1] and len(row[1]) == 8
    assert programme == 1
