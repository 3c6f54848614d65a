"""Partner tables: the partners and their terms, their API keys and cashiers, the
transactions made at their tills, the consent codes members give there, the codes a
member shows at a till, the API's idempotency records, and closed settlement periods.

Points themselves move only through the loyalty ledger: each partner has its own
ledger account (`account_id`), so what is earned or spent there is in the books.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vafa.database import Base, UTCDateTime, one_of, utcnow
from vafa.models import BigId


class Category(StrEnum):
    FOOD = "food"
    CAFE = "cafe"
    GROCERY = "grocery"
    FASHION = "fashion"
    BEAUTY = "beauty"
    HEALTH = "health"
    ELECTRONICS = "electronics"
    HOME = "home"
    LEISURE = "leisure"
    SERVICES = "services"
    OTHER = "other"


class TransactionKind(StrEnum):
    EARN = "earn"  # a purchase at the partner earned points
    REDEEM = "redeem"  # points spent at the partner
    REVERSE = "reverse"  # a return of an earn, or a redemption given back


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)  # per language, as typed
    category: Mapped[str] = mapped_column(String(16), default=Category.OTHER)
    logo: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    address: Mapped[str] = mapped_column(String(300), default="")
    # The club's own tills: its keys and cashiers record purchases as the counter does
    # (the programme's account); it is not settled with.
    home: Mapped[bool] = mapped_column(Boolean, default=False)
    earn: Mapped[bool] = mapped_column(Boolean, default=True)  # members earn here
    redeem: Mapped[bool] = mapped_column(Boolean, default=False)  # members spend here
    # Settlement: Rials per point the partner pays for points earned there, and the
    # club pays for points spent there; commission in basis points of net sales.
    earn_rials_per_point: Mapped[int] = mapped_column(BigInteger, default=0)
    redeem_rials_per_point: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_bp: Mapped[int] = mapped_column(Integer, default=0)
    enrol: Mapped[bool] = mapped_column(Boolean, default=False)  # may make new members
    # Points per Solar Hijri month earned / spent there; None: no cap.
    monthly_earn_cap: Mapped[int | None] = mapped_column(BigInteger)
    monthly_redeem_cap: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("loyalty_accounts.id"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        one_of("category", Category),
        CheckConstraint(
            "earn_rials_per_point >= 0 AND redeem_rials_per_point >= 0", name="rates"
        ),
        CheckConstraint("commission_bp >= 0 AND commission_bp <= 10000", name="commission"),
        Index(
            "uq_partners_home",
            "home",
            unique=True,
            sqlite_where=text("home"),
            postgresql_where=text("home"),
        ),
    )

    def open_at(self, now: datetime) -> bool:
        return (
            self.active
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or now < self.ends_at)
        )


class ApiKey(Base):
    """A partner's key to the API: only its SHA-256 is kept (the key is 256 random
    bits, so a fast hash is enough); `prefix` tells keys apart on the page."""

    __tablename__ = "partner_api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Cashier(Base):
    """A staff login with the cashier role, bound to one partner's till."""

    __tablename__ = "partner_cashiers"

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff_users.id"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"), index=True)


class Transaction(Base):
    """One earn, redemption or reversal at a partner's till, as the partner sees it.
    The points moved are the ledger's entries (`purchase_id`'s, or `entry_id`)."""

    __tablename__ = "partner_transactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(String(8))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    purchase_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loyalty_purchases.id"))
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loyalty_journal.id"))
    reverses_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner_transactions.id"))
    points: Mapped[int] = mapped_column(BigInteger)  # moved by this transaction
    amount: Mapped[int] = mapped_column(BigInteger)  # Rials: the sale, the points' value, the return
    receipt: Mapped[str] = mapped_column(String(64), default="")
    # What later reversals undid: Rials of an earn's sale, points of a redemption.
    reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    recorded_by: Mapped[str] = mapped_column(String(32))  # "key:4", "staff:9"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        one_of("kind", TransactionKind),
        Index("ix_partner_transactions_partner", "partner_id", "created_at"),
        CheckConstraint("points >= 0 AND amount >= 0 AND reversed >= 0", name="numbers"),
    )


class Consent(Base):
    """A code texted to a member so they agree to spend `points` at one partner; only
    an HMAC of the code (bound to the partner, member and points) is kept."""

    __tablename__ = "partner_consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_partner_consents_member", "customer_id", "partner_id"),)


class MemberCode(Base):
    """The short one-time code a member shows at a till (from the portal): it names
    the member for a few minutes and stands for their consent to one redemption."""

    __tablename__ = "partner_member_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotentRequest(Base):
    """An API call that moved points, under the partner's `Idempotency-Key`: written
    in the same transaction as the movement, with the answer a retry gets again."""

    __tablename__ = "partner_idempotency"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the method, path and body
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("partner_id", "key", name="uq_partner_idempotency_key"),)


class Statement(Base):
    """A closed settlement period of one partner: its figures as they were at closing,
    with the terms they were worked out at. A closed period does not move."""

    __tablename__ = "partner_statements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partners.id"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    figures: Mapped[dict[str, int]] = mapped_column(JSON)
    closed_by: Mapped[str] = mapped_column(String(32))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("partner_id", "first_day", name="uq_partner_statements_period"),
    )
