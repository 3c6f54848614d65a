"""Errors a person sees: a translated page, or a small fragment for htmx requests.

Unauthenticated browser requests are sent to the right login page; nothing shows a
stack trace or a raw code.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from vafa.errors import UserError
from vafa.i18n import N_, current_language, gettext
from vafa.web.middleware import scope_language

log = logging.getLogger("vafa.web")

MESSAGES = {
    400: N_("The request could not be understood. Please check what you entered."),
    401: N_("Please log in to continue."),
    403: N_("You do not have permission to do this."),
    404: N_("We could not find this page."),
    405: N_("This action is not allowed here."),
    413: N_("What you sent is too large."),
    429: N_("Too many attempts. Please wait a little and try again."),
    500: N_("Something went wrong on our side. Please try again later."),
}
# The problem JSON's `code` when the refusal names none.
CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "server_error",
}
TITLES = {
    400: N_("Invalid request"),
    401: N_("Login required"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Not allowed"),
    413: N_("Too large"),
    429: N_("Too many attempts"),
    500: N_("Server error"),
}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(("/api/", "/schema")) or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[Any]:
    # Errors raised before routing (404, 405) never pass the language middleware.
    settings = request.app.state.settings
    current_language.set(scope_language(request.scope, settings.default_language))
    known = status if status in MESSAGES else (500 if status >= 500 else 400)
    title = gettext(TITLES[known])
    message = message or gettext(MESSAGES[known])
    if _wants_json(request):
        # RFC 9457 problem details, with a stable `code` for programs.
        code = code or CODES.get(status) or CODES[known]
        return Response(
            {
                "type": "about:blank",
                "title": title,
                "status": status,
                "detail": message,
                "code": code,
                **(extra or {}),
            },
            status_code=status,
            headers=headers,
            media_type="application/problem+json",
        )
    if request.headers.get("hx-request") == "true":
        # htmx swaps the fragment into the page's error slot instead of its target.
        return Template(
            "errors/fragment.html",
            context={"message": message},
            status_code=status,
            headers={**(headers or {}), "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
            media_type=MediaType.HTML,
        )
    return Template(
        "errors/page.html",
        context={"status": status, "title": title, "message": message},
        status_code=status,
        headers=headers,
        media_type=MediaType.HTML,
    )


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException) and request.method in ("GET", "HEAD"):
        if not _wants_json(request):
            target = "/admin/login" if request.url.path.startswith("/admin") else "/login"
            if request.headers.get("hx-request") == "true":
                return Response(b"", status_code=200, headers={"HX-Redirect": target})
            return Redirect(target)
    # Headers the exception carries stay: a 405's `Allow` lists the methods there are.
    extra = None
    if isinstance(exc, ValidationException) and _wants_json(request):
        # Which fields were wrong, as Litestar found them (names and reasons, no values).
        extra = {"errors": [
            {"field": str(e.get("key") or ""), "reason": str(e.get("message") or "")}
            for e in (exc.extra if isinstance(exc.extra, list) else [])
            if isinstance(e, dict)
        ]}
    return error_response(request, exc.status_code, headers=exc.headers, extra=extra)


def user_error_handler(request: Request[Any, Any, Any], exc: UserError) -> Response[Any]:
    """A service's refusal that the handler did not show on its own page."""
    current_language.set(
        scope_language(request.scope, request.app.state.settings.default_language)
    )
    return error_response(request, exc.status, exc.text(), headers=exc.headers, code=exc.code)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR)
