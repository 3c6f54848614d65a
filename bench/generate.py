"""Fill a fresh, migrated database with a large, valid loyalty ledger, fast.

Rows are written with core `insert()` in executemany batches, not through the ledger
service, but the data keeps the ledger's invariants (`loyalty.verify.verify` finds
nothing): every member has a wallet, a pending and a debt account; every earn is one
journal entry programme -> wallet (or -> pending, for a few recent ones) with one lot;
every redeem is one entry wallet -> programme with allocations that draw the member's
lots soonest expiry first, exactly as `ledger.spend` would; cached balances equal the
lot remainders and the journal.

The history spans the last HISTORY_DAYS days, entries of all members interleaved in
id order. Lots expire LOT_LIFETIME_DAYS after they were earned (so every expiry is
still ahead) or never (NO_EXPIRY_SHARE). One member, `Spec.hot_member`, can be given a
large share of the entries (`--hot-member-entries`): the member whose pages are timed.

    .venv/bin/python -m bench.generate --members 1000 --entries 10000 --verify
    .venv/bin/python -m bench.generate --database-url postgresql://vafa@127.0.0.1/empty_db

`bench_ledger` uses `cached_sqlite` / `cached_postgres`, which keep one generated
database per size under var/bench/ (SQLite) or on the server (PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import heapq
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers.models import Customer
from loyalty.models import DEBT, PENDING, PROGRAMME, WALLET, Account, Allocation, JournalEntry, Lot
from vafa import migrate
from vafa.database import create_engine, make_sessionmaker, utcnow
from vafa.server import composition
from vafa.settings import ROOT, Settings

composition()  # every domain's tables, as migrations/env.py does

# Bump when the shape of generated data changes: cached databases are keyed by it.
GENERATOR_VERSION = 1
CACHE_DIR = ROOT / "var" / "bench"
SECRET_KEY = "vafa-bench-secret-key-not-for-production-0123456789"

HISTORY_DAYS = 330
LOT_LIFETIME_DAYS = 365  # the programme's default expiry_days
NO_EXPIRY_SHARE = 0.15
REDEEM_SHARE = 0.30  # of entries, for members who hold points
PENDING_TAIL = 0.01  # the most recent 1% of earns: half of them still pending
MAX_PHONE_MEMBERS = 9_999_999  # +98912 and seven digits

Log = Callable[[str], None]


@functools.cache
def schema_fingerprint() -> str:
    """Changes when a migration file changes, so cached databases follow the schema."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


@dataclass(frozen=True)
class Spec:
    """What to generate; also the cache key."""

    members: int
    entries: int
    hot_entries: int = 0
    seed: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.members <= MAX_PHONE_MEMBERS:
            raise ValueError(f"members must be between 1 and {MAX_PHONE_MEMBERS}")
        if self.entries < 0 or not 0 <= self.hot_entries <= self.entries:
            raise ValueError("need 0 <= hot member entries <= entries")

    @property
    def hot_member(self) -> int:
        """Customer id of the member with the large history (ids are 1..members)."""
        return self.members // 2 + 1

    @property
    def key(self) -> str:
        return (
            f"m{self.members}_e{self.entries}_h{self.hot_entries}_s{self.seed}"
            f"_v{GENERATOR_VERSION}_{schema_fingerprint()}"
        )


def phone(customer_id: int) -> str:
    return f"+98912{customer_id:07d}"


def async_url(url: str) -> str:
    """The forms Settings accepts, with the async drivers Vafa uses."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def settings_for(url: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key=SECRET_KEY,
        cookie_secure=False,
        embedded_worker=False,
        sms_backend="outbox",
    )


def run_migrations(url: str) -> None:
    migrate.upgrade_in_thread(settings_for(url))


# --- the simulation -----------------------------------------------------------------

CUSTOMER_COLUMNS = (
    "id", "phone", "name", "birthday", "language", "marketing_consent", "consent_at",
    "consent_source", "created_at", "last_login_at",
)  # fmt: skip
ACCOUNT_COLUMNS = ("id", "kind", "customer_id", "balance")
JOURNAL_COLUMNS = (
    "id", "kind", "amount", "debit_account_id", "credit_account_id", "customer_id",
    "idempotency_key", "cause_type", "cause_id", "memo", "created_by", "created_at",
)  # fmt: skip
LOT_COLUMNS = (
    "id", "customer_id", "entry_id", "points", "remaining", "available", "available_at",
    "expires_at", "created_at",
)  # fmt: skip
ALLOCATION_COLUMNS = ("id", "entry_id", "lot_id", "amount")


@dataclass
class Plan:
    """Rows to insert, as tuples in the *_COLUMNS order (lots as mutable lists)."""

    customers: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[tuple[Any, ...]] = field(default_factory=list)
    journal: list[tuple[Any, ...]] = field(default_factory=list)
    lots: list[list[Any]] = field(default_factory=list)
    allocations: list[tuple[Any, ...]] = field(default_factory=list)
    earns: int = 0
    redeems: int = 0
    pending_lots: int = 0


def simulate(spec: Spec, *, programme: int, first_account: int, now: datetime) -> Plan:
    """Replay `spec.entries` earns and redeems in memory, in time order."""
    rng = random.Random(spec.seed)
    n, m, hot = spec.members, spec.entries, spec.hot_member
    plan = Plan()
    start = now - timedelta(days=HISTORY_DAYS)
    span = (now - timedelta(hours=1) - start).total_seconds()
    lifetime = timedelta(days=LOT_LIFETIME_DAYS)

    def wallet_of(c: int) -> int:
        return first_account + 3 * (c - 1)

    for c in range(1, n + 1):
        joined = start - timedelta(days=1 + rng.randrange(700), seconds=rng.randrange(86400))
        name = "Bench hot member" if c == hot else None
        plan.customers.append((c, phone(c), name, None, "fa", False, None, None, joined, None))

    hot_positions = set(rng.sample(range(m), spec.hot_entries)) if spec.hot_entries else set()
    wallet = [0] * (n + 1)
    pending = [0] * (n + 1)
    # Per member, a heap of lots still holding available points, in ledger._spend_order.
    open_lots: list[list[tuple[Any, ...]]] = [[] for _ in range(n + 1)]
    lot_id = allocation_id = 0
    pending_from = int(m * (1 - PENDING_TAIL))

    for i in range(m):
        entry_id = i + 1
        if i in hot_positions or n == 1:
            c = hot
        else:
            c = rng.randrange(1, n)  # 1..n-1, then skip the hot member
            if c >= hot:
                c += 1
        at = start + timedelta(seconds=span * i / m)
        w = wallet_of(c)
        key = f"gen:{entry_id}"
        if wallet[c] > 0 and rng.random() < REDEEM_SHARE:
            amount = rng.randint(1, min(wallet[c], 400))
            wallet[c] -= amount
            plan.redeems += 1
            plan.journal.append(
                (entry_id, "redeem", amount, w, programme, c, key, "reward", None, None,
                 "generator", at)
            )  # fmt: skip
            left, heap = amount, open_lots[c]
            while left:
                lot = heap[0][3]
                take = min(lot[4], left)
                lot[4] -= take
                left -= take
                allocation_id += 1
                plan.allocations.append((allocation_id, entry_id, lot[0], take))
                if lot[4] == 0:
                    heapq.heappop(heap)
            continue
        points = rng.randint(10, 500)
        lot_id += 1
        expires = None if rng.random() < NO_EXPIRY_SHARE else at + lifetime
        if i >= pending_from and rng.random() < 0.5:
            credit = w + 1  # the member's pending account
            pending[c] += points
            arrives = now + timedelta(days=rng.randint(1, 14))
            plan.lots.append([lot_id, c, entry_id, points, points, False, arrives, expires, at])
            plan.pending_lots += 1
        else:
            credit = w
            wallet[c] += points
            lot = [lot_id, c, entry_id, points, points, True, at, expires, at]
            plan.lots.append(lot)
            order = (0, expires, lot_id, lot) if expires is not None else (1, 0, lot_id, lot)
            heapq.heappush(open_lots[c], order)
        plan.earns += 1
        plan.journal.append(
            (entry_id, "earn", points, programme, credit, c, key, "purchase", str(entry_id),
             None, "generator", at)
        )  # fmt: skip

    for c in range(1, n + 1):
        w = wallet_of(c)
        plan.accounts.append((w, WALLET, c, wallet[c]))
        plan.accounts.append((w + 1, PENDING, c, pending[c]))
        plan.accounts.append((w + 2, DEBT, c, 0))
    return plan


# --- writing --------------------------------------------------------------------------


def _fast_sqlite(engine: AsyncEngine) -> None:
    """Bulk-load settings, on top of (after) the product's own connect pragmas."""
    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()


async def _insert(
    conn: AsyncConnection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    batch: int,
) -> None:
    statement = insert(table)
    for offset in range(0, len(rows), batch):
        chunk = rows[offset : offset + batch]
        await conn.execute(statement, [dict(zip(columns, row, strict=True)) for row in chunk])
        await conn.commit()


@dataclass(frozen=True)
class Generated:
    spec: Spec
    url: str
    seconds: float
    simulate_seconds: float
    write_seconds: float
    plan_counts: dict[str, int]

    def describe(self) -> str:
        counts = ", ".join(f"{v:,} {k}" for k, v in self.plan_counts.items())
        return (
            f"generated {self.spec.key} in {self.seconds:.1f} s "
            f"(migrate+simulate {self.simulate_seconds:.1f} s, write {self.write_seconds:.1f} s): "
            f"{counts}"
        )


async def generate(url: str, spec: Spec, *, batch: int = 20_000, log: Log = print) -> Generated:
    """Migrate the empty database at `url` and fill it per `spec`."""
    url = async_url(url)
    started = time.perf_counter()
    await asyncio.to_thread(run_migrations, url)
    engine = create_engine(url)
    is_sqlite = engine.dialect.name == "sqlite"
    if is_sqlite:
        _fast_sqlite(engine)
    try:
        async with engine.connect() as conn:
            if await conn.scalar(select(func.count()).select_from(Customer.__table__)):
                raise RuntimeError(f"{url}: the database already holds customers")
            programme = await conn.scalar(
                select(Account.id).where(Account.kind == PROGRAMME).order_by(Account.id)
            )
            if programme is None:
                raise RuntimeError("the migration did not create the programme account")
            first_account = int(await conn.scalar(select(func.max(Account.id)))) + 1
            await conn.rollback()
        plan = simulate(spec, programme=programme, first_account=first_account, now=utcnow())
        simulated = time.perf_counter()
        log(
            f"  simulated {spec.key}: {plan.earns:,} earns ({plan.pending_lots:,} pending), "
            f"{plan.redeems:,} redeems, {len(plan.allocations):,} allocations "
            f"in {simulated - started:.1f} s; writing..."
        )
        async with engine.connect() as conn:
            for table, columns, rows in (
                (Customer.__table__, CUSTOMER_COLUMNS, plan.customers),
                (Account.__table__, ACCOUNT_COLUMNS, plan.accounts),
                (JournalEntry.__table__, JOURNAL_COLUMNS, plan.journal),
                (Lot.__table__, LOT_COLUMNS, plan.lots),
                (Allocation.__table__, ALLOCATION_COLUMNS, plan.allocations),
            ):
                t = time.perf_counter()
                await _insert(conn, table, columns, rows, batch)  # type: ignore[arg-type]
                log(f"    {table.name}: {len(rows):,} rows in {time.perf_counter() - t:.1f} s")
            if is_sqlite:
                # Outside any transaction (SQLAlchemy would BEGIN first): fold the WAL
                # into the file so that copying the file copies the database.
                raw = await conn.get_raw_connection()
                await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            else:
                # Explicit ids bypassed the sequences; point them past the data.
                for table in ("customers", "loyalty_accounts", "loyalty_journal",
                              "loyalty_lots", "loyalty_allocations"):  # fmt: skip
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
                await conn.commit()
        if not is_sqlite:
            # Autovacuum would do this shortly after a real bulk load.
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE")
        finished = time.perf_counter()
        counts = {
            "customers": len(plan.customers),
            "journal entries": len(plan.journal),
            "lots": len(plan.lots),
            "allocations": len(plan.allocations),
        }
        return Generated(
            spec, url, finished - started, simulated - started, finished - simulated, counts
        )
    finally:
        await engine.dispose()


async def verify_database(url: str, log: Log = print) -> int:
    """Run `vafa ledger verify`'s check on the whole database; returns the problem count."""
    from loyalty.verify import verify

    engine = create_engine(async_url(url))
    try:
        started = time.perf_counter()
        async with make_sessionmaker(engine)() as session:
            problems = await verify(session)
        log(f"  verify: {len(problems)} problem(s) in {time.perf_counter() - started:.1f} s")
        for problem in problems[:10]:
            log(f"    {problem}")
        return len(problems)
    finally:
        await engine.dispose()


# --- caches ---------------------------------------------------------------------------


async def cached_sqlite(
    spec: Spec, *, regenerate: bool = False, verify: bool = False, log: Log = print
) -> tuple[Path, Generated | None]:
    """The cached SQLite file for `spec`, generated (in a temp dir, then moved into
    var/bench/) when missing or when `regenerate`."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"ledger_{spec.key}.db"
    if path.exists() and not regenerate:
        return path, None
    work = Path(tempfile.mkdtemp(prefix="generating-", dir=CACHE_DIR))
    try:
        db = work / "vafa.db"
        generated = await generate(sqlite_url(db), spec, log=log)
        if verify and await verify_database(sqlite_url(db), log):
            raise RuntimeError("generated data fails the ledger invariants")
        os.replace(db, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Older generations of the same sizes (another schema or generator version).
    stem = f"ledger_m{spec.members}_e{spec.entries}_h{spec.hot_entries}_s{spec.seed}_v"
    for stale in CACHE_DIR.glob(f"{stem}*.db"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return path, generated


def sqlite_copy(path: Path, into: Path) -> str:
    """A private working copy of a cached file (benchmarks write to it)."""
    target = into / f"{path.stem}.db"
    shutil.copyfile(path, target)
    return sqlite_url(target)


def _database_url(server_url: str, name: str) -> str:
    return make_url(async_url(server_url)).set(database=name).render_as_string(hide_password=False)


async def _admin(server_url: str, statement: str, params: dict[str, Any] | None = None) -> Any:
    engine = create_engine(async_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(statement), params or {})
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def cached_postgres(
    server_url: str, spec: Spec, *, regenerate: bool = False, verify: bool = False,
    log: Log = print,
) -> tuple[str, Generated | None]:  # fmt: skip
    """A database `vafa_bench_<key>` on the server of `server_url` (which needs the
    CREATEDB privilege), generated under a temporary name and renamed when complete."""
    name = f"vafa_bench_{spec.key}"
    building = f"{name}_tmp"
    exists = await _admin(server_url, "SELECT 1 FROM pg_database WHERE datname = :n", {"n": name})
    if exists and not regenerate:
        return _database_url(server_url, name), None
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
    await _admin(server_url, f'CREATE DATABASE "{building}"')
    url = _database_url(server_url, building)
    generated = await generate(url, spec, log=log)
    if verify and await verify_database(url, log):
        raise RuntimeError("generated data fails the ledger invariants")
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(server_url, f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    return _database_url(server_url, name), generated


async def postgres_copy(server_url: str, cached_url: str, suffix: str) -> str:
    """A working copy of a cached database: CREATE DATABASE ... TEMPLATE."""
    source = make_url(cached_url).database
    name = f"{source}_{suffix}"[:63]
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return _database_url(server_url, name)


async def postgres_drop(server_url: str, url: str) -> None:
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


# --- command line ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--hot-member-entries", type=int, default=0, metavar="K",
        help="give K of the entries to one member (customer id members//2+1)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="fill this empty database (e.g. postgresql://...) instead of a new SQLite "
        "file in a temporary directory",
    )
    parser.add_argument("--batch", type=int, default=20_000, help="rows per executemany")
    parser.add_argument("--verify", action="store_true", help="run loyalty.verify afterwards")
    args = parser.parse_args(argv)
    spec = Spec(args.members, args.entries, args.hot_member_entries, args.seed)
    url = args.database_url or sqlite_url(Path(tempfile.mkdtemp(prefix="vafa-bench-")) / "vafa.db")

    async def run() -> int:
        generated = await generate(url, spec, batch=args.batch)
        print(generated.describe())
        print(f"database: {generated.url}")
        print(f"hot member: customer {spec.hot_member} ({phone(spec.hot_member)})")
        if args.verify and await verify_database(generated.url):
            return 1
        return 0

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
