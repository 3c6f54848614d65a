"""Partners, their terms, their API keys and their cashiers.

Each partner owns a ledger account (kind `partner`) named like it, so a member's
history can say where points were earned or spent. The home partner is the club's
own tills: its account is the programme's.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from loyalty import ledger
from loyalty.models import PARTNER, Account
from partners.models import ApiKey, Cashier, Category, Partner
from vafa import audit
from vafa.actor import Actor
from vafa.database import rowcount, utcnow
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.models import StaffUser
from vafa.permissions import Role
from vafa.staff import create_staff

NAME_MAX = 120
KEY_NAME_MAX = 80
KEY_PREFIX = "vafa_"
MAX_RATE = 10**12  # Rials per point; beyond any real agreement
MAX_CAP = 10**12


@dataclass(frozen=True)
class Terms:
    """What staff set for a partner (the form's or the command line's values)."""

    name: dict[str, str]
    category: Category = Category.OTHER
    contact_name: str = ""
    phone: str | None = None
    address: str = ""
    earn: bool = True
    redeem: bool = False
    earn_rials_per_point: int = 0
    redeem_rials_per_point: int = 0
    commission_bp: int = 0
    enrol: bool = False
    monthly_earn_cap: int | None = None
    monthly_redeem_cap: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True

    def checked(self) -> Terms:
        names = {k: v for k, v in self.name.items() if v}
        if not names or any(len(v) > NAME_MAX for v in names.values()):
            raise UserError(N_("Give the partner a name (up to 120 characters)."))
        if not 0 <= self.commission_bp <= 10000:
            raise UserError(N_("The commission must be from 0 to 100 percent."))
        for rate in (self.earn_rials_per_point, self.redeem_rials_per_point):
            if not 0 <= rate <= MAX_RATE:
                raise UserError(N_("A point's value must be zero or more."))
        for cap in (self.monthly_earn_cap, self.monthly_redeem_cap):
            if cap is not None and not 0 < cap <= MAX_CAP:
                raise UserError(N_("A monthly cap must be more than zero, or left empty."))
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise UserError(N_("The last day cannot be before the first day."))
        return self


TERM_FIELDS = tuple(f for f in Terms.__dataclass_fields__ if f != "name")


def _values(partner: Partner) -> dict[str, Any]:
    values: dict[str, Any] = {"name": dict(partner.name)}
    for name in TERM_FIELDS:
        value = getattr(partner, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


async def create_partner(session: AsyncSession, *, actor: Actor, terms: Terms) -> Partner:
    terms = terms.checked()
    account = Account(kind=PARTNER, balance=0, name=terms.name)
    session.add(account)
    await session.flush()
    partner = Partner(account_id=account.id, created_at=utcnow(), **terms.__dict__)
    session.add(partner)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="partner.create",
        object_type="partner",
        object_id=partner.id,
        details=_values(partner),
    )
    return partner


async def update_partner(
    session: AsyncSession, *, actor: Actor, partner_id: int, terms: Terms
) -> Partner:
    """New terms apply to what happens from now on; closed settlement periods keep the
    terms they were closed with."""
    terms = terms.checked()
    partner = await session.get(Partner, partner_id, with_for_update=True, populate_existing=True)
    if partner is None:
        raise UserError(N_("This partner does not exist."), status=404, code="not_found")
    before = _values(partner)
    for name, value in terms.__dict__.items():
        setattr(partner, name, value)
    if partner.home:  # the club's own tills always earn and spend, uncapped, at no cost
        partner.earn = partner.redeem = True
        partner.monthly_earn_cap = partner.monthly_redeem_cap = None
    else:
        await session.execute(
            update(Account).where(Account.id == partner.account_id).values(name=terms.name)
        )
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="partner.update",
        object_type="partner",
        object_id=partner.id,
        details={"before": before, "after": _values(partner)},
    )
    return partner


async def home_partner(session: AsyncSession, *, name: str = "") -> Partner:
    """The club's own tills, made on first use (the migration makes it for a database
    that had data; an emptied one gets it back here)."""
    partner = await session.scalar(select(Partner).where(Partner.home.is_(True)))
    if partner is not None:
        return partner
    account_id = await ledger.programme_account(session)
    try:
        async with session.begin_nested():
            partner = Partner(
                name={"fa": name or "فروشگاه باشگاه", "en": name or "The club's shop"},
                home=True,
                earn=True,
                redeem=True,
                account_id=account_id,
                created_at=utcnow(),
            )
            session.add(partner)
    except IntegrityError:  # made at the same moment by another request
        return await home_partner(session, name=name)
    return partner


# --- keys ---------------------------------------------------------------------------


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once, never stored


async def create_key(session: AsyncSession, *, actor: Actor, partner_id: int, name: str) -> NewKey:
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise UserError(N_("This partner does not exist."), status=404, code="not_found")
    name = name.strip()
    if not name or len(name) > KEY_NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise UserError(N_("Name the key (up to 80 characters), such as the till it is for."))
    secret = KEY_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    key = ApiKey(
        partner_id=partner.id,
        name=name,
        prefix=secret[: len(KEY_PREFIX) + 6],
        key_hash=key_hash(secret),
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(key)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="partner.key_create",
        object_type="partner",
        object_id=partner.id,
        details={"key": key.id, "name": name, "prefix": key.prefix},
    )
    return NewKey(key, secret)


async def revoke_key(
    session: AsyncSession, *, actor: Actor, key_id: int, partner_id: int | None = None
) -> ApiKey:
    """Refused by every process from its next request: keys are looked up each time."""
    key = await session.get(ApiKey, key_id, with_for_update=True, populate_existing=True)
    if key is None or (partner_id is not None and key.partner_id != partner_id):
        raise UserError(N_("This key does not exist."), status=404, code="not_found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="partner.key_revoke",
            object_type="partner",
            object_id=key.partner_id,
            details={"key": key.id, "name": key.name, "prefix": key.prefix},
        )
    return key


LAST_USED_EVERY = 60  # seconds: a busy till does not write its key's row every call


async def authenticate(session: AsyncSession, secret: str) -> tuple[ApiKey, Partner] | None:
    """The key and its partner, if the key exists and is not revoked."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    found = (
        await session.execute(
            select(ApiKey, Partner)
            .join(Partner, Partner.id == ApiKey.partner_id)
            .where(ApiKey.key_hash == key_hash(secret), ApiKey.revoked_at.is_(None))
        )
    ).first()
    if found is None:
        return None
    key, partner = found
    return key, partner


async def touch_key(session: AsyncSession, key: ApiKey) -> None:
    """Record when the key was last used (at most once a minute)."""
    now = utcnow()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_EVERY:
        result = await session.execute(
            update(ApiKey)
            .where(ApiKey.id == key.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result):  # what the row now holds, without writing it again
            set_committed_value(key, "last_used_at", now)


# --- cashiers -----------------------------------------------------------------------


async def add_cashier(
    session: AsyncSession, *, actor: Actor, partner_id: int, username: str, password: str
) -> StaffUser:
    """A staff login that sees only this partner's till."""
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise UserError(N_("This partner does not exist."), status=404, code="not_found")
    staff = await create_staff(
        session, username=username, password=password, role=Role.CASHIER, actor=actor, cashier=True
    )
    session.add(Cashier(staff_id=staff.id, partner_id=partner.id))
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="partner.cashier_add",
        object_type="partner",
        object_id=partner.id,
        details={"username": staff.username},
    )
    return staff


async def cashier_partner(session: AsyncSession, staff_id: int) -> Partner | None:
    return await session.scalar(
        select(Partner).join(Cashier, Cashier.partner_id == Partner.id).where(
            Cashier.staff_id == staff_id
        )
    )
