"""Reads for the admin's own pages: the dashboard, the SMS log, the audit log, staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from vafa.actor import ActorKind
from vafa.audit import AuditLog
from vafa.models import SmsMessage, StaffUser
from vafa.sms.outbox import masked_body

PAGE_SIZE = 50


@dataclass(frozen=True)
class Dashboard:
    customers: int
    sms_waiting: int
    sms_failed: int


async def dashboard(session: AsyncSession) -> Dashboard:
    customers = await session.scalar(select(func.count()).select_from(Customer))
    waiting = await session.scalar(
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.status.in_(("pending", "sending")))
    )
    failed = await session.scalar(
        select(func.count()).select_from(SmsMessage).where(SmsMessage.status == "failed")
    )
    return Dashboard(customers or 0, waiting or 0, failed or 0)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int
    has_next: bool


async def sms_log(session: AsyncSession, number: int) -> Page:
    """Outgoing messages, newest first; login codes masked."""
    rows = (
        await session.scalars(
            select(SmsMessage)
            .order_by(SmsMessage.id.desc())
            .offset((number - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    ).all()
    return Page([(m, masked_body(m)) for m in rows[:PAGE_SIZE]], number, len(rows) > PAGE_SIZE)


async def audit_log(session: AsyncSession, number: int) -> Page:
    rows = (
        await session.execute(
            select(AuditLog, StaffUser.username)
            .outerjoin(
                StaffUser,
                (StaffUser.id == AuditLog.actor_id) & (AuditLog.actor_kind == ActorKind.STAFF),
            )
            .order_by(AuditLog.id.desc())
            .offset((number - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    ).all()
    return Page(list(rows[:PAGE_SIZE]), number, len(rows) > PAGE_SIZE)


async def staff_list(session: AsyncSession) -> list[StaffUser]:
    return list((await session.scalars(select(StaffUser).order_by(StaffUser.username))).all())


async def staff_member(session: AsyncSession, staff_id: int) -> StaffUser | None:
    """A staff account, locked for the change about to be made to it."""
    member = await session.get(StaffUser, staff_id, with_for_update=True)
    if member is not None:
        await session.refresh(member)
    return member
