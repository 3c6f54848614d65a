"""Purchases earn points; returns take them back in proportion.

Recording a purchase is one service call (the counter's form, the demo, a partner API
later); a receipt number can earn only once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers import services as customers
from customers.models import Customer
from loyalty import keys, ledger, messages, rules, tiers
from loyalty.models import JournalEntry, Lot, Purchase, Refund, RuleKind
from loyalty.programme import current
from vafa import audit
from vafa.actor import Actor
from vafa.database import insert_or_skip, utcnow
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.i18n.normalize import fold, tidy_text, to_ascii_digits

MAX_AMOUNT = 10**15  # Rials; beyond any real receipt
MAX_CATEGORIES = 20


@dataclass(frozen=True)
class Recorded:
    purchase: Purchase
    duplicate: bool  # the receipt was recorded before; nothing new happened


def clean_receipt(raw: str) -> tuple[str, str]:
    """The receipt number as typed (its case kept, digits in ASCII) and its key: the
    same receipt typed in another case or other digits is the same receipt."""
    shown = to_ascii_digits(tidy_text(raw))
    key = fold(raw)
    if not key or len(shown) > 64 or len(key) > 64:
        raise UserError(N_("Enter the receipt number (up to 64 characters)."))
    return shown, key


def clean_categories(raw: list[str]) -> list[str]:
    categories = sorted({fold(c)[:40] for c in raw if fold(c)})
    if len(categories) > MAX_CATEGORIES:
        raise UserError(N_("Too many categories."))
    return categories


async def record_purchase(
    session: AsyncSession,
    *,
    actor: Actor,
    phone: str,
    amount: int,
    categories: list[str],
    receipt_number: str,
    tz: str,
    language: str = "fa",
    link: str = "",
    issuer: int | None = None,
    source: str = "counter",
    enrol: bool = True,
    check: Callable[[Purchase], Awaitable[None]] | None = None,
) -> Recorded:
    """A purchase earns under the spend rules; the buyer becomes a member if new (with
    the signup bonus and a welcome SMS pointing at `link`, the portal). The member hears
    what they earned by SMS. The same receipt sent again is the same purchase; a receipt
    already used for another purchase is refused before anything is written. `issuer`:
    the account the points come from (a partner's); the programme's if none. Receipt
    numbers are unique per issuer. `source`: where a new member joined; `enrol=False`
    refuses a number that is not a member yet (`unknown_member`). `check` runs once the
    purchase's points are known, before anything is said about it: a refusal there
    (a partner's monthly cap) undoes the purchase."""
    if not 0 < amount <= MAX_AMOUNT:
        raise UserError(N_("The amount must be more than zero."))
    receipt, receipt_key = clean_receipt(receipt_number)
    categories = clean_categories(categories)
    issuer = issuer or await ledger.programme_account(session)
    customer = await customers.get_by_phone(session, phone)
    joined = False
    if customer is None:
        if not enrol:
            raise UserError(
                N_("No member has this phone number."), status=404, code="unknown_member"
            )
        # A receipt used before is refused before a new member is written.
        await _recorded(session, issuer, receipt_key, phone=phone, amount=amount)
        customer, joined = await customers.join(
            session, phone=phone, language=language, source=source
        )
    # The receipt claims its row: the same receipt posted twice at once waits for the
    # first one and gets its purchase (or a refusal, if that was another purchase); a
    # refusal undoes the whole request, a new member included.
    purchase = await insert_or_skip(
        session,
        Purchase,
        {
            "customer_id": customer.id,
            "issuer_account_id": issuer,
            "receipt_number": receipt,
            "receipt_key": receipt_key,
            "amount": amount,
            "categories": categories,
            "points": 0,
            "recorded_by": actor.label,
            "created_at": utcnow(),
        },
        unique=["issuer_account_id", "receipt_key"],
    )
    if purchase is None:
        recorded = await _recorded(session, issuer, receipt_key, phone=phone, amount=amount)
        if recorded is None:  # cannot be: the receipt's row conflicted
            raise RuntimeError("receipt neither new nor found")
        return recorded
    tier = await tiers.current_tier(session, customer.id)
    now = utcnow()
    total = 0
    for rule in await rules.active_rules(session, RuleKind.SPEND, now):
        points = rules.spend_points(rule, amount=amount, categories=categories, tier=tier)
        if points <= 0:
            continue
        entry = await rules.award(
            session,
            rule=rule,
            customer_id=customer.id,
            points=points,
            key=keys.purchase(purchase.id),
            cause=ledger.Cause("purchase", purchase.id),
            tz=tz,
            created_by=actor.label,
            now=now,
            issuer=issuer,
        )
        total += entry.amount if entry is not None else 0
    purchase.points = total
    if check is not None:
        await check(purchase)
    if customer.referred_by_id is not None:
        await _referral_bonus(
            session, customer_id=customer.id, referrer_id=customer.referred_by_id, tz=tz
        )
    await tiers.earned(session, customer.id, total, tz=tz, now=now)
    await audit.record(
        session,
        actor=actor,
        action="purchase.record",
        object_type="purchase",
        object_id=purchase.id,
        details={"receipt": purchase.receipt_number, "amount": amount, "points": total},
    )
    await messages.after_purchase(
        session, customer=customer, points=total, joined=joined, tz=tz, link=link
    )
    return Recorded(purchase, duplicate=False)


async def _recorded(
    session: AsyncSession, issuer: int, receipt: str, *, phone: str, amount: int
) -> Recorded | None:
    """The purchase already recorded under this receipt (at this issuer), if it is this
    one; a refusal if the receipt belongs to another purchase."""
    existing = await session.scalar(
        select(Purchase).where(
            Purchase.issuer_account_id == issuer, Purchase.receipt_key == receipt
        )
    )
    if existing is None:
        return None
    owner = await session.get(Customer, existing.customer_id)
    if owner is not None and owner.phone == phone and existing.amount == amount:
        return Recorded(existing, duplicate=True)
    raise UserError(
        N_("This receipt number was already recorded for another purchase."), code="receipt_used"
    )


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
            kind=RuleKind.REFERRAL,
            customer_id=member,
            key=keys.referral(customer_id, side),
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
    actor: Actor,
    purchase_id: int,
    amount: int,
    key: str,
) -> Refund:
    """A full or partial return; the same form (`key`) sent twice records it once.
    Points come back in proportion to the money; those already spent follow the
    programme's policy (a debt, or let go), recorded here."""
    key = keys.refund(actor, purchase_id, key)
    # The purchase's row lock orders its returns. Read the key only once it is held:
    # a twin of this form waits here for the first one, then finds its refund (READ
    # COMMITTED: a statement after the wait sees what the first one committed). The
    # locked read also overwrites a purchase the session read before.
    purchase = await session.get(
        Purchase, purchase_id, with_for_update=True, populate_existing=True
    )
    if purchase is None:
        raise UserError(N_("This purchase does not exist."), status=404)
    existing = await session.scalar(select(Refund).where(Refund.key == key))
    if existing is not None:
        return existing
    if amount <= 0 or purchase.refunded_amount + amount > purchase.amount:
        raise UserError(N_("The refund cannot be more than what is left of the purchase."))
    # Cumulative rounding: several partial refunds never take more than the purchase gave.
    target = purchase.points * (purchase.refunded_amount + amount) // purchase.amount
    points = target - purchase.points_taken_back
    policy = (await current(session)).programme.return_policy
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
            key=keys.refund_lot(key, lot.id),
            cause=ledger.Cause("refund", purchase.id),
            created_by=actor.label,
            issuer=purchase.issuer_account_id,
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
        recorded_by=actor.label,
        created_at=utcnow(),
    )
    session.add(refund)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="purchase.refund",
        object_type="purchase",
        object_id=purchase.id,
        details={"amount": amount, "points": points},
    )
    return refund
