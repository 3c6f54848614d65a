"""The background worker: `vafa worker`, or inside `vafa run` for the embedded default.

Each tick drains the SMS outbox (non-urgent messages only in the club's daytime
window, see `vafa.sms.worker`); the domains' scheduled jobs (given by the composition
root) and housekeeping run every so often. A stop request ends the outbox pass between
two messages, never during a gateway call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vafa.domain import Job
from vafa.security import ratelimit
from vafa.settings import Settings
from vafa.sms.gateway import SmsGateway, make_gateway
from vafa.sms.worker import DeliveryRules, deliver_due

log = logging.getLogger("vafa.worker")
HOUSEKEEPING_EVERY = 3600.0
JOBS_EVERY = 30.0
DAILY_EVERY = 6 * 3600.0  # daily jobs are idempotent per day; run them a few times


async def scheduled_jobs(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    jobs: Sequence[Job],
    *,
    daily: bool,
) -> None:
    """One pass of the domains' jobs, each in its own transaction."""
    for job in jobs:
        if job.daily and not daily:
            continue
        async with sessionmaker() as session, session.begin():
            done = await job.run(session, settings)
        if done:
            log.info("%s: %s", job.name, done)


async def housekeeping(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        await ratelimit.purge(session)
        if session.get_bind().dialect.name == "sqlite":
            # Keeps the query planner's statistics fresh (SQLite never gathers them alone).
            await session.execute(text("PRAGMA optimize"))


async def run_worker(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    jobs: Sequence[Job] = (),
    gateway: SmsGateway | None = None,
) -> None:
    gateway = gateway or make_gateway(settings)
    rules = DeliveryRules.from_settings(settings)
    log.info("worker started (sms backend: %s)", gateway.name)
    last_housekeeping = last_jobs = last_daily = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - last_jobs > JOBS_EVERY:
                daily = time.monotonic() - last_daily > DAILY_EVERY
                await scheduled_jobs(sessionmaker, settings, jobs, daily=daily)
                last_jobs = time.monotonic()
                if daily:
                    last_daily = last_jobs
            while (
                await deliver_due(sessionmaker, gateway, rules=rules, stop=stop) > 0
                and not stop.is_set()
            ):
                pass
            if time.monotonic() - last_housekeeping > HOUSEKEEPING_EVERY:
                await housekeeping(sessionmaker)
                last_housekeeping = time.monotonic()
        except Exception:  # keep the loop alive through database hiccups
            log.exception("worker tick failed")
        try:
            await asyncio.wait_for(stop.wait(), settings.worker_interval_seconds)
        except TimeoutError:
            pass
    log.info("worker stopped")
