"""The worker's part: read the gateway's inbox where configured, and answer incoming
messages nobody answered yet (the web process that stored them normally does, right
after; this catches the rest, after a crash or a restart)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from sms_codes import inbound
from vafa.database import utcnow
from vafa.domain import Job
from vafa.settings import Settings
from vafa.sms.gateway import SmsGateway, make_gateway

log = logging.getLogger("vafa")
BATCH = 200
LEFT_AFTER = timedelta(seconds=30)  # the storing process answers within a second or two
PULL_EVERY = 20.0  # seconds between reads of the gateway's inbox
_last_pull = 0.0


@cache
def gateway(settings: Settings) -> SmsGateway:
    return make_gateway(settings)


async def pull_inbox(session: AsyncSession, settings: Settings) -> int:
    """Where configured (`VAFA_SMS_PULL`), read the lines' inboxes at the gateway now
    and then; `answer_waiting`, next in the same pass, answers what came."""
    global _last_pull
    if not settings.sms_pull or time.monotonic() - _last_pull < PULL_EVERY:
        return 0
    _last_pull = time.monotonic()
    return await inbound.pull(session, gateway(settings))


async def answer_waiting(
    session: AsyncSession, settings: Settings, *, left_after: timedelta = LEFT_AFTER
) -> int:
    """Messages a web process stored and did not answer within `left_after` (it
    stopped or failed), and pulled messages at once (see `inbound.waiting`). Each in its own savepoint: one that fails is retried on the next pass without
    holding back the others."""
    done = 0
    for inbound_id in await inbound.waiting(session, BATCH, before=utcnow() - left_after):
        try:
            async with session.begin_nested():
                done += await inbound.process(session, inbound_id, settings) is not None
        except Exception:
            log.exception("incoming SMS %s could not be answered; trying again later", inbound_id)
    return done


JOBS = (
    Job("sms_codes.pull", pull_inbox),
    Job("sms_codes.inbound", answer_waiting),
)
