"""Logins as JWT cookies (Litestar's JWTCookieAuth, PyJWT) backed by session rows.

Every token carries a `jti` naming an `auth_sessions` row; the row is checked on each
request, so logout and "log out everywhere" revoke at once. Customers and staff use
different cookies, audiences and lifetimes; the staff cookie is only sent to /admin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.security.jwt import JWTCookieAuth, Token
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from vafa.database import request_session, rowcount, utcnow
from vafa.models import AuthSession
from vafa.settings import Settings

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Audience:
    name: str  # "customer" or "staff"
    cookie: str
    path: str
    lifetime: timedelta

    @property
    def claim(self) -> str:
        return f"vafa:{self.name}"


def audiences(settings: Settings) -> dict[str, Audience]:
    return {
        "customer": Audience(
            "customer", "vafa_session", "/", timedelta(days=settings.customer_session_days)
        ),
        "staff": Audience(
            "staff", "vafa_staff", "/admin", timedelta(hours=settings.staff_session_hours)
        ),
    }


def client_ip(connection: ASGIConnection[Any, Any, Any, Any], settings: Settings) -> str:
    """The caller's address; X-Forwarded-For is believed only from trusted proxies."""
    peer = connection.client.host if connection.client else "unknown"
    if peer in settings.trusted_proxies:
        hops = [h.strip() for h in connection.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if hop not in settings.trusted_proxies:
                return hop[:45]
    return peer[:45]


def make_auth(
    settings: Settings, audience: Audience, model: type[Any]
) -> JWTCookieAuth[Any, Token]:
    async def retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
        if not isinstance(token.jti, str):
            return None
        # The request's own session: the handler sees the same user object.
        session = await request_session(connection.scope).get()
        row = await session.get(AuthSession, token.jti)
        if (
            row is None
            or row.revoked_at is not None
            or row.audience != audience.name
            or row.expires_at <= utcnow()
            or str(row.subject_id) != token.sub
        ):
            return None
        user = await session.get(model, row.subject_id)
        if user is None or not getattr(user, "active", True):
            return None
        return user

    return JWTCookieAuth[Any, Token](
        token_secret=settings.secret_key,
        retrieve_user_handler=retrieve_user,
        algorithm=ALGORITHM,
        key=audience.cookie,
        path=audience.path,
        secure=settings.cookie_secure,
        samesite="lax",
        default_token_expiration=audience.lifetime,
        accepted_audiences=[audience.claim],
        strict_audience=True,
        require_claims=["exp", "jti", "aud", "sub"],
        exclude_opt_key="exclude_from_auth",
    )


async def start(
    session: AsyncSession,
    *,
    auth: JWTCookieAuth[Any, Token],
    audience: Audience,
    subject_id: int,
    connection: ASGIConnection[Any, Any, Any, Any],
    settings: Settings,
) -> Cookie:
    """Record a new login and return the cookie that carries it."""
    jti = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            id=jti,
            audience=audience.name,
            subject_id=subject_id,
            created_at=now,
            expires_at=now + audience.lifetime,
            ip=client_ip(connection, settings),
            user_agent=connection.headers.get("user-agent", "")[:200],
        )
    )
    await session.flush()
    token = auth.create_token(
        identifier=str(subject_id),
        token_expiration=audience.lifetime,
        token_audience=audience.claim,
        token_unique_jwt_id=jti,
    )
    return Cookie(
        key=audience.cookie,
        value=token,
        path=audience.path,
        max_age=int(audience.lifetime.total_seconds()),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def clear_cookie(audience: Audience, settings: Settings) -> Cookie:
    return Cookie(
        key=audience.cookie,
        value="",
        path=audience.path,
        max_age=0,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


async def revoke(session: AsyncSession, jti: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == jti, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_all(session: AsyncSession, *, audience: str, subject_id: int) -> int:
    result = await session.execute(
        update(AuthSession)
        .where(
            AuthSession.audience == audience,
            AuthSession.subject_id == subject_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return rowcount(result)
