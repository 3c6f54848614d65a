"""Queueing SMS: a row in the caller's transaction; the worker delivers it later."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vafa.database import rowcount
from vafa.domain import StaffAlert
from vafa.i18n import N_, translate
from vafa.models import SmsMessage
from vafa.permissions import Permission
from vafa.settings import Settings
from vafa.sms.gateway import NO_CREDIT

OTP_MESSAGE = N_("Your Vafa login code: %(code)s")


async def queue_text(
    session: AsyncSession,
    *,
    to: str,
    body: str,
    urgent: bool = False,
    sender: str | None = None,
    secret: str | None = None,
) -> SmsMessage:
    """An ordinary message. Reminders and club news wait for the club's daytime window;
    `urgent=True` (a reply the person just asked for) goes at any hour. `sender`: the
    line it leaves from, when not the default one. `secret`: a code in the body that
    staff pages never show (a consent code)."""
    message = SmsMessage(
        to=to,
        body=body,
        kind="text",
        urgent=urgent,
        sender=sender,
        sensitive=secret is not None,
        tokens={"code": secret} if secret is not None else None,
    )
    session.add(message)
    await session.flush()
    return message


async def queue_otp(session: AsyncSession, *, to: str, code: str, language: str) -> SmsMessage:
    """A login code: sent through the gateway's OTP template where it has one."""
    message = SmsMessage(
        to=to,
        body=translate(language, OTP_MESSAGE, code=code),
        kind="otp",
        tokens={"token": code},
        sensitive=True,
        urgent=True,
    )
    session.add(message)
    await session.flush()
    return message


def masked_body(message: SmsMessage) -> str:
    """What staff may see: login codes are never shown on an admin page."""
    if message.sensitive and message.tokens:
        body = message.body
        for value in message.tokens.values():
            body = body.replace(str(value), "•" * len(str(value)))
        return body
    return message.body


async def record_delivery(session: AsyncSession, *, provider_message_id: str, status: int) -> int:
    """A delivery report from the gateway (Kavenegar's status: 10 delivered, 11 not
    delivered, ...) on the message it names; how many messages it named."""
    result = await session.execute(
        update(SmsMessage)
        .where(SmsMessage.provider_message_id == provider_message_id)
        .values(provider_status=status)
    )
    return rowcount(result)


async def staff_alerts(session: AsyncSession, settings: Settings) -> list[StaffAlert]:
    """Kavenegar said the account has no credit (418): every message waits, login codes
    included, until someone tops it up."""
    waiting = await session.scalar(
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.status == "pending", SmsMessage.last_error.startswith(NO_CREDIT))
    )
    if not waiting:
        return []
    return [
        StaffAlert(
            N_(
                "Kavenegar says the SMS account has no credit: %(count)s messages are "
                "waiting. Top up the account; they go out once it is back."
            ),
            {"count": waiting},
            level="danger",
            link="/admin/sms",
            link_label=N_("SMS log"),
            permission=Permission.SMS_READ,
        )
    ]
