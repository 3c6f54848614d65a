"""What the SMS codes pages read: lines and their codes, a code's numbers by day,
contacts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sms_codes.models import Code, Contact, Coupon, Inbound, Keyword, Line, Suppression
from vafa.calendar import local_day, start_of_day
from vafa.database import utcnow
from vafa.domain import StaffAlert
from vafa.errors import NotFound
from vafa.i18n import N_
from vafa.permissions import Permission
from vafa.settings import Settings

NO_LINE = N_("This SMS line does not exist.")
STATS_DAYS = 30
CONTACTS_PAGE = 50


async def staff_alerts(session: AsyncSession, settings: Settings) -> list[StaffAlert]:
    """Each active line that reached its daily budget today (it answers nothing more
    until tomorrow, in the club's time)."""
    today = local_day(utcnow(), settings.timezone)
    spent = (
        await session.execute(
            select(Line.number, Line.daily_budget).where(
                Line.active.is_(True), Line.budget_alerted_on == today
            )
        )
    ).all()
    return [
        StaffAlert(
            N_(
                "The SMS line %(line)s reached its daily budget of %(budget)s replies: it "
                "answers no more messages today. Raise the budget to answer again today."
            ),
            {"line": number, "budget": budget},
            link="/admin/sms-codes",
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


@dataclass(frozen=True)
class ContactRow:
    contact: Contact
    opted_out: bool


async def contacts(session: AsyncSession, page: int) -> tuple[list[ContactRow], bool]:
    rows = (
        await session.execute(
            select(Contact, func.count(Suppression.line_id))
            .outerjoin(Suppression, Suppression.phone == Contact.phone)
            .group_by(Contact.id)
            .order_by(Contact.last_seen_at.desc(), Contact.id.desc())
            .offset((page - 1) * CONTACTS_PAGE)
            .limit(CONTACTS_PAGE + 1)
        )
    ).all()
    found = [ContactRow(contact, bool(out)) for contact, out in rows[:CONTACTS_PAGE]]
    return found, len(rows) > CONTACTS_PAGE


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
