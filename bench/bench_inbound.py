"""Incoming SMS through the real server: how many messages Kavenegar's webhook can hand
`vafa run` per second, and how long from a message's arrival to its queued reply.

A fresh database (SQLite by default, `--postgres` for a PostgreSQL server started on
loopback as the tests do) gets a line with the card code; `vafa run` serves it on a
free port with its embedded worker. Two phases:

1. Steady: `--rate` messages a second for `--seconds`, one at a time as a line's
   traffic arrives; from each message's `received_at` to its reply's `created_at`:
   median and 95th percentile.
2. Flood: wrk sends GET webhooks, each with its own messageid and sender (so the
   per-number throttle never applies), for `--seconds`. Accepted = 200 answers per
   second; answered = replies queued per second until the last one (while the flood
   lasts the process gives storing priority, `sms_codes.intake.ANSWER_SHARE`).

Targets on this 2-core machine: 1,000 accepted a second, a reply queued within one
second at p95.

    .venv/bin/python -m bench.bench_inbound [--seconds 10] [--connections 16] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from sms_codes import services
from sms_codes.models import CodeAction, Inbound
from vafa import migrate
from vafa.actor import SYSTEM
from vafa.database import create_engine, make_sessionmaker, open_session
from vafa.models import SmsMessage
from vafa.settings import ROOT, Settings

LINE = "10001000"
SECRET = "bench-webhook-secret-0123456789abcdef"
LUA = r"""
local counter = 0
local tid = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  tid = tonumber(wrk.thread:get("tid"))
end
function request()
  counter = counter + 1
  local n = tid * 10000000 + counter
  local path = "/hooks/sms/kavenegar/SECRET?to=LINE&message=100&from=0912" ..
    string.format("%07d", n % 10000000) .. "&messageid=bench-" .. tid .. "-" .. counter
  return wrk.format("GET", path)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def prepare(settings: Settings) -> None:
    migrate.upgrade_in_thread(settings)
    engine = create_engine(settings.database_url)
    async with make_sessionmaker(engine)() as session, session.begin():
        line = await services.create_line(
            session, actor=SYSTEM, number=LINE, values={"daily_budget": 10**6}
        )
        await services.save_code(
            session,
            actor=SYSTEM,
            line_id=line.id,
            code_id=None,
            name="card",
            action=CodeAction.CARD,
            keywords=["100"],
            replies={"fa": "کافه وفا، خیابان ولیعصر، هر روز ۸ تا ۲۳"},
        )
    await engine.dispose()


async def steady(base: str, rate: float, seconds: int) -> int:
    """`rate` messages a second, each sent on its own schedule (not waiting for the
    previous answer), like a line's traffic."""
    hook = f"{base}/hooks/sms/kavenegar/{SECRET}"
    start = time.monotonic()
    count = int(rate * seconds)

    async def one(client: httpx.AsyncClient, n: int) -> None:
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        params = {"from": f"0935{n:07d}", "to": LINE, "message": "100", "messageid": f"s-{n}"}
        response = await client.get(hook, params=params)
        response.raise_for_status()

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64)) as client:
        await asyncio.gather(*(one(client, n) for n in range(count)))
    return count


async def latencies(
    settings: Settings, patience: float, prefix: str
) -> tuple[int, int, list[float]]:
    """Wait until every stored message is answered; then the seconds from arrival to
    queued reply of each one whose messageid starts with `prefix`."""
    engine = create_engine(settings.database_url)
    maker = make_sessionmaker(engine)
    deadline = time.monotonic() + patience
    while True:
        async with await open_session(maker, read_only=True) as s:
            waiting = await s.scalar(
                select(func.count()).select_from(Inbound).where(Inbound.processed_at.is_(None))
            )
        if not waiting or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    async with await open_session(maker, read_only=True) as s:
        rows = (
            await s.execute(
                select(Inbound.received_at, SmsMessage.created_at)
                .join(SmsMessage, SmsMessage.id == Inbound.reply_id)
                .where(Inbound.messageid.startswith(prefix))
            )
        ).all()
        stored = await s.scalar(select(func.count()).select_from(Inbound)) or 0
    await engine.dispose()
    return stored, waiting or 0, [(reply - received).total_seconds() for received, reply in rows]


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench_inbound")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--postgres", action="store_true")
    args, _ = parser.parse_known_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: `bash scripts/system-deps.sh bench` installs it.")
        return
    work = Path(tempfile.mkdtemp(prefix="vafa-bench-inbound-"))
    stop_postgres = None
    if args.postgres:
        from tests.pgserver import start

        url, stop_postgres = start()
    else:
        url = f"sqlite+aiosqlite:///{work / 'vafa.db'}"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("VAFA_", "KAVENEGAR_"))
    }
    env.update(
        DATABASE_URL=url,
        VAFA_VAR_DIR=str(work / "var"),
        VAFA_SECRET_KEY="bench-secret-key-0123456789abcdef0123456789",
        VAFA_SMS_WEBHOOK_SECRET=SECRET,
        VAFA_COOKIE_SECURE="false",
        VAFA_WORKER_INTERVAL="0.5",
    )
    settings = Settings(
        database_url=url,
        secret_key=env["VAFA_SECRET_KEY"],
        sms_webhook_secret=SECRET,
    )
    asyncio.run(prepare(settings))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vafa.server.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("wb"),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        sent = asyncio.run(steady(base, args.rate, args.seconds))
        _, waiting, seconds = asyncio.run(latencies(settings, 60, "s-"))
        seconds.sort()
        print(f"engine: {url.split(':')[0]}")
        print(f"steady: {sent:,} messages at {args.rate:,.0f}/s, answered {len(seconds):,}")
        if seconds:
            p95 = seconds[int(0.95 * (len(seconds) - 1))]
            print(
                f"arrival to queued reply: median {statistics.median(seconds) * 1000:,.0f} ms, "
                f"p95 {p95 * 1000:,.0f} ms, max {seconds[-1] * 1000:,.0f} ms"
            )
        script = work / "inbound.lua"
        script.write_text(LUA.replace("SECRET", SECRET).replace("LINE", LINE))
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", result.stdout).group(1))
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
        p99 = re.search(r"99%\s+(\S+)", result.stdout)
        flood_end = time.monotonic()
        stored, waiting, flood = asyncio.run(latencies(settings, 300, "bench-"))
        drained = time.monotonic() - flood_end
        print(f"flood: {args.connections} connections, {args.seconds} s")
        print(f"flood accepted: {rate:,.0f} messages/s (HTTP p99 {p99.group(1) if p99 else '?'})")
        print(f"errors: {non_2xx.group(1) if non_2xx else 0} non-2xx answers")
        print(
            f"flood stored: {stored - sent:,}, answered: {len(flood):,} "
            f"({len(flood) / (args.seconds + drained):,.0f}/s), still waiting: {waiting:,}"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
        if stop_postgres is not None:
            stop_postgres()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
