"""The customer's web: SMS login, home, profile, language, logout."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from customers import service as customers
from customers.models import Customer
from loyalty import rules
from portal.points import points_handlers
from vafa.database import DB
from vafa.i18n import N_, current_language, gettext, parse_language
from vafa.i18n.formatting import format_number, parse_date
from vafa.i18n.normalize import InvalidPhone, normalize_phone, to_ascii_digits
from vafa.models import OtpChallenge
from vafa.security import otp, ratelimit, sessions
from vafa.settings import Settings
from vafa.web.forms import form_data, safe_next
from vafa.web.middleware import LANGUAGE_COOKIE

PUBLIC = {"exclude_from_auth": True}
OTP_COOKIE = "vafa_otp"
REF_COOKIE = "vafa_ref"
VERIFY_WINDOW = otp.SEND_WINDOW
VERIFY_PER_IP = 60
LANGUAGE_MAX_AGE = 365 * 24 * 3600


def language_cookie(language: str, settings: Settings) -> Cookie:
    return Cookie(
        key=LANGUAGE_COOKIE,
        value=language,
        max_age=LANGUAGE_MAX_AGE,
        path="/",
        samesite="lax",
        secure=settings.cookie_secure,
        httponly=True,
    )


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


def portal_router(settings: Settings) -> Router:
    audience = sessions.audiences(settings)["customer"]
    auth = sessions.make_auth(settings, audience, Customer)

    def login_page(error: str | None = None, status: int = 200, phone: str = "") -> Template:
        return Template(
            "portal/login.html",
            context={"error": error, "phone": phone[:40]},
            status_code=status,
        )

    @get("/login", opt=PUBLIC, include_in_schema=False)
    async def login_form(request: Request[Any, Any, Any]) -> Response[Any]:
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

    @post("/login", opt=PUBLIC, include_in_schema=False)
    async def login_submit(request: Request[Any, Any, Any], db: DB) -> Response[Any]:
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
            language=current_language.get(),
        )
        if issued.challenge_id is None:
            return login_page(
                gettext(
                    N_("Too many codes were requested. Please wait ten minutes and try again.")
                ),
                429,
                raw,
            )
        response = Redirect("/login/verify")
        response.set_cookie(_otp_cookie(issued.challenge_id, settings, settings.otp_ttl_seconds))
        return response

    async def _challenge(request: Request[Any, Any, Any], db: DB) -> OtpChallenge | None:
        challenge_id = request.cookies.get(OTP_COOKIE, "")[:64]
        return await db.get(OtpChallenge, challenge_id) if challenge_id else None

    def verify_page(
        challenge: OtpChallenge, error: str | None = None, status: int = 200
    ) -> Template:
        return Template(
            "portal/verify.html",
            context={"phone": challenge.phone, "error": error},
            status_code=status,
        )

    @get("/login/verify", opt=PUBLIC, include_in_schema=False)
    async def verify_form(request: Request[Any, Any, Any], db: DB) -> Response[Any]:
        challenge = await _challenge(request, db)
        if challenge is None:
            return Redirect("/login")
        return verify_page(challenge)

    @post("/login/verify", opt=PUBLIC, include_in_schema=False)
    async def verify_submit(request: Request[Any, Any, Any], db: DB) -> Response[Any]:
        challenge = await _challenge(request, db)
        if challenge is None:
            return login_page(gettext(N_("Your code has expired. Please ask for a new one.")), 400)
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
            return verify_page(
                challenge, gettext(N_("Your code has expired. Please ask for a new one.")), 400
            )
        customer, created = await customers.record_login(
            db,
            phone=phone,
            language=current_language.get(),
            referral_code=request.cookies.get(REF_COOKIE),
        )
        if created:
            await rules.award_bonus(
                db,
                kind="signup",
                customer_id=customer.id,
                key=f"signup:{customer.id}",
                tz=settings.timezone,
            )
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

    @post("/login/resend", opt=PUBLIC, include_in_schema=False)
    async def resend(request: Request[Any, Any, Any], db: DB) -> Response[Any]:
        challenge = await _challenge(request, db)
        if challenge is None:
            return Redirect("/login")
        issued = await otp.issue(
            db,
            settings=settings,
            phone=challenge.phone,
            ip=sessions.client_ip(request, settings),
            language=current_language.get(),
        )
        if issued.challenge_id is None:
            return verify_page(
                challenge,
                gettext(
                    N_("Too many codes were requested. Please wait ten minutes and try again.")
                ),
                429,
            )
        response = Redirect("/login/verify")
        response.set_cookie(_otp_cookie(issued.challenge_id, settings, settings.otp_ttl_seconds))
        return response

    def profile_page(
        customer: Customer,
        error: str | None = None,
        status: int = 200,
        saved: bool = False,
        form: dict[str, str] | None = None,
    ) -> Template:
        return Template(
            "portal/profile.html",
            context={"customer": customer, "error": error, "saved": saved, "form": form or {}},
            status_code=status,
        )

    @get("/profile", include_in_schema=False)
    async def profile(request: Request[Customer, Any, Any]) -> Template:
        return profile_page(request.user, saved=request.query_params.get("saved") == "1")

    @post("/profile", include_in_schema=False)
    async def profile_save(request: Request[Customer, Any, Any], db: DB) -> Response[Any]:
        data = await form_data(request)
        customer = await db.get(Customer, request.user.id)
        assert customer is not None
        language = parse_language(data.get("language")) or ""
        birthday = None
        if data.get("birthday", "").strip():
            try:
                birthday = parse_date(data["birthday"])
            except ValueError:
                return profile_page(
                    customer, gettext(N_("The birthday is not a valid date.")), 400, form=data
                )
        try:
            await customers.update_profile(
                db,
                customer=customer,
                name=data.get("name", ""),
                birthday=birthday,
                language=language,
                marketing_consent=data.get("marketing_consent") == "on",
                source="portal",
            )
        except customers.ProfileError as exc:
            return profile_page(customer, gettext(exc.args[0]), 400, form=data)
        if customer.name and customer.birthday:
            await rules.award_bonus(
                db,
                kind="profile",
                customer_id=customer.id,
                key=f"profile:{customer.id}",
                tz=settings.timezone,
            )
        response = Redirect("/profile?saved=1")
        response.set_cookie(language_cookie(customer.language, settings))
        return response

    @post("/logout", include_in_schema=False)
    async def logout(request: Request[Customer, Any, Any], db: DB) -> Response[Any]:
        await sessions.revoke(db, request.auth.jti)
        response = Redirect("/login")
        response.set_cookie(sessions.clear_cookie(audience, settings))
        return response

    @post("/logout/all", include_in_schema=False)
    async def logout_all(request: Request[Customer, Any, Any], db: DB) -> Response[Any]:
        await sessions.revoke_all(db, audience="customer", subject_id=request.user.id)
        response = Redirect("/login")
        response.set_cookie(sessions.clear_cookie(audience, settings))
        return response

    @post("/language", opt=PUBLIC, include_in_schema=False)
    async def switch_language(request: Request[Any, Any, Any]) -> Response[Any]:
        data = await form_data(request)
        language = parse_language(data.get("language"))
        target = safe_next(data.get("next"))
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
        response = Redirect(target)
        response.set_cookie(language_cookie(language, settings))
        return response

    return Router(
        path="/",
        route_handlers=[
            login_form,
            login_submit,
            verify_form,
            verify_submit,
            resend,
            *points_handlers(settings),
            profile,
            profile_save,
            logout,
            logout_all,
            switch_language,
        ],
        middleware=[auth.middleware],
    )
