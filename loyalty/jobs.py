"""Scheduled points work, run by the worker: pending points arrive, lots and
vouchers expire, members are reminded before points expire, tiers are reviewed and
birthday bonuses given. Every job is safe to run twice or on several workers."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import jdatetime
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from loyalty import keys, ledger, messages, rewards, rules, tiers
from loyalty.models import OPEN, Lot, MemberTier, RuleKind
from loyalty.programme import current
from vafa import club
from vafa.calendar import JALALI_ZONES, local_day
from vafa.database import utcnow
from vafa.domain import Job
from vafa.i18n import translate
from vafa.i18n.formatting import format_date, format_number
from vafa.settings import Settings
from vafa.sms import outbox

REVIEW_EVERY = timedelta(days=1)
BATCH = 500


async def send_expiry_reminders(session: AsyncSession, settings: Settings) -> int:
    """One SMS per member for lots entering the reminder horizon, once per lot."""
    programme = (await current(session)).programme
    profile = await club.load(session, settings.timezone)
    now = utcnow()
    lots = (
        await session.scalars(
            select(Lot)
            .where(
                Lot.available.is_(True),
                OPEN,
                Lot.reminded_at.is_(None),
                Lot.expires_at > now,
                Lot.expires_at <= now + timedelta(days=programme.reminder_days),
            )
            .order_by(Lot.customer_id, Lot.expires_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    by_member: dict[int, list[Lot]] = defaultdict(list)
    for lot in lots:
        by_member[lot.customer_id].append(lot)
    for customer_id, member_lots in by_member.items():
        customer = await session.get(Customer, customer_id)
        if customer is None:
            continue
        language = customer.language
        first = min(lot.expires_at for lot in member_lots if lot.expires_at)
        # The last moment the points can be used is the day before they expire.
        last_day = first - timedelta(seconds=1)
        await outbox.queue_text(
            session,
            to=customer.phone,
            body=translate(
                language,
                messages.EXPIRY_REMINDER,
                points=format_number(sum(lot.remaining for lot in member_lots), language),
                club=profile.display_name(language),
                date=format_date(last_day, language, settings.timezone),
            ),
        )
        for lot in member_lots:
            lot.reminded_at = now
    await session.flush()
    return len(by_member)


async def review_tiers(session: AsyncSession, settings: Settings) -> int:
    """Members in a grace period, or not reviewed for a day (their window moved)."""
    now = utcnow()
    members = (
        await session.scalars(
            select(MemberTier.customer_id)
            .where(
                or_(
                    MemberTier.below_since.is_not(None),
                    MemberTier.reviewed_at.is_(None),
                    MemberTier.reviewed_at < now - REVIEW_EVERY,
                )
            )
            .limit(BATCH)
        )
    ).all()
    for customer_id in members:
        await tiers.review(session, customer_id, tz=settings.timezone, now=now)
    return len(members)


async def birthday_bonuses(session: AsyncSession, settings: Settings) -> int:
    """The birthday bonus in the member's birthday month: the Solar Hijri month for a
    club in Iran. Once a year per member (the key carries the year)."""
    now = utcnow()
    if not await rules.active_rules(session, RuleKind.BIRTHDAY, now):
        return 0
    today = local_day(now, settings.timezone)
    jalali = settings.timezone in JALALI_ZONES
    if jalali:
        j = jdatetime.date.fromgregorian(date=today)
        year, month = j.year, j.month
    else:
        year, month = today.year, today.month
    given = 0
    last_id = 0
    while True:
        batch = (
            await session.execute(
                select(Customer.id, Customer.birthday)
                .where(Customer.birthday.is_not(None), Customer.id > last_id)
                .order_by(Customer.id)
                .limit(5000)
            )
        ).all()
        if not batch:
            break
        last_id = batch[-1][0]
        for customer_id, birthday in batch:
            if birthday is None:
                continue
            born = jdatetime.date.fromgregorian(date=birthday).month if jalali else birthday.month
            if born == month:
                given += bool(
                    await rules.award_bonus(
                        session,
                        kind=RuleKind.BIRTHDAY,
                        customer_id=customer_id,
                        key=keys.birthday(customer_id, year),
                        tz=settings.timezone,
                    )
                )
    return given


JOBS = (
    Job("loyalty.release", lambda s, _: ledger.release_due(s)),
    Job("loyalty.expire", lambda s, _: ledger.expire_due(s)),
    Job("loyalty.vouchers", lambda s, _: rewards.expire_due(s)),
    Job("loyalty.reminders", send_expiry_reminders),
    Job("loyalty.tiers", review_tiers),
    Job("loyalty.birthdays", birthday_bonuses, daily=True),
)
