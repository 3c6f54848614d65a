"""Writes to customer records. Keyword-only; the caller owns the transaction; a
refusal is a `UserError` raised before anything is written."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customers.events import MemberJoined, ProfileCompleted
from customers.models import ConsentChange, Customer, CustomerNote
from vafa import audit
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.errors import NotFound, UserError
from vafa.events import publish
from vafa.i18n import N_
from vafa.i18n.normalize import fold, tidy_text
from vafa.settings import LANGUAGES

NAME_MAX = 120
NOTE_MAX = 2000
REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


async def get_by_phone(session: AsyncSession, phone: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.phone == phone))


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))


async def get_or_create(
    session: AsyncSession, *, phone: str, language: str, referral_code: str | None = None
) -> tuple[Customer, bool]:
    """The customer with this E.164 number, created when new (safe under concurrency).
    A new member who came with a friend's invitation code remembers who invited them."""
    customer = await get_by_phone(session, phone)
    if customer is not None:
        return customer, False
    referrer = None
    if referral_code:
        referrer = await session.scalar(
            select(Customer.id).where(Customer.referral_code == referral_code.upper()[:12])
        )
    try:
        async with session.begin_nested():
            customer = Customer(
                phone=phone,
                language=language,
                created_at=utcnow(),
                referral_code=new_referral_code(),
                referred_by_id=referrer,
            )
            session.add(customer)
        return customer, True
    except IntegrityError:
        existing = await get_by_phone(session, phone)
        assert existing is not None
        return existing, False


async def join(
    session: AsyncSession,
    *,
    phone: str,
    language: str,
    source: str,
    referral_code: str | None = None,
) -> tuple[Customer, bool]:
    """The member with this number; a new one is created and the club hears
    `MemberJoined` (the signup bonus, wherever they joined)."""
    customer, created = await get_or_create(
        session, phone=phone, language=language, referral_code=referral_code
    )
    if created:
        await publish(session, MemberJoined(customer.id, source=source))
    return customer, created


async def record_login(
    session: AsyncSession, *, phone: str, language: str, referral_code: str | None = None
) -> tuple[Customer, bool]:
    """The member behind a proven phone number; the first login makes them a member."""
    customer, created = await join(
        session, phone=phone, language=language, source="portal", referral_code=referral_code
    )
    if customer.referral_code is None:  # members from before invitations existed
        customer.referral_code = new_referral_code()
    customer.last_login_at = utcnow()
    await session.flush()
    return customer, created


def clean_name(raw: str) -> str | None:
    """The name as typed (half-space and all), on one line, trimmed."""
    name = tidy_text(raw)
    if len(name) > NAME_MAX:
        raise UserError(N_("The name is too long."))
    if any(ord(ch) < 32 for ch in name) or "<" in name or ">" in name:
        raise UserError(N_("The name contains characters that are not allowed."))
    return name or None


def check_birthday(value: date | None) -> date | None:
    if value is None:
        return None
    today = utcnow().date()
    if value >= today or value.year < 1900:
        raise UserError(N_("The birthday is not a valid date."))
    return value


async def record_consent(
    session: AsyncSession, customer: Customer, *, given: bool, source: str
) -> None:
    # Consent is evidence: keep when and where it was given or withdrawn.
    now = utcnow()
    customer.marketing_consent = given
    customer.consent_at = now
    customer.consent_source = source
    session.add(ConsentChange(customer_id=customer.id, given=given, source=source, at=now))


async def update_profile(
    session: AsyncSession,
    *,
    actor: Actor,
    customer_id: int,
    name: str,
    birthday: date | None,
    language: str,
    marketing_consent: bool,
    source: str,
) -> Customer:
    # Validate every field before touching the record: a refused form changes nothing.
    if language not in LANGUAGES:
        raise UserError(N_("This language is not available."))
    name_value = clean_name(name)
    birthday_value = check_birthday(birthday)
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound()
    customer.name = name_value
    customer.name_key = fold(name_value) if name_value else None
    customer.birthday = birthday_value
    customer.language = language
    if marketing_consent != customer.marketing_consent:
        await record_consent(session, customer, given=marketing_consent, source=source)
    await session.flush()
    if customer.name and customer.birthday:
        await publish(session, ProfileCompleted(customer.id))
    return customer


async def add_note(
    session: AsyncSession, *, actor: Actor, customer_id: int, body: str
) -> CustomerNote:
    text = body.strip()
    if not text:
        raise UserError(N_("%(field)s: please fill this in."), field=N_("Note"))
    if len(text) > NOTE_MAX:
        raise UserError(
            N_("%(field)s: at most %(max)s characters."), field=N_("Note"), max=NOTE_MAX
        )
    if await session.get(Customer, customer_id) is None:
        raise NotFound()
    note = CustomerNote(customer_id=customer_id, staff_id=actor.staff_id, body=text, at=utcnow())
    session.add(note)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="customer.note",
        object_type="customer",
        object_id=customer_id,
    )
    return note
