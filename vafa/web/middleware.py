"""The request's language (middleware) and security headers on every response (hook)."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, BeforeMessageSendHookHandler, Message, Receive, Scope, Send

from vafa.i18n import current_language, parse_language
from vafa.settings import Settings

LANGUAGE_COOKIE = "vafa_lang"
LANGUAGE_MAX_AGE = 365 * 24 * 3600

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(self), geolocation=(), microphone=()",
    "cross-origin-opener-policy": "same-origin",
}
# Browsers that once saw the site over HTTPS keep to HTTPS for two years, subdomains
# included. Sent only when cookies are secure, that is when the site is served over HTTPS.
HSTS = "max-age=63072000; includeSubDomains"


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header must not break the page
                return None
            if name in jar:
                return jar[name].value
    return None


def _accepted(scope: Scope) -> str | None:
    """The first of our languages in `Accept-Language`, by its q-values."""
    for key, value in scope.get("headers", []):
        if key != b"accept-language":
            continue
        ranked = []
        for position, part in enumerate(value.decode("latin-1").split(",")[:20]):
            tag, _, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            ranked.append((-q, position, tag.strip().split("-")[0].lower()))
        for q, _, tag in sorted(ranked):
            language = parse_language(tag)
            if language and q < 0:
                return language
    return None


def scope_language(scope: Scope, default: str) -> str:
    """The language cookie's; for the API (called by programs, not browsers) the
    `Accept-Language` header's; else the club's."""
    chosen = parse_language(_cookie(scope, LANGUAGE_COOKIE))
    if chosen is None and str(scope.get("path", "")).startswith("/api/"):
        chosen = _accepted(scope)
    return chosen or default


def language_middleware(default: str) -> Any:
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            token = current_language.set(scope_language(scope, default))
            try:
                await app(scope, receive, send)
            finally:
                current_language.reset(token)

        return middleware

    return factory


def security_headers(settings: Settings) -> BeforeMessageSendHookHandler:
    """A `before_send` hook, so every response gets the headers, 404s included."""
    headers_to_add = dict(SECURITY_HEADERS)
    if settings.cookie_secure:
        headers_to_add["strict-transport-security"] = HSTS

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in headers_to_add.items():
            if name not in headers:
                headers[name] = value
        # Pages carry personal data: never keep them in shared caches.
        if "cache-control" not in headers and not scope["path"].startswith("/static"):
            headers["cache-control"] = "no-store"

    return hook


def language_cookie(language: str, settings: Settings) -> Cookie:
    """Remembers the visitor's language choice for a year."""
    return Cookie(
        key=LANGUAGE_COOKIE,
        value=language,
        max_age=LANGUAGE_MAX_AGE,
        path="/",
        samesite="lax",
        secure=settings.cookie_secure,
        httponly=True,
    )
