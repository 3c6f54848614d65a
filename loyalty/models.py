"""Ledger tables. Points behave like money: every movement is a journal entry from
one account to another, so the books always balance; nothing is updated in place
except the cached balances and lot remainders, which `vafa ledger verify` re-derives.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

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


class AccountKind(StrEnum):
    """A member has a wallet (spendable), a pending account (points not yet available)
    and a debt account (points owed after a return). The programme issues and takes
    back points; a partner's account issues what is earned there and receives what is
    spent there."""

    PROGRAMME = "programme"
    WALLET = "wallet"
    PENDING = "pending"
    DEBT = "debt"
    PARTNER = "partner"


PROGRAMME, WALLET, PENDING, DEBT, PARTNER = AccountKind
MEMBER_KINDS = (WALLET, PENDING, DEBT)


class EntryKind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"
    TRANSFER = "transfer"


class RuleKind(StrEnum):
    SPEND = "spend"
    SIGNUP = "signup"
    BIRTHDAY = "birthday"
    PROFILE = "profile"
    REFERRAL = "referral"
    SURVEY = "survey"
    MANUAL = "manual"


class VoucherStatus(StrEnum):
    ISSUED = "issued"
    USED = "used"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ExpireAt(StrEnum):
    DAY = "day"
    MONTH = "month"


class ReturnPolicy(StrEnum):
    DEBT = "debt"  # a debt, paid first from future points
    FORGIVE = "forgive"


class TierWindow(StrEnum):
    ROLLING = "rolling"
    CALENDAR = "calendar"


class Account(Base):
    __tablename__ = "loyalty_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="RESTRICT")
    )
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # What a member's history calls the other side of a movement (a partner's name, per
    # language); kept by whoever owns the account.
    name: Mapped[dict[str, str] | None] = mapped_column(JSON)

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
        one_of("kind", EntryKind),
        Index("ix_loyalty_journal_member", "customer_id", "id"),
        # An account's movements in a period (a partner's settlement).
        Index("ix_loyalty_journal_debit", "debit_account_id", "created_at"),
        Index("ix_loyalty_journal_credit", "credit_account_id", "created_at"),
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
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # expiry reminder sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining"),
        # Only lots that still hold points are ever looked up by member or by expiry;
        # spent and expired lots (most of a long history) stay out of these indexes.
        Index(
            "ix_loyalty_lots_open",
            "customer_id",
            "available",
            "expires_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
        Index(
            "ix_loyalty_lots_expiring",
            "expires_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
        Index("ix_loyalty_lots_due", "available", "available_at"),
    )


# `remaining > 0` written as SQL text, not a bound parameter, so that both engines
# can use the partial indexes above.
OPEN = text("loyalty_lots.remaining > 0")


class Allocation(Base):
    """Points an entry took from (positive) or gave back to (negative) a lot."""

    __tablename__ = "loyalty_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_journal.id"), index=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_lots.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("amount != 0", name="amount"),)


class Programme(Base):
    """The club's loyalty settings (one row)."""

    __tablename__ = "loyalty_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expiry_days: Mapped[int | None] = mapped_column(Integer, default=365)  # None: never
    expire_at: Mapped[str] = mapped_column(String(8), default="day")  # "day" or "month"
    return_policy: Mapped[str] = mapped_column(String(8), default="debt")  # or "forgive"
    reminder_days: Mapped[int] = mapped_column(Integer, default=30)
    tier_window: Mapped[str] = mapped_column(String(8), default="rolling")  # or "calendar"
    tier_window_days: Mapped[int] = mapped_column(Integer, default=365)
    tier_grace_days: Mapped[int] = mapped_column(Integer, default=30)
    # After each purchase the member gets an SMS: points earned, points to use.
    purchase_sms: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        one_of("expire_at", ExpireAt),
        one_of("return_policy", ReturnPolicy),
        one_of("tier_window", TierWindow),
    )


class EarnRule(Base):
    """A way to earn points, defined by staff without code."""

    __tablename__ = "loyalty_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # spend rules: one point per `rials_per_point`, times the multipliers (percent)
    rials_per_point: Mapped[int | None] = mapped_column(BigInteger)
    multiplier_percent: Mapped[int] = mapped_column(Integer, default=100)
    category_multipliers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    tier_multipliers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # bonus rules: a fixed number of points
    points: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_days: Mapped[int] = mapped_column(Integer, default=0)
    daily_cap: Mapped[int | None] = mapped_column(Integer)  # points per member per day
    budget: Mapped[int | None] = mapped_column(BigInteger)  # points in all
    budget_used: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Editing a rule closes this version and starts a new one, so past awards keep
    # naming the version that gave them. A lineage shares its daily cap and budget.
    previous_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loyalty_rules.id"))
    lineage_id: Mapped[int | None] = mapped_column(BigId)  # the first version; None: itself
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def lineage(self) -> int:
        return self.lineage_id or self.id

    __table_args__ = (
        one_of("kind", RuleKind),
        CheckConstraint("budget IS NULL OR budget_used <= budget", name="budget"),
        CheckConstraint("rials_per_point IS NULL OR rials_per_point > 0", name="rate"),
        CheckConstraint("multiplier_percent >= 0 AND pending_days >= 0", name="numbers"),
    )


class RuleAward(Base):
    """Points one rule gave one member (for daily caps and reports)."""

    __tablename__ = "loyalty_rule_awards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_rules.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_journal.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)  # in the club's time zone

    __table_args__ = (Index("ix_loyalty_rule_awards_cap", "rule_id", "customer_id", "day"),)


class Purchase(Base):
    __tablename__ = "loyalty_purchases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    # The account the points came from: the programme's at the club's own counter, a
    # partner's at the partner. A receipt number is unique per issuer.
    issuer_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_accounts.id"))
    receipt_number: Mapped[str] = mapped_column(String(64))  # as typed
    receipt_key: Mapped[str] = mapped_column(String(64))  # folded, for matching
    amount: Mapped[int] = mapped_column(BigInteger)  # Rials (or Drams)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    points_taken_back: Mapped[int] = mapped_column(BigInteger, default=0)
    recorded_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("issuer_account_id", "receipt_key", name="uq_loyalty_purchases_receipt"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund"),
    )


class Refund(Base):
    """A full or partial return and what it did to the member's points."""

    __tablename__ = "loyalty_refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    purchase_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_purchases.id"), index=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)  # points the return takes back
    taken: Mapped[int] = mapped_column(BigInteger)
    debt: Mapped[int] = mapped_column(BigInteger)
    forgiven: Mapped[int] = mapped_column(BigInteger)
    policy: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tier(Base):
    __tablename__ = "loyalty_tiers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)  # per language
    rank: Mapped[int] = mapped_column(Integer, unique=True)  # 1 = lowest
    threshold: Mapped[int] = mapped_column(BigInteger)  # points earned in the window
    earn_multiplier_percent: Mapped[int] = mapped_column(Integer, default=100)


class MemberTier(Base):
    __tablename__ = "loyalty_member_tiers"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True)
    tier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loyalty_tiers.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    below_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # grace started
    # Qualifying points: the sum at the last review plus what was earned since
    # (`tiers.earned`), so neither pages nor purchases sum a member's history.
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TierChange(Base):
    __tablename__ = "loyalty_tier_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    from_tier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loyalty_tiers.id"))
    to_tier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loyalty_tiers.id"))
    qualifying_points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))  # "earned", "grace ended", ...
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reward(Base):
    __tablename__ = "loyalty_rewards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    image: Mapped[str | None] = mapped_column(String(200))
    cost: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voucher_days: Mapped[int] = mapped_column(Integer, default=30)
    min_tier_rank: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("cost > 0", name="cost"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
    )


class Voucher(Base):
    __tablename__ = "loyalty_vouchers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    reward_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_rewards.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("loyalty_journal.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="issued")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigId)  # staff id

    __table_args__ = (
        one_of("status", VoucherStatus),
        Index("ix_loyalty_vouchers_member", "customer_id", "reward_id", "status"),
        Index("ix_loyalty_vouchers_due", "status", "expires_at"),
    )

    @property
    def is_open(self) -> bool:
        """Issued and not yet past its last day: it can still be used or cancelled."""
        return self.status == VoucherStatus.ISSUED and self.expires_at > utcnow()
