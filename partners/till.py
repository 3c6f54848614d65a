"""What happens at a partner's till, for the API and the cashier's page alike: find the
member, earn for a purchase, ask the member's consent, redeem, reverse.

Points move only through the points engine (`loyalty.purchases`, `loyalty.ledger`),
between the member and the partner's own account. Every refusal is a `UserError` with
a stable `code`, raised before anything is written or inside the caller's savepoint
(see `partners.idempotency.once`), so a refused call leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customers import services as customers
from customers.models import Customer
from loyalty import keys, ledger, purchases, tiers
from loyalty.models import WALLET, EntryKind, JournalEntry, Purchase
from partners.models import Consent, MemberCode, Partner, Transaction, TransactionKind
from vafa import club
from vafa.actor import Actor
from vafa.calendar import local_day, start_of_day, start_of_month
from vafa.database import rowcount, utcnow
from vafa.errors import UserError
from vafa.i18n import N_, current_language, localized, translate
from vafa.i18n.formatting import format_number
from vafa.i18n.normalize import InvalidPhone, normalize_phone, to_ascii_digits
from vafa.security import ratelimit
from vafa.settings import Settings
from vafa.sms import outbox

CONSENT_TTL = timedelta(minutes=5)
CONSENT_DIGITS = 6
MEMBER_CODE_TTL = timedelta(minutes=10)
MEMBER_CODE_DIGITS = 10
WINDOW = timedelta(minutes=10)
CONSENTS_PER_MEMBER = 5  # consent SMS to one member in 10 minutes
CONSENTS_PER_PARTNER = 300  # ... from one partner
WRONG_CODES = 5  # wrong consent or member codes per partner and member in 10 minutes
WRONG_MEMBER_CODES = 30  # unknown member codes per partner in 10 minutes
MEMBER_CODES_PER_MEMBER = 10  # new member codes in 10 minutes
MAX_POINTS = 10**9

NO_CONSENT = N_(
    "Enter the consent code texted to the member, or ask them to show their member code."
)
CONSENT_SMS = N_(
    "%(code)s is your code to spend %(points)s %(club)s points at %(partner)s. "
    "Give it to the cashier only if you agree. It is valid for 5 minutes."
)


@dataclass(frozen=True)
class Till:
    """Who is at the till: the partner and who acts for it (an API key or a cashier)."""

    partner: Partner
    actor: Actor
    recorded_by: str  # "key:4" or "staff:9"

    @classmethod
    def for_key(cls, partner: Partner, key_id: int, address: str | None) -> Till:
        return cls(partner, Actor.partner(partner.id, address), f"key:{key_id}")

    @classmethod
    def for_staff(cls, partner: Partner, staff_id: int, address: str | None) -> Till:
        return cls(partner, Actor.staff(staff_id, address), f"staff:{staff_id}")


def _hmac(settings: Settings, purpose: str, text: str) -> str:
    message = f"{purpose}:{text}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _digits(raw: str, length: int) -> str | None:
    digits = "".join(ch for ch in to_ascii_digits(raw) if ch.isdigit())
    return digits if len(digits) == length and digits.isascii() else None


def _open(partner: Partner, *, spending: bool) -> None:
    if not partner.open_at(utcnow()):
        raise UserError(N_("This partner is not active."), status=403, code="partner_inactive")
    if spending and not partner.redeem:
        raise UserError(
            N_("Points cannot be spent at this partner."), status=403, code="redeem_not_allowed"
        )
    if not spending and not partner.earn:
        raise UserError(
            N_("Points cannot be earned at this partner."), status=403, code="earn_not_allowed"
        )


def _points(points: int) -> int:
    if not 0 < points <= MAX_POINTS:
        raise UserError(
            N_("Enter the points: a whole number more than zero."), status=422, code="invalid_points"
        )
    return points


def clean_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        raise UserError(
            N_("Enter a mobile number, such as 0912 345 6789."), status=422, code="invalid_phone"
        ) from None


# --- finding the member --------------------------------------------------------------


async def member_by_phone(session: AsyncSession, phone: str) -> Customer:
    customer = await customers.get_by_phone(session, clean_phone(phone))
    if customer is None:
        raise UserError(N_("No member has this phone number."), status=404, code="unknown_member")
    return customer


async def _refuse_guessing(session: AsyncSession, bucket: str, key: str, limit: int) -> None:
    count, _ = await ratelimit.recent(session, bucket=bucket, key=key, window=WINDOW)
    if count >= limit:
        raise UserError(
            N_("Too many wrong codes. Please wait a few minutes."),
            status=429,
            code="too_many_attempts",
        )


async def member_by_code(
    session: AsyncSession, partner: Partner, raw: str, settings: Settings
) -> MemberCode:
    """The live member code typed at the till. Unknown codes are counted per partner
    (the caller commits the count even though the call is refused)."""
    bucket, key = "partner_member_code", str(partner.id)
    await _refuse_guessing(session, bucket, key, WRONG_MEMBER_CODES)
    digits = _digits(raw, MEMBER_CODE_DIGITS)
    found = (
        await session.scalar(
            select(MemberCode).where(
                MemberCode.code_hash == _hmac(settings, "member", digits),
                MemberCode.used_at.is_(None),
                MemberCode.expires_at > utcnow(),
            )
        )
        if digits
        else None
    )
    if found is None:
        await ratelimit.record(session, bucket=bucket, key=key)
        raise UserError(
            N_("This member code is not valid. Ask the member to show a new one."),
            status=422,
            code="invalid_member_code",
        )
    return found


def one_way(phone: str | None, member_code: str | None) -> None:
    if bool(phone) == bool(member_code):
        raise UserError(
            N_("Give either the member's phone number or their member code."),
            status=422,
            code="invalid_member",
        )


@dataclass(frozen=True)
class Member:
    """The member a till call names, and how: by phone (with a consent code to
    spend), or by the code they show (which is their consent)."""

    customer: Customer
    shown: MemberCode | None = None


async def find_member(
    session: AsyncSession,
    partner: Partner,
    settings: Settings,
    *,
    phone: str | None,
    member_code: str | None,
) -> Member:
    one_way(phone, member_code)
    if member_code:
        shown = await member_by_code(session, partner, member_code, settings)
        customer = await session.get(Customer, shown.customer_id)
        assert customer is not None
        return Member(customer, shown)
    return Member(await member_by_phone(session, phone or ""))


async def earning_phone(
    session: AsyncSession,
    partner: Partner,
    settings: Settings,
    *,
    phone: str | None,
    member_code: str | None,
) -> str:
    """The number a purchase earns for: the member's whose code was shown (a wrong code
    is counted), or the phone as typed (a new number may join where the partner enrols).
    Run before anything is written, so the count survives a refusal."""
    one_way(phone, member_code)
    if member_code:
        member = await find_member(session, partner, settings, phone=None, member_code=member_code)
        return member.customer.phone
    return clean_phone(phone or "")


async def redemption_proof(
    session: AsyncSession,
    partner: Partner,
    settings: Settings,
    *,
    phone: str | None,
    member_code: str | None,
    points: int,
    consent_code: str | None,
) -> tuple[Member, Consent | None]:
    """Who spends and their consent: the member code they showed (itself the consent),
    or their phone with the code texted for exactly these points. Wrong codes are
    counted; run before anything is written."""
    member = await find_member(
        session, partner, settings, phone=phone, member_code=member_code
    )
    if member.shown is not None:
        return member, None
    consent = await check_consent(
        session, partner, settings, customer=member.customer, points=points, code=consent_code or ""
    )
    return member, consent


# --- what a cashier sees ---------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    customer: Customer
    first_name: str
    tier: str
    spendable: int  # points the member can spend at this partner now


async def _month_points(
    session: AsyncSession, partner: Partner, kind: EntryKind, tz: str
) -> int:
    """Points earned (or spent) at the partner this club month, from the ledger."""
    since = start_of_day(start_of_month(local_day(utcnow(), tz), tz), tz)
    column = (
        JournalEntry.debit_account_id if kind == EntryKind.EARN else JournalEntry.credit_account_id
    )
    used = await session.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount), 0)).where(
            column == partner.account_id, JournalEntry.kind == kind, JournalEntry.created_at >= since
        )
    )
    return int(used or 0)


async def lookup(session: AsyncSession, till: Till, member: Member, tz: str) -> Lookup:
    partner = till.partner
    if not partner.open_at(utcnow()):
        raise UserError(N_("This partner is not active."), status=403, code="partner_inactive")
    customer = member.customer
    balance = (await ledger.balances(session, customer.id))[WALLET]
    spendable = balance if partner.redeem else 0
    if partner.monthly_redeem_cap is not None:
        left = partner.monthly_redeem_cap - await _month_points(
            session, partner, EntryKind.REDEEM, tz
        )
        spendable = max(0, min(spendable, left))
    tier = await tiers.current_tier(session, customer.id)
    first = (customer.name or "").split()
    return Lookup(
        customer,
        first[0] if first else "",
        tiers.tier_name(tier, current_language.get()) if tier else "",  # the cashier's
        spendable,
    )


async def _lock_for_cap(session: AsyncSession, partner: Partner) -> None:
    """Calls that count against a monthly cap at one partner go one at a time."""
    await session.execute(select(Partner.id).where(Partner.id == partner.id).with_for_update())


def _cap_reached() -> UserError:
    return UserError(
        N_("This partner has reached its monthly limit of points."),
        status=409,
        code="partner_cap_reached",
    )


# --- earning -------------------------------------------------------------------------


async def earn(
    session: AsyncSession,
    till: Till,
    settings: Settings,
    *,
    phone: str,
    amount: int,
    receipt: str,
    categories: list[str],
) -> Transaction:
    """A purchase at the partner earns under the club's rules, from the partner's
    account. A number that is not a member joins only where the partner may enrol.
    `phone`: the member's number, found from their code by the caller if they showed
    one (before anything is written: a wrong code counts)."""
    partner = till.partner
    _open(partner, spending=False)
    number = clean_phone(phone)
    if partner.monthly_earn_cap is not None:
        await _lock_for_cap(session, partner)

    async def within_cap(purchase: Purchase) -> None:
        if partner.monthly_earn_cap is None:
            return
        used = await _month_points(session, partner, EntryKind.EARN, settings.timezone)
        if used > partner.monthly_earn_cap:  # this purchase's points are counted already
            raise _cap_reached()

    recorded = await purchases.record_purchase(
        session,
        actor=till.actor,
        phone=number,
        amount=amount,
        categories=categories,
        receipt_number=receipt,
        tz=settings.timezone,
        language=settings.default_language,  # a new member's; a member keeps theirs
        link=settings.public_url or "",
        issuer=partner.account_id,
        source="partner",
        enrol=partner.enrol,
        check=within_cap,
    )
    purchase = recorded.purchase
    if recorded.duplicate:
        # The same sale sent again (a till's retry without its idempotency key).
        earlier = await session.scalar(
            select(Transaction).where(Transaction.purchase_id == purchase.id)
        )
        if earlier is not None:
            return earlier
        raise UserError(
            N_("This receipt number was already recorded for another purchase."),
            status=409,
            code="receipt_used",
        )
    transaction = Transaction(
        partner_id=partner.id,
        kind=TransactionKind.EARN,
        customer_id=purchase.customer_id,
        purchase_id=purchase.id,
        points=purchase.points,
        amount=purchase.amount,
        receipt=purchase.receipt_number,
        recorded_by=till.recorded_by,
        created_at=utcnow(),
    )
    session.add(transaction)
    await session.flush()
    return transaction


# --- consent and redemption ------------------------------------------------------------


def _consent_hash(settings: Settings, partner_id: int, customer_id: int, points: int, code: str) -> str:
    return _hmac(settings, "consent", f"{partner_id}:{customer_id}:{points}:{code}")


@dataclass(frozen=True)
class Asked:
    consent: Consent
    code: str  # texted to the member; returned here only for tests and the demo


async def ask_consent(
    session: AsyncSession, till: Till, settings: Settings, *, phone: str, points: int
) -> Asked:
    """Text the member a code that lets this partner spend exactly `points` of theirs,
    for a few minutes. Limited per member and per partner."""
    partner = till.partner
    _open(partner, spending=True)
    points = _points(points)
    customer = await member_by_phone(session, phone)
    available = (await ledger.balances(session, customer.id))[WALLET]
    if points > available:
        raise _insufficient()
    for bucket, key, limit in (
        ("partner_consent_member", str(customer.id), CONSENTS_PER_MEMBER),
        ("partner_consent", str(partner.id), CONSENTS_PER_PARTNER),
    ):
        if not await ratelimit.hit(session, bucket=bucket, key=key, limit=limit, window=WINDOW):
            raise UserError(
                N_("Too many codes were sent. Please wait a few minutes."),
                status=429,
                code="rate_limited",
            )
    consent, code = await new_consent(session, settings, partner, customer.id, points)
    language = customer.language
    profile = await club.load(session, settings.timezone)
    await outbox.queue_text(
        session,
        to=customer.phone,
        body=translate(
            language,
            CONSENT_SMS,
            code=code,
            points=format_number(points, language),
            club=profile.display_name(language),
            partner=localized(partner.name, language),
        ),
        urgent=True,
        secret=code,
    )
    return Asked(consent, code)


async def new_consent(
    session: AsyncSession, settings: Settings, partner: Partner, customer_id: int, points: int
) -> tuple[Consent, str]:
    """A consent and its code (to be texted to the member by the caller)."""
    now = utcnow()
    while True:
        code = f"{secrets.randbelow(10**CONSENT_DIGITS):0{CONSENT_DIGITS}d}"
        digest = _consent_hash(settings, partner.id, customer_id, points, code)
        if await session.scalar(select(Consent.id).where(Consent.code_hash == digest)) is None:
            break
    consent = Consent(
        partner_id=partner.id,
        customer_id=customer_id,
        points=points,
        code_hash=digest,
        created_at=now,
        expires_at=now + CONSENT_TTL,
    )
    session.add(consent)
    await session.flush()
    return consent, code


async def check_consent(
    session: AsyncSession,
    partner: Partner,
    settings: Settings,
    *,
    customer: Customer,
    points: int,
    code: str,
) -> Consent:
    """The consent this code gives: for this partner, this member and exactly these
    points, unused and not expired. Wrong codes are counted (the caller commits the
    count), and after a few the member's codes stop working here for a while."""
    if not code.strip():  # none given: nothing guessed, nothing counted
        raise UserError(NO_CONSENT, status=422, code="invalid_consent")
    bucket, key = "partner_consent_wrong", f"{partner.id}:{customer.id}"
    await _refuse_guessing(session, bucket, key, WRONG_CODES)
    digits = _digits(code, CONSENT_DIGITS)
    consent = (
        await session.scalar(
            select(Consent).where(
                Consent.code_hash
                == _consent_hash(settings, partner.id, customer.id, points, digits),
                Consent.used_at.is_(None),
                Consent.expires_at > utcnow(),
            )
        )
        if digits
        else None
    )
    if consent is None:
        await ratelimit.record(session, bucket=bucket, key=key)
        raise _invalid_consent()
    return consent


def _invalid_consent() -> UserError:
    return UserError(
        N_("The member's consent code is not valid for these points here."),
        status=422,
        code="invalid_consent",
    )


def _insufficient() -> UserError:
    return UserError(
        N_("The member does not have enough points."), status=409, code="insufficient_points"
    )


async def _use(session: AsyncSession, model: type[Consent] | type[MemberCode], row_id: int) -> None:
    """Mark a consent or member code used, once: a twin finds it used."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise _invalid_consent()


async def redeem(
    session: AsyncSession,
    till: Till,
    settings: Settings,
    *,
    member: Member,
    points: int,
    consent: Consent | None,
    receipt: str,
) -> Transaction:
    """Spend the member's points at the partner (soonest expiry first), with their
    consent: a code texted for these points, or the member code they showed."""
    partner = till.partner
    _open(partner, spending=True)
    points = _points(points)
    receipt_shown, _ = purchases.clean_receipt(receipt)
    if consent is not None:
        await _use(session, Consent, consent.id)
        proof = keys.till_redemption("consent", consent.id)
    elif member.shown is not None:
        await _use(session, MemberCode, member.shown.id)
        proof = keys.till_redemption("member-code", member.shown.id)
    else:
        raise _invalid_consent()
    if partner.monthly_redeem_cap is not None:
        await _lock_for_cap(session, partner)
        used = await _month_points(session, partner, EntryKind.REDEEM, settings.timezone)
        if used + points > partner.monthly_redeem_cap:
            raise _cap_reached()
    try:
        entry = await ledger.spend(
            session,
            customer_id=member.customer.id,
            points=points,
            key=proof,
            cause=ledger.Cause("partner", partner.id),
            counter_account=partner.account_id,
            created_by=till.actor.label,
        )
    except ledger.InsufficientPoints:
        raise _insufficient() from None
    transaction = Transaction(
        partner_id=partner.id,
        kind=TransactionKind.REDEEM,
        customer_id=member.customer.id,
        entry_id=entry.id,
        points=points,
        amount=points * partner.redeem_rials_per_point,
        receipt=receipt_shown,
        recorded_by=till.recorded_by,
        created_at=utcnow(),
    )
    session.add(transaction)
    await session.flush()
    return transaction


# --- reversal ----------------------------------------------------------------------------


async def transaction_of(session: AsyncSession, partner: Partner, transaction_id: int, *, lock: bool = False) -> Transaction:
    """The partner's own transaction; another's is as unknown as a missing one."""
    query = select(Transaction).where(
        Transaction.id == transaction_id, Transaction.partner_id == partner.id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    transaction = await session.scalar(query)
    if transaction is None:
        raise UserError(N_("No such transaction."), status=404, code="not_found")
    return transaction


async def reverse(
    session: AsyncSession, till: Till, *, transaction_id: int, amount: int | None, key: str
) -> Transaction:
    """Undo a transaction at the partner: a return of (part of) an earning purchase,
    under the points engine's return rules, or a redemption given back whole (the
    points return to the lots they came from, with their expiry). `key` names this
    reversal (the API's idempotency record)."""
    partner = till.partner
    original = await transaction_of(session, partner, transaction_id, lock=True)
    now = utcnow()
    if original.kind == TransactionKind.EARN:
        assert original.purchase_id is not None
        left = original.amount - original.reversed
        amount = left if amount is None else amount
        if not 0 < amount <= left:
            raise UserError(
                N_("The refund cannot be more than what is left of the purchase."),
                status=422,
                code="invalid_amount",
            )
        refund = await purchases.record_refund(
            session, actor=till.actor, purchase_id=original.purchase_id, amount=amount, key=key
        )
        original.reversed += amount
        reversal = Transaction(
            partner_id=partner.id,
            kind=TransactionKind.REVERSE,
            customer_id=original.customer_id,
            purchase_id=original.purchase_id,
            reverses_id=original.id,
            points=refund.taken + refund.debt,
            amount=amount,
            receipt=original.receipt,
            recorded_by=till.recorded_by,
            created_at=now,
        )
    elif original.kind == TransactionKind.REDEEM:
        assert original.entry_id is not None
        if amount is not None and amount != original.points:
            raise UserError(
                N_("A redemption is given back whole."), status=422, code="invalid_amount"
            )
        if original.reversed:
            raise UserError(
                N_("This transaction was already reversed."), status=409, code="already_reversed"
            )
        spend = await session.get(JournalEntry, original.entry_id)
        assert spend is not None
        back = await ledger.refund_spend(
            session,
            spend_entry=spend,
            key=keys.till_redemption_back(spend.id),
            cause=ledger.Cause("partner", partner.id),
            created_by=till.actor.label,
        )
        original.reversed = original.points
        reversal = Transaction(
            partner_id=partner.id,
            kind=TransactionKind.REVERSE,
            customer_id=original.customer_id,
            entry_id=back.id,
            reverses_id=original.id,
            points=original.points,
            amount=original.amount,
            receipt=original.receipt,
            recorded_by=till.recorded_by,
            created_at=now,
        )
    else:
        raise UserError(
            N_("A reversal cannot be reversed."), status=422, code="invalid_transaction"
        )
    session.add(reversal)
    await session.flush()
    return reversal


# --- the member's code ---------------------------------------------------------------------


@dataclass(frozen=True)
class ShownCode:
    code: str
    expires_at: datetime


async def new_member_code(session: AsyncSession, settings: Settings, customer_id: int) -> ShownCode:
    """A fresh code for the member to show at a till; the one before stops working."""
    if not await ratelimit.hit(
        session,
        bucket="partner_member_code_new",
        key=str(customer_id),
        limit=MEMBER_CODES_PER_MEMBER,
        window=WINDOW,
    ):
        raise UserError(
            N_("Too many codes were asked for. Please wait a few minutes."),
            status=429,
            code="rate_limited",
        )
    now = utcnow()
    await session.execute(
        update(MemberCode)
        .where(MemberCode.customer_id == customer_id, MemberCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    while True:
        code = f"{secrets.randbelow(10**MEMBER_CODE_DIGITS):0{MEMBER_CODE_DIGITS}d}"
        digest = _hmac(settings, "member", code)
        if await session.scalar(select(MemberCode.id).where(MemberCode.code_hash == digest)) is None:
            break
    expires = now + MEMBER_CODE_TTL
    session.add(
        MemberCode(customer_id=customer_id, code_hash=digest, created_at=now, expires_at=expires)
    )
    await session.flush()
    return ShownCode(code, expires)


async def balance(session: AsyncSession, customer_id: int) -> int:
    return (await ledger.balances(session, customer_id))[WALLET]
