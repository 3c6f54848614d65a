"""The partner API, `/api/v1`: a till finds a member, records a purchase that earns,
asks the member's consent, redeems points, reverses a transaction, reads its own
transactions. JSON in and out, `Authorization: Bearer <key>`, errors as RFC 9457
problem JSON with a stable `code` in the language of `Accept-Language`.

Calls that move points need an `Idempotency-Key` (see `partners.idempotency`). They
commit their refusals (`COMMIT_REFUSALS`): what moves points runs inside the key's
savepoint and is undone by a refusal, while the count of a wrong code stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from partners import idempotency, services, till
from partners.models import Transaction
from vafa.database import COMMIT_REFUSALS, DB
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.security.sessions import client_ip
from vafa.settings import Settings
from vafa.web.deps import AppSettings
from vafa.web.forms import PathId

MAX_AMOUNT = 10**15
MAX_POINTS = till.MAX_POINTS


class Problem(msgspec.Struct):
    """RFC 9457 problem details; `code` names the refusal for programs."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] = msgspec.field(default_factory=list)


class FieldError(msgspec.Struct):
    field: str
    reason: str


Phone = Annotated[
    str, msgspec.Meta(min_length=1, max_length=32, description="Any usual form; Persian digits too.")
]
MemberCode = Annotated[
    str, msgspec.Meta(min_length=1, max_length=32, description="The code the member shows.")
]
Points = Annotated[int, msgspec.Meta(ge=1, le=MAX_POINTS)]
Rials = Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT, description="In Rials (Drams in Armenia).")]
Receipt = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class LookupIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone | None = None
    member_code: MemberCode | None = None


class LookupOut(msgspec.Struct):
    first_name: str
    tier: str
    points_spendable: int


class EarnIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Rials
    receipt: Receipt
    phone: Phone | None = None
    member_code: MemberCode | None = None
    categories: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=20)
    ] = msgspec.field(default_factory=list)


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone
    points: Points


class ConsentOut(msgspec.Struct):
    points: int
    expires_at: datetime


class RedemptionIn(msgspec.Struct, forbid_unknown_fields=True):
    points: Points
    receipt: Receipt
    phone: Phone | None = None
    member_code: MemberCode | None = None
    consent_code: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] | None = None


class ReverseIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Rials | None = None


class TransactionOut(msgspec.Struct):
    id: int
    kind: Literal["earn", "redeem", "reverse"]
    points: int
    amount: int  # Rials: the sale, the points' value, or the return
    receipt: str
    created_at: datetime
    reversed: int
    reverses: int | None = None
    balance: int | None = None  # the member's spendable points after this call


def _out(transaction: Transaction, balance: int | None = None) -> TransactionOut:
    return TransactionOut(
        id=transaction.id,
        kind=transaction.kind,  # type: ignore[arg-type]
        points=transaction.points,
        amount=transaction.amount,
        receipt=transaction.receipt,
        created_at=transaction.created_at,
        reversed=transaction.reversed,
        reverses=transaction.reverses_id,
        balance=balance,
    )


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type="application/problem+json",
        description=description,
        generate_examples=False,
    )


ERRORS = {
    400: _spec("Malformed request, or a missing or invalid Idempotency-Key"),
    401: _spec("Missing, unknown or revoked API key"),
    403: _spec("The partner may not do this (inactive, or not earning or spending there)"),
    404: _spec("No such member or transaction (another partner's is as unknown)"),
    409: _spec("Not enough points, a cap reached, or the same key still in flight"),
    422: _spec("Refused: invalid consent or member code, or the key reused for another body"),
    429: _spec("Too many codes or wrong codes"),
}
ANSWER = {"Idempotent-Replayed": "true"}
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="A new random value per operation (required); a retry reuses it.",
    ),
]
# The till behind the call's key: `partner: Caller`.
Caller = NamedDependency[till.Till]


async def caller(request: Request[Any, Any, Any], db: DB, settings: AppSettings) -> till.Till:
    """The till behind the bearer key, looked up on every call: a revoked key is
    refused by every process from its next request."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    found = (
        await services.authenticate(db, secret.strip())
        if scheme.lower() == "bearer" and secret
        else None
    )
    if found is None:
        raise UserError(
            N_("A valid API key is required (Authorization: Bearer <key>)."),
            status=401,
            code="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="vafa"'},
        )
    key, partner = found
    if request.method == "POST":
        await services.touch_key(db, key)
    return till.Till.for_key(partner, key.id, client_ip(request, settings))


async def _moved(db: AsyncSession, done: Transaction) -> idempotency.Answer:
    """The answer kept for a call that moved points: the transaction and the balance."""
    balance = await till.balance(db, done.customer_id)
    return idempotency.Answer(201, msgspec.to_builtins(_out(done, balance)))


async def _once(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    partner: till.Till,
    settings: Settings,
    idempotency_key: str | None,
    body: Any,
    work: Callable[[int], Awaitable[idempotency.Answer]],
    check: Callable[[], Awaitable[None]] | None = None,
) -> Response[TransactionOut]:
    """A call that moves points, once per `Idempotency-Key` (see `idempotency.once`)."""
    answer = await idempotency.once(
        db,
        partner_id=partner.partner.id,
        key=idempotency.clean_key(idempotency_key),
        print_=idempotency.fingerprint("POST", request.url.path, body, settings.secret_key),
        work=work,
        check=check,
    )
    return _answer(answer)


def _answer(answer: idempotency.Answer) -> Response[TransactionOut]:
    return Response(
        answer.body,  # type: ignore[arg-type]  # the stored JSON of a TransactionOut
        status_code=answer.status,
        headers=ANSWER if answer.replayed else None,
        media_type="application/json",
    )


class PartnerApi(Controller):
    path = "/v1"
    tags = ["Partner API"]
    dependencies = {"partner": Provide(caller)}
    security = [{"BearerAuth": []}]

    @post("/members/lookup", status_code=200, opt={COMMIT_REFUSALS: True}, responses=ERRORS)
    async def lookup(
        self, data: JSONBody[LookupIn], partner: Caller, db: DB, settings: AppSettings
    ) -> LookupOut:
        """What a cashier needs about a member, and no more."""
        member = await till.find_member(
            db, partner.partner, settings, phone=data.phone, member_code=data.member_code
        )
        found = await till.lookup(db, partner, member, settings.timezone)
        return LookupOut(
            first_name=found.first_name, tier=found.tier, points_spendable=found.spendable
        )

    @post("/earn", status_code=201, opt={COMMIT_REFUSALS: True}, responses=ERRORS)
    async def earn(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[EarnIn],
        partner: Caller,
        db: DB,
        settings: AppSettings,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TransactionOut]:
        """A purchase at the partner: earns under the club's rules (201). The same
        receipt at the same partner earns once."""
        number: list[str] = []

        async def check() -> None:
            number.append(
                await till.earning_phone(
                    db, partner.partner, settings, phone=data.phone, member_code=data.member_code
                )
            )

        async def work(_: int) -> idempotency.Answer:
            done = await till.earn(
                db,
                partner,
                settings,
                phone=number[0],
                amount=data.amount,
                receipt=data.receipt,
                categories=data.categories,
            )
            return await _moved(db, done)

        body = msgspec.to_builtins(data)
        return await _once(request, db, partner, settings, idempotency_key, body, work, check)

    @post("/redemptions/consent", status_code=202, responses=ERRORS)
    async def consent(
        self, data: JSONBody[ConsentIn], partner: Caller, db: DB, settings: AppSettings
    ) -> ConsentOut:
        """Text the member a code that lets this partner spend exactly these points, for
        a few minutes (202: the SMS is on its way)."""
        asked = await till.ask_consent(
            db, partner, settings, phone=data.phone, points=data.points
        )
        return ConsentOut(points=asked.consent.points, expires_at=asked.consent.expires_at)

    @post("/redemptions", status_code=201, opt={COMMIT_REFUSALS: True}, responses=ERRORS)
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RedemptionIn],
        partner: Caller,
        db: DB,
        settings: AppSettings,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TransactionOut]:
        """Spend the member's points here (soonest expiry first), with their consent: a
        `consent_code` texted for these points (with `phone`), or the `member_code` they
        show. `amount` in the answer is the points' value in Rials."""
        proof: list[Any] = []

        async def check() -> None:
            proof.extend(
                await till.redemption_proof(
                    db,
                    partner.partner,
                    settings,
                    phone=data.phone,
                    member_code=data.member_code,
                    points=data.points,
                    consent_code=data.consent_code,
                )
            )

        async def work(_: int) -> idempotency.Answer:
            member, consent = proof
            done = await till.redeem(
                db,
                partner,
                settings,
                member=member,
                points=data.points,
                consent=consent,
                receipt=data.receipt,
            )
            return await _moved(db, done)

        body = msgspec.to_builtins(data)
        return await _once(request, db, partner, settings, idempotency_key, body, work, check)

    @post("/transactions/{transaction_id:int}/reverse", status_code=201, opt={COMMIT_REFUSALS: True}, responses=ERRORS)
    async def reverse(
        self,
        request: Request[Any, Any, Any],
        transaction_id: PathId,
        partner: Caller,
        db: DB,
        settings: AppSettings,
        data: JSONBody[ReverseIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TransactionOut]:
        """Undo one of this partner's transactions: a return of (part of) a purchase,
        under the club's return rules, or a redemption given back whole."""
        amount = data.amount if data is not None else None

        async def work(claim: int) -> idempotency.Answer:
            done = await till.reverse(
                db, partner, transaction_id=transaction_id, amount=amount, key=f"api-{claim}"
            )
            return await _moved(db, done)

        body = {"amount": amount}
        return await _once(request, db, partner, settings, idempotency_key, body, work)

    @get("/transactions/{transaction_id:int}", responses=ERRORS)
    async def transaction(
        self,
        transaction_id: PathId,
        partner: Caller,
        db: DB,
    ) -> TransactionOut:
        """One of this partner's own transactions."""
        return _out(await till.transaction_of(db, partner.partner, transaction_id))


CONTROLLERS = (PartnerApi,)
