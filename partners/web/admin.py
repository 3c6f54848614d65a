"""Staff pages for partners: the list and the form to add one, a partner's page (its
terms, API keys and cashiers), and settlement: each partner's statement for a period,
closing it, the CSV export and a printable statement."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

import jdatetime
from babel.dates import format_date as babel_format_date
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Stream, Template

from partners import forms, queries, services, settlement
from partners.labels import NAME_FIELDS
from partners.models import Category, Partner
from vafa.calendar import JALALI_ZONES, local_day, month_of, previous_month
from vafa.database import DB, WRITES, utcnow
from vafa.errors import UserError
from vafa.i18n import N_, current_language, gettext, localized
from vafa.i18n.formatting import JALALI_MONTHS, format_date, format_short_date
from vafa.i18n.normalize import to_persian_digits
from vafa.money import Currency
from vafa.permissions import Permission, requires
from vafa.web import csv_export
from vafa.web.actors import staff_actor
from vafa.web.deps import AppSettings
from vafa.web.forms import PathId, form_currency, form_data, query_id

Staff = Request[Any, Any, Any]
readers = requires(Permission.SETUP_READ)
managers = requires(Permission.SETUP_MANAGE)

MONTH_LINKS = 6  # this month and the five before it
_BABEL = {"hy": "hy_AM", "en": "en"}


def _currency(request: Staff) -> Currency:
    return request.app.state.club.profile.currency


def percent(basis: int) -> str:
    return forms.percent_text(basis, current_language.get())


# --- partners and their pages ---------------------------------------------------------


class PartnersController(Controller):
    path = "/partners"
    include_in_schema = False

    async def index(
        self,
        request: Staff,
        db: DB,
        error: UserError | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Template:
        # The club's own tills are a partner too, made on first use.
        await services.home_partner(db, name=request.app.state.club.profile.name)
        return Template(
            "partners/admin/index.html",
            context={
                "staff": request.user,
                "partners": await queries.partner_list(db),
                "categories": list(Category),
                "name_fields": NAME_FIELDS,
                "form": form if form is not None else {"earn": "on", "active": "on"},
                "error": error.text() if error else None,
                "percent": percent,
            },
            status_code=error.status if error else 200,
        )

    @get("/", guards=[readers], opt={WRITES: True})
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.index(request, db)

    @post("/", guards=[managers])
    async def create(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        try:
            terms = forms.parse_terms(
                data,
                currency=form_currency(request, data),
                tz=settings.timezone,
                language=settings.default_language,
            )
            partner = await services.create_partner(db, actor=staff_actor(request), terms=terms)
        except UserError as error:
            return await self.index(request, db, error, data)
        return Redirect(f"/admin/partners/{partner.id}?saved=create")

    async def page(
        self,
        request: Staff,
        db: DB,
        settings: AppSettings,
        partner: Partner,
        *,
        error: UserError | None = None,
        error_in: str = "",
        form: Mapping[str, str] | None = None,
        new_key: services.NewKey | None = None,
    ) -> Template:
        language = current_language.get()
        values = form
        if values is None or error_in != "terms":
            values = forms.terms_values(
                partner, currency=_currency(request), tz=settings.timezone, language=language
            )
        return Template(
            "partners/admin/partner.html",
            context={
                "staff": request.user,
                "partner": partner,
                "form": values,
                "typed": form if form is not None and error_in != "terms" else {},
                "keys": await queries.keys(db, partner.id),
                "cashiers": await queries.cashiers(db, partner.id),
                "categories": list(Category),
                "name_fields": NAME_FIELDS,
                "new_key": new_key,
                "error": error.text() if error else None,
                "error_in": error_in,
                "saved": "" if error else request.query_params.get("saved", ""),
                "percent": percent,
            },
            status_code=error.status if error else 200,
        )

    @get("/{partner_id:int}", guards=[readers])
    async def partner(
        self, request: Staff, db: DB, settings: AppSettings, partner_id: PathId
    ) -> Template:
        return await self.page(request, db, settings, await queries.partner(db, partner_id))

    @post("/{partner_id:int}", guards=[managers])
    async def update(
        self, request: Staff, db: DB, settings: AppSettings, partner_id: PathId
    ) -> Response[Any]:
        partner = await queries.partner(db, partner_id)
        data = await form_data(request)
        try:
            terms = forms.parse_terms(
                data,
                currency=form_currency(request, data),
                tz=settings.timezone,
                language=settings.default_language,
                home=partner if partner.home else None,
            )
            await services.update_partner(
                db, actor=staff_actor(request), partner_id=partner.id, terms=terms
            )
        except UserError as error:
            return await self.page(
                request, db, settings, partner, error=error, error_in="terms", form=data
            )
        return Redirect(f"/admin/partners/{partner.id}?saved=terms")

    @post("/{partner_id:int}/keys", guards=[managers], status_code=200)
    async def create_key(
        self, request: Staff, db: DB, settings: AppSettings, partner_id: PathId
    ) -> Template:
        """The new key is on this answer and nowhere else: only its hash is kept."""
        partner = await queries.partner(db, partner_id)
        data = await form_data(request)
        try:
            made = await services.create_key(
                db, actor=staff_actor(request), partner_id=partner.id, name=data.get("name", "")
            )
        except UserError as error:
            return await self.page(
                request, db, settings, partner, error=error, error_in="keys", form=data
            )
        return await self.page(request, db, settings, partner, new_key=made)

    @post("/{partner_id:int}/keys/{key_id:int}/revoke", guards=[managers])
    async def revoke_key(
        self, request: Staff, db: DB, settings: AppSettings, partner_id: PathId, key_id: PathId
    ) -> Response[Any]:
        partner = await queries.partner(db, partner_id)
        try:
            await services.revoke_key(
                db, actor=staff_actor(request), key_id=key_id, partner_id=partner.id
            )
        except UserError as error:
            return await self.page(request, db, settings, partner, error=error, error_in="keys")
        return Redirect(f"/admin/partners/{partner.id}?saved=revoked")

    @post("/{partner_id:int}/cashiers", guards=[managers])
    async def add_cashier(
        self, request: Staff, db: DB, settings: AppSettings, partner_id: PathId
    ) -> Response[Any]:
        partner = await queries.partner(db, partner_id)
        data = await form_data(request)
        try:
            await services.add_cashier(
                db,
                actor=staff_actor(request),
                partner_id=partner.id,
                username=data.get("username", ""),
                password=data.get("password", ""),
            )
        except UserError as error:
            typed = {"username": data.get("username", "")[:64]}  # never the password
            return await self.page(
                request, db, settings, partner, error=error, error_in="cashiers", form=typed
            )
        return Redirect(f"/admin/partners/{partner.id}?saved=cashier")


# --- settlement ---------------------------------------------------------------------


def month_label(first: date, last: date, language: str, tz: str) -> str:
    """A club month as people name it: «مهر ۱۴۰۵», "Mehr 1405" (Solar Hijri in Iran),
    "October 2026" elsewhere; a Persian reader never sees a Gregorian month."""
    if tz in JALALI_ZONES:
        j = jdatetime.date.fromgregorian(date=first)
        if language == "fa":
            return to_persian_digits(f"{JALALI_MONTHS[j.month - 1]} {j.year}")
        return f"{jdatetime.date.j_months_en[j.month - 1]} {j.year}"
    if language == "fa":
        return f"{format_date(first, language)} – {format_date(last, language)}"
    return babel_format_date(first, "LLLL y", locale=_BABEL[language])


def period_query(first: date, last: date) -> str:
    return urlencode({"first": first.isoformat(), "last": last.isoformat()})


def recent_months(today: date, tz: str) -> list[dict[str, Any]]:
    """This month and the ones before it, the newest first."""
    months = []
    first, last = month_of(today, tz)
    for _ in range(MONTH_LINKS):
        months.append(
            {
                "first": first,
                "last": last,
                "label": month_label(first, last, current_language.get(), tz),
                "query": period_query(first, last),
            }
        )
        first, last = previous_month(first, tz)
    return months


class SettlementController(Controller):
    path = "/partners"
    include_in_schema = False

    async def show(
        self,
        request: Staff,
        db: DB,
        settings: AppSettings,
        *,
        period: tuple[date, date] | None = None,
        error: UserError | None = None,
        closed: int | None = None,
    ) -> Template:
        tz = settings.timezone
        today = local_day(utcnow(), tz)
        lines: list[settlement.Line] = []
        first = last = None
        try:
            first, last = period or forms.parse_period(
                request.query_params, previous_month(today, tz)
            )
            lines = await settlement.statements(db, first, last, tz)
        except UserError as refused:
            error = error or refused
            first = last = None
        names = await queries.staff_names(
            db, [line.closed.closed_by for line in lines if line.closed]
        )
        language = current_language.get()
        return Template(
            "partners/admin/settlement.html",
            context={
                "staff": request.user,
                "lines": lines,
                "first": first,
                "last": last,
                "over": last is not None and last < today,
                "query": period_query(first, last) if first and last else "",
                "label": month_label(first, last, language, tz)
                if first and last and (first, last) == month_of(first, tz)
                else "",
                "months": recent_months(today, tz),
                "typed": {
                    "first": request.query_params.get("first", "")[:40]
                    if first is None
                    else format_short_date(first, language),
                    "last": request.query_params.get("last", "")[:40]
                    if last is None
                    else format_short_date(last, language),
                },
                "closers": names,
                "closed": closed,
                "error": error.text() if error else None,
                "percent": percent,
            },
            status_code=error.status if error else 200,
        )

    @get("/settlement", guards=[readers])
    async def settlement(self, request: Staff, db: DB, settings: AppSettings) -> Template:
        return await self.show(request, db, settings, closed=query_id(request, "closed"))

    @post("/settlement/{partner_id:int}/close", guards=[managers])
    async def close(
        self, request: Staff, db: DB, settings: AppSettings, partner_id: PathId
    ) -> Response[Any]:
        """Freeze a partner's statement for a period that is over."""
        data = await form_data(request)
        try:
            first, last = forms.parse_period(data)
        except UserError as error:
            return await self.show(request, db, settings, error=error)
        try:
            await settlement.close(
                db,
                actor=staff_actor(request),
                partner_id=partner_id,
                first_day=first,
                last_day=last,
                tz=settings.timezone,
            )
        except UserError as error:
            return await self.show(request, db, settings, period=(first, last), error=error)
        return Redirect(
            f"/admin/partners/settlement?{period_query(first, last)}&closed={partner_id}"
        )

    @get("/settlement/{partner_id:int}/print", guards=[readers])
    async def print_statement(
        self, request: Staff, db: DB, settings: AppSettings, partner_id: PathId
    ) -> Template:
        tz = settings.timezone
        first, last = forms.parse_period(
            request.query_params, previous_month(local_day(utcnow(), tz), tz)
        )
        lines = await settlement.statements(db, first, last, tz, partner_id=partner_id)
        if not lines:
            await queries.partner(db, partner_id)  # unknown: 404
            raise UserError(N_("The club does not settle with its own tills."), status=404)
        [line] = lines
        closers = await queries.staff_names(db, [line.closed.closed_by] if line.closed else [])
        return Template(
            "partners/admin/print.html",
            context={
                "staff": request.user,
                "line": line,
                "closers": closers,
                "label": month_label(first, last, current_language.get(), tz)
                if (first, last) == month_of(first, tz)
                else "",
                "query": period_query(first, last),
                "percent": percent,
            },
        )

    @get("/settlement.csv", guards=[readers])
    async def export(self, request: Staff, db: DB, settings: AppSettings) -> Stream:
        """Every partner's statement for the period, amounts as whole stored units
        (Rials; Drams in Armenia), so a spreadsheet adds them up."""
        tz = settings.timezone
        first, last = forms.parse_period(
            request.query_params, previous_month(local_day(utcnow(), tz), tz)
        )
        lines = await settlement.statements(db, first, last, tz)
        closers = await queries.staff_names(
            db, [line.closed.closed_by for line in lines if line.closed]
        )
        language = current_language.get()
        unit = gettext(N_("Drams") if _currency(request) == Currency.DRAM else N_("Rials"))

        def money(label: str) -> str:
            return gettext(N_("%(column)s (%(unit)s)"), column=gettext(label), unit=unit)

        header = [
            gettext(N_("Partner")),
            gettext(N_("First day")),
            gettext(N_("Last day")),
            gettext(N_("Points earned")),
            gettext(N_("Points earned, returned")),
            gettext(N_("Points earned, net")),
            gettext(N_("Points spent")),
            gettext(N_("Points spent, given back")),
            gettext(N_("Points spent, net")),
            money(N_("Net sales")),
            money(N_("Partner pays per point earned")),
            money(N_("Club pays per point spent")),
            gettext(N_("Commission (basis points)")),
            money(N_("Value of points earned")),
            money(N_("Commission")),
            money(N_("Value of points spent")),
            money(N_("Net: the partner owes the club (negative: the club owes the partner)")),
            gettext(N_("Closed")),
            gettext(N_("Closed by")),
        ]
        rows = []
        for line in lines:
            f = line.figures
            closed = line.closed
            rows.append(
                [
                    localized(line.partner.name, language),
                    csv_export.day(first, language),
                    csv_export.day(last, language),
                    f.earned_gross,
                    f.earn_returned,
                    f.earned,
                    f.redeemed_gross,
                    f.redeem_returned,
                    f.redeemed,
                    f.sales,
                    f.earn_rate,
                    f.redeem_rate,
                    f.commission_bp,
                    f.earn_value,
                    f.commission,
                    f.redeem_value,
                    f.net,
                    csv_export.moment(closed.closed_at, language, tz) if closed else "",
                    closers.get(closed.closed_by, closed.closed_by) if closed else "",
                ]
            )

        async def chunks() -> AsyncIterator[list[list[Any]]]:
            yield rows

        name = f"settlement-{csv_export.day(first, language)}-{csv_export.day(last, language)}.csv"
        return csv_export.download(name, header, chunks())


CONTROLLERS = (PartnersController, SettlementController)
