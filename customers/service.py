"""Writes to customer records. Keyword-only; the caller owns the transaction."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Customer
from vafa.database import utcnow
from vafa.i18n import N_
from vafa.i18n.normalize import normalize_text
from vafa.settings import LANGUAGES

NAME_MAX = 120


class ProfileError(ValueError):
    """A profile field is not acceptable; `args[0]` is an untranslated message."""


async def get_by_phone(session: AsyncSession, phone: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.phone == phone))


REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))


async def get_or_create(
    session: AsyncSession, *, phone: str, language: str, referral_code: str | None = None
) -> tuple[Customer, bool]:
    """The member with this E.164 number, created when new (safe under concurrency).
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


async def record_login(
    session: AsyncSession, *, phone: str, language: str, referral_code: str | None = None
) -> tuple[Customer, bool]:
    """The member behind a proven phone number; the first login creates them."""
    customer, created = await get_or_create(
        session, phone=phone, language=language, referral_code=referral_code
    )
    if customer.referral_code is None:  # members from before invitations existed
        customer.referral_code = new_referral_code()
    customer.last_login_at = utcnow()
    await session.flush()
    return customer, created


def clean_name(raw: str) -> str | None:
    name = normalize_text(raw)
    if len(name) > NAME_MAX:
        raise ProfileError(N_("The name is too long."))
    if any(ord(ch) < 32 for ch in name) or "<" in name or ">" in name:
        raise ProfileError(N_("The name contains characters that are not allowed."))
    return name or None


def check_birthday(value: date | None) -> date | None:
    if value is None:
        return None
    today = utcnow().date()
    if value >= today or value.year < 1900:
        raise ProfileError(N_("The birthday is not a valid date."))
    return value


async def update_profile(
    session: AsyncSession,
    *,
    customer: Customer,
    name: str,
    birthday: date | None,
    language: str,
    marketing_consent: bool,
    source: str,
) -> Customer:
    # Validate every field before touching the record: a refused form changes nothing.
    if language not in LANGUAGES:
        raise ProfileError(N_("This language is not available."))
    name_value = clean_name(name)
    birthday_value = check_birthday(birthday)
    customer.name = name_value
    customer.birthday = birthday_value
    customer.language = language
    if marketing_consent != customer.marketing_consent:
        # Consent is evidence: keep when and where it was given or withdrawn.
        customer.marketing_consent = marketing_consent
        customer.consent_at = utcnow()
        customer.consent_source = source
    await session.flush()
    return customer
