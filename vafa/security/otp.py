"""SMS one-time login codes (NIST SP 800-63B / OWASP ASVS 6.6).

Six digits from `secrets`, stored as an HMAC bound to the phone number, live a few
minutes (10 at most), single use, dead after five wrong tries, and a new request
invalidates the code before it. The caller learns only "sent" or "refused by a
limit", never whether the number belongs to a member.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vafa.database import utcnow
from vafa.models import OtpChallenge
from vafa.security import ratelimit
from vafa.settings import Settings
from vafa.sms import outbox

SEND_WINDOW = timedelta(minutes=10)
CODE_LENGTH = 6


class SendResult(enum.Enum):
    SENT = "sent"
    PHONE_LIMIT = "phone_limit"
    IP_LIMIT = "ip_limit"


class VerifyResult(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"  # expired, used, replaced or out of tries: ask for a new code


@dataclass(frozen=True)
class Issued:
    result: SendResult
    challenge_id: str | None = None


def _hash(secret_key: str, challenge_id: str, phone: str, code: str) -> str:
    message = f"{challenge_id}:{phone}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


async def issue(
    session: AsyncSession, *, settings: Settings, phone: str, ip: str, language: str
) -> Issued:
    """Create a code for `phone`, queue its SMS in the same transaction."""
    if not await ratelimit.hit(
        session, bucket="otp_ip", key=ip, limit=settings.otp_per_ip, window=SEND_WINDOW
    ):
        return Issued(SendResult.IP_LIMIT)
    if not await ratelimit.hit(
        session, bucket="otp_phone", key=phone, limit=settings.otp_per_phone, window=SEND_WINDOW
    ):
        return Issued(SendResult.PHONE_LIMIT)
    now = utcnow()
    await session.execute(
        update(OtpChallenge)
        .where(
            OtpChallenge.phone == phone,
            OtpChallenge.consumed_at.is_(None),
            OtpChallenge.invalidated_at.is_(None),
        )
        .values(invalidated_at=now)
    )
    code = new_code()
    challenge_id = secrets.token_urlsafe(24)
    session.add(
        OtpChallenge(
            id=challenge_id,
            phone=phone,
            code_hash=_hash(settings.secret_key, challenge_id, phone, code),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.otp_ttl_seconds),
            ip=ip,
        )
    )
    await outbox.queue_otp(session, to=phone, code=code, language=language)
    await session.flush()
    return Issued(SendResult.SENT, challenge_id)


async def verify(
    session: AsyncSession, *, settings: Settings, challenge_id: str, code: str
) -> tuple[VerifyResult, str | None]:
    """Check a code. Returns the result and, on success, the phone number it proves.

    The attempt is counted in the same transaction; the caller must commit even when
    the answer is WRONG.
    """
    # The caller may already hold the challenge (the page shows its phone number): a
    # locked read must overwrite that copy, or every request racing on one code would
    # check and count against the attempts it saw before waiting for the lock.
    challenge = await session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.id == challenge_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = utcnow()
    if (
        challenge is None
        or challenge.consumed_at is not None
        or challenge.invalidated_at is not None
        or challenge.expires_at <= now
        or challenge.attempts >= settings.otp_max_attempts
    ):
        return VerifyResult.EXPIRED, None
    challenge.attempts += 1
    expected = _hash(settings.secret_key, challenge.id, challenge.phone, code)
    if not hmac.compare_digest(expected, challenge.code_hash):
        await session.flush()
        return VerifyResult.WRONG, None
    challenge.consumed_at = now
    await session.flush()
    return VerifyResult.OK, challenge.phone
