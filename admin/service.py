"""Staff accounts: creation, password login with lockout, roles, and the audit log."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import AuditLog, StaffUser
from vafa.database import utcnow
from vafa.i18n import N_
from vafa.i18n.normalize import fold
from vafa.security import sessions
from vafa.security.passwords import hash_password, password_problem, verify_password
from vafa.settings import ROLES

FREE_FAILURES = 3  # wrong passwords allowed before the account starts to wait
LOCK_BASE = timedelta(seconds=30)
LOCK_MAX = timedelta(hours=1)
USERNAME_MAX = 64


class StaffError(ValueError):
    """`args[0]` is an untranslated message for the person at the form."""


class LoginResult(enum.Enum):
    OK = "ok"
    BAD = "bad"  # wrong username or password, told apart from nothing
    LOCKED = "locked"


@dataclass(frozen=True)
class Login:
    result: LoginResult
    staff: StaffUser | None = None
    locked_until: datetime | None = None


def lock_delay(failures: int) -> timedelta:
    """Nothing for the first few mistakes, then 30 s, 1 min, 2 min, ... up to an hour."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(LOCK_BASE * (2 ** min(failures - FREE_FAILURES, 16)), LOCK_MAX)


def clean_username(raw: str) -> str:
    username = fold(raw)
    if (
        not username
        or len(username) > USERNAME_MAX
        or not all(ch.isalnum() or ch in "._-" for ch in username)
    ):
        raise StaffError(N_("Usernames use letters, digits, dots, dashes and underscores."))
    return username


async def audit(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int | None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    session.add(
        AuditLog(
            at=utcnow(),
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            details=details,
            ip=ip,
        )
    )
    await session.flush()


async def create_staff(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    actor_id: int | None,
    ip: str | None = None,
) -> StaffUser:
    username = clean_username(username)
    if role not in ROLES:
        raise StaffError(N_("Unknown role."))
    problem = password_problem(password)
    if problem:
        raise StaffError(problem)
    exists = await session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    if exists is not None:
        raise StaffError(N_("This username is taken."))
    staff = StaffUser(
        username=username,
        password_hash=await hash_password(password),
        role=role,
        created_at=utcnow(),
    )
    session.add(staff)
    await session.flush()
    await audit(
        session,
        actor_id=actor_id,
        action="staff.create",
        object_type="staff",
        object_id=staff.id,
        details={"username": username, "role": role},
        ip=ip,
    )
    return staff


async def authenticate(session: AsyncSession, *, username: str, password: str) -> Login:
    """Check a password. Failures are counted in the caller's transaction, which the
    caller commits even though the login failed."""
    try:
        name = clean_username(username)
    except StaffError:
        name = ""
    staff = (
        await session.scalar(select(StaffUser).where(StaffUser.username == name).with_for_update())
        if name
        else None
    )
    now = utcnow()
    if staff is not None and staff.locked_until is not None and staff.locked_until > now:
        return Login(LoginResult.LOCKED, locked_until=staff.locked_until)
    valid = await verify_password(staff.password_hash if staff else None, password)
    if staff is None or not staff.active:
        return Login(LoginResult.BAD)
    if not valid:
        staff.failed_logins += 1
        delay = lock_delay(staff.failed_logins)
        staff.locked_until = now + delay if delay else None
        await session.flush()
        return Login(LoginResult.BAD)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    await session.flush()
    return Login(LoginResult.OK, staff=staff)


async def _owners_left(session: AsyncSession, excluding: int) -> int:
    count = await session.scalar(
        select(func.count()).where(
            StaffUser.role == "owner", StaffUser.active.is_(True), StaffUser.id != excluding
        )
    )
    return count or 0


async def update_staff(
    session: AsyncSession,
    *,
    staff: StaffUser,
    role: str,
    active: bool,
    actor_id: int,
    ip: str | None = None,
) -> StaffUser:
    if role not in ROLES:
        raise StaffError(N_("Unknown role."))
    losing_owner = staff.role == "owner" and (role != "owner" or not active)
    if losing_owner and await _owners_left(session, staff.id) == 0:
        raise StaffError(N_("The club must keep at least one active owner."))
    before = {"role": staff.role, "active": staff.active}
    staff.role = role
    staff.active = active
    if not active:
        await sessions.revoke_all(session, audience="staff", subject_id=staff.id)
    await session.flush()
    await audit(
        session,
        actor_id=actor_id,
        action="staff.update",
        object_type="staff",
        object_id=staff.id,
        details={"before": before, "after": {"role": role, "active": active}},
        ip=ip,
    )
    return staff


async def set_password(
    session: AsyncSession,
    *,
    staff: StaffUser,
    password: str,
    actor_id: int | None,
    ip: str | None = None,
) -> None:
    problem = password_problem(password)
    if problem:
        raise StaffError(problem)
    staff.password_hash = await hash_password(password)
    staff.failed_logins = 0
    staff.locked_until = None
    # A new password ends every login made with the old one.
    await sessions.revoke_all(session, audience="staff", subject_id=staff.id)
    await audit(
        session,
        actor_id=actor_id,
        action="staff.password",
        object_type="staff",
        object_id=staff.id,
        ip=ip,
    )
