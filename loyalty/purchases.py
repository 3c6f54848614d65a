"""Purchases earn points; returns take them back in proportion.

Recording a purchase is one service call (the admin form now, a partner API later);
a receipt number can earn only once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customers import service as customers
from loyalty import ledger, rules, tiers
from loyalty.models import JournalEntry, Lot, Purchase, Refund
from loyalty.programme import get_programme
from vafa.database import utcnow
from vafa.i18n import N_
from vafa.i18n.normalize import fold

MAX_AMOUNT = 10**15  # Rials; beyond any real receipt
MAX_CATEGORIES = 20


class PurchaseError(ValueError):
    """`args[0]` is an untranslated message for the person at the form."""


@dataclass(frozen=True)
class Recorded:
    purchase: Purchase
    duplicate: bool  # the receipt was recorded before; nothing new happened


def clean_receipt(raw: str) -> str:
    receipt = fold(raw)
    if not receipt or len(receipt) > 64:
        raise PurchaseError(N_("Enter the receipt number (up to 64 characters)."))
    return receipt


def clean_categories(raw: list[str]) -> list[str]:
    categories = sorted({fold(c)[:40] for c in raw if fold(c)})
    if len(categories) > MAX_CATEGORIES:
        raise PurchaseError(N_("Too many categories."))
    return categories


async def record_purchase(
    session: AsyncSession,
    *,
    phone: str,
    amount: int,
    categories: list[str],
    receipt_number: str,
    recorded_by: str,
    tz: str,
    language: str = "fa",
) -> Recorded:
    if not 0 < amount <= MAX_AMOUNT:
        raise PurchaseError(N_("The amount must be a positive number of Rials."))
    receipt = clean_receipt(receipt_number)
    categories = clean_categories(categories)
    existing = await session.scalar(select(Purchase).where(Purchase.receipt_number == receipt))
    customer, _ = await customers.get_or_create(session, phone=phone, language=language)
    if existing is not None:
        if existing.customer_id == customer.id and existing.amount == amount:
            return Recorded(existing, duplicate=True)
        raise PurchaseError(N_("This receipt number was already recorded for another purchase."))
    try:
        async with session.begin_nested():
            purchase = Purchase(
                customer_id=customer.id,
                receipt_number=receipt,
                amount=amount,
                categories=categories,
                recorded_by=recorded_by,
                created_at=utcnow(),
            )
            session.add(purchase)
    except IntegrityError:
        # The same receipt, posted twice at once: the first one wins.
        existing = await session.scalar(select(Purchase).where(Purchase.receipt_number == receipt))
        assert existing is not None
        return Recorded(existing, duplicate=True)
    tier = await tiers.current_tier(session, customer.id)
    now = utcnow()
    total = 0
    for rule in await rules.active_rules(session, "spend", now):
        points = rules.spend_points(rule, amount=amount, categories=categories, tier=tier)
        if points <= 0:
            continue
        entry = await rules.award(
            session,
            rule=rule,
            customer_id=customer.id,
            points=points,
            key=f"purchase:{purchase.id}",
            cause=ledger.Cause("purchase", purchase.id),
            tz=tz,
            created_by=recorded_by,
            now=now,
        )
        total += entry.amount if entry is not None else 0
    purchase.points = total
    await session.flush()
    if customer.referred_by_id is not None:
        await _referral_bonus(
            session, customer_id=customer.id, referrer_id=customer.referred_by_id, tz=tz
        )
    await tiers.review(session, customer.id, tz=tz, now=now)
    return Recorded(purchase, duplicate=False)


async def _referral_bonus(
    session: AsyncSession, *, customer_id: int, referrer_id: int, tz: str
) -> None:
    """Both sides of an invitation earn once the friend makes their first purchase."""
    purchases_made = await session.scalar(
        select(func.count()).select_from(Purchase).where(Purchase.customer_id == customer_id)
    )
    if purchases_made != 1:
        return
    for member, side in ((referrer_id, "referrer"), (customer_id, "friend")):
        await rules.award_bonus(
            session,
            kind="referral",
            customer_id=member,
            key=f"referral:{customer_id}:{side}",
            tz=tz,
        )


async def purchase_lots(session: AsyncSession, purchase: Purchase) -> list[Lot]:
    return list(
        (
            await session.scalars(
                select(Lot)
                .join(JournalEntry, JournalEntry.id == Lot.entry_id)
                .where(
                    JournalEntry.cause_type == "purchase", JournalEntry.cause_id == str(purchase.id)
                )
                .order_by(Lot.id)
            )
        ).all()
    )


async def record_refund(
    session: AsyncSession,
    *,
    purchase_id: int,
    amount: int,
    key: str,
    recorded_by: str,
) -> Refund:
    """A full or partial return. Points come back in proportion to the money; those
    already spent follow the programme's policy (a debt, or let go), recorded here."""
    existing = await session.scalar(select(Refund).where(Refund.key == key))
    if existing is not None:
        return existing
    purchase = await session.get(Purchase, purchase_id, with_for_update=True)
    if purchase is None:
        raise PurchaseError(N_("This purchase does not exist."))
    await session.refresh(purchase)
    if amount <= 0 or purchase.refunded_amount + amount > purchase.amount:
        raise PurchaseError(N_("The refund cannot be more than what is left of the purchase."))
    # Cumulative rounding: several partial refunds never take more than the purchase gave.
    target = purchase.points * (purchase.refunded_amount + amount) // purchase.amount
    points = target - purchase.points_taken_back
    policy = (await get_programme(session)).return_policy
    taken = debt = forgiven = 0
    lots = await purchase_lots(session, purchase)
    left = points
    for index, lot in enumerate(lots):
        share = (
            left
            if index == len(lots) - 1
            else min(left, points * lot.points // max(purchase.points, 1))
        )
        if share <= 0:
            continue
        result = await ledger.take_back(
            session,
            lot=lot,
            points=share,
            policy=policy,
            key=f"{key}:{lot.id}",
            cause=ledger.Cause("refund", purchase.id),
            created_by=recorded_by,
        )
        taken, debt, forgiven = taken + result.taken, debt + result.debt, forgiven + result.forgiven
        left -= share
    purchase.refunded_amount += amount
    purchase.points_taken_back += points
    refund = Refund(
        purchase_id=purchase.id,
        key=key,
        amount=amount,
        points=points,
        taken=taken,
        debt=debt,
        forgiven=forgiven,
        policy=policy,
        recorded_by=recorded_by,
        created_at=utcnow(),
    )
    session.add(refund)
    await session.flush()
    return refund
