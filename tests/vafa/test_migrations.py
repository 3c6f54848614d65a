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


async def empty_database(migrated: str, tmp_path, name: str) -> str:
    """A new, empty database on the engine under test, for upgrading step by step."""
    from sqlalchemy import text

    from vafa.database import create_engine

    if migrated.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / name}.db"
    admin = create_engine(migrated, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return migrated.rsplit("/", 1)[0] + f"/{name}"


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

    url = await empty_database(migrated, tmp_path, "vafa_upgrade")

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


async def test_upgrade_to_the_customer_record_fills_search_keys_consent_and_actors(
    migrated, tmp_path
):
    """0002 -> head: names become searchable (stored text untouched), today's consent
    is the first entry of each member's consent history, and old audit rows name their
    actor's kind."""
    from sqlalchemy import text

    from tests.conftest import make_settings
    from vafa import migrate
    from vafa.database import create_engine

    url = await empty_database(migrated, tmp_path, "vafa_upgrade_0003")

    migrate.upgrade_in_thread(make_settings(url), "0002")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (phone, name, language, marketing_consent, consent_at,"
                " consent_source, created_at) VALUES ('+989121234567', 'مهدي نیک\u200cنام',"
                " 'fa', true, '2025-01-02 10:00:00', 'portal', '2025-01-01 10:00:00'),"
                " ('+989351234567', NULL, 'fa', false, NULL, NULL, '2025-01-01 10:00:00')"
            )
        )
        # Rows that refer to the tables the upgrade rebuilds (customers, rules).
        await conn.execute(
            text(
                "INSERT INTO loyalty_accounts (kind, customer_id, balance) VALUES ('wallet', 1, 5);"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO loyalty_rules (name, kind, active, multiplier_percent,"
                " category_multipliers, tier_multipliers, points, pending_days, budget_used,"
                " created_at) VALUES ('signup', 'signup', true, 100, '{}', '{}', 5, 0, 0,"
                " '2025-01-01 10:00:00')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO loyalty_journal (kind, amount, debit_account_id, credit_account_id,"
                " customer_id, idempotency_key, created_by, created_at) SELECT 'earn', 5,"
                " (SELECT id FROM loyalty_accounts WHERE kind = 'programme'),"
                " (SELECT id FROM loyalty_accounts WHERE kind = 'wallet'), 1, 'signup:1',"
                " 'system', '2025-01-01 10:00:00'"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO loyalty_rule_awards (rule_id, customer_id, entry_id, points, day)"
                " SELECT (SELECT id FROM loyalty_rules), 1, (SELECT id FROM loyalty_journal),"
                " 5, '2025-01-01'"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO audit_log (at, actor_id, action, object_type) VALUES"
                " ('2025-01-01 10:00:00', 7, 'rule.create', 'rule'),"
                " ('2025-01-01 10:00:00', NULL, 'staff.create', 'staff')"
            )
        )
    migrate.upgrade_in_thread(make_settings(url), "head")
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name, name_key FROM customers ORDER BY id"))).all()
        consents = (
            await conn.execute(text("SELECT customer_id, given, source FROM customer_consent_changes"))
        ).all()
        actors = (await conn.execute(text("SELECT actor_kind FROM audit_log ORDER BY id"))).all()
        awards = (await conn.execute(text("SELECT rule_id, points FROM loyalty_rule_awards"))).all()
        wallet = await conn.scalar(text("SELECT balance FROM loyalty_accounts WHERE kind = 'wallet'"))
    await engine.dispose()
    assert names[0] == ("مهدي نیک\u200cنام", "مهدی نیکنام") and names[1] == (None, None)
    assert len(consents) == 1 and bool(consents[0][1]) and consents[0][2] == "portal"
    assert [a[0] for a in actors] == ["staff", "system"]
    assert len(awards) == 1 and awards[0][1] == 5 and wallet == 5


async def test_upgrade_to_club_money_keeps_the_club_and_its_country(migrated, tmp_path):
    """0006 -> head: a club in Armenia keeps counting in Drams, one in Iran in Rials, as
    before; the points settings keep their values and send purchase messages."""
    from sqlalchemy import text

    from tests.conftest import make_settings
    from vafa import migrate
    from vafa.database import create_engine

    url = await empty_database(migrated, tmp_path, "vafa_upgrade_0007")
    migrate.upgrade_in_thread(make_settings(url), "0006")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO club (id, name, timezone, default_language, created_at) VALUES"
                " (1, 'Սուրճ', 'Asia/Yerevan', 'hy', '2025-01-01 10:00:00')"
            )
        )
        await conn.execute(text("UPDATE loyalty_programme SET reminder_days = 12"))
    migrate.upgrade_in_thread(make_settings(url), "head")
    async with engine.connect() as conn:
        club = (await conn.execute(text("SELECT name, currency FROM club"))).one()
        programme = (
            await conn.execute(text("SELECT reminder_days, purchase_sms FROM loyalty_programme"))
        ).one()
    await engine.dispose()
    assert tuple(club) == ("Սուրճ", "dram")
    assert programme[0] == 12 and bool(programme[1])


async def test_upgrade_to_purchase_issuers_keeps_purchases_at_the_club(migrated, tmp_path):
    """0008 -> head: purchases so far were issued by the programme (the club's own
    counter); a receipt number is then unique per issuer, no longer across all."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from tests.conftest import make_settings
    from vafa import migrate
    from vafa.database import create_engine

    url = await empty_database(migrated, tmp_path, "vafa_upgrade_0009")
    migrate.upgrade_in_thread(make_settings(url), "0008")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customers (phone, language, marketing_consent, created_at)"
                " VALUES ('+989121234567', 'fa', true, '2025-01-01 10:00:00')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO loyalty_purchases (customer_id, receipt_number, receipt_key,"
                " amount, categories, points, refunded_amount, points_taken_back, recorded_by,"
                " created_at) VALUES (1, 'A-7', 'a-7', 500000, '[]', 50, 0, 0, 'staff:1',"
                " '2025-01-01 10:00:00')"
            )
        )
    migrate.upgrade_in_thread(make_settings(url), "head")
    async with engine.begin() as conn:
        issuer, kind, receipt = (
            await conn.execute(
                text(
                    "SELECT p.issuer_account_id, a.kind, p.receipt_number FROM loyalty_purchases p"
                    " JOIN loyalty_accounts a ON a.id = p.issuer_account_id"
                )
            )
        ).one()
        assert (kind, receipt) == ("programme", "A-7")
        await conn.execute(text("INSERT INTO loyalty_accounts (kind, balance) VALUES ('partner', 0)"))
        partner = await conn.scalar(text("SELECT id FROM loyalty_accounts WHERE kind = 'partner'"))
        insert = text(
            "INSERT INTO loyalty_purchases (customer_id, issuer_account_id, receipt_number,"
            " receipt_key, amount, categories, points, refunded_amount, points_taken_back,"
            " recorded_by, created_at) VALUES (1, :issuer, 'A-7', 'a-7', 1000, '[]', 0, 0, 0,"
            " 'x', '2025-01-02 10:00:00')"
        )
        await conn.execute(insert, {"issuer": partner})  # the same receipt, another issuer
    try:
        async with engine.begin() as conn:
            await conn.execute(insert, {"issuer": issuer})
        raise AssertionError("a receipt was recorded twice at the same issuer")
    except IntegrityError:
        pass
    finally:
        await engine.dispose()
