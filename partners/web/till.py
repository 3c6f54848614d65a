"""The cashier's page, `/admin/till`: a phone-sized till where staff earn points for a
member's purchase and spend their points, with the same services as the partner API
(`partners.till`) and the same once-only guarantee (`partners.idempotency.once`, keyed
by the form's own key).

A cashier bound to a partner works that partner's till and nothing else; other staff
who may use a till work the club's own (the home partner). Each action posts the
whole form; a success redirects to the page, which shows what was done (htmx swaps
the till in place, a browser without JavaScript follows the redirect). Refusals that
must count (a wrong consent or member code) are committed: `COMMIT_REFUSALS`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from loyalty.forms import MAX_RIALS
from partners import idempotency, member_queries, services, till
from vafa.database import COMMIT_REFUSALS, DB, utcnow
from vafa.errors import UserError
from vafa.i18n import N_, current_language
from vafa.i18n.formatting import format_time
from vafa.i18n.normalize import to_ascii_digits
from vafa.permissions import Permission, Role, requires
from vafa.security.sessions import client_ip
from vafa.settings import Settings
from vafa.web.deps import AppSettings
from vafa.web.forms import (
    form_currency,
    form_data,
    parse_key,
    parse_money,
    query_id,
    required_int,
)

Staff = Request[Any, Any, Any]  # request.user is the logged-in StaffUser

MEMBER_MAX = 40
# Spaces, dashes, dots and invisible marks people type or paste between digits.
_SEPARATORS = re.compile("[\\s\\-.\u200c-\u200f\u202a-\u202e\u2066-\u2069]")
# A twin of a form still being worked on in this process: how long to wait for its
# answer (a double tap), in steps.
WAIT_STEP = 0.1
WAIT_STEPS = 50

NOT_BOUND = N_("This cashier login is not bound to a partner's till.")
NO_MEMBER = N_("Enter the member's mobile number or the code they show.")
CODE_IS_CONSENT = N_("The member showed their code: it is their consent, no SMS is needed.")
FORM_USED = N_(
    "This form was already sent with other values. Check today's list before trying again."
)


def member_of(raw: str) -> tuple[str | None, str | None]:
    """The member field as (phone, member code): ten digits are the code a member shows
    (a phone is typed with its leading 0 or country code); anything else is a phone."""
    raw = raw.strip()[:MEMBER_MAX]
    compact = _SEPARATORS.sub("", to_ascii_digits(raw))
    if not compact:
        raise UserError(NO_MEMBER, status=422, code="invalid_member")
    if compact.isascii() and compact.isdigit() and len(compact) == till.MEMBER_CODE_DIGITS:
        return None, compact
    return raw, None


async def till_of(request: Staff, db: DB, settings: Settings) -> till.Till:
    """The till this staff login works: its partner's for a cashier, else the club's."""
    staff = request.user
    partner = await services.cashier_partner(db, staff.id)
    if partner is None:
        if staff.role == Role.CASHIER:
            raise UserError(NOT_BOUND, status=403, code="not_bound")
        partner = await services.home_partner(db)
    return till.Till.for_staff(partner, staff.id, client_ip(request, settings))


@dataclass(frozen=True)
class Notice:
    """A message the page shows above the form (a consent code sent, a member found)."""

    text: str  # msgid
    values: Mapping[str, object]


async def page(
    request: Staff,
    db: DB,
    settings: Settings,
    desk: till.Till,
    *,
    form: Mapping[str, str] | None = None,
    error: UserError | None = None,
    notice: Notice | None = None,
    found: till.Lookup | None = None,
    done_id: int | None = None,
    again: bool = False,
) -> Template:
    """The till page, or for htmx only the till itself (what it swaps in place)."""
    partner = desk.partner
    done = (
        await member_queries.done(db, partner.id, desk.recorded_by, done_id)
        if done_id is not None
        else None
    )
    tz = settings.timezone
    return Template(
        "partners/till/_till.html" if htmx(request) else "partners/till/till.html",
        context={
            "staff": request.user,
            "partner": partner,
            "open": partner.open_at(utcnow()),
            "form": {k: v for k, v in (form or {}).items() if k != "consent_code"},
            "error": error.text() if error else None,
            "notice": notice,
            "found": found,
            "found_phone": member_queries.masked_phone(found.customer.phone) if found else "",
            "done": done,
            "again": again,
            "today": await member_queries.today(db, partner.id, tz),
        },
        status_code=error.status if error else 200,
    )


async def once(
    db: DB,
    desk: till.Till,
    *,
    key: str,
    action: str,
    body: dict[str, Any],
    work: Callable[[int], Awaitable[idempotency.Answer]],
    check: Callable[[], Awaitable[None]],
    secret: str,
) -> idempotency.Answer:
    """`idempotency.once` under the form's key: a form sent twice (a double tap, a
    retry) moves points once, and the twin gets the first one's answer, waiting for it
    if it is still being worked on in this process."""
    arguments: dict[str, Any] = {
        "partner_id": desk.partner.id,
        "key": f"form:{desk.actor.staff_id}:{key}",
        "print_": idempotency.fingerprint("POST", f"/admin/till/{action}", body, secret),
        "work": work,
        "check": check,
    }
    for attempt in range(WAIT_STEPS + 1):
        try:
            return await idempotency.once(db, **arguments)
        except UserError as error:
            if error.code == "idempotency_key_reused":
                raise UserError(FORM_USED, status=422, code=error.code) from None
            if error.code != "idempotency_key_in_flight" or attempt == WAIT_STEPS:
                raise
        await asyncio.sleep(WAIT_STEP)
    raise AssertionError("unreachable")


def htmx(request: Staff) -> bool:
    return request.headers.get("hx-request") == "true"


async def done_at(
    request: Staff, db: DB, settings: Settings, desk: till.Till, answer: idempotency.Answer
) -> Response[Any]:
    """After an action: the till showing what was done. htmx swaps it in at once; a
    browser without it is redirected, so reloading the page sends nothing again."""
    transaction_id = int(answer.body["transaction"])
    again = bool(answer.body.get("again"))
    if htmx(request):
        return await page(request, db, settings, desk, done_id=transaction_id, again=again)
    return Redirect(f"/admin/till?done={transaction_id}{'&again=1' if again else ''}")


class TillController(Controller):
    path = "/till"
    include_in_schema = False
    guards = [requires(Permission.TILL)]

    @get("/")
    async def view(self, request: Staff, db: DB, settings: AppSettings) -> Template:
        return await page(
            request,
            db,
            settings,
            await till_of(request, db, settings),
            done_id=query_id(request, "done"),
            again=request.query_params.get("again") == "1",
        )

    @post("/lookup", opt={COMMIT_REFUSALS: True})
    async def lookup(self, request: Staff, db: DB, settings: AppSettings) -> Template:
        """Who the member is and what they can spend here (a wrong member code counts)."""
        data = await form_data(request)
        desk = await till_of(request, db, settings)
        try:
            phone, code = member_of(data.get("member", ""))
            member = await till.find_member(
                db, desk.partner, settings, phone=phone, member_code=code
            )
            found = await till.lookup(db, desk, member, settings.timezone)
        except UserError as error:
            return await page(request, db, settings, desk, form=data, error=error)
        return await page(request, db, settings, desk, form=data, found=found)

    @post("/earn", opt={COMMIT_REFUSALS: True})
    async def earn(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        desk = await till_of(request, db, settings)
        number: list[str] = []
        try:
            key = parse_key(data)
            phone, code = member_of(data.get("member", ""))
            amount = parse_money(
                data,
                "amount",
                N_("Amount"),
                currency=form_currency(request, data),
                maximum=MAX_RIALS,
            )
            receipt = data.get("receipt", "")

            async def check() -> None:
                number[:] = [
                    await till.earning_phone(
                        db, desk.partner, settings, phone=phone, member_code=code
                    )
                ]

            async def work(_: int) -> idempotency.Answer:
                started = utcnow()
                done = await till.earn(
                    db,
                    desk,
                    settings,
                    phone=number[0],
                    amount=amount,
                    receipt=receipt,
                    categories=[],
                )
                # The same receipt sent again: the earlier sale, no new points.
                again = done.created_at < started
                return idempotency.Answer(201, {"transaction": done.id, "again": again})

            answer = await once(
                db,
                desk,
                key=key,
                action="earn",
                body={"member": data.get("member", ""), "amount": amount, "receipt": receipt},
                work=work,
                check=check,
                secret=settings.secret_key,
            )
        except UserError as error:
            return await page(request, db, settings, desk, form=data, error=error)
        return await done_at(request, db, settings, desk, answer)

    @post("/consent")
    async def consent(self, request: Staff, db: DB, settings: AppSettings) -> Template:
        """Text the member a code that lets this till spend these points of theirs."""
        data = await form_data(request)
        desk = await till_of(request, db, settings)
        try:
            phone, code = member_of(data.get("member", ""))
            if code:
                raise UserError(CODE_IS_CONSENT, status=422, code="member_code_is_consent")
            points = required_int(data, "points", N_("Points"), minimum=1, maximum=till.MAX_POINTS)
            asked = await till.ask_consent(db, desk, settings, phone=phone or "", points=points)
        except UserError as error:
            return await page(request, db, settings, desk, form=data, error=error)
        notice = Notice(
            N_(
                "A code to spend %(points)s points was texted to the member. Type it in "
                "before %(time)s."
            ),
            {
                "points": asked.consent.points,
                "time": format_time(
                    asked.consent.expires_at, current_language.get(), settings.timezone
                ),
            },
        )
        return await page(request, db, settings, desk, form=data, notice=notice)

    @post("/redeem", opt={COMMIT_REFUSALS: True})
    async def redeem(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        desk = await till_of(request, db, settings)
        proof: list[Any] = []
        try:
            key = parse_key(data)
            phone, code = member_of(data.get("member", ""))
            points = required_int(data, "points", N_("Points"), minimum=1, maximum=till.MAX_POINTS)
            receipt = data.get("receipt", "")
            consent_code = data.get("consent_code", "")

            async def check() -> None:
                proof[:] = await till.redemption_proof(
                    db,
                    desk.partner,
                    settings,
                    phone=phone,
                    member_code=code,
                    points=points,
                    consent_code=consent_code,
                )

            async def work(_: int) -> idempotency.Answer:
                member, consent = proof
                done = await till.redeem(
                    db,
                    desk,
                    settings,
                    member=member,
                    points=points,
                    consent=consent,
                    receipt=receipt,
                )
                return idempotency.Answer(201, {"transaction": done.id})

            answer = await once(
                db,
                desk,
                key=key,
                action="redeem",
                body={"member": data.get("member", ""), "points": points, "receipt": receipt},
                work=work,
                check=check,
                secret=settings.secret_key,
            )
        except UserError as error:
            return await page(request, db, settings, desk, form=data, error=error)
        return await done_at(request, db, settings, desk, answer)


CONTROLLERS = (TillController,)
