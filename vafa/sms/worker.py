"""Delivering the outbox: claim due messages, send outside the transaction, record.

A claimed message is leased (`status='sending'`, `next_attempt_at` = end of lease);
if the process dies mid-send the lease runs out and another worker picks it up.
On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so workers run side by side.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vafa.database import utcnow
from vafa.models import SmsMessage
from vafa.settings import OTP_TTL_MAX
from vafa.sms.gateway import Rejected, RetryLater, SmsGateway

log = logging.getLogger("vafa.sms")

MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
LEASE = timedelta(minutes=2)
# A login code nobody received in time is useless; do not send it late.
OTP_STALE = timedelta(seconds=OTP_TTL_MAX)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


async def _claim(session: AsyncSession, batch: int) -> list[SmsMessage]:
    now = utcnow()
    rows = (
        await session.scalars(
            select(SmsMessage)
            .where(
                or_(SmsMessage.status == "pending", SmsMessage.status == "sending"),
                SmsMessage.next_attempt_at <= now,
            )
            .order_by(SmsMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    claimed = []
    for message in rows:
        if message.kind == "otp" and message.created_at < now - OTP_STALE:
            message.status = "expired"
            message.last_error = "login code expired before it could be sent"
            continue
        message.status = "sending"
        message.attempts += 1
        message.next_attempt_at = now + LEASE
        claimed.append(message)
    return claimed


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession], gateway: SmsGateway, *, batch: int = 50
) -> int:
    """Send what is due once; returns how many messages were sent."""
    async with sessionmaker() as session, session.begin():
        claimed = await _claim(session, batch)
    sent = 0
    for message in claimed:
        outcome = None
        error: Exception | None = None
        try:
            outcome = await gateway.send(message)
        except (RetryLater, Rejected) as exc:
            error = exc
        except Exception as exc:  # an unexpected bug must not stop the other messages
            log.exception("sms %s: unexpected gateway error", message.id)
            error = RetryLater(type(exc).__name__)
        async with sessionmaker() as session, session.begin():
            row = await session.get(SmsMessage, message.id, with_for_update=True)
            if row is None or row.status != "sending":
                continue
            now = utcnow()
            row.backend = gateway.name
            if outcome is not None:
                row.status = "sent"
                row.sent_at = now
                row.provider_message_id = outcome.provider_message_id
                row.provider_status = outcome.provider_status
                row.last_error = None
                if row.sensitive and gateway.name != "outbox":
                    # Delivered: the code no longer needs to be readable anywhere.
                    row.body = "[redacted]"
                    row.tokens = None
                sent += 1
            elif isinstance(error, Rejected) or row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                row.last_error = str(error)[:300]
                log.warning("sms %s failed: %s", row.id, row.last_error)
            else:
                row.status = "pending"
                row.next_attempt_at = now + backoff(row.attempts)
                row.last_error = str(error)[:300]
                log.info("sms %s retry in %s: %s", row.id, backoff(row.attempts), row.last_error)
    return sent
