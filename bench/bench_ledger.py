"""Ledger benchmark: earn/redeem throughput and the portal home page at two sizes.

    .venv/bin/python -m bench.bench_ledger            # 100k members, 1M entries, SQLite
    .venv/bin/python -m bench.bench_ledger --quick    # smoke run, under a minute
    .venv/bin/python -m bench.bench_ledger --database-url postgresql://vafa@127.0.0.1/postgres

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import math
import os
import random
import secrets
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench import generate as gen
from customers.models import Customer
from loyalty import ledger, queries
from loyalty.models import WALLET, Account, JournalEntry, Lot
from vafa.database import create_engine, make_sessionmaker, open_session, utcnow
from vafa.models import AuthSession
from vafa.security import sessions
from vafa.server.app import create_app

FULL = {"members": 100_000, "entries": 1_000_000, "small_entries": 10_000, "ops": 500}
QUICK = {"members": 2_000, "entries": 20_000, "small_entries": 200, "ops": 100}
HOT_REDEEM_OPS = 30
RATIO_TARGET = 1.25
Op = Callable[[int], Awaitable[None]]


def default_hot_entries(entries: int) -> int:
    """1% of the entries, but a few thousand where the database allows it."""
    return max(entries // 100, min(2_000, entries // 10))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- timing helpers -------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.seconds, 95) * 1000


@dataclass
class Throughput:
    label: str
    ops_per_second: list[float]  # one per batch
    latencies: list[float]  # every operation, seconds

    @property
    def median(self) -> float:
        return statistics.median(self.ops_per_second)

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 95) * 1000


async def paired(
    calls: Sequence[tuple[str, Callable[[], Awaitable[Any]]]], n: int, warmup: int
) -> list[Timing]:
    """Time the calls interleaved (a b, b a, a b, ...), so that a change in the
    machine's load during the run weighs on each the same and their ratio stays fair."""
    for _ in range(warmup):
        for _, call in calls:
            await call()
    timings = [Timing(label) for label, _ in calls]
    order = list(range(len(calls)))
    for _ in range(n):
        for i in order:
            started = time.perf_counter()
            await calls[i][1]()
            timings[i].seconds.append(time.perf_counter() - started)
        order.reverse()
    return timings


async def throughput(label: str, op: Op, batches: int, per_batch: int) -> Throughput:
    result = Throughput(label, [], [])
    i = 0
    for _ in range(batches):
        batch_started = time.perf_counter()
        for _ in range(per_batch):
            started = time.perf_counter()
            await op(i)
            result.latencies.append(time.perf_counter() - started)
            i += 1
        result.ops_per_second.append(per_batch / (time.perf_counter() - batch_started))
    return result


class Capture:
    """The SQL statements an engine runs while `on` is set."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.on = False
        self.statements: list[tuple[str, Any]] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if self.on:
                self.statements.append((statement, parameters))


# --- the measurements -----------------------------------------------------------------


async def login_token(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Any, customer_id: int
) -> str:
    """What vafa.security.sessions.start does after a verified SMS code."""
    audience = sessions.audiences(settings)["customer"]
    auth = sessions.make_auth(settings, audience, Customer)
    jti = secrets.token_urlsafe(32)
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        session.add(
            AuthSession(
                id=jti,
                audience=audience.name,
                subject_id=customer_id,
                created_at=now,
                expires_at=now + audience.lifetime,
                ip="127.0.0.1",
                user_agent="vafa-bench",
            )
        )
    return auth.create_token(
        identifier=str(customer_id),
        token_expiration=audience.lifetime,
        token_audience=audience.claim,
        token_unique_jwt_id=jti,
    )


@dataclass
class HomeResult:
    label: str
    page: Timing | None = None  # None when the page failed
    statements: int = 0
    touches_ledger: bool = False
    error: str | None = None
    captured: list[tuple[str, Any]] = field(default_factory=list)  # SQL of one request


@dataclass(frozen=True)
class Size:
    name: str  # "10k", "1M"
    url: str
    spec: gen.Spec
    members: tuple[tuple[str, int], ...]  # ("hot member", id), ("typical member", id)


async def measure_home(sizes: Sequence[Size], n: int, warmup: int) -> list[list[HomeResult]]:
    """GET / through the real app of each database, logged in as each member in turn;
    the databases' requests interleaved. Returns results[member][size]."""
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for size in sizes:
            settings = gen.settings_for(size.url)
            app = create_app(settings)
            client = await stack.enter_async_context(
                AsyncTestClient(app=app, base_url="http://testserver.local")
            )
            # Our own engine for the login rows: the app's connections belong to the loop
            # the test client runs it on (asyncpg connections cannot cross loops).
            engine = create_engine(size.url)
            stack.push_async_callback(engine.dispose)
            tokens = [
                await login_token(make_sessionmaker(engine), settings, customer_id)
                for _, customer_id in size.members
            ]
            cookie = sessions.audiences(settings)["customer"].cookie
            clients.append((client, Capture(app.state.engine), tokens, cookie))
        logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
        results: list[list[HomeResult]] = []
        for k, (who, _) in enumerate(sizes[0].members):
            row: list[HomeResult] = []
            calls = []
            for size, (client, capture, tokens, cookie) in zip(sizes, clients, strict=True):
                label = f"GET / ({who}) at {size.name}"
                client.cookies.set(cookie, tokens[k])
                capture.statements = []
                capture.on = True
                response = await client.get("/", follow_redirects=False)
                capture.on = False
                if response.status_code != 200 or 'action="/logout"' not in response.text:
                    # The page is being built: report it and measure the rest.
                    error = f"answered {response.status_code}, not the home page"
                    row.append(HomeResult(label, error=error))
                    continue
                touches = any("loyalty_" in statement for statement, _ in capture.statements)
                row.append(
                    HomeResult(label, None, len(capture.statements), touches, None,
                               capture.statements)
                )  # fmt: skip

                async def call(client: AsyncTestClient[Any] = client) -> None:
                    r = await client.get("/", follow_redirects=False)
                    if r.status_code != 200:
                        raise RuntimeError(f"GET / answered {r.status_code}")

                calls.append((label, call))
            if len(calls) == len(sizes):
                gc.collect()
                for result, timing in zip(row, await paired(calls, n, warmup), strict=True):
                    result.page = timing
            results.append(row)
        return results


async def measure_reads(sizes: Sequence[Size], n: int, warmup: int) -> list[list[Timing]]:
    """The ledger reads of the member's pages, each call in its own read-only session
    (as a GET request gets one); the databases interleaved. Returns [figure][size]."""
    async with contextlib.AsyncExitStack() as stack:
        makers = []
        for size in sizes:
            engine = create_engine(size.url)
            stack.push_async_callback(engine.dispose)
            makers.append(make_sessionmaker(engine))

        def summary(
            maker: async_sessionmaker[AsyncSession], customer_id: int
        ) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                session = await open_session(maker, read_only=True)
                async with session:
                    await queries.member_summary(session, customer_id)

            return call

        def history(
            maker: async_sessionmaker[AsyncSession], customer_id: int
        ) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                session = await open_session(maker, read_only=True)
                async with session:
                    await queries.history(session, customer_id)

            return call

        results = []
        for k, (who, _) in enumerate(sizes[0].members):
            gc.collect()
            results.append(await paired(
                [(f"member_summary ({who}) at {size.name}", summary(maker, size.members[k][1]))
                 for size, maker in zip(sizes, makers, strict=True)],
                n, warmup,
            ))  # fmt: skip
        who, _ = sizes[0].members[0]
        results.append(await paired(
            [(f"history page 1 ({who}) at {size.name}", history(maker, size.members[0][1]))
             for size, maker in zip(sizes, makers, strict=True)],
            n, warmup,
        ))  # fmt: skip
        return results


async def measure_writes(
    sessionmaker: async_sessionmaker[AsyncSession], spec: gen.Spec, batches: int, per_batch: int,
    rng: random.Random,
) -> list[Throughput]:  # fmt: skip
    tag = f"bench:{os.getpid()}:{time.time_ns()}"
    hot = spec.hot_member
    others = [c for c in range(1, spec.members + 1) if c != hot] or [hot]
    expires = utcnow() + timedelta(days=365)

    async def earn(i: int) -> None:
        async with sessionmaker() as s, s.begin():
            await ledger.earn(
                s,
                customer_id=rng.choice(others),
                points=rng.randint(10, 500),
                key=f"{tag}:earn:{i}",
                cause=ledger.Cause("bench", i),
                expires_at=expires,
            )

    async with sessionmaker() as s:
        holders = list(
            (
                await s.scalars(
                    select(Account.customer_id).where(
                        Account.kind == WALLET, Account.balance >= 100, Account.customer_id != hot
                    )
                )
            ).all()
        )
    if not holders:
        raise RuntimeError("no member holds 100 points to redeem from")
    rng.shuffle(holders)

    async def redeem(i: int) -> None:
        async with sessionmaker() as s, s.begin():
            await ledger.spend(
                s,
                customer_id=holders[i % len(holders)],
                points=5,
                key=f"{tag}:redeem:{i}",
                cause=ledger.Cause("bench", i),
            )

    async def redeem_hot(i: int) -> None:
        async with sessionmaker() as s, s.begin():
            await ledger.spend(
                s, customer_id=hot, points=1, key=f"{tag}:hot:{i}", cause=ledger.Cause("bench", i)
            )

    gc.collect()
    results = [
        await throughput("earn", earn, batches, per_batch),
        await throughput("redeem", redeem, batches, per_batch),
    ]
    if spec.hot_entries:
        results.append(
            await throughput(
                "redeem by the hot member", redeem_hot, batches, min(per_batch, HOT_REDEEM_OPS)
            )
        )
    return results


async def explain(
    engine: AsyncEngine, customer_id: int, page: Sequence[tuple[str, Any]] = ()
) -> None:
    """Print the plan and time of every SELECT that GET / (`page`, as captured) and the
    ledger reads and writes run for the hot member (one transaction, rolled back)."""
    capture = Capture(engine)
    sessionmaker = make_sessionmaker(engine)
    session = sessionmaker()
    await session.begin()
    try:
        capture.on = True
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("ledger.balances", lambda: ledger.balances(session, customer_id)),
            ("queries.member_summary", lambda: queries.member_summary(session, customer_id)),
            ("queries.history", lambda: queries.history(session, customer_id)),
            ("queries.lots", lambda: queries.lots(session, customer_id)),
            ("ledger.earn", lambda: ledger.earn(
                session, customer_id=customer_id, points=10, key="bench-explain:earn")),
            ("ledger.spend", lambda: ledger.spend(
                session, customer_id=customer_id, points=1, key="bench-explain:spend")),
        ]  # fmt: skip
        labelled: list[tuple[str, str, Any]] = [("GET /", s, p) for s, p in page]
        for label, call in steps:
            start = len(capture.statements)
            await call()
            labelled += [(label, s, p) for s, p in capture.statements[start:]]
        lot = await session.scalar(
            select(Lot).where(Lot.customer_id == customer_id, Lot.remaining > 0).limit(1)
        )
        for label, call in (
            ("ledger.take_back", lambda: ledger.take_back(
                session, lot=lot, points=1, policy="debt", key="bench-explain:return")),
            ("ledger.release_due", lambda: ledger.release_due(session)),
            ("ledger.expire_due", lambda: ledger.expire_due(session)),
        ):  # fmt: skip
            if lot is None and label == "ledger.take_back":
                continue
            start = len(capture.statements)
            await call()
            labelled += [(label, s, p) for s, p in capture.statements[start:]]
        capture.on = False
        conn = await session.connection()
        sqlite = engine.dialect.name == "sqlite"
        seen: set[str] = set()
        print("\nQuery plans (hot member, one transaction, rolled back):")
        for label, statement, params in labelled:
            if not statement.lstrip().upper().startswith("SELECT") or statement in seen:
                continue
            seen.add(statement)
            times = []
            for _ in range(10):
                started = time.perf_counter()
                (await conn.exec_driver_sql(statement, params)).fetchall()
                times.append(time.perf_counter() - started)
            print(f"\n-- {label}: {statistics.median(times) * 1000:.2f} ms median")
            print("   " + " ".join(statement.split())[:400])
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
            rows = (await conn.exec_driver_sql(prefix + statement, params)).all()
            for row in rows:
                line = str(row[-1])
                scan = sqlite and line.startswith("SCAN") and "CONSTANT" not in line
                print(f"   | {line}{'   <-- scans' if scan else ''}")
    finally:
        capture.on = False
        await session.rollback()
        await session.close()


# --- the run --------------------------------------------------------------------------


@dataclass
class Databases:
    small: str
    large: str
    cleanup: Callable[[], Awaitable[None]]


async def prepare(args: argparse.Namespace, small: gen.Spec, large: gen.Spec) -> Databases:
    """Cached databases (generated when missing) and private working copies of them."""
    server = args.database_url
    for spec in (small, large):
        started = time.perf_counter()
        if server:
            _, made = await gen.cached_postgres(
                server, spec, regenerate=args.regenerate, verify=args.verify
            )
        else:
            _, made = await gen.cached_sqlite(spec, regenerate=args.regenerate, verify=args.verify)
        if made:
            print(f"  {made.describe()}")
        else:
            print(f"  cached {spec.key} ({time.perf_counter() - started:.1f} s to find)")
    gc.collect()
    if server:
        suffix = f"run{os.getpid()}"
        cached = [(await gen.cached_postgres(server, s))[0] for s in (small, large)]
        urls = [await gen.postgres_copy(server, url, suffix) for url in cached]

        async def drop() -> None:
            for url in urls:
                await gen.postgres_drop(server, url)

        return Databases(urls[0], urls[1], drop)
    work = Path(tempfile.mkdtemp(prefix="vafa-bench-run-"))
    paths = [(await gen.cached_sqlite(s))[0] for s in (small, large)]
    urls = [gen.sqlite_copy(p, work) for p in paths]

    async def remove() -> None:
        shutil.rmtree(work, ignore_errors=True)

    return Databases(urls[0], urls[1], remove)


def size_name(entries: int) -> str:
    for unit, name in ((1_000_000, "M"), (1_000, "k")):
        if entries >= unit and entries % (unit // 10) == 0:
            return f"{entries / unit:g}{name}"
    return str(entries)


async def describe_members(url: str, hot: int) -> tuple[int, str]:
    """A typical member (no pending points, some history) to compare with the hot one,
    and a line about both."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            typical = await conn.scalar(
                select(func.min(Account.customer_id)).where(
                    Account.kind == WALLET,
                    Account.balance > 0,
                    Account.customer_id != hot,
                    ~select(Lot.id)
                    .where(Lot.customer_id == Account.customer_id, Lot.available.is_(False))
                    .exists(),
                )
            )
            if typical is None:
                typical = hot
            parts = []
            for who, customer_id in (("hot", hot), ("typical", typical)):
                entries = await conn.scalar(
                    select(func.count()).where(JournalEntry.customer_id == customer_id)
                )
                lots = await conn.scalar(select(func.count()).where(Lot.customer_id == customer_id))
                open_lots = await conn.scalar(
                    select(func.count()).where(Lot.customer_id == customer_id, Lot.remaining > 0)
                )
                parts.append(
                    f"{who} member {customer_id}: {entries:,} entries, {lots:,} lots "
                    f"({open_lots:,} open)"
                )
            pending = await conn.scalar(select(func.count()).where(Lot.available.is_(False)))
            await conn.rollback()
        return int(typical), "; ".join(parts) + f"; {pending:,} pending lots in all"
    finally:
        await engine.dispose()


def row(timing: Timing) -> tuple[str, str, str]:
    return (timing.label, f"{timing.median_ms:.2f} ms", f"{timing.p95_ms:.2f} ms")


async def run(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    defaults = QUICK if args.quick else FULL
    members = args.members or defaults["members"]
    entries = args.entries or defaults["entries"]
    small_entries = args.small_entries or defaults["small_entries"]
    per_batch = args.ops or defaults["ops"]
    hot_large = min(entries, args.hot_member_entries or default_hot_entries(entries))
    large = gen.Spec(members, entries, hot_large, args.seed)
    small_members = max(10, min(members, round(members * small_entries / max(entries, 1))))
    small = gen.Spec(small_members, small_entries, max(1, small_entries // 100), args.seed)
    engine_name = "PostgreSQL" if args.database_url else "SQLite"
    s_name, l_name = size_name(small_entries), size_name(entries)
    print(f"bench_ledger on {engine_name}: {l_name} entries / {members:,} members "
          f"(hot member: {hot_large:,} entries) vs {s_name} entries / {small_members:,} "
          f"members (hot member: {small.hot_entries:,})")  # fmt: skip
    print(
        f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
        "(other work on the machine makes the figures noisy)"
    )
    print("preparing databases...")
    dbs = await prepare(args, small, large)
    try:
        rng = random.Random(args.seed)
        sizes = []
        for url, spec, name in ((dbs.small, small, s_name), (dbs.large, large, l_name)):
            typical, line = await describe_members(url, spec.hot_member)
            members_ = (("hot member", spec.hot_member), ("typical member", typical))
            sizes.append(Size(name, url, spec, members_))
            print(f"  {name}: {line}")
        print(
            f"measuring GET / ({args.warmup} warm-up + {args.requests} requests each, "
            "the two databases interleaved)..."
        )
        homes = await measure_home(sizes, args.requests, args.warmup)
        print("measuring member_summary and history...")
        reads = await measure_reads(sizes, args.requests, args.warmup)
        engine = create_engine(dbs.large)
        try:
            if args.explain:
                await explain(engine, large.hot_member, homes[0][1].captured)
            print(f"measuring earn/redeem ({args.batches} batches of {per_batch})...")
            writes = await measure_writes(
                make_sessionmaker(engine), large, args.batches, per_batch, rng
            )
        finally:
            await engine.dispose()
    finally:
        await dbs.cleanup()

    # --- the table ---
    rows: list[tuple[str, str, str]] = []
    for w in writes:
        rows.append(
            (
                f"{w.label} on {l_name} (1 tx each)",
                f"{w.median:,.0f} ops/s",
                f"{w.p95_ms:.2f} ms/op",
            )
        )

    def ratio_row(a: Timing, b: Timing) -> tuple[str, str, str]:
        median = b.median_ms / a.median_ms
        p95 = b.p95_ms / a.p95_ms
        verdict = "ok" if median <= RATIO_TARGET else f"OVER {RATIO_TARGET}x"
        label = a.label.rsplit(" at ", 1)[0]
        return (f"{label}: ratio {l_name}/{s_name}", f"{median:.2f}x {verdict}", f"{p95:.2f}x")

    for a_home, b_home in homes:
        for home in (a_home, b_home):
            rows.append(row(home.page) if home.page else (home.label, "failed", ""))
        if a_home.page and b_home.page:
            rows.append(ratio_row(a_home.page, b_home.page))
    for a, b in reads:
        rows += [row(a), row(b), ratio_row(a, b)]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'figure':<{width}}  {'median':>16}  {'p95':>12}")
    for label, median, p95 in rows:
        print(f"{label:<{width}}  {median:>16}  {p95:>12}")
    print()
    for home in [h for pair in homes for h in pair]:
        if home.error:
            print(f"{home.label}: {home.error} (see the log above)")
    page = homes[0][1]
    if page.page:
        print(
            f"GET / runs {page.statements} SQL statement(s); "
            + (
                "it reads the ledger tables."
                if page.touches_ledger
                else "it does not read the ledger yet (member_summary is timed on its own)."
            )
        )
    print(
        f"load average after: {os.getloadavg()[0]:.2f}; total {time.perf_counter() - began:.0f} s"
    )
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_ledger", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--members", type=int, help="members in the large database (100000)")
    parser.add_argument("--entries", type=int, help="journal entries in the large one (1000000)")
    parser.add_argument("--small-entries", type=int, help="entries in the small one (10000)")
    parser.add_argument(
        "--hot-member-entries", type=int, metavar="K",
        help="entries of the measured member in the large database "
        "(default: 1%% of entries, at least min(2000, 10%%))",
    )  # fmt: skip
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to use (postgresql://user@host/db; needs CREATEDB): "
        "databases vafa_bench_* are created there. Default: SQLite files.",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="2k members / 20k entries vs 200 entries, 100 ops per batch",
    )  # fmt: skip
    parser.add_argument("--regenerate", action="store_true", help="ignore cached databases")
    parser.add_argument("--verify", action="store_true", help="verify generated databases")
    parser.add_argument("--explain", action="store_true", help="print query plans and timings")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per size")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per size")
    parser.add_argument("--ops", type=int, help="operations per throughput batch (500)")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.database_url and not gen.async_url(args.database_url).startswith("postgresql"):
        parser.error("--database-url takes a PostgreSQL URL (SQLite is the default)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print("$ " + shlex.join([Path(sys.executable).name, "-m", "bench.bench_ledger", *(
        sys.argv[1:] if argv is None else argv)]))  # fmt: skip
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
