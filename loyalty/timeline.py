"""What the points engine adds to a customer's timeline: purchases, returns, points
movements, vouchers and tier changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import tiers
from loyalty.models import (
    PARTNER,
    PENDING,
    WALLET,
    Account,
    JournalEntry,
    Purchase,
    Refund,
    Reward,
    Tier,
    TierChange,
    Voucher,
)
from loyalty.rewards import title
from vafa.domain import TimelineItem
from vafa.i18n import N_, current_language

# Entries shown by their own item (the purchase, the return, the voucher) are not
# repeated as points movements.
SHOWN_ELSEWHERE = ("purchase", "refund", "reward", "voucher")


def _older(column: Any, before: datetime | None) -> Any:
    return column < before if before is not None else True


def _partner_accounts() -> Any:
    """The partners' ledger accounts (a few rows, found through the accounts' owner
    index: a partner's has no customer). What happened at a partner is the partners
    domain's item, so it is not shown here a second time."""
    return select(Account.id).where(Account.customer_id.is_(None), Account.kind == PARTNER)


async def timeline(
    session: AsyncSession, customer_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    purchases = await session.scalars(
        select(Purchase)
        .where(
            Purchase.customer_id == customer_id,
            _older(Purchase.created_at, before),
            Purchase.issuer_account_id.not_in(_partner_accounts()),
        )
        .order_by(Purchase.created_at.desc())
        .limit(limit)
    )
    items += [
        TimelineItem(
            p.created_at,
            "purchase",
            N_("Purchase of %(amount)s, receipt %(receipt)s"),
            {"amount": p.amount, "receipt": p.receipt_number},
            points=p.points or None,
        )
        for p in purchases
    ]
    refunds = await session.scalars(
        select(Refund)
        .join(Purchase, Purchase.id == Refund.purchase_id)
        .where(
            Purchase.customer_id == customer_id,
            _older(Refund.created_at, before),
            Purchase.issuer_account_id.not_in(_partner_accounts()),
        )
        .order_by(Refund.created_at.desc())
        .limit(limit)
    )
    items += [
        TimelineItem(
            r.created_at,
            "return",
            N_("Return of %(amount)s"),
            {"amount": r.amount},
            points=-r.taken or None,
        )
        for r in refunds
    ]
    accounts = dict(
        (
            await session.execute(
                select(Account.id, Account.kind).where(Account.customer_id == customer_id)
            )
        ).all()
    )
    usable = {i for i, kind in accounts.items() if kind in (WALLET, PENDING)}
    entries = await session.scalars(
        select(JournalEntry)
        .where(
            JournalEntry.customer_id == customer_id,
            _older(JournalEntry.created_at, before),
            JournalEntry.cause_type.is_(None) | JournalEntry.cause_type.not_in(SHOWN_ELSEWHERE),
            JournalEntry.debit_account_id.not_in(_partner_accounts()),
            JournalEntry.credit_account_id.not_in(_partner_accounts()),
        )
        .order_by(JournalEntry.id.desc())
        .limit(limit)
    )
    for entry in entries:
        change = (entry.amount if entry.credit_account_id in usable else 0) - (
            entry.amount if entry.debit_account_id in usable else 0
        )
        items.append(
            TimelineItem(
                entry.created_at,
                f"points-{entry.kind}",
                N_("Points: %(memo)s") if entry.memo else N_("Points"),
                {"memo": entry.memo or ""},
                points=change or None,
            )
        )
    vouchers = await session.execute(
        select(Voucher, Reward)
        .join(Reward, Reward.id == Voucher.reward_id)
        .where(Voucher.customer_id == customer_id, _older(Voucher.created_at, before))
        .order_by(Voucher.created_at.desc())
        .limit(limit)
    )
    language = current_language.get()
    items += [
        TimelineItem(
            v.created_at,
            "voucher",
            N_("Took the reward %(reward)s (voucher %(code)s)"),
            {"reward": title(reward, language), "code": v.code, "status": v.status},
            points=-v.points,
        )
        for v, reward in vouchers.all()
    ]
    changes = await session.execute(
        select(TierChange, Tier)
        .outerjoin(Tier, Tier.id == TierChange.to_tier_id)
        .where(TierChange.customer_id == customer_id, _older(TierChange.at, before))
        .order_by(TierChange.at.desc())
        .limit(limit)
    )
    items += [
        TimelineItem(
            change.at,
            "tier",
            N_("Tier is now %(tier)s") if tier else N_("No tier any more"),
            {"tier": tiers.tier_name(tier, language)},
        )
        for change, tier in changes.all()
    ]
    return sorted(items, key=lambda item: item.at, reverse=True)[:limit]
