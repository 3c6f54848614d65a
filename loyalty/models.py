"""Ledger tables. Points behave like money: every movement is a journal entry from
one account to another, so the books always balance; nothing is updated in place
except the cached balances and lot remainders, which `vafa ledger verify` re-derives.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vafa.database import Base, UTCDateTime, utcnow
from vafa.models import BigId

# Account kinds. A member has a wallet (spendable), a pending account (points not yet
# available) and a debt account (points owed after a return, never below zero
# elsewhere). The programme issues and takes back points; partners come later.
PROGRAMME, WALLET, PENDING, DEBT, PARTNER = "programme", "wallet", "pending", "debt", "partner"
MEMBER_KINDS = (WALLET, PENDING, DEBT)

ENTRY_KINDS = ("earn", "redeem", "expire", "reverse", "adjust", "transfer")


class Account(Base):
    __tablename__ = "loyalty_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="RESTRICT")
    )
    balance: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("customer_id", "kind", name="uq_loyalty_accounts_member_kind"),
        # Exactly one programme account.
        Index(
            "uq_loyalty_accounts_programme",
            "kind",
            unique=True,
            sqlite_where=text("kind = 'programme'"),
            postgresql_where=text("kind = 'programme'"),
        ),
        CheckConstraint("kind NOT IN ('wallet', 'pending') OR balance >= 0", name="balance"),
        CheckConstraint("kind != 'debt' OR balance <= 0", name="debt"),
        CheckConstraint(
            "(customer_id IS NULL) = (kind NOT IN ('wallet', 'pending', 'debt'))", name="owner"
        ),
    )


class JournalEntry(Base):
    """One movement of `amount` points from `debit_account_id` to `credit_account_id`."""

    __tablename__ = "loyalty_journal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    debit_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_accounts.id"))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    cause_type: Mapped[str | None] = mapped_column(String(32))
    cause_id: Mapped[str | None] = mapped_column(String(64))
    memo: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(32), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("debit_account_id != credit_account_id", name="accounts"),
        CheckConstraint(
            "kind IN ('earn', 'redeem', 'expire', 'reverse', 'adjust', 'transfer')", name="kind"
        ),
        Index("ix_loyalty_journal_member", "customer_id", "id"),
        Index("ix_loyalty_journal_debit", "debit_account_id"),
        Index("ix_loyalty_journal_credit", "credit_account_id"),
    )


class Lot(Base):
    """Points from one earn entry: how many are left, when they arrive and expire."""

    __tablename__ = "loyalty_lots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_journal.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    available: Mapped[bool] = mapped_column(Boolean)  # False while pending
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining"),
        Index("ix_loyalty_lots_spend", "customer_id", "available", "expires_at"),
        Index("ix_loyalty_lots_due", "available", "available_at"),
        Index("ix_loyalty_lots_expiry", "expires_at"),
    )


class Allocation(Base):
    """Points an entry took from (positive) or gave back to (negative) a lot."""

    __tablename__ = "loyalty_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_journal.id"), index=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_lots.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("amount != 0", name="amount"),)
