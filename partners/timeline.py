"""What happened to a customer at partners' tills, on their record: purchases that
earned, points spent, and reversals, each naming the partner.

The club's own tills (the home partner) are left out: their purchases and points
movements are the programme's, which the points engine's items show already.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from partners.models import Partner, Transaction, TransactionKind
from vafa.domain import TimelineItem
from vafa.i18n import N_, current_language, localized

EARNED = N_("Earned at %(partner)s: purchase of %(amount)s, receipt %(receipt)s")
SPENT = N_("Spent %(count)s points at %(partner)s (%(amount)s)")
SPENT_AT_NO_COST = N_("Spent %(count)s points at %(partner)s")  # the club pays it nothing
RETURNED = N_("Reversed at %(partner)s: return of %(amount)s, receipt %(receipt)s")
GIVEN_BACK = N_("Reversed at %(partner)s: %(count)s spent points given back")


def item(transaction: Transaction, partner: str) -> TimelineItem:
    t = transaction
    values: dict[str, object] = {"partner": partner, "amount": t.amount}
    if t.kind == TransactionKind.EARN:
        text, points = EARNED, t.points
        values["receipt"] = t.receipt
    elif t.kind == TransactionKind.REDEEM:
        text, points = (SPENT if t.amount else SPENT_AT_NO_COST), -t.points
        values["count"] = t.points
    elif t.purchase_id is not None:  # a return of (part of) an earning purchase
        text, points = RETURNED, -t.points
        values["receipt"] = t.receipt
    else:  # a redemption given back
        text, points = GIVEN_BACK, t.points
        values["count"] = t.points
    return TimelineItem(t.created_at, f"partner-{t.kind}", text, values, points=points or None)


async def timeline(
    session: AsyncSession, customer_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    query = (
        select(Transaction, Partner.name)
        .join(Partner, Partner.id == Transaction.partner_id)
        .where(Transaction.customer_id == customer_id, Partner.home.is_(False))
    )
    if before is not None:
        query = query.where(Transaction.created_at < before)
    rows = await session.execute(
        query.order_by(Transaction.created_at.desc(), Transaction.id.desc()).limit(limit)
    )
    language = current_language.get()
    return [item(transaction, localized(name, language)) for transaction, name in rows.all()]
