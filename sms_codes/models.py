"""SMS lines, the codes people text to them, what came in, who sent it, who opted out,
and the coupons the codes gave out."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vafa.database import Base, UTCDateTime, one_of, utcnow
from vafa.models import BigId


class CodeAction(StrEnum):
    CARD = "card"  # the business card: the reply alone
    COUPON = "coupon"  # a coupon from a limited pool, one per number
    BALANCE = "balance"  # the member's points and tier; others are invited to join
    JOIN = "join"  # join the club: a member, consent by SMS, the signup bonus


class Outcome(StrEnum):
    """What became of an incoming message."""

    REPLIED = "replied"  # a code's reply was queued
    REPEAT = "repeat"  # the code again: the line's reply for a repeated code
    UNKNOWN = "unknown"  # no code matched: the line's reply for unknown words
    INVITED = "invited"  # a members-only code from a non-member: the invitation
    SOLD_OUT = "sold_out"  # the coupon pool is empty
    OPT_OUT = "opt_out"  # 11 or «لغو»: suppressed on this line
    OPT_IN = "opt_in"  # 12: subscribed again
    SUPPRESSED = "suppressed"  # a marketing reply not sent to a number that opted out
    THROTTLED = "throttled"  # too many auto-replies to this number lately
    OVER_BUDGET = "over_budget"  # the line's SMS for the day are spent
    NO_REPLY = "no_reply"  # nothing to say (a repeated opt-out, an empty reply)
    INVALID = "invalid"  # not from a mobile number we can answer


class Line(Base):
    """A number the business receives SMS on (a Kavenegar line)."""

    __tablename__ = "sms_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_budget: Mapped[int] = mapped_column(Integer, default=500)  # auto-replies a day
    # Replies per language ({"fa": ..., "en": ..., "hy": ...}); editable.
    unknown_reply: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    repeat_reply: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    invite_reply: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Auto-replies queued on `replies_on` (a club day): counted by one conditional
    # update per reply, so the budget holds under concurrency at a constant cost.
    replies_on: Mapped[date | None] = mapped_column(Date)
    replies_today: Mapped[int] = mapped_column(Integer, default=0)
    # The club day the budget ran out was logged (once a day; staff see it as an alert
    # while `replies_today` stands at the budget).
    budget_alerted_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Code(Base):
    """What a word texted to a line does."""

    __tablename__ = "sms_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("sms_lines.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(16))
    replies: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Advertising: not sent to numbers that opted out of the line.
    marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coupon_pool: Mapped[int | None] = mapped_column(Integer)  # coupons it may give
    coupons_issued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (one_of("action", CodeAction),)


class Keyword(Base):
    """A word that triggers a code, as typed and as matched (`key`: folded, no spaces)."""

    __tablename__ = "sms_code_keywords"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("sms_lines.id"))
    code_id: Mapped[int] = mapped_column(ForeignKey("sms_codes.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(60))

    __table_args__ = (UniqueConstraint("line_id", "key"),)


class Contact(Base):
    """Someone who texted the business, kept for later campaigns."""

    __tablename__ = "sms_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class Inbound(Base):
    """One incoming SMS, stored once (Kavenegar's `messageid`) and then processed."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    messageid: Mapped[str] = mapped_column(String(64), unique=True)
    line_number: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(32))  # E.164 when it is a mobile number
    text: Mapped[str] = mapped_column(Text)  # as received
    source: Mapped[str] = mapped_column(String(8), default="hook")  # "hook" or "pull"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("sms_lines.id"))
    code_id: Mapped[int | None] = mapped_column(ForeignKey("sms_codes.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("sms_contacts.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"))
    # A contact's first message, and a member made by this message: the stats count them.
    new_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    new_member: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_sms_inbound_waiting", "processed_at", "id"),
        Index("ix_sms_inbound_contact", "contact_id", "received_at"),
        Index("ix_sms_inbound_code", "code_id", "received_at"),
        Index("ix_sms_inbound_line", "line_id", "processed_at"),
    )


class Suppression(Base):
    """A number that opted out of a line's advertising (11 or «لغو»)."""

    __tablename__ = "sms_suppressions"

    line_id: Mapped[int] = mapped_column(ForeignKey("sms_lines.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("sms_inbound.id"))


class Coupon(Base):
    """A coupon a code gave a number; staff mark it used at the counter."""

    __tablename__ = "sms_coupons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("sms_codes.id"))
    phone: Mapped[str] = mapped_column(String(16))
    coupon: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("code_id", "phone"),)
