"""Staff pages for SMS lines and codes: the lines and their replies, the code editor
(with what a reply costs in SMS parts), each code's numbers by day, and contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Stream, Template

from sms_codes import forms, queries, services
from sms_codes.models import Code, CodeAction
from sms_codes.text import MARKETING_FOOTER, PLACEHOLDERS, fill, sms_parts, with_footer
from vafa import audit
from vafa.calendar import last_day, local_day
from vafa.database import DB, WRITES, utcnow
from vafa.errors import UserError
from vafa.i18n import N_, current_language, gettext
from vafa.i18n.formatting import format_number, format_short_date
from vafa.permissions import Permission, requires
from vafa.settings import LANGUAGES, Settings
from vafa.web import csv_export
from vafa.web.actors import staff_actor
from vafa.web.deps import AppSettings
from vafa.web.forms import PathId, form_data, query_id, query_page

Staff = Request[Any, Any, Any]
readers = requires(Permission.SETUP_READ)
managers = requires(Permission.SETUP_MANAGE)

# Who the editor fills the placeholders for, to count a reply's real length.
SAMPLE = {
    "fa": {"name": "فاطمه‌السادات", "balance": "۱۲٬۵۰۰", "tier": "طلایی"},
    "en": {"name": "Fatemeh", "balance": "12,500", "tier": "Gold"},
    "hy": {"name": "Անահիտ", "balance": "12 500", "tier": "Ոսկե"},
}


def sample(language: str, settings: Settings) -> dict[str, str]:
    return {
        **SAMPLE[language],
        "coupon": "K7M2P9QX",
        "link": settings.public_url or "https://club.example.ir",
    }


def costs(replies: dict[str, str], marketing: bool, settings: Settings) -> dict[str, Any]:
    """Each language's reply as sent to the sample member (an advertising reply with
    its footer): characters and SMS parts."""
    return {
        language: sms_parts(with_footer(fill(text, sample(language, settings)), marketing))
        for language, text in replies.items()
        if text
    }


def code_values(code: Code, keywords: list[str], tz: str) -> dict[str, str]:
    language = current_language.get()
    until = last_day(code.ends_at, tz)
    return {
        "name": code.name,
        "action": code.action,
        "keywords": "، ".join(keywords) if language == "fa" else ", ".join(keywords),
        **{f"reply_{lang}": code.replies.get(lang, "") for lang in LANGUAGES},
        "marketing": "on" if code.marketing else "",
        "active": "on" if code.active else "",
        "starts": format_short_date(code.starts_at, language, tz) if code.starts_at else "",
        "ends": format_short_date(until, language) if until else "",
        "coupon_pool": format_number(code.coupon_pool, language) if code.coupon_pool else "",
    }


CHART_LOCALES = {"fa": "fa-IR", "hy": "hy-AM", "en": "en"}


def chart_data(stats: queries.Stats) -> dict[str, Any]:
    """The chart's numbers: the same as the table beside it, by club day."""
    language = current_language.get()
    return {
        "locale": CHART_LOCALES[language],
        "labels": [format_short_date(day.day, language) for day in stats.days],
        "series": [
            {"label": gettext(label), "values": [getattr(day, name) for day in stats.days]}
            for name, label in (
                ("messages", N_("Messages")),
                ("new_members", N_("New members")),
                ("coupons_issued", N_("Coupons given")),
            )
        ],
    }


class SmsCodesController(Controller):
    path = "/sms-codes"
    include_in_schema = False

    async def index(
        self, request: Staff, db: DB, error: UserError | None = None, form: Any = None
    ) -> Template:
        tz = request.app.state.settings.timezone
        today = local_day(utcnow(), tz)
        return Template(
            "sms_codes/admin/index.html",
            context={
                "staff": request.user,
                "lines": await queries.lines(db, today),
                "today": today,
                "error": error.text() if error else None,
                "form": form or {},
                "saved": request.query_params.get("saved", ""),
            },
            status_code=error.status if error else 200,
        )

    @get("/", guards=[readers])
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.index(request, db)

    @post("/lines", guards=[managers])
    async def create_line(self, request: Staff, db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            await services.create_line(
                db,
                actor=staff_actor(request),
                number=data.get("number", ""),
                values=forms.parse_line(data),
            )
        except UserError as error:
            return await self.index(request, db, error, data)
        return Redirect("/admin/sms-codes?saved=line")

    @post("/lines/{line_id:int}", guards=[managers])
    async def update_line(self, request: Staff, db: DB, line_id: PathId) -> Response[Any]:
        data = await form_data(request)
        try:
            await services.update_line(
                db, actor=staff_actor(request), line_id=line_id, values=forms.parse_line(data)
            )
        except UserError as error:
            return await self.index(request, db, error)
        return Redirect("/admin/sms-codes?saved=line")

    async def editor(
        self,
        request: Staff,
        db: DB,
        settings: Settings,
        *,
        line_id: int,
        code: Code | None,
        form: dict[str, str],
        error: UserError | None = None,
    ) -> Template:
        stats = None
        if code is not None and code.id is not None:
            stats = await queries.code_stats(db, code.id, settings.timezone, utcnow())
        return Template(
            "sms_codes/admin/code.html",
            context={
                "staff": request.user,
                "line": await queries.line(db, line_id),
                "code": code,
                "form": form,
                "actions": list(CodeAction),
                "placeholders": PLACEHOLDERS,
                "footer": MARKETING_FOOTER,
                "samples": {lang: sample(lang, settings) for lang in LANGUAGES},
                "costs": costs(
                    forms.replies(form, "reply"), form.get("marketing") == "on", settings
                ),
                "stats": stats,
                "error": error.text() if error else None,
                "saved": request.query_params.get("saved") == "1" and error is None,
            },
            status_code=error.status if error else 200,
        )

    @get("/codes/new", guards=[managers])
    async def new_code(self, request: Staff, db: DB, settings: AppSettings) -> Template:
        line_id = query_id(request, "line")
        if line_id is None:
            raise UserError(queries.NO_LINE, status=404)
        form = {"action": "card", "active": "on"}
        return await self.editor(request, db, settings, line_id=line_id, code=None, form=form)

    @post("/codes", guards=[managers])
    async def create_code(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        line_id = query_id(request, "line")
        if line_id is None:
            raise UserError(queries.NO_LINE, status=404)
        try:
            code = await services.save_code(
                db,
                actor=staff_actor(request),
                line_id=line_id,
                code_id=None,
                **forms.parse_code(data, settings.timezone),
            )
        except UserError as error:
            return await self.editor(
                request, db, settings, line_id=line_id, code=None, form=data, error=error
            )
        return Redirect(f"/admin/sms-codes/codes/{code.id}?saved=1")

    @get("/codes/{code_id:int}", guards=[readers])
    async def code(
        self, request: Staff, db: DB, settings: AppSettings, code_id: PathId
    ) -> Template:
        code, keywords = await queries.code(db, code_id)
        form = code_values(code, keywords, settings.timezone)
        return await self.editor(request, db, settings, line_id=code.line_id, code=code, form=form)

    @post("/codes/{code_id:int}", guards=[managers])
    async def save_code(
        self, request: Staff, db: DB, settings: AppSettings, code_id: PathId
    ) -> Response[Any]:
        code, _ = await queries.code(db, code_id)
        data = await form_data(request)
        try:
            await services.save_code(
                db,
                actor=staff_actor(request),
                line_id=code.line_id,
                code_id=code.id,
                **forms.parse_code(data, settings.timezone),
            )
        except UserError as error:
            return await self.editor(
                request, db, settings, line_id=code.line_id, code=code, form=data, error=error
            )
        return Redirect(f"/admin/sms-codes/codes/{code.id}?saved=1")


class ContactsController(Controller):
    """Everyone who texted a line: filtered by number, code, membership and opt-out,
    and exported as CSV for a campaign."""

    path = "/sms-contacts"
    include_in_schema = False

    @get("/", guards=[requires(Permission.CUSTOMERS_READ)])
    async def view(self, request: Staff, db: DB) -> Template:
        page = query_page(request)
        found = forms.contact_filter(request.query_params)
        rows, has_next, total = await queries.contacts(db, found, page)
        return Template(
            "sms_codes/admin/contacts.html",
            context={
                "staff": request.user,
                "contacts": rows,
                "page": page,
                "has_next": has_next,
                "total": total,
                "filter": found,
                "pager_query": urlencode(
                    [(k, v) for k, v in request.query_params.items() if k != "page"]
                ),
                "codes": await queries.code_choices(db),
            },
        )

    # A list of phone numbers leaves the building: owners and managers only, audited.
    @get("/export.csv", guards=[managers], opt={WRITES: True})
    async def export(self, request: Staff, db: DB, settings: AppSettings) -> Stream:
        found = forms.contact_filter(request.query_params)
        await audit.record(
            db,
            actor=staff_actor(request),
            action="sms_contacts.export",
            object_type="sms_contacts",
            object_id=None,
            details={
                "contacts": await queries.count_contacts(db, found),
                "filter": request.url.query[:500],
            },
        )
        language = current_language.get()
        yes, no = gettext("Yes"), gettext("No")
        header = [
            gettext(label)
            for label in (
                N_("Mobile number"),
                N_("Member"),
                N_("First message"),
                N_("Last message"),
                N_("Messages"),
                N_("Codes"),
                N_("Opted out"),
            )
        ]

        async def chunks() -> AsyncIterator[list[list[Any]]]:
            async for rows in queries.every_contact(request.app.state.sessionmaker, found):
                yield [
                    [
                        row.contact.phone,
                        (row.member_name or yes) if row.contact.customer_id else no,
                        csv_export.moment(row.contact.first_seen_at, language, settings.timezone),
                        csv_export.moment(row.contact.last_seen_at, language, settings.timezone),
                        row.contact.messages,
                        "، ".join(row.codes) if language == "fa" else ", ".join(row.codes),
                        yes if row.opted_out else no,
                    ]
                    for row in rows
                ]

        return csv_export.download("sms-contacts.csv", header, chunks())


class CouponsController(Controller):
    """SMS coupons at the till: type the code, mark it used (once)."""

    path = "/sms-coupons"
    include_in_schema = False
    guards = [requires(Permission.COUNTER)]

    async def show(
        self, request: Staff, db: DB, error: UserError | None = None, code: str = ""
    ) -> Template:
        used_id = query_id(request, "used")
        return Template(
            "sms_codes/admin/coupons.html",
            context={
                "staff": request.user,
                "coupons": await queries.recent_coupons(db),
                "used": await queries.coupon(db, used_id) if used_id and not error else None,
                "error": error.text() if error else None,
                "code": code[:40],
            },
            status_code=error.status if error else 200,
        )

    @get("/")
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.show(request, db)

    @post("/use")
    async def use(self, request: Staff, db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            coupon = await services.use_coupon(
                db, actor=staff_actor(request), coupon=data.get("code", "")
            )
        except UserError as error:
            return await self.show(request, db, error, data.get("code", ""))
        return Redirect(f"/admin/sms-coupons?used={coupon.id}")


CONTROLLERS = (SmsCodesController, ContactsController, CouponsController)
