"""Kernel tables: the club, staff accounts, sessions, one-time codes, rate-limit events,
the SMS outbox, the versions of what processes keep in memory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from vafa.database import Base, UTCDateTime, one_of, utcnow
from vafa.money import Currency
from vafa.permissions import Role

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Club(Base):
    """The business running this Vafa installation (one row)."""

    __tablename__ = "club"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tehran")
    default_language: Mapped[str] = mapped_column(String(2), default="fa")
    # How amounts (stored in Rials, or Drams) are shown and typed: `vafa.money`.
    currency: Mapped[str] = mapped_column(String(8), default=Currency.RIAL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (one_of("currency", Currency),)


class CacheVersion(Base):
    """The version of data each process keeps in memory (`vafa.cache`): changed in the
    transaction that changes the data, read by every process before it uses its copy."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class StaffUser(Base):
    """A staff account (owner, manager, agent, analyst); managed from the admin."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (one_of("role", Role),)


class AuthSession(Base):
    """Server side of a login: the JWT's `jti`. Revoking the row ends the login."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    audience: Mapped[str] = mapped_column(String(16))  # "customer" or "staff"
    subject_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_auth_sessions_subject", "audience", "subject_id"),)


class OtpChallenge(Base):
    """A login code sent by SMS. Only an HMAC of the code is kept."""

    __tablename__ = "otp_challenges"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))


class RateEvent(Base):
    """One counted action (a code sent, a code tried, a password tried) for rate limits."""

    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_rate_events_lookup", "bucket", "key", "at"),)


class SmsMessage(Base):
    """The SMS outbox: every outgoing message, written with the change that caused it.

    Delivery (`vafa.sms.worker`): `pending` until claimed; `sending` while one worker
    holds the lease (`lease_token`, until `next_attempt_at`) for attempt `attempts`,
    committed before the gateway is called; then `sent`, `failed` or `expired`. A row
    still `sending` after its lease had an unknown outcome and is looked up at the
    gateway (by `localid`) before anything is sent again."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    to: Mapped[str] = mapped_column(String(16), index=True)
    # The line it goes from (a reply leaves from the line that was texted); None: the
    # gateway's default sender.
    sender: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="text")  # "otp" or "text"
    # For template messages (Kavenegar verify_lookup): the tokens to fill in.
    tokens: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # Urgent messages (login codes, replies a person asked for) go at any hour; the
    # rest wait for the club's daytime window.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Names the claim holding the lease; only its holder records the outcome.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(300))
    backend: Mapped[str | None] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_sms_messages_due", "status", "next_attempt_at"),)

    @property
    def localid(self) -> str:
        """Our id for the message at the gateway (Kavenegar's `localid`): stable across
        attempts, so "did message N go?" can be asked after a timeout or a crash."""
        return str(self.id)
