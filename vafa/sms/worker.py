"""Delivering the outbox: each message goes out once, whatever the number of workers
and crashes.

One message at a time. A worker claims the next due message in its own transaction
and commits "sending, attempt n" with a lease (`next_attempt_at` = end of the lease,
`lease_token` naming the claim) before it calls the gateway, so a lease covers exactly
one call and outlasts it (the gateway gives up on a call long before). Only the holder
of the lease records the outcome. On PostgreSQL claims use FOR UPDATE SKIP LOCKED; on
SQLite the write transaction (`BEGIN IMMEDIATE`) makes them one at a time.

A message still `sending` after its lease ran out had an unknown outcome (its worker
died, or the call timed out after the request left). It is never simply sent again:

- a login code is not re-sent: verify/lookup has no `localid` to ask about, and the
  member can ask for a new code (it is marked failed, "outcome unknown");
- any other message is looked up at the gateway by its `localid` first: recorded as
  sent if the gateway has it, queued again only if the gateway never received it.

A login code older than the code's lifetime, or replaced by a newer code to the same
number, is never sent late (expired). Non-urgent messages wait for the club's daytime
window; login codes and replies a person asked for (`urgent`) go at any hour.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vafa.database import utcnow
from vafa.models import SmsMessage
from vafa.settings import OTP_TTL_MAX, Settings
from vafa.sms.gateway import OutcomeUnknown, Rejected, RetryLater, Sent, SmsGateway

log = logging.getLogger("vafa.sms")

MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
LEASE = timedelta(minutes=2)
# A message whose outcome the gateway cannot tell for this long is given up on.
GIVE_UP_CHECKING = timedelta(days=2)
UNKNOWN_OTP = "outcome unknown, login codes are never sent twice (a new code can be asked for)"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclass(frozen=True)
class DeliveryRules:
    """When messages may go: the club's daytime window for non-urgent messages, how
    long a login code is worth sending, and the shortest lease on a claimed message."""

    timezone: str = "Asia/Tehran"
    day_start: time = time(8)
    day_end: time = time(21)  # equal to day_start: no quiet hours
    otp_ttl: timedelta = timedelta(seconds=OTP_TTL_MAX)
    lease: timedelta = LEASE

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryRules:
        return cls(
            timezone=settings.timezone,
            day_start=settings.sms_day_start,
            day_end=settings.sms_day_end,
            otp_ttl=timedelta(seconds=settings.otp_ttl_seconds),
        )

    def daytime(self, moment: datetime) -> bool:
        """Whether non-urgent messages may go at `moment` (the window may span midnight)."""
        if self.day_start == self.day_end:
            return True
        local = moment.astimezone(ZoneInfo(self.timezone)).time()
        if self.day_start < self.day_end:
            return self.day_start <= local < self.day_end
        return local >= self.day_start or local < self.day_end


@dataclass(frozen=True)
class _Claim:
    message: SmsMessage
    token: str
    unknown: bool  # found `sending` after its lease ran out: ask before sending


async def _stale_code(
    session: AsyncSession, message: SmsMessage, rules: DeliveryRules, now: datetime
) -> str | None:
    """Why a login code must not be sent any more, if it must not."""
    if message.created_at <= now - rules.otp_ttl:
        return "login code expired before it could be sent"
    newer = await session.scalar(
        select(SmsMessage.id)
        .where(SmsMessage.kind == "otp", SmsMessage.to == message.to, SmsMessage.id > message.id)
        .limit(1)
    )
    if newer is not None:
        return "login code replaced by a newer one before it could be sent"
    return None


async def _claim_next(
    session: AsyncSession, rules: DeliveryRules, now: datetime, lease: timedelta
) -> _Claim | None:
    """Lease the next message to send or to ask about; settle the ones that must not go."""
    query = select(SmsMessage).where(
        SmsMessage.status.in_(("pending", "sending")), SmsMessage.next_attempt_at <= now
    )
    if not rules.daytime(now):
        query = query.where(SmsMessage.urgent)
    query = (
        query.order_by(SmsMessage.urgent.desc(), SmsMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    while (message := await session.scalar(query)) is not None:
        unknown = message.status == "sending"
        if message.kind == "otp":
            why = UNKNOWN_OTP if unknown else await _stale_code(session, message, rules, now)
            if why is not None:
                message.status = "failed" if unknown else "expired"
                message.last_error = why
                message.lease_token = None
                log.warning("sms %s not sent: %s", message.id, why)
                await session.flush()
                continue
        token = secrets.token_hex(8)
        message.status = "sending"
        message.lease_token = token
        message.next_attempt_at = now + lease
        if not unknown:
            message.attempts += 1
        return _Claim(message, token, unknown)
    return None


def _mark_sent(row: SmsMessage, outcome: Sent, gateway: SmsGateway, now: datetime) -> None:
    row.status = "sent"
    row.sent_at = now
    row.backend = gateway.name
    row.provider_message_id = outcome.provider_message_id
    row.provider_status = outcome.provider_status
    row.last_error = None
    row.lease_token = None
    if row.sensitive and gateway.name != "outbox":
        # Delivered: the code no longer needs to be readable anywhere.
        row.body = "[redacted]"
        row.tokens = None


async def _send(
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: SmsGateway,
    claim: _Claim,
    now: Callable[[], datetime],
) -> int:
    """Call the gateway for a claimed message and record what happened; 1 if sent."""
    outcome: Sent | None = None
    error: Exception | None = None
    try:
        outcome = await gateway.send(claim.message)
    except (RetryLater, Rejected, OutcomeUnknown) as exc:
        error = exc
    except Exception as exc:  # an unexpected bug must not stop the other messages
        log.exception("sms %s: unexpected gateway error", claim.message.id)
        error = OutcomeUnknown(type(exc).__name__)  # it may have gone before the bug
    async with sessionmaker() as session, session.begin():
        row = await session.get(SmsMessage, claim.message.id, with_for_update=True)
        if row is None:
            return 0
        held = row.status == "sending" and row.lease_token == claim.token
        if outcome is not None:
            if row.status == "sent":
                return 0
            if not held:  # a fact is a fact, even after the lease ran out
                log.warning("sms %s: the gateway answered after the lease ran out", row.id)
            _mark_sent(row, outcome, gateway, now())
            return 1
        if not held:
            log.warning("sms %s: lease lost before the outcome (%s) was recorded", row.id, error)
            return 0
        row.backend = gateway.name
        row.last_error = str(error)[:300]
        if isinstance(error, OutcomeUnknown):
            if row.kind == "otp":
                row.status = "failed"
                row.lease_token = None
                row.last_error = f"{UNKNOWN_OTP}: {error}"[:300]
            else:
                # Stays `sending`; when this lease ends, the gateway is asked first.
                row.next_attempt_at = now() + backoff(row.attempts)
                row.last_error = f"outcome unknown ({error}), checked before any resend"[:300]
            log.warning("sms %s: %s", row.id, row.last_error)
        elif isinstance(error, Rejected) or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            row.lease_token = None
            log.warning("sms %s failed: %s", row.id, row.last_error)
        else:
            row.status = "pending"
            row.lease_token = None
            row.next_attempt_at = now() + backoff(row.attempts)
            log.info("sms %s retry in %s: %s", row.id, backoff(row.attempts), row.last_error)
    return 0


async def _settle_unknown(
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: SmsGateway,
    claim: _Claim,
    now: Callable[[], datetime],
) -> None:
    """A message whose last attempt has an unknown outcome: ask the gateway, then record
    it as sent, queue it again (the gateway never got it), or ask again later."""
    found: Sent | None = None
    error: Exception | None = None
    try:
        found = await gateway.check(claim.message)
    except (RetryLater, Rejected, OutcomeUnknown) as exc:
        error = exc
    except Exception as exc:
        log.exception("sms %s: unexpected error checking the gateway", claim.message.id)
        error = RetryLater(type(exc).__name__)
    async with sessionmaker() as session, session.begin():
        row = await session.get(SmsMessage, claim.message.id, with_for_update=True)
        if row is None or row.status != "sending" or row.lease_token != claim.token:
            return
        moment = now()
        if found is not None:
            log.info("sms %s: the gateway has it (%s), not sent again", row.id, found)
            _mark_sent(row, found, gateway, moment)
        elif error is None:
            log.info("sms %s: the gateway never received it, sending again", row.id)
            row.status = "pending"
            row.lease_token = None
            row.next_attempt_at = moment
            row.last_error = "the gateway never received it, sending again"
        elif moment - row.created_at > GIVE_UP_CHECKING:
            row.status = "failed"
            row.lease_token = None
            row.last_error = f"outcome unknown, the gateway could not tell: {error}"[:300]
            log.warning("sms %s failed: %s", row.id, row.last_error)
        else:
            # Ask again later, less often the longer it has been.
            wait = min(max(BACKOFF_BASE, (moment - row.created_at) / 2), BACKOFF_MAX)
            row.next_attempt_at = moment + wait
            row.last_error = f"outcome unknown, status check failed: {error}"[:300]


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: SmsGateway,
    *,
    rules: DeliveryRules,
    now: Callable[[], datetime] = utcnow,
    batch: int = 50,
    stop: asyncio.Event | None = None,
) -> int:
    """Work through up to `batch` due messages, one claim each; returns how many were
    sent. `now` is the clock (tests fix it); `stop` ends the pass between messages."""
    # The lease outlasts the longest call the gateway can still be making.
    lease = max(rules.lease, timedelta(seconds=2 * gateway.longest_call))
    sent = 0
    for _ in range(batch):
        if stop is not None and stop.is_set():
            break
        async with sessionmaker() as session, session.begin():
            claim = await _claim_next(session, rules, now(), lease)
        if claim is None:
            break
        if claim.unknown:
            await _settle_unknown(sessionmaker, gateway, claim, now)
        else:
            sent += await _send(sessionmaker, gateway, claim, now)
    return sent
