"""What the SMS codes pages read: lines and their codes, a code's numbers by day,
contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from customers.models import Customer
from sms_codes.models import Code, Contact, Coupon, Inbound, Keyword, Line, Suppression
from vafa.calendar import local_day, start_of_day
from vafa.database import open_session, utcnow
from vafa.domain import StaffAlert
from vafa.errors import NotFound
from vafa.i18n import N_
from vafa.permissions import Permission
from vafa.settings import Settings

NO_LINE = N_("This SMS line does not exist.")
STATS_DAYS = 30
CONTACTS_PAGE = 50


async def staff_alerts(session: AsyncSession, settings: Settings) -> list[StaffAlert]:
    """Each active line that spent its daily budget today (it answers nothing more until
    tomorrow, in the club's time, or until staff raise the budget)."""
    today = local_day(utcnow(), settings.timezone)
    spent = (
        await session.execute(
            select(Line.number, Line.daily_budget).where(
                Line.active.is_(True),
                Line.replies_on == today,
                Line.replies_today >= Line.daily_budget,
            )
        )
    ).all()
    return [
        StaffAlert(
            N_(
                "The SMS line %(line)s has reached its daily budget (%(budget)s) and "
                "answers no more messages today. Raise the budget to answer again today."
            ),
            {"line": number, "budget": budget},
            link="/admin/sms-codes",
            link_label=N_("SMS codes"),
            permission=Permission.SETUP_READ,
        )
        for number, budget in spent
    ]


@dataclass(frozen=True)
class LineView:
    line: Line
    codes: list[Code]
    keywords: dict[int, list[str]]  # code id -> keywords as typed
    replies_today: int


async def lines(session: AsyncSession, today: date) -> list[LineView]:
    found = (await session.scalars(select(Line).order_by(Line.id))).all()
    codes = (await session.scalars(select(Code).order_by(Code.line_id, Code.id))).all()
    words: dict[int, list[str]] = defaultdict(list)
    for code_id, text in (
        await session.execute(select(Keyword.code_id, Keyword.text).order_by(Keyword.id))
    ).all():
        words[code_id].append(text)
    return [
        LineView(
            line,
            [c for c in codes if c.line_id == line.id],
            {c.id: words[c.id] for c in codes if c.line_id == line.id},
            line.replies_today if line.replies_on == today else 0,
        )
        for line in found
    ]


async def line(session: AsyncSession, line_id: int) -> Line:
    found = await session.get(Line, line_id)
    if found is None:
        raise NotFound()
    return found


async def code(session: AsyncSession, code_id: int) -> tuple[Code, list[str]]:
    found = await session.get(Code, code_id)
    if found is None:
        raise NotFound()
    words = (
        await session.scalars(
            select(Keyword.text).where(Keyword.code_id == code_id).order_by(Keyword.id)
        )
    ).all()
    return found, list(words)


@dataclass
class Day:
    day: date
    messages: int = 0
    senders: set[str] = field(default_factory=set)
    new_contacts: int = 0
    new_members: int = 0
    coupons_issued: int = 0
    coupons_used: int = 0


@dataclass(frozen=True)
class Stats:
    """A code's numbers per club day (oldest first, every day of the window) and over
    the whole window."""

    days: list[Day]

    def total(self, name: str) -> int:
        return sum(getattr(day, name) for day in self.days)

    @property
    def senders(self) -> int:
        return len(set().union(*(day.senders for day in self.days)))


async def code_stats(
    session: AsyncSession, code_id: int, tz: str, now: datetime, days: int = STATS_DAYS
) -> Stats:
    """A code's messages, senders, new contacts and members, and coupons given and
    used, per club day over the last `days` days."""
    last = local_day(now, tz)
    first = last - timedelta(days=days - 1)
    since = start_of_day(first, tz)
    by_day = {first + timedelta(days=n): Day(first + timedelta(days=n)) for n in range(days)}
    for at, sender, new_contact, new_member in (
        await session.execute(
            select(Inbound.received_at, Inbound.sender, Inbound.new_contact, Inbound.new_member)
            .where(Inbound.code_id == code_id, Inbound.received_at >= since)
        )
    ).all():
        day = by_day[local_day(at, tz)]
        day.messages += 1
        day.senders.add(sender)
        day.new_contacts += new_contact
        day.new_members += new_member
    for issued_at, used_at in (
        await session.execute(
            select(Coupon.issued_at, Coupon.used_at).where(
                Coupon.code_id == code_id,
                or_(Coupon.issued_at >= since, Coupon.used_at >= since),
            )
        )
    ).all():
        if issued_at >= since:
            by_day[local_day(issued_at, tz)].coupons_issued += 1
        if used_at is not None and used_at >= since:
            by_day[local_day(used_at, tz)].coupons_used += 1
    return Stats(list(by_day.values()))


class Membership(StrEnum):
    ANYONE = ""
    MEMBERS = "members"
    GUESTS = "guests"  # texted, but not club members


@dataclass(frozen=True)
class ContactFilter:
    """Which contacts: the list, its export, and later a campaign's audience."""

    phone: str = ""  # ASCII digits the number contains (a leading 0 dropped)
    code_id: int | None = None  # texted this code
    membership: Membership = Membership.ANYONE
    reachable: bool = False  # only numbers that opted out of no line's advertising

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.phone:
            conditions.append(Contact.phone.contains(self.phone, autoescape=True))
        if self.code_id is not None:
            conditions.append(
                exists().where(Inbound.contact_id == Contact.id, Inbound.code_id == self.code_id)
            )
        if self.membership == Membership.MEMBERS:
            conditions.append(Contact.customer_id.is_not(None))
        elif self.membership == Membership.GUESTS:
            conditions.append(Contact.customer_id.is_(None))
        if self.reachable:
            conditions.append(~exists().where(Suppression.phone == Contact.phone))
        return conditions


def audience(found: ContactFilter) -> Select[Any]:
    """The numbers (E.164) of the contacts `found` selects, for a campaign to send to."""
    return select(Contact.phone).where(*found.where()).order_by(Contact.id)


@dataclass(frozen=True)
class ContactRow:
    contact: Contact
    opted_out: bool
    member_name: str | None
    codes: list[str]  # names of the codes the number texted


async def _rows(
    session: AsyncSession,
    found: ContactFilter,
    *,
    offset: int,
    limit: int,
    after: int | None = None,
) -> list[ContactRow]:
    opted_out = (
        select(func.count())
        .select_from(Suppression)
        .where(Suppression.phone == Contact.phone)
        .scalar_subquery()
    )
    statement = (
        select(Contact, opted_out, Customer.name)
        .outerjoin(Customer, Customer.id == Contact.customer_id)
        .where(*found.where())
    )
    if after is not None:  # the export walks every contact in id order
        statement = statement.where(Contact.id > after).order_by(Contact.id)
    else:
        statement = statement.order_by(Contact.last_seen_at.desc(), Contact.id.desc())
    rows = (await session.execute(statement.offset(offset).limit(limit))).all()
    names: dict[int, list[str]] = defaultdict(list)
    if rows:
        for contact_id, name in (
            await session.execute(
                select(Inbound.contact_id, Code.name)
                .join(Code, Code.id == Inbound.code_id)
                .where(Inbound.contact_id.in_([contact.id for contact, _, _ in rows]))
                .distinct()
                .order_by(Inbound.contact_id, Code.name)
            )
        ).all():
            if contact_id is not None:
                names[contact_id].append(name)
    return [
        ContactRow(contact, bool(out), member, names[contact.id]) for contact, out, member in rows
    ]


async def contacts(
    session: AsyncSession, found: ContactFilter, page: int
) -> tuple[list[ContactRow], bool, int]:
    """A page of contacts, the latest to text first; whether there is a next page; how
    many the filter finds in all."""
    rows = await _rows(
        session, found, offset=(page - 1) * CONTACTS_PAGE, limit=CONTACTS_PAGE + 1
    )
    return rows[:CONTACTS_PAGE], len(rows) > CONTACTS_PAGE, await count_contacts(session, found)


async def count_contacts(session: AsyncSession, found: ContactFilter) -> int:
    total = await session.scalar(select(func.count()).select_from(Contact).where(*found.where()))
    return total or 0


async def every_contact(
    sessionmaker: async_sessionmaker[AsyncSession], found: ContactFilter, chunk: int = 1000
) -> AsyncIterator[list[ContactRow]]:
    """Every contact the filter finds, a chunk at a time, each chunk read in its own
    short transaction (an export of many thousands holds no lock for long)."""
    after = 0  # ids start at 1
    while True:
        async with await open_session(sessionmaker, read_only=True) as session:
            rows = await _rows(session, found, offset=0, limit=chunk, after=after)
        if not rows:
            return
        yield rows
        after = rows[-1].contact.id


async def code_choices(session: AsyncSession) -> list[tuple[int, str, str]]:
    """(code id, name, line number) of every code, for a filter's choice."""
    rows = await session.execute(
        select(Code.id, Code.name, Line.number)
        .join(Line, Line.id == Code.line_id)
        .order_by(Line.id, Code.name)
    )
    return [(code_id, name, number) for code_id, name, number in rows.all()]


@dataclass(frozen=True)
class CouponRow:
    coupon: Coupon
    code_name: str


async def recent_coupons(session: AsyncSession, limit: int = 30) -> list[CouponRow]:
    rows = (
        await session.execute(
            select(Coupon, Code.name)
            .join(Code, Code.id == Coupon.code_id)
            .order_by(Coupon.id.desc())
            .limit(limit)
        )
    ).all()
    return [CouponRow(coupon, name) for coupon, name in rows]


async def coupon(session: AsyncSession, coupon_id: int) -> CouponRow | None:
    row = (
        await session.execute(
            select(Coupon, Code.name).join(Code, Code.id == Coupon.code_id).where(
                Coupon.id == coupon_id
            )
        )
    ).first()
    return CouponRow(row[0], row[1]) if row else None
