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
        [sys.executable, "-m", "vafa.cli", "db", "upgrade"],
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
