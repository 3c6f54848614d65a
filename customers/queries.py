"""Reads for the customer pages: search, the record, and its one timeline."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import ConsentChange, Customer, CustomerNote
from vafa.domain import TimelineItem, TimelineSource
from vafa.errors import NotFound
from vafa.i18n import N_
from vafa.i18n.normalize import InvalidPhone, fold, normalize_phone, to_ascii_digits
from vafa.models import AuthSession, SmsMessage, StaffUser
from vafa.sms.outbox import masked_body

PAGE_SIZE = 30
TIMELINE_PAGE = 30
MIN_DIGITS = 4  # fewer digits than this match too many numbers to be a search


@dataclass(frozen=True)
class Found:
    customers: list[Customer]
    has_next: bool


def _digits(text: str) -> str:
    return "".join(ch for ch in to_ascii_digits(text) if ch.isascii() and ch.isdigit())


async def search(session: AsyncSession, text: str, *, page: int = 1) -> Found:
    """Customers by phone (any format, any digits, or a part of the number) or by
    name (folded: yeh and kaf, half-space, case and digits do not matter)."""
    query = select(Customer)
    text = text.strip()
    if text:
        digits = _digits(text)
        conditions = []
        try:
            conditions.append(Customer.phone == normalize_phone(text))
        except InvalidPhone:
            pass
        if len(digits) >= MIN_DIGITS:
            # A national number's leading 0 is not part of the E.164 form.
            conditions.append(Customer.phone.contains(digits.lstrip("0"), autoescape=True))
        key = fold(text)
        if key and len(digits) < len(key.replace(" ", "")):
            conditions.append(Customer.name_key.contains(key, autoescape=True))
        if not conditions:
            return Found([], False)
        query = query.where(or_(*conditions))
    rows = (
        await session.scalars(
            query.order_by(Customer.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        )
    ).all()
    return Found(list(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE)


async def saved_language(session: AsyncSession, phone: str) -> str | None:
    """The language a member chose for their messages (None for a new number)."""
    return await session.scalar(select(Customer.language).where(Customer.phone == phone))


async def customer(session: AsyncSession, customer_id: int) -> Customer:
    found = await session.get(Customer, customer_id)
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class Timeline:
    items: list[TimelineItem]
    before: datetime | None  # where the next page starts, or None at the end


async def timeline(
    session: AsyncSession,
    customer_id: int,
    sources: Sequence[TimelineSource],
    *,
    before: datetime | None = None,
    limit: int = TIMELINE_PAGE,
) -> Timeline:
    """Every domain's items for this customer, newest first, one page at a time. Each
    source gives at most `limit` items older than `before`; the page is the newest
    `limit` of them all."""
    pages = [await source(session, customer_id, before, limit + 1) for source in sources]
    merged = list(heapq.merge(*pages, key=lambda item: item.at, reverse=True))
    items = merged[:limit]
    more = len(merged) > limit
    return Timeline(items, items[-1].at if more and items else None)


# --- what the customer record itself contributes --------------------------------------


async def own_timeline(
    session: AsyncSession, customer_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    """Logins, consent changes, SMS sent and staff notes."""
    record = await session.get(Customer, customer_id)
    if record is None:
        return []
    items: list[TimelineItem] = []

    def older(column: Any) -> Any:
        return column < before if before is not None else True

    logins = await session.scalars(
        select(AuthSession)
        .where(
            AuthSession.audience == "customer",
            AuthSession.subject_id == customer_id,
            older(AuthSession.created_at),
        )
        .order_by(AuthSession.created_at.desc())
        .limit(limit)
    )
    items += [
        TimelineItem(s.created_at, "login", N_("Logged in"), {"ip": s.ip or ""}) for s in logins
    ]
    consents = await session.scalars(
        select(ConsentChange)
        .where(ConsentChange.customer_id == customer_id, older(ConsentChange.at))
        .order_by(ConsentChange.at.desc())
        .limit(limit)
    )
    items += [
        TimelineItem(
            c.at,
            "consent",
            N_("Agreed to club messages") if c.given else N_("Stopped club messages"),
            {"source": c.source},
        )
        for c in consents
    ]
    messages = await session.scalars(
        select(SmsMessage)
        .where(SmsMessage.to == record.phone, older(SmsMessage.created_at))
        .order_by(SmsMessage.created_at.desc())
        .limit(limit)
    )
    items += [
        TimelineItem(m.created_at, "sms", N_("SMS: %(body)s"), {"body": masked_body(m)})
        for m in messages
    ]
    notes = await session.execute(
        select(CustomerNote, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == CustomerNote.staff_id)
        .where(CustomerNote.customer_id == customer_id, older(CustomerNote.at))
        .order_by(CustomerNote.at.desc())
        .limit(limit)
    )
    items += [
        TimelineItem(n.at, "note", N_("Note: %(body)s"), {"body": n.body}, by=username)
        for n, username in notes.all()
    ]
    return sorted(items, key=lambda item: item.at, reverse=True)[:limit]

