"""The real server over HTTP: requests a second and latency of the login page, the
portal's home and history pages, and the partner API's earn and redeem, on SQLite (one
process) and PostgreSQL (one and two processes), against the ceilings of the same
writes done raw (stdlib sqlite3; pgbench).

For each engine a generated club (bench/generate.py, cached as bench_ledger caches it:
100,000 members and 1,000,000 journal entries; `--quick`: 2,000 / 20,000) is copied and
given a rule set, three tiers and a partner with an API key through the product's own
services; `vafa run` serves the copy (`--workers 2` for the second PostgreSQL run, with
`vafa worker` beside it); wrk drives it with bench/http/vafa.lua, round after round, the
endpoints interleaved; then earn at half its measured rate, at a constant rate, from an
open-loop generator in this process; then the server stops and `loyalty.verify` checks
the ledger it wrote. Durability stays as the product sets it (SQLite WAL with
synchronous=NORMAL, PostgreSQL's defaults, fsync on).

    .venv/bin/python -m bench.bench_http --quick          # both engines, under 2 minutes
    .venv/bin/python -m bench.bench_http                  # 100k members / 1M entries
    .venv/bin/python -m bench.bench_http --engine sqlite --seconds 5 --rounds 5

See bench/README.md ("HTTP") for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httptools
import httpx
import uvloop
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bench import generate as gen
from bench.bench_ledger import default_hot_entries, login_token, percentile
from loyalty import services as loyalty_services
from loyalty.models import WALLET, Account, JournalEntry, RuleKind
from partners import services as partner_services
from partners.models import Category, MemberCode, Transaction
from vafa.actor import Actor
from vafa.database import create_engine, make_sessionmaker, utcnow
from vafa.settings import ROOT

HERE = Path(__file__).resolve().parent / "http"
LUA = HERE / "vafa.lua"
SQLITE_EARN = HERE / "earn_sqlite.sql"
PGBENCH_EARN = HERE / "earn_pgbench.sql"

FULL = {"members": 100_000, "entries": 1_000_000, "seconds": 10, "rounds": 3, "warmup": 2}
QUICK = {"members": 2_000, "entries": 20_000, "seconds": 2, "rounds": 1, "warmup": 0}
BENCH = Actor.system("bench")
WEBHOOK_SECRET = "bench-http-webhook-secret-0123456789"
REDEEM_POINTS = 5
PORTAL_MEMBERS = 32  # members logged in for the portal pages
THREADS = 2  # wrk threads: one a core


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    mode: str  # the Lua script's mode
    path: str = ""


ENDPOINTS = (
    Endpoint("login", "GET /login", "get", "/login"),
    Endpoint("home", "GET / (portal home)", "page", "/"),
    Endpoint("history", "GET /points/history", "page", "/points/history"),
    Endpoint("earn", "POST /api/v1/earn", "earn"),
    Endpoint("redeem", "POST /api/v1/redemptions", "redeem"),
)


@dataclass(frozen=True)
class Config:
    name: str
    engine: str  # "sqlite" or "postgres"
    workers: int


CONFIGS = (
    Config("SQLite, 1 process", "sqlite", 1),
    Config("PostgreSQL, 1 process", "postgres", 1),
    Config("PostgreSQL, 2 processes", "postgres", 2),
)


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


# --- the club: rules, tiers, a partner, logins, member codes ---------------------------


@dataclass
class Club:
    url: str
    members: int
    partner_id: int
    account_id: int  # the partner's ledger account (issuer of its earns)
    rule_id: int
    key: str  # the API key


async def setup_club(url: str, members: int) -> Club:
    """What a club's staff would set up, through the product's services: a base spend
    rule with category multipliers (as the demo's; every active spend rule adds its own
    points, so a separate category rule would double every earn), signup and birthday
    bonuses, three tiers with earn multipliers, and a partner where members earn and
    spend, with an API key."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            rule = await loyalty_services.create_rule(
                s,
                actor=BENCH,
                values={
                    "name": "1 point per 100,000 Rials; coffee x2, bakery x1.5",
                    "kind": RuleKind.SPEND,
                    "rials_per_point": 100_000,
                    "category_multipliers": {"coffee": 200, "bakery": 150},
                    "tier_multipliers": {},
                },
            )
            for kind, points in ((RuleKind.SIGNUP, 50), (RuleKind.BIRTHDAY, 200)):
                await loyalty_services.create_rule(
                    s,
                    actor=BENCH,
                    values={
                        "name": f"{kind} bonus",
                        "kind": kind,
                        "points": points,
                        "category_multipliers": {},
                        "tier_multipliers": {},
                    },
                )
            for rank, name, threshold, percent in (
                (1, "Bronze", 100, 100),
                (2, "Silver", 1_000, 125),
                (3, "Gold", 5_000, 150),
            ):
                await loyalty_services.save_tier(
                    s,
                    actor=BENCH,
                    tier_id=None,
                    values={
                        "name": {"en": name},
                        "rank": rank,
                        "threshold": threshold,
                        "earn_multiplier_percent": percent,
                    },
                )
            partner = await partner_services.create_partner(
                s,
                actor=BENCH,
                terms=partner_services.Terms(
                    name={"en": "Bench Café", "fa": "کافه بنچ"},
                    category=Category.CAFE,
                    earn=True,
                    redeem=True,
                    earn_rials_per_point=1_200,
                    redeem_rials_per_point=1_000,
                    commission_bp=200,
                ),
            )
            made = await partner_services.create_key(
                s, actor=BENCH, partner_id=partner.id, name="bench till"
            )
            return Club(url, members, partner.id, partner.account_id, rule.id, made.secret)
    finally:
        await engine.dispose()


def portal_members(members: int, hot: int) -> list[int]:
    """Members spread over the id range (the hot member left out: the portal pages of
    a member with 10,000 entries are bench_ledger's subject)."""
    count = min(PORTAL_MEMBERS, members)
    ids = sorted({1 + i * members // count for i in range(count)})
    return [i + 1 if i == hot and i < members else i for i in ids]


async def login_tokens(url: str, ids: Sequence[int]) -> list[str]:
    """Login tokens made as bench_ledger makes them (an auth_sessions row and a token
    signed with the server's key), one a line."""
    engine = create_engine(url)
    try:
        maker = make_sessionmaker(engine)
        settings = gen.settings_for(url)
        return [await login_token(maker, settings, i) for i in ids]
    finally:
        await engine.dispose()


def code_hash(digits: str) -> str:
    """As partners/till.py `_hmac(settings, "member", digits)`, with the bench's key."""
    message = f"member:{digits}".encode()
    return hmac.new(gen.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


async def member_codes(url: str, count: int, seed: int) -> list[str]:
    """Up to `count` live member codes (`partner_member_codes`), each for a member
    whose wallet holds 5 points for every code they get, spread round-robin over the
    members, in the order they are to be used."""
    rng = random.Random(seed)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            wallets = (
                await conn.execute(
                    select(Account.customer_id, Account.balance).where(
                        Account.kind == WALLET, Account.balance >= REDEEM_POINTS
                    )
                )
            ).all()
            await conn.rollback()
        room = {int(c): int(b) // REDEEM_POINTS for c, b in wallets}
        order = list(room)
        rng.shuffle(order)
        owners: list[int] = []
        while len(owners) < count and order:
            for customer in order:
                if room[customer] > 0:
                    room[customer] -= 1
                    owners.append(customer)
                    if len(owners) == count:
                        break
            order = [c for c in order if room[c] > 0]
        now = utcnow()
        expires = now + timedelta(days=1)
        seen: set[str] = set()
        codes: list[str] = []
        rows: list[dict[str, Any]] = []
        for customer in owners:
            digits = f"{rng.randrange(10**10):010d}"
            while digits in seen:
                digits = f"{rng.randrange(10**10):010d}"
            seen.add(digits)
            codes.append(digits)
            rows.append(
                {
                    "customer_id": customer,
                    "code_hash": code_hash(digits),
                    "created_at": now,
                    "expires_at": expires,
                }
            )
        async with engine.begin() as conn:
            for start in range(0, len(rows), 20_000):
                await conn.execute(insert(MemberCode.__table__), rows[start : start + 20_000])
    finally:
        await engine.dispose()
    return codes


async def partner_counts(url: str, partner_id: int) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(Transaction.kind, func.count())
                    .where(Transaction.partner_id == partner_id)
                    .group_by(Transaction.kind)
                )
            ).all()
            entries = await conn.scalar(select(func.count()).select_from(JournalEntry))
            await conn.rollback()
        return {**{str(k): int(n) for k, n in rows}, "journal entries": int(entries or 0)}
    finally:
        await engine.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    if not found:
        raise RuntimeError("pgbench not found: `bash scripts/system-deps.sh bench` installs it")
    return os.path.dirname(found[-1])


async def pg_setting(url: str, name: str) -> str:
    engine = create_engine(gen.async_url(url))
    try:
        async with engine.connect() as conn:
            return str(await conn.scalar(text(f"SHOW {name}")))
    finally:
        await engine.dispose()


def start_postgres() -> tuple[str, Callable[[], None]]:
    """A throwaway server as the tests start it (tests/pgserver.py), restarted with
    PostgreSQL's own durability settings: the tests' server runs with fsync,
    synchronous_commit and full_page_writes off, which no production server does."""
    from tests.pgserver import start

    url, stop = start()
    try:
        data = asyncio.run(pg_setting(url, "data_directory"))
        port = make_url(url).port
        root = os.path.dirname(data)
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300"
        subprocess.run(
            [*prefix, f"{pg_bindir()}/pg_ctl", "-D", data, "-o", options, "-l",
             f"{root}/log", "-w", "-m", "fast", "restart"],
            check=True, capture_output=True, cwd=root,
        )  # fmt: skip
    except BaseException:
        stop()
        raise
    return url, stop


async def pg_durability(url: str) -> str:
    names = ("fsync", "synchronous_commit", "full_page_writes")
    values = [f"{n}={await pg_setting(url, n)}" for n in names]
    return ", ".join(values)


# --- the server -----------------------------------------------------------------------------


@dataclass
class Server:
    processes: list[subprocess.Popen[bytes]]
    base: str
    log: Path

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def vafa_command() -> list[str]:
    script = Path(sys.executable).with_name("vafa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vafa.server.cli"]


def start_server(config: Config, url: str, work: Path) -> Server:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VAFA_", "KAVENEGAR_")) and k != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=url,
        VAFA_VAR_DIR=str(work / "var"),
        VAFA_SECRET_KEY=gen.SECRET_KEY,
        VAFA_SMS_WEBHOOK_SECRET=WEBHOOK_SECRET,
        VAFA_COOKIE_SECURE="false",
        VAFA_SMS_BACKEND="outbox",
    )
    port = free_port()
    log_path = work / f"server-{config.engine}-{config.workers}.log"
    command = [*vafa_command(), "run", "--host", "127.0.0.1", "--port", str(port)]
    if config.workers > 1:
        command += ["--workers", str(config.workers)]
    commands = [command]
    if config.workers > 1:
        # `vafa run --workers N` runs no background worker; `vafa worker` beside it does
        # (the outbox, expiry, ...), as in production and as one process does itself.
        commands.append([*vafa_command(), "worker"])
    out = log_path.open("ab")
    processes = [
        subprocess.Popen(
            c, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        for c in commands
    ]
    server = Server(processes, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            server.stop()
            raise RuntimeError(f"the server stopped; see {log_path}:\n{tail(log_path)}")
        started = log_path.read_text(errors="replace").count("Application startup complete")
        if started >= config.workers:
            try:
                if httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the server did not start in 90 s; see {log_path}:\n{tail(log_path)}")


def server_errors(path: Path) -> list[str]:
    """Lines of the server's log at level ERROR or worse, and tracebacks' last lines."""
    found: list[str] = []
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    for i, line in enumerate(lines):
        if re.search(r"\b(ERROR|CRITICAL)\b", line):
            found.append(line.strip())
        elif line.startswith("Traceback"):
            end = next((j for j in range(i + 1, len(lines)) if not lines[j].startswith(" ")), i)
            found.append(lines[end].strip())
    return found


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- load ---------------------------------------------------------------------------------


@dataclass
class Files:
    cookies: Path
    codes: Path
    key: Path


@dataclass
class Round:
    rps: float
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int
    exhausted: int
    statuses: dict[str, int]
    sample: str


def run_wrk(
    base: str,
    args: Sequence[str],
    *,
    seconds: float,
    connections: int,
    timeout: int,
) -> Round:
    command = [
        "wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{seconds}s",
        f"--timeout={timeout}s", "-s", str(LUA), base, "--", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_HTTP ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    errors = data["errors"]
    lat = data["latency_us"]
    return Round(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        requests=data["requests"],
        p50_ms=lat["p50"] / 1000,
        p95_ms=lat["p95"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        non2xx=data["non2xx"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        exhausted=data["exhausted"],
        statuses=data["statuses"],
        sample=data["sample"],
    )


@dataclass
class Figure:
    """One endpoint on one server: the median over rounds of each figure."""

    label: str
    rounds: list[Round] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return median([r.rps for r in self.rounds])

    def ms(self, name: str) -> float:
        return median([getattr(r, name) for r in self.rounds])

    @property
    def non2xx(self) -> int:
        return sum(r.non2xx for r in self.rounds)

    @property
    def errors(self) -> int:
        return sum(r.socket_errors + r.exhausted for r in self.rounds)

    @property
    def valid(self) -> bool:
        return bool(self.rounds) and self.non2xx == 0 and self.errors == 0

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "rps": self.rps,
            "p50_ms": self.ms("p50_ms"),
            "p95_ms": self.ms("p95_ms"),
            "p99_ms": self.ms("p99_ms"),
            "non2xx": self.non2xx,
            "errors": self.errors,
            "valid": self.valid,
            "rounds": [asdict(r) for r in self.rounds],
        }


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: a request at a time, its answer's status."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiting: asyncio.Future[int] | None = None
        self.alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(error)

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.alive = False
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._fail(exc or ConnectionError("closed"))

    def _fail(self, error: BaseException) -> None:
        self.alive = False
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(error)

    def send(self, payload: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self.waiting = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.waiting

    def close(self) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.close()


@dataclass
class Paced:
    """Earn at a constant rate, open loop: latency counts from when each request was
    due, so a server that falls behind shows it (no coordinated omission)."""

    rate: float
    seconds: float
    sent: int = 0
    completed: int = 0
    non2xx: int = 0
    errors: int = 0
    connections: int = 0
    late_ms: float = 0.0  # how late the generator itself sent, p99
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0

    @property
    def valid(self) -> bool:
        return self.sent > 0 and self.non2xx == 0 and self.errors == 0


async def paced(
    host: str,
    port: int,
    rate: float,
    seconds: float,
    build: Callable[[int], bytes],
    *,
    max_connections: int = 512,
    answer_within: float = 30.0,
) -> Paced:
    loop = asyncio.get_running_loop()
    result = Paced(rate, seconds)
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    latencies: list[float] = []
    lateness: list[float] = []

    async def connection() -> _Connection:
        while not idle.empty():
            conn = idle.get_nowait()
            if conn.alive:
                return conn
            result.connections -= 1
        if result.connections < max_connections:
            result.connections += 1
            try:
                _, conn = await loop.create_connection(_Connection, host, port)
            except OSError:
                result.connections -= 1
                raise
            return conn
        while True:  # every connection busy: wait for one (the wait counts as latency)
            conn = await idle.get()
            if conn.alive:
                return conn
            result.connections -= 1

    async def one(i: int, due: float) -> None:
        conn: _Connection | None = None
        try:
            conn = await connection()
            lateness.append(loop.time() - due)
            status = await asyncio.wait_for(conn.send(build(i)), answer_within)
            latencies.append(loop.time() - due)
            result.completed += 1
            if not 200 <= status < 300:
                result.non2xx += 1
        except (OSError, TimeoutError, httptools.HttpParserError, ConnectionError):
            result.errors += 1
            if conn is not None:
                conn.close()
        finally:
            if conn is not None:
                if conn.alive:
                    idle.put_nowait(conn)
                else:
                    result.connections -= 1

    count = max(1, int(rate * seconds))
    start = loop.time() + 0.05
    tasks = []
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    result.sent = count
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()
    if latencies:
        result.p50_ms = percentile(latencies, 50) * 1000
        result.p95_ms = percentile(latencies, 95) * 1000
        result.p99_ms = percentile(latencies, 99) * 1000
        result.max_ms = max(latencies) * 1000
    if lateness:
        result.late_ms = percentile(lateness, 99) * 1000
    return result


def earn_request(host: str, key: str, members: int, run: str, seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)

    def build(i: int) -> bytes:
        member = rng.randint(1, members)
        body = json.dumps(
            {
                "phone": gen.phone(member),
                "amount": rng.randint(1, 50) * 100_000,
                "receipt": f"{run}-paced-{i}",
            }
        ).encode()
        head = (
            f"POST /api/v1/earn HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {key}\r\nIdempotency-Key: paced-{run}-{i}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return build


# --- raw ceilings ---------------------------------------------------------------------------


def sqlite_statements() -> list[tuple[str | None, str]]:
    """The statements of earn_sqlite.sql, each with the name its value is bound as."""
    statements: list[tuple[str | None, str]] = []
    for chunk in re.split(r";\s*$", SQLITE_EARN.read_text(), flags=re.MULTILINE):
        lines = [ln for ln in chunk.strip().splitlines()]
        name = None
        body = []
        for ln in lines:
            found = re.match(r"--\s*->\s*(\w+)", ln.strip())
            if found:
                name = found.group(1)
            elif not ln.strip().startswith("--"):
                body.append(ln)
        sql = "\n".join(body).strip()
        if sql:
            statements.append((name, sql))
    return statements


def sqlite_raw(
    path: Path, club: Club, seconds: float, per_commit: int, seed: int, tag: str
) -> float:
    """Earns a second, one process, one connection, `per_commit` earns a transaction,
    with the pragmas vafa/database.py sets; receipts `raw-<tag>-<n>`."""
    statements = sqlite_statements()
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON",
                       "synchronous=NORMAL"):  # fmt: skip
            conn.execute(f"PRAGMA {pragma}")
        earns = 0
        n = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            conn.execute("BEGIN IMMEDIATE")
            for _ in range(per_commit):
                n += 1
                member = rng.randint(1, club.members)
                amount = rng.randint(1, 50) * 100_000
                now = datetime.now(UTC)
                params: dict[str, Any] = {
                    "member": member,
                    "phone": gen.phone(member),
                    "amount": amount,
                    "points": amount // 100_000,
                    "receipt": f"raw-{tag}-{n}",
                    "now": now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "expires": (now + timedelta(days=365)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "day": now.strftime("%Y-%m-%d"),
                    "issuer": club.account_id,
                    "partner": club.partner_id,
                    "rule": club.rule_id,
                }
                for name, sql in statements:
                    cursor = conn.execute(sql, params)
                    if name:
                        params[name] = cursor.fetchone()[0]
                    cursor.close()
            conn.execute("COMMIT")
            earns += per_commit
        return earns / (time.perf_counter() - started)
    finally:
        conn.close()


@dataclass
class PgBench:
    tps: float
    latency_ms: float
    p99_ms: float
    failed: int


def run_pgbench(url: str, club: Club, seconds: float, clients: int, work: Path) -> PgBench:
    target = make_url(url)
    logs = Path(tempfile.mkdtemp(prefix="pgbench-", dir=work))  # its per-transaction logs
    command = [
        f"{pg_bindir()}/pgbench", "-h", target.host or "127.0.0.1", "-p", str(target.port or 5432),
        "-U", target.username or "postgres", "-n", "-M", "prepared", "-c", str(clients),
        "-j", str(THREADS), "-T", str(max(1, round(seconds))), "-f", str(PGBENCH_EARN),
        "-D", f"members={club.members}", "-D", f"issuer={club.account_id}",
        "-D", f"partner={club.partner_id}", "-D", f"rule={club.rule_id}",
        "-l", f"--log-prefix={logs / 'tx'}", target.database or "postgres",
    ]  # fmt: skip
    env = {**os.environ}
    if target.password:
        env["PGPASSWORD"] = target.password
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=logs)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed: {done.stdout}\n{done.stderr}")
    tps = re.search(r"tps = ([0-9.]+)", done.stdout)
    average = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    latencies = []
    for name in logs.iterdir():
        for line in name.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                latencies.append(int(parts[2]) / 1000)
    shutil.rmtree(logs, ignore_errors=True)
    return PgBench(
        tps=float(tps.group(1)) if tps else 0.0,
        latency_ms=float(average.group(1)) if average else 0.0,
        p99_ms=percentile(latencies, 99) if latencies else 0.0,
        failed=int(failed.group(1)) if failed else 0,
    )


async def pg_execute(url: str, statement: str) -> None:
    engine = create_engine(gen.async_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


# --- one engine ---------------------------------------------------------------------------------


@dataclass
class Result:
    config: Config
    figures: dict[str, Figure] = field(default_factory=dict)
    paced: Paced | None = None
    verify_problems: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    log_errors: list[str] = field(default_factory=list)  # ERROR lines the server logged
    error: str | None = None


class Bench:
    def __init__(self, args: argparse.Namespace, spec: gen.Spec, work: Path) -> None:
        self.args = args
        self.spec = spec
        self.work = work
        self.server_url: str | None = None  # PostgreSQL
        self.cached_sqlite: Path | None = None
        self.cached_pg: str | None = None
        self.copies = 0

    # working copies of the cached database
    async def copy(self, engine: str) -> str:
        self.copies += 1
        if engine == "sqlite":
            assert self.cached_sqlite is not None
            into = self.work / f"copy{self.copies}"
            into.mkdir()
            return gen.sqlite_copy(self.cached_sqlite, into)
        assert self.server_url and self.cached_pg
        return await gen.postgres_copy(
            self.server_url, self.cached_pg, f"http{os.getpid()}_{self.copies}"
        )

    async def drop(self, engine: str, url: str) -> None:
        if engine == "sqlite":
            shutil.rmtree(Path(make_url(url).database or "").parent, ignore_errors=True)
        else:
            assert self.server_url
            await gen.postgres_drop(self.server_url, url)

    def codes_needed(self) -> int:
        a = self.args
        per_round = int(a.code_rate * a.seconds)
        return 1 + per_round * (a.rounds + (1 if a.warmup else 0))

    def run_config(self, config: Config) -> Result:
        a = self.args
        result = Result(config)
        url = asyncio.run(self.copy(config.engine))
        files = Files(self.work / "cookies.txt", self.work / "codes.txt", self.work / "key.txt")
        server: Server | None = None
        club: Club | None = None
        try:
            started = time.perf_counter()
            club = asyncio.run(setup_club(url, self.spec.members))
            files.key.write_text(club.key + "\n")
            ids = portal_members(self.spec.members, self.spec.hot_member)
            files.cookies.write_text("\n".join(asyncio.run(login_tokens(url, ids))) + "\n")
            codes = asyncio.run(member_codes(url, self.codes_needed(), a.seed))
            files.codes.write_text("\n".join(codes) + "\n")
            made = len(codes)
            log(
                f"  club set up: partner {club.partner_id}, {len(ids)} members logged in, "
                f"{made:,} member codes ({time.perf_counter() - started:.1f} s)"
            )
            server = start_server(config, url, self.work)
            log(f"  server up at {server.base} ({config.workers} process(es))")
            self.sanity(server, club, files)
            next_code = 1
            run = f"{os.getpid()}-{config.engine}{config.workers}"
            per_round = int(a.code_rate * a.seconds)

            def wrk_args(endpoint: Endpoint, tag: str) -> list[str]:
                nonlocal next_code
                if endpoint.mode == "get":
                    return ["get", endpoint.path]
                if endpoint.mode == "page":
                    return ["page", endpoint.path, str(files.cookies)]
                if endpoint.mode == "earn":
                    return ["earn", f"{run}-{tag}", str(self.spec.members), str(files.key)]
                first = next_code
                last = min(made, first + per_round)
                next_code = last
                return ["redeem", f"{run}-{tag}", str(files.codes), str(first), str(last),
                        str(min(THREADS, a.connections)), str(files.key)]  # fmt: skip

            if a.warmup:
                for endpoint in ENDPOINTS:
                    run_wrk(server.base, wrk_args(endpoint, "w"), seconds=a.warmup,
                            connections=a.connections, timeout=a.timeout)  # fmt: skip
            figures = {e.name: Figure(e.label) for e in ENDPOINTS}
            for r in range(a.rounds):
                order = ENDPOINTS if r % 2 == 0 else tuple(reversed(ENDPOINTS))
                for endpoint in order:
                    done = run_wrk(server.base, wrk_args(endpoint, f"r{r}"), seconds=a.seconds,
                                   connections=a.connections, timeout=a.timeout)  # fmt: skip
                    figures[endpoint.name].rounds.append(done)
                    flag = "" if done.non2xx + done.socket_errors + done.exhausted == 0 else (
                        f"  !! non-2xx {done.non2xx}, errors {done.socket_errors}, "
                        f"codes ran out {done.exhausted}: {done.sample[:200]}"
                    )
                    log(f"  round {r + 1} {endpoint.label:<26} {done.rps:>9,.1f} req/s  "
                        f"p99 {done.p99_ms:,.1f} ms{flag}")  # fmt: skip
            result.figures = figures
            max_earn = figures["earn"].rps
            if max_earn > 0:
                rate = max_earn / 2
                port = int(server.base.rsplit(":", 1)[1])
                host = f"127.0.0.1:{port}"
                build = earn_request(host, club.key, self.spec.members, run, a.seed)
                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    result.paced = runner.run(
                        paced("127.0.0.1", port, rate, a.rate_seconds, build,
                              answer_within=a.timeout)
                    )  # fmt: skip
                p = result.paced
                log(f"  earn at {rate:,.1f}/s for {a.rate_seconds:g} s (open loop): p50 "
                    f"{p.p50_ms:,.1f} ms, p99 {p.p99_ms:,.1f} ms, non-2xx {p.non2xx}, "
                    f"errors {p.errors}, connections {p.connections}")  # fmt: skip
        except Exception as error:  # noqa: BLE001 - reported, and the run fails
            result.error = f"{type(error).__name__}: {error}"
            log(f"  FAILED: {result.error}")
        finally:
            if server is not None:
                server.stop()
                result.log_errors = server_errors(server.log)
                if result.log_errors:
                    log(f"  the server logged {len(result.log_errors)} error(s); the first: "
                        f"{result.log_errors[0][:300]}")  # fmt: skip
        try:
            if club is not None:
                result.counts = asyncio.run(partner_counts(url, club.partner_id))
            log(f"  verifying the ledger the server wrote ({config.name})...")
            result.verify_problems = asyncio.run(gen.verify_database(url, log))
        except Exception as error:  # noqa: BLE001
            result.error = result.error or f"verify: {type(error).__name__}: {error}"
            log(f"  verify FAILED: {error}")
        if result.verify_problems == 0 and not result.error:
            asyncio.run(self.drop(config.engine, url))
        elif config.engine == "sqlite":
            kept = gen.CACHE_DIR / f"http-kept-{datetime.now().strftime('%Y%m%d-%H%M%S')}.db"
            shutil.move(make_url(url).database or "", kept)
            log(f"  the database is kept for a look: {kept}")
        else:
            log(f"  the database is kept for a look: {url} (a throwaway server's goes with it)")
        return result

    def sanity(self, server: Server, club: Club, files: Files) -> None:
        """One request of each kind, before any load: each must answer 2xx."""
        token = files.cookies.read_text().split()[0]
        code = files.codes.read_text().split()[0]
        api = {"Authorization": f"Bearer {club.key}"}
        member = gen.phone(1)
        with httpx.Client(base_url=server.base, timeout=30, follow_redirects=False) as client:
            checks = [
                client.get("/login"),
                client.get("/", cookies={"vafa_session": token}),
                client.get("/points/history", cookies={"vafa_session": token}),
                client.post("/api/v1/earn", headers={**api, "Idempotency-Key": "sanity-earn"},
                            json={"phone": member, "amount": 1_000_000, "receipt": "sanity"}),
                client.post("/api/v1/redemptions",
                            headers={**api, "Idempotency-Key": "sanity-redeem"},
                            json={"points": REDEEM_POINTS, "receipt": "sanity",
                                  "member_code": code}),
            ]  # fmt: skip
        for response in checks:
            if not 200 <= response.status_code < 300:
                raise RuntimeError(
                    f"{response.request.method} {response.request.url.path} answered "
                    f"{response.status_code}: {response.text[:300]}"
                )

    # raw ceilings
    def sqlite_ceilings(self) -> dict[str, float]:
        a = self.args
        url = asyncio.run(self.copy("sqlite"))
        try:
            club = asyncio.run(setup_club(url, self.spec.members))
            path = Path(make_url(url).database or "")
            out: dict[str, float] = {}
            for per_commit in (1, 16):
                rates = [
                    sqlite_raw(path, club, a.seconds, per_commit, a.seed + r, f"{per_commit}.{r}")
                    for r in range(a.rounds)
                ]
                out[f"sqlite3 {per_commit}/commit"] = median(rates)
                log(f"  raw sqlite3 earn, {per_commit} per commit: "
                    + ", ".join(f"{x:,.0f}/s" for x in rates))  # fmt: skip
            return out
        finally:
            asyncio.run(self.drop("sqlite", url))

    def pg_ceiling(self) -> PgBench:
        a = self.args
        url = asyncio.run(self.copy("postgres"))
        try:
            club = asyncio.run(setup_club(url, self.spec.members))
            asyncio.run(pg_execute(url, "CREATE SEQUENCE bench_raw_receipts"))
            runs = [
                run_pgbench(url, club, a.seconds, a.connections, self.work)
                for _ in range(a.rounds)
            ]
            for r in runs:
                log(f"  pgbench earn, {a.connections} clients: {r.tps:,.0f} tps, latency avg "
                    f"{r.latency_ms:.2f} ms, p99 {r.p99_ms:.2f} ms, failed {r.failed}")
            best = sorted(runs, key=lambda r: r.tps)[len(runs) // 2]
            return best
        finally:
            asyncio.run(self.drop("postgres", url))


# --- the report -----------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:,.1f}"


def report(
    results: list[Result],
    ceilings: dict[str, float],
    pgbench: PgBench | None,
) -> list[list[str]]:
    rows: list[list[str]] = []
    for res in results:
        c = res.config
        if res.error and not res.figures:
            rows.append([c.name, "failed", "", "", "", "", "", "", res.error[:60]])
            continue
        login = res.figures.get("login")
        raw = (
            {k: v for k, v in ceilings.items()}
            if c.engine == "sqlite"
            else ({"pgbench": pgbench.tps} if pgbench else {})
        )
        for name, fig in res.figures.items():
            if not fig.rounds:
                continue
            notes = []
            if name in ("home", "history") and login and login.rps:
                notes.append(f"{fig.rps / login.rps:.2f}x /login")
            if name in ("earn", "redeem"):
                for label, value in raw.items():
                    if value:
                        notes.append(f"{fig.rps / value:.1%} of {label}")
            if not fig.valid:
                notes.insert(0, "INVALID")
            rows.append([
                c.name, fig.label, f"{fig.rps:,.1f}", ms(fig.ms("p50_ms")), ms(fig.ms("p95_ms")),
                ms(fig.ms("p99_ms")), str(fig.non2xx), str(fig.errors), "; ".join(notes),
            ])  # fmt: skip
        if res.paced:
            p = res.paced
            rows.append([
                c.name, f"earn paced at {p.rate:,.1f}/s", f"{p.completed / p.seconds:,.1f}",
                ms(p.p50_ms), ms(p.p95_ms), ms(p.p99_ms), str(p.non2xx), str(p.errors),
                ("" if p.valid else "INVALID; ")
                + f"open loop, half the max; generator p99 lateness {p.late_ms:.1f} ms",
            ])  # fmt: skip
        verdict = (
            "not run" if res.verify_problems is None
            else "ok" if res.verify_problems == 0 else f"{res.verify_problems} PROBLEM(S)"
        )  # fmt: skip
        rows.append([c.name, "ledger verify", "", "", "", "", "", "", verdict])
        if res.log_errors:
            rows.append([c.name, "server log", "", "", "", "", "", str(len(res.log_errors)),
                         f"ERROR lines: {res.log_errors[0][:80]}"])  # fmt: skip
    for label, value in ceilings.items():
        rows.append(["SQLite raw", f"earn, {label}", f"{value:,.0f}", "", "", "", "", "", ""])
    if pgbench:
        rows.append([
            "PostgreSQL raw", "earn, pgbench CTE", f"{pgbench.tps:,.0f}", "", "",
            ms(pgbench.p99_ms), "", str(pgbench.failed), f"{pgbench.latency_ms:.2f} ms average",
        ])  # fmt: skip
    return rows


def print_table(rows: list[list[str]]) -> None:
    head = ["server", "endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "non-2xx", "errors",
            "notes"]  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    right = {2, 3, 4, 5, 6, 7}

    def line(cells: list[str]) -> str:
        parts = [
            cells[i].rjust(widths[i]) if i in right else cells[i].ljust(widths[i])
            for i in range(len(widths))
        ]
        return "  ".join(parts + [cells[-1]]).rstrip()

    print()
    print(line(head))
    previous = None
    for row in rows:
        shown = list(row)
        if row[0] == previous:
            shown[0] = ""
        previous = row[0]
        print(line(shown))
    print()


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_http", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true",
                        help="2,000 members / 20,000 entries, 1 round of 2 s: under 2 minutes")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--seconds", type=float, help="seconds per round (10; quick 2)")
    parser.add_argument("--rounds", type=int, help="rounds per endpoint (3; quick 1)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per endpoint (2; quick 0)")
    parser.add_argument("--rate-seconds", type=float,
                        help="seconds of the constant-rate earn (2x --seconds)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--timeout", type=int, default=10, help="wrk's request timeout, s")
    parser.add_argument("--code-rate", type=int, default=3_000,
                        help="redemptions a second to make member codes for")
    parser.add_argument("--database-url",
                        help="PostgreSQL server to use (needs CREATEDB; databases vafa_bench_* "
                        "stay there as a cache). Default: a throwaway server.")
    parser.add_argument("--members", type=int)
    parser.add_argument("--entries", type=int)
    parser.add_argument("--regenerate", action="store_true", help="ignore cached databases")
    parser.add_argument("--seed", type=int, default=1)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"bench_http: ignoring {' '.join(unknown)}")
    defaults = QUICK if args.quick else FULL
    args.members = args.members or defaults["members"]
    args.entries = args.entries or defaults["entries"]
    args.seconds = args.seconds or defaults["seconds"]
    args.rounds = args.rounds or defaults["rounds"]
    args.warmup = defaults["warmup"] if args.warmup is None else args.warmup
    args.rate_seconds = args.rate_seconds or max(args.seconds * 2, 3)
    if args.connections < 1:
        parser.error("--connections must be at least 1")
    if args.database_url and not gen.async_url(args.database_url).startswith("postgresql"):
        parser.error("--database-url takes a PostgreSQL URL")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    began = time.perf_counter()
    if shutil.which("wrk") is None:
        print("wrk is missing: `bash scripts/system-deps.sh bench` installs it.")
        raise SystemExit(1)
    spec = gen.Spec(
        args.members, args.entries, min(args.entries, default_hot_entries(args.entries)), args.seed
    )
    configs = [c for c in CONFIGS if args.engine in ("all", c.engine)]
    print(f"bench_http: {spec.members:,} members, {spec.entries:,} journal entries; "
          f"{len(configs)} server(s); {args.rounds} round(s) of {args.seconds:g} s per endpoint, "
          f"{args.connections} connections")  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    work = Path(tempfile.mkdtemp(prefix="vafa-bench-http-"))
    bench = Bench(args, spec, work)
    stop_postgres: Callable[[], None] | None = None
    results: list[Result] = []
    ceilings: dict[str, float] = {}
    pgbench: PgBench | None = None
    problems: list[str] = []
    durability: dict[str, str] = {"sqlite": "WAL, synchronous=NORMAL (as vafa/database.py)"}
    try:
        for engine in dict.fromkeys(c.engine for c in configs):
            started = time.perf_counter()
            if engine == "sqlite":
                print("SQLite: the generated database...")
                bench.cached_sqlite, made = asyncio.run(
                    gen.cached_sqlite(spec, regenerate=args.regenerate)
                )
            else:
                if args.database_url:
                    bench.server_url = args.database_url
                else:
                    print("PostgreSQL: starting a throwaway server...")
                    bench.server_url, stop_postgres = start_postgres()
                durability["postgres"] = asyncio.run(pg_durability(bench.server_url))
                print(f"  {durability['postgres']}")
                print("PostgreSQL: the generated database...")
                bench.cached_pg, made = asyncio.run(
                    gen.cached_postgres(bench.server_url, spec, regenerate=args.regenerate)
                )
            print(f"  {made.describe()}" if made else
                  f"  cached {spec.key} ({time.perf_counter() - started:.1f} s)")  # fmt: skip
            try:
                if engine == "sqlite":
                    print("SQLite: raw ceilings (stdlib sqlite3, the same writes as an earn)...")
                    ceilings = bench.sqlite_ceilings()
                else:
                    print(f"PostgreSQL: raw ceiling (pgbench, {args.connections} clients)...")
                    pgbench = bench.pg_ceiling()
            except Exception as error:  # noqa: BLE001 - reported; the run fails at the end
                problems.append(f"raw ceiling on {engine}: {type(error).__name__}: {error}")
                print(f"  FAILED: {problems[-1]}")
            for config in (c for c in configs if c.engine == engine):
                print(f"{config.name}:")
                results.append(bench.run_config(config))
    finally:
        if stop_postgres is not None:
            stop_postgres()
        shutil.rmtree(work, ignore_errors=True)

    rows = report(results, ceilings, pgbench)
    print_table(rows)
    total = time.perf_counter() - began
    print(f"load average after: {os.getloadavg()[0]:.2f}; total {total:.0f} s")
    out = {
        "when": datetime.now(UTC).isoformat(),
        "args": {k: v for k, v in vars(args).items() if k != "database_url"},
        "spec": asdict(spec),
        "machine": {"cores": os.cpu_count(), "load_after": os.getloadavg()[0]},
        "durability": durability,
        "servers": [
            {
                "name": r.config.name,
                "engine": r.config.engine,
                "processes": r.config.workers,
                "endpoints": {k: f.summary() for k, f in r.figures.items()},
                "paced_earn": asdict(r.paced) if r.paced else None,
                "verify_problems": r.verify_problems,
                "partner_rows_after": r.counts,
                "server_log_errors": r.log_errors[:50],
                "error": r.error,
            }
            for r in results
        ],
        "raw": {"sqlite": ceilings, "pgbench": asdict(pgbench) if pgbench else None},
        "seconds_total": total,
    }
    gen.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = gen.CACHE_DIR / f"http-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"figures written to {path.relative_to(ROOT)}")
    failed = [r for r in results if r.error or r.verify_problems != 0]
    for problem in problems:
        print(f"FAILED: {problem}")
    invalid = [
        f"{r.config.name}: {f.label}" for r in results for f in r.figures.values() if not f.valid
    ]
    if invalid:
        print("figures with non-2xx answers or errors (not valid): " + "; ".join(invalid))
    if failed:
        for r in failed:
            print(f"FAILED: {r.config.name}: "
                  + (r.error or f"the ledger does not verify ({r.verify_problems} problems)"))
    if failed or problems:
        raise SystemExit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
