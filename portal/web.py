"""The customer's front: SMS login, logout, language, and the layout and menu in which
the domains' portal controllers are mounted behind the customer login."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from litestar.security.jwt import JWTCookieAuth, Token

from customers import queries as customer_queries
from customers import services as customers
from customers.models import Customer
from vafa.database import COMMIT_REFUSALS, DB
from vafa.i18n import N_, current_language, gettext, parse_language
from vafa.i18n.formatting import format_number
from vafa.i18n.normalize import InvalidPhone, normalize_phone, to_ascii_digits
from vafa.models import OtpChallenge
from vafa.security import otp, ratelimit, sessions
from vafa.settings import Settings
from vafa.web.deps import AppSettings
from vafa.web.forms import form_data, safe_next
from vafa.web.middleware import LANGUAGE_COOKIE, language_cookie

PUBLIC = {"exclude_from_auth": True}
OTP_COOKIE = "vafa_otp"
REF_COOKIE = "vafa_ref"
VERIFY_WINDOW = otp.SEND_WINDOW
VERIFY_PER_IP = 60
TOO_MANY_CODES = N_("Too many codes were requested. Please wait ten minutes and try again.")
EXPIRED = N_("Your code has expired. Please ask for a new one.")


@cache
def customer_auth(settings: Settings) -> tuple[sessions.Audience, JWTCookieAuth[Any, Token]]:
    audience = sessions.audiences(settings)["customer"]
    return audience, sessions.make_auth(settings, audience, Customer)


def _otp_cookie(value: str, settings: Settings, max_age: int) -> Cookie:
    return Cookie(
        key=OTP_COOKIE,
        value=value,
        path="/login",
        max_age=max_age,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def login_page(error: str | None = None, status: int = 200, phone: str = "") -> Template:
    return Template(
        "portal/login.html", context={"error": error, "phone": phone[:40]}, status_code=status
    )


def verify_page(challenge: OtpChallenge, error: str | None = None, status: int = 200) -> Template:
    return Template(
        "portal/verify.html",
        context={"phone": challenge.phone, "error": error},
        status_code=status,
    )


async def _challenge(request: Request[Any, Any, Any], db: DB) -> OtpChallenge | None:
    challenge_id = request.cookies.get(OTP_COOKIE, "")[:64]
    return await db.get(OtpChallenge, challenge_id) if challenge_id else None


async def sms_language(db: DB, phone: str) -> str:
    """A member's code comes in the language they chose; a new number's in the page's."""
    return await customer_queries.saved_language(db, phone) or current_language.get()


def _code_sent(challenge_id: str, settings: Settings) -> Response[Any]:
    response = Redirect("/login/verify")
    response.set_cookie(_otp_cookie(challenge_id, settings, settings.otp_ttl_seconds))
    return response


class LoginController(Controller):
    path = "/login"
    include_in_schema = False
    opt = PUBLIC

    @get("/")
    async def form(self, request: Request[Any, Any, Any], settings: AppSettings) -> Response[Any]:
        response = login_page()
        ref = request.query_params.get("ref", "")
        if ref and len(ref) <= 12 and ref.isascii() and ref.isalnum():
            # A friend's invitation link: remembered until this visitor becomes a member.
            response.set_cookie(
                Cookie(
                    key=REF_COOKIE,
                    value=ref.upper(),
                    path="/login",
                    max_age=30 * 86400,
                    httponly=True,
                    secure=settings.cookie_secure,
                    samesite="lax",
                )
            )
        return response

    @post("/")
    async def submit(
        self, request: Request[Any, Any, Any], db: DB, settings: AppSettings
    ) -> Response[Any]:
        data = await form_data(request)
        raw = data.get("phone", "")
        try:
            phone = normalize_phone(raw)
        except InvalidPhone:
            return login_page(
                gettext(N_("Please enter a valid mobile number, for example 0912 345 6789.")),
                400,
                raw,
            )
        issued = await otp.issue(
            db,
            settings=settings,
            phone=phone,
            ip=sessions.client_ip(request, settings),
            language=await sms_language(db, phone),
        )
        if issued.challenge_id is None:
            return login_page(gettext(TOO_MANY_CODES), 429, raw)
        return _code_sent(issued.challenge_id, settings)

    @get("/verify")
    async def verify_form(self, request: Request[Any, Any, Any], db: DB) -> Response[Any]:
        challenge = await _challenge(request, db)
        if challenge is None:
            return Redirect("/login")
        return verify_page(challenge)

    # A wrong code still counts as an attempt: the refusal is committed.
    @post("/verify", opt={COMMIT_REFUSALS: True})
    async def verify(
        self, request: Request[Any, Any, Any], db: DB, settings: AppSettings
    ) -> Response[Any]:
        challenge = await _challenge(request, db)
        if challenge is None:
            return login_page(gettext(EXPIRED), 400)
        if not await ratelimit.hit(
            db,
            bucket="otp_verify_ip",
            key=sessions.client_ip(request, settings),
            limit=VERIFY_PER_IP,
            window=VERIFY_WINDOW,
        ):
            return verify_page(
                challenge,
                gettext(N_("Too many attempts. Please wait a little and try again.")),
                429,
            )
        code = to_ascii_digits((await form_data(request)).get("code", "")).strip()
        if len(code) != otp.CODE_LENGTH or not code.isascii() or not code.isdigit():
            return verify_page(challenge, gettext(N_("The code has six digits.")), 400)
        result, phone = await otp.verify(
            db, settings=settings, challenge_id=challenge.id, code=code
        )
        if result is otp.VerifyResult.WRONG:
            left = settings.otp_max_attempts - challenge.attempts
            message = (
                gettext(
                    N_("This code is not correct. You have %(left)s tries left."),
                    left=format_number(left, current_language.get()),
                )
                if left > 0
                else gettext(
                    N_(
                        "This code is not correct, and no tries are left. Please ask for a new code."
                    )
                )
            )
            return verify_page(challenge, message, 400)
        if result is otp.VerifyResult.EXPIRED or phone is None:
            return verify_page(challenge, gettext(EXPIRED), 400)
        customer, _ = await customers.record_login(
            db,
            phone=phone,
            language=current_language.get(),
            referral_code=request.cookies.get(REF_COOKIE),
        )
        audience, auth = customer_auth(settings)
        cookie = await sessions.start(
            db,
            auth=auth,
            audience=audience,
            subject_id=customer.id,
            connection=request,
            settings=settings,
        )
        response = Redirect("/")
        response.set_cookie(cookie)
        response.set_cookie(_otp_cookie("", settings, 0))
        if LANGUAGE_COOKIE not in request.cookies:
            # A new device speaks the member's language; a choice made here stays.
            response.set_cookie(language_cookie(customer.language, settings))
        return response

    @post("/resend")
    async def resend(
        self, request: Request[Any, Any, Any], db: DB, settings: AppSettings
    ) -> Response[Any]:
        challenge = await _challenge(request, db)
        if challenge is None:
            return Redirect("/login")
        issued = await otp.issue(
            db,
            settings=settings,
            phone=challenge.phone,
            ip=sessions.client_ip(request, settings),
            language=await sms_language(db, challenge.phone),
        )
        if issued.challenge_id is None:
            return verify_page(challenge, gettext(TOO_MANY_CODES), 429)
        return _code_sent(issued.challenge_id, settings)


class LogoutController(Controller):
    path = "/logout"
    include_in_schema = False

    @post("/")
    async def logout(
        self, request: Request[Customer, Any, Any], db: DB, settings: AppSettings
    ) -> Response[Any]:
        await sessions.revoke(db, request.auth.jti)
        return self._out(settings)

    @post("/all")
    async def everywhere(
        self, request: Request[Customer, Any, Any], db: DB, settings: AppSettings
    ) -> Response[Any]:
        await sessions.revoke_all(db, audience="customer", subject_id=request.user.id)
        return self._out(settings)

    @staticmethod
    def _out(settings: Settings) -> Response[Any]:
        response = Redirect("/login")
        response.set_cookie(sessions.clear_cookie(customer_auth(settings)[0], settings))
        return response


class LanguageController(Controller):
    path = "/language"
    include_in_schema = False
    opt = PUBLIC

    @post("/")
    async def switch(self, request: Request[Any, Any, Any], settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        language = parse_language(data.get("language"))
        if language is None:
            return Template(
                "errors/page.html",
                context={
                    "status": 400,
                    "title": gettext(N_("Invalid request")),
                    "message": gettext(N_("This language is not available.")),
                },
                status_code=400,
            )
        response = Redirect(safe_next(data.get("next")))
        response.set_cookie(language_cookie(language, settings))
        return response


def portal_router(settings: Settings, controllers: Sequence[type]) -> Router:
    """The customer's site at `/`: this front's pages and the domains' portal
    controllers, behind the customer login."""
    _, auth = customer_auth(settings)
    return Router(
        path="/",
        route_handlers=[LoginController, LogoutController, LanguageController, *controllers],
        middleware=[auth.middleware],
    )
