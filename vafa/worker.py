"""The background worker: `vafa worker`, or inside `vafa run` for the embedded default.

Each tick drains the SMS outbox; housekeeping runs now and then. Later jobs (expiry,
tier review, campaigns) join the same loop.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vafa.security import ratelimit
from vafa.settings import Settings
from vafa.sms.gateway import SmsGateway, make_gateway
from vafa.sms.worker import deliver_due

log = logging.getLogger("vafa.worker")
HOUSEKEEPING_EVERY = 3600.0


async def housekeeping(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        await ratelimit.purge(session)


async def run_worker(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    gateway: SmsGateway | None = None,
) -> None:
    gateway = gateway or make_gateway(settings)
    log.info("worker started (sms backend: %s)", gateway.name)
    last_housekeeping = 0.0
    while not stop.is_set():
        try:
            while await deliver_due(sessionmaker, gateway) > 0 and not stop.is_set():
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
