"""The customer record, its consent history and staff notes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vafa.database import Base, UTCDateTime, utcnow
from vafa.models import BigId


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    name: Mapped[str | None] = mapped_column(String(120))  # as typed, half-space kept
    # Folded name (digits, yeh/kaf, half-space, case) for search; never shown.
    name_key: Mapped[str | None] = mapped_column(String(120), index=True)
    birthday: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2), default="fa")
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_source: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Come back with friends": the member's own invitation code, and who invited them.
    referral_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))


class ConsentChange(Base):
    """Marketing consent given or withdrawn: evidence of when, how and from where."""

    __tablename__ = "customer_consent_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    given: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))  # "portal", "sms", "staff", ...
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_customer_consent_changes_member", "customer_id", "at"),)


class CustomerNote(Base):
    """A note staff keep on a customer's record."""

    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(BigId)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_customer_notes_member", "customer_id", "at"),)
