"""What a customer texted the business's lines, on their record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from sms_codes.models import Contact, Inbound
from vafa.domain import TimelineItem
from vafa.i18n import N_


async def timeline(
    session: AsyncSession, customer_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    query = (
        select(Inbound.received_at, Inbound.text, Inbound.line_number)
        .join(Contact, Contact.id == Inbound.contact_id)
        .join(Customer, Customer.phone == Contact.phone)
        .where(Customer.id == customer_id)
    )
    if before is not None:
        query = query.where(Inbound.received_at < before)
    rows = (await session.execute(query.order_by(Inbound.received_at.desc()).limit(limit))).all()
    return [
        TimelineItem(
            at,
            "sms-in",
            N_("Texted «%(text)s» to %(line)s"),
            {"text": text[:160], "line": line},
        )
        for at, text, line in rows
    ]
