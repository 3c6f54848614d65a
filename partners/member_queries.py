"""Reads the partners' pages need: the partners a member can use, and at a till the
day's transactions and what the cashier just did. Plain data; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import ledger
from loyalty.models import WALLET
from partners.models import Partner, Transaction
from vafa.calendar import local_day, start_of_day
from vafa.database import utcnow
from vafa.i18n import localized
from vafa.i18n.normalize import fold

TODAY_LIMIT = 100  # a till's list of the day: the newest this many


async def member_partners(session: AsyncSession, language: str) -> list[Partner]:
    """Partners where members can earn or spend now (not the club's own tills), by
    name in the reader's language."""
    now = utcnow()
    found = await session.scalars(
        select(Partner).where(
            Partner.active.is_(True),
            Partner.home.is_(False),
            or_(Partner.earn.is_(True), Partner.redeem.is_(True)),
            or_(Partner.starts_at.is_(None), Partner.starts_at <= now),
            or_(Partner.ends_at.is_(None), Partner.ends_at > now),
        )
    )
    return sorted(found, key=lambda p: (fold(localized(p.name, language)), p.id))


def masked_phone(e164: str) -> str:
    """A member's number as a till's list shows it: the national form with the middle
    hidden, 0912***4567 (ASCII digits; the page writes them in its own)."""
    try:
        number = phonenumbers.parse(e164, None)
        digits = "0" + phonenumbers.national_significant_number(number)
    except phonenumbers.NumberParseException:
        digits = "".join(ch for ch in e164 if ch.isdigit())
    keep = 4 if len(digits) >= 10 else 3
    if len(digits) <= 2 * keep:
        return "*" * len(digits)
    return f"{digits[:keep]}***{digits[-keep:]}"


@dataclass(frozen=True)
class TillLine:
    transaction: Transaction
    phone: str  # masked


async def today(session: AsyncSession, partner_id: int, tz: str) -> list[TillLine]:
    """The partner's transactions of the club's day so far, newest first."""
    since = start_of_day(local_day(utcnow(), tz), tz)
    rows = await session.execute(
        select(Transaction, Customer.phone)
        .join(Customer, Customer.id == Transaction.customer_id)
        .where(Transaction.partner_id == partner_id, Transaction.created_at >= since)
        .order_by(Transaction.created_at.desc(), Transaction.id.desc())
        .limit(TODAY_LIMIT)
    )
    return [TillLine(transaction, masked_phone(phone)) for transaction, phone in rows.all()]


@dataclass(frozen=True)
class Done:
    """What a cashier just did at the till, as the page shows it after the action."""

    transaction: Transaction
    phone: str  # masked
    balance: int  # the member's spendable points now


async def done(
    session: AsyncSession, partner_id: int, recorded_by: str, transaction_id: int
) -> Done | None:
    """One of this cashier's own transactions at this partner (None for anything else:
    another till's, another partner's, a missing one)."""
    found = (
        await session.execute(
            select(Transaction, Customer.phone)
            .join(Customer, Customer.id == Transaction.customer_id)
            .where(
                Transaction.id == transaction_id,
                Transaction.partner_id == partner_id,
                Transaction.recorded_by == recorded_by,
            )
        )
    ).first()
    if found is None:
        return None
    transaction, phone = found
    balance = (await ledger.balances(session, transaction.customer_id))[WALLET]
    return Done(transaction, masked_phone(phone), balance)
