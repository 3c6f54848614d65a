"""The staff web: login, home, staff management (owners), SMS log, audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from sqlalchemy import func, select

from admin import service
from admin.loyalty import loyalty_handlers
from admin.models import AuditLog, StaffUser
from customers.models import Customer
from vafa.database import DB
from vafa.i18n import N_, gettext
from vafa.models import SmsMessage
from vafa.security import ratelimit, sessions
from vafa.security.guards import require_roles
from vafa.settings import ROLES, Settings
from vafa.sms.outbox import masked_body
from vafa.web.forms import PathId, form_data, query_page

PUBLIC = {"exclude_from_auth": True}
LOGIN_PER_IP = 30
LOGIN_WINDOW = timedelta(minutes=10)
PAGE_SIZE = 50

owners_only = require_roles("owner")
sms_readers = require_roles("owner", "manager", "agent")
audit_readers = require_roles("owner", "manager")


def admin_router(settings: Settings) -> Router:
    audience = sessions.audiences(settings)["staff"]
    auth = sessions.make_auth(settings, audience, StaffUser)

    def login_page(error: str | None = None, status: int = 200, username: str = "") -> Template:
        return Template(
            "admin/login.html",
            context={"error": error, "username": username[:64]},
            status_code=status,
        )

    @get("/login", opt=PUBLIC, include_in_schema=False)
    async def login_form() -> Template:
        return login_page()

    @post("/login", opt=PUBLIC, include_in_schema=False)
    async def login_submit(request: Request[Any, Any, Any], db: DB) -> Response[Any]:
        data = await form_data(request)
        username, password = data.get("username", ""), data.get("password", "")
        ip = sessions.client_ip(request, settings)
        if not await ratelimit.hit(
            db, bucket="staff_login_ip", key=ip, limit=LOGIN_PER_IP, window=LOGIN_WINDOW
        ):
            return login_page(
                gettext(N_("Too many attempts. Please wait a little and try again.")), 429, username
            )
        login = await service.authenticate(db, username=username, password=password[:256])
        if login.result is service.LoginResult.LOCKED:
            return login_page(
                gettext(N_("Too many wrong passwords. Please wait a little and try again.")),
                429,
                username,
            )
        if login.staff is None:
            return login_page(gettext(N_("Wrong username or password.")), 400, username)
        cookie = await sessions.start(
            db,
            auth=auth,
            audience=audience,
            subject_id=login.staff.id,
            connection=request,
            settings=settings,
        )
        await service.audit(
            db,
            actor_id=login.staff.id,
            action="staff.login",
            object_type="staff",
            object_id=login.staff.id,
            ip=ip,
        )
        response = Redirect("/admin/")
        response.set_cookie(cookie)
        return response

    @post("/logout", include_in_schema=False)
    async def logout(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        await sessions.revoke(db, request.auth.jti)
        response = Redirect("/admin/login")
        response.set_cookie(sessions.clear_cookie(audience, settings))
        return response

    @get("/", include_in_schema=False)
    async def home(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        customers = await db.scalar(select(func.count()).select_from(Customer))
        waiting = await db.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.status.in_(("pending", "sending")))
        )
        failed = await db.scalar(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.status == "failed")
        )
        return Template(
            "admin/home.html",
            context={
                "staff": request.user,
                "customers": customers or 0,
                "sms_waiting": waiting or 0,
                "sms_failed": failed or 0,
            },
        )

    @get("/sms", guards=[sms_readers], include_in_schema=False)
    async def sms_log(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        page = query_page(request)
        rows = (
            await db.scalars(
                select(SmsMessage)
                .order_by(SmsMessage.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1)
            )
        ).all()
        return Template(
            "admin/sms.html",
            context={
                "staff": request.user,
                "messages": [(m, masked_body(m)) for m in rows[:PAGE_SIZE]],
                "page": page,
                "has_next": len(rows) > PAGE_SIZE,
            },
        )

    @get("/audit", guards=[audit_readers], include_in_schema=False)
    async def audit_log(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        page = query_page(request)
        rows = (
            await db.execute(
                select(AuditLog, StaffUser.username)
                .outerjoin(StaffUser, StaffUser.id == AuditLog.actor_id)
                .order_by(AuditLog.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1)
            )
        ).all()
        return Template(
            "admin/audit.html",
            context={
                "staff": request.user,
                "entries": rows[:PAGE_SIZE],
                "page": page,
                "has_next": len(rows) > PAGE_SIZE,
            },
        )

    async def staff_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        members = (await db.scalars(select(StaffUser).order_by(StaffUser.username))).all()
        return Template(
            "admin/staff.html",
            context={
                "staff": request.user,
                "members": members,
                "roles": ROLES,
                "error": error,
                "form": form or {},
            },
            status_code=status,
        )

    @get("/staff", guards=[owners_only], include_in_schema=False)
    async def staff_list(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        return await staff_page(request, db)

    @post("/staff", guards=[owners_only], include_in_schema=False)
    async def staff_create(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            await service.create_staff(
                db,
                username=data.get("username", ""),
                password=data.get("password", ""),
                role=data.get("role", ""),
                actor_id=request.user.id,
                ip=sessions.client_ip(request, settings),
            )
        except service.StaffError as exc:
            data.pop("password", None)
            return await staff_page(request, db, gettext(exc.args[0]), 400, data)
        return Redirect("/admin/staff")

    async def _member(db: DB, staff_id: int) -> StaffUser:
        member = await db.get(StaffUser, staff_id, with_for_update=True)
        if member is None:
            raise NotFoundException()
        return member

    @post("/staff/{staff_id:int}", guards=[owners_only], include_in_schema=False)
    async def staff_update(
        request: Request[StaffUser, Any, Any], db: DB, staff_id: PathId
    ) -> Response[Any]:
        member = await _member(db, staff_id)
        data = await form_data(request)
        try:
            await service.update_staff(
                db,
                staff=member,
                role=data.get("role", ""),
                active=data.get("active") == "on",
                actor_id=request.user.id,
                ip=sessions.client_ip(request, settings),
            )
        except service.StaffError as exc:
            return await staff_page(request, db, gettext(exc.args[0]), 400)
        return Redirect("/admin/staff")

    @post("/staff/{staff_id:int}/password", guards=[owners_only], include_in_schema=False)
    async def staff_password(
        request: Request[StaffUser, Any, Any], db: DB, staff_id: PathId
    ) -> Response[Any]:
        member = await _member(db, staff_id)
        data = await form_data(request)
        try:
            await service.set_password(
                db,
                staff=member,
                password=data.get("password", ""),
                actor_id=request.user.id,
                ip=sessions.client_ip(request, settings),
            )
        except service.StaffError as exc:
            return await staff_page(request, db, gettext(exc.args[0]), 400)
        return Redirect("/admin/staff")

    return Router(
        path="/admin",
        route_handlers=[
            login_form,
            login_submit,
            logout,
            home,
            sms_log,
            audit_log,
            staff_list,
            staff_create,
            staff_update,
            staff_password,
            *loyalty_handlers(settings),
        ],
        middleware=[auth.middleware],
    )
