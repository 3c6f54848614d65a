"""The staff front: login, dashboard, staff accounts (owners), SMS log, audit log, and
the layout and menu in which the domains' admin controllers are mounted behind the
staff login."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import Redirect, Template
from litestar.security.jwt import JWTCookieAuth, Token

from admin import queries, services
from vafa.club import profile_of
from vafa.database import COMMIT_REFUSALS, DB, request_session
from vafa.domain import AlertSource, NavEntry, StaffAlert
from vafa.errors import UserError
from vafa.i18n import N_, gettext
from vafa.models import StaffUser
from vafa.money import Currency
from vafa.permissions import Permission, Role, requires, user_can
from vafa.security import ratelimit, sessions
from vafa.settings import Settings
from vafa.sms import outbox
from vafa.web.actors import staff_actor
from vafa.web.deps import AppSettings
from vafa.web.forms import PathId, form_data, parse_choice, parse_text, query_page

PUBLIC = {"exclude_from_auth": True}
LOGIN_PER_IP = 30
LOGIN_WINDOW = timedelta(minutes=10)

Staff = Request[StaffUser, Any, Any]

# The admin's own menu entries; the domains add theirs (see `vafa.domain.NavEntry`).
NAV = (
    NavEntry("/admin/", N_("Dashboard"), Permission.DASHBOARD, order=0),
    NavEntry("/admin/sms", N_("SMS log"), Permission.SMS_READ, 80),
    NavEntry("/admin/audit", N_("Audit log"), Permission.AUDIT_READ, 81),
    NavEntry("/admin/staff", N_("Staff"), Permission.STAFF_MANAGE, 82),
    NavEntry("/admin/club", N_("Club"), Permission.SETUP_READ, 83),
)


@cache
def staff_auth(settings: Settings) -> tuple[sessions.Audience, JWTCookieAuth[Any, Token]]:
    audience = sessions.audiences(settings)["staff"]
    return audience, sessions.make_auth(settings, audience, StaffUser)


def login_page(error: str | None = None, status: int = 200, username: str = "") -> Template:
    return Template(
        "admin/login.html",
        context={"error": error, "username": username[:64]},
        status_code=status,
    )


class AuthController(Controller):
    include_in_schema = False

    @get("/login", opt=PUBLIC)
    async def form(self) -> Template:
        return login_page()

    # A wrong password still counts toward the lockout: the refusal is committed.
    @post("/login", opt={**PUBLIC, COMMIT_REFUSALS: True})
    async def submit(
        self, request: Request[Any, Any, Any], db: DB, settings: AppSettings
    ) -> Response[Any]:
        data = await form_data(request)
        username, password = data.get("username", ""), data.get("password", "")
        ip = sessions.client_ip(request, settings)
        if not await ratelimit.hit(
            db, bucket="staff_login_ip", key=ip, limit=LOGIN_PER_IP, window=LOGIN_WINDOW
        ):
            return login_page(
                gettext(N_("Too many attempts. Please wait a little and try again.")), 429, username
            )
        login = await services.authenticate(
            db, username=username, password=password[:256], address=ip
        )
        if login.result is services.LoginResult.LOCKED:
            return login_page(
                gettext(N_("Too many wrong passwords. Please wait a little and try again.")),
                429,
                username,
            )
        if login.staff is None:
            return login_page(gettext(N_("Wrong username or password.")), 400, username)
        audience, auth = staff_auth(settings)
        cookie = await sessions.start(
            db,
            auth=auth,
            audience=audience,
            subject_id=login.staff.id,
            connection=request,
            settings=settings,
        )
        response = Redirect("/admin/")
        response.set_cookie(cookie)
        return response

    @post("/logout")
    async def logout(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        await sessions.revoke(db, request.auth.jti)
        response = Redirect("/admin/login")
        response.set_cookie(sessions.clear_cookie(staff_auth(settings)[0], settings))
        return response


class DashboardController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Staff, db: DB) -> Response[Any]:
        if not user_can(request.user, Permission.DASHBOARD):
            # A cashier, say: their first page is the first the menu gives them.
            first = next(
                (
                    entry.path
                    for entry in request.app.state.admin_nav
                    if entry.permission is not None and user_can(request.user, entry.permission)
                ),
                None,
            )
            if first is None:
                raise PermissionDeniedException("not permitted")
            return Redirect(first)
        found = await queries.dashboard(db)
        return Template(
            "admin/home.html",
            context={
                "staff": request.user,
                "customers": found.customers,
                "sms_waiting": found.sms_waiting,
                "sms_failed": found.sms_failed,
            },
        )

    @get("/sms", guards=[requires(Permission.SMS_READ)])
    async def sms_log(self, request: Staff, db: DB) -> Template:
        found = await queries.sms_log(db, query_page(request))
        return Template(
            "admin/sms.html",
            context={
                "staff": request.user,
                "messages": found.rows,
                "page": found.number,
                "has_next": found.has_next,
            },
        )

    @get("/audit", guards=[requires(Permission.AUDIT_READ)])
    async def audit_log(self, request: Staff, db: DB) -> Template:
        found = await queries.audit_log(db, query_page(request))
        return Template(
            "admin/audit.html",
            context={
                "staff": request.user,
                "entries": found.rows,
                "page": found.number,
                "has_next": found.has_next,
            },
        )


class StaffController(Controller):
    """Staff accounts (owners). Each change redirects to `?saved=<what>`, which the page
    confirms: `create`, `update` (role or active) or `password`."""

    path = "/staff"
    include_in_schema = False
    guards = [requires(Permission.STAFF_MANAGE)]
    SAVED = frozenset({"create", "update", "password"})

    async def show(
        self,
        request: Staff,
        db: DB,
        error: UserError | None = None,
        form: Any = None,
        saved: str = "",
    ) -> Template:
        return Template(
            "admin/staff.html",
            context={
                "staff": request.user,
                "members": await queries.staff_list(db),
                "roles": [r for r in Role if r != Role.CASHIER],  # cashiers: on their partner's page
                "error": error.text() if error else None,
                "form": form or {},
                "saved": saved if saved in self.SAVED else "",
            },
            status_code=error.status if error else 200,
        )

    @get("/")
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.show(request, db, saved=request.query_params.get("saved", ""))

    @post("/")
    async def create(self, request: Staff, db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            await services.create_staff(
                db,
                username=data.get("username", ""),
                password=data.get("password", ""),
                role=data.get("role", ""),
                actor=staff_actor(request),
            )
        except UserError as error:
            data.pop("password", None)
            return await self.show(request, db, error, data)
        return Redirect("/admin/staff?saved=create")

    async def _member(self, db: DB, staff_id: int) -> StaffUser:
        member = await queries.staff_member(db, staff_id)
        if member is None:
            raise NotFoundException()
        return member

    @post("/{staff_id:int}")
    async def update(self, request: Staff, db: DB, staff_id: PathId) -> Response[Any]:
        member = await self._member(db, staff_id)
        data = await form_data(request)
        try:
            await services.update_staff(
                db,
                staff=member,
                role=data.get("role", ""),
                active=data.get("active") == "on",
                actor=staff_actor(request),
            )
        except UserError as error:
            return await self.show(request, db, error)
        return Redirect("/admin/staff?saved=update")

    @post("/{staff_id:int}/password")
    async def password(self, request: Staff, db: DB, staff_id: PathId) -> Response[Any]:
        member = await self._member(db, staff_id)
        data = await form_data(request)
        try:
            await services.set_password(
                db, staff=member, password=data.get("password", ""), actor=staff_actor(request)
            )
        except UserError as error:
            return await self.show(request, db, error)
        return Redirect("/admin/staff?saved=password")


class ClubController(Controller):
    """The club's name and the unit its money is shown in."""

    path = "/club"
    include_in_schema = False

    def show(
        self, request: Staff, error: UserError | None = None, form: Any = None, saved: bool = False
    ) -> Template:
        profile = request.app.state.club.profile
        return Template(
            "admin/club.html",
            context={
                "staff": request.user,
                "form": form or {"name": profile.name, "currency": profile.currency},
                "currencies": list(Currency),
                "error": error.text() if error else None,
                "saved": saved,
            },
            status_code=error.status if error else 200,
        )

    @get("/", guards=[requires(Permission.SETUP_READ)])
    async def view(self, request: Staff) -> Template:
        return self.show(request, saved=request.query_params.get("saved") == "1")

    @post("/", guards=[requires(Permission.SETUP_MANAGE)])
    async def save(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        try:
            club = await services.save_club(
                db,
                actor=staff_actor(request),
                name=parse_text(data, "name", N_("Club name"), limit=services.CLUB_NAME_MAX),
                currency=parse_choice(data, "currency", N_("Money is shown in"), Currency),
                settings=settings,
            )
        except UserError as error:
            return self.show(request, error, data)
        # This process shows the new profile at once; the others within seconds.
        request.app.state.club.profile = profile_of(club, settings.timezone)
        return Redirect("/admin/club?saved=1")


def alerts_hook(settings: Settings, sources: Sequence[AlertSource]) -> Any:
    """Before a staff page: what needs this staff member's attention, for the layout
    (`request.state.staff_alerts`). Not for forms' posts or htmx fragments."""

    async def hook(request: Staff) -> None:
        user = request.scope.get("user")
        if request.method != "GET" or user is None or request.headers.get("hx-request"):
            return
        db = await request_session(request.scope).get()
        found: list[StaffAlert] = []
        for source in sources:
            found.extend(
                alert
                for alert in await source(db, settings)
                if alert.permission is None or user_can(user, alert.permission)
            )
        request.state.staff_alerts = found

    return hook


def admin_router(
    settings: Settings, controllers: Sequence[type], alerts: Sequence[AlertSource] = ()
) -> Router:
    """The staff site under `/admin`: this front's pages and the domains' admin
    controllers, behind the staff login, each page with the alerts for its reader."""
    _, auth = staff_auth(settings)
    return Router(
        before_request=alerts_hook(settings, [outbox.staff_alerts, *alerts]),
        path="/admin",
        route_handlers=[
            AuthController,
            DashboardController,
            StaffController,
            ClubController,
            *controllers,
        ],
        middleware=[auth.middleware],
    )
