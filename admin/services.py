"""Staff accounts: creation, password login with lockout, roles, and the audit log."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vafa import audit
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.i18n.normalize import fold, tidy_text
from vafa.models import Club, StaffUser
from vafa.money import Currency, default_currency
from vafa.permissions import Role
from vafa.security import ratelimit, sessions
from vafa.security.passwords import hash_password, password_problem, verify_password
from vafa.settings import Settings
from vafa.staff import USERNAME_MAX, clean_username, create_staff

__all__ = ["create_staff"]  # the staff page's and the command line's service

FREE_FAILURES = 3  # wrong passwords allowed before a (name, address) pair starts to wait
LOCK_BASE = timedelta(seconds=30)
LOCK_MAX = timedelta(hours=1)
# Wrong passwords are rate events in this bucket, forgotten after a day (when the
# worker's housekeeping deletes them anyway).
FAILURES = "staff_login_failure"
FORGET = timedelta(days=1)


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


async def _locked_until(session: AsyncSession, key: str, now: datetime) -> datetime | None:
    """When the pair's wait ends, if it is still waiting: `lock_delay` of its wrong
    passwords in the last day, counted from the latest."""
    count, latest = await ratelimit.recent(session, bucket=FAILURES, key=key, window=FORGET)
    delay = lock_delay(count)
    if not delay or latest is None:
        return None
    until: datetime = latest + delay
    return until if until > now else None


async def authenticate(
    session: AsyncSession, *, username: str, password: str, address: str | None = None
) -> Login:
    """Check a password. Wrong passwords are counted per (name, client address), in the
    caller's transaction, which the caller commits even though the login failed; after
    `FREE_FAILURES` of them that pair waits, longer each time, even with the right
    password. A name nobody has gets exactly the answers a real one gets (and its
    password is hashed all the same), so the answers do not tell which names exist,
    and a stranger elsewhere cannot lock a staff member out. A success resets the
    pair's count and is audited."""
    try:
        name = clean_username(username)
    except UserError:
        name = ""
    key = f"{name or fold(username)[:USERNAME_MAX]}\n{address or ''}"
    now = utcnow()
    locked_until = await _locked_until(session, key, now)
    if locked_until is not None:
        return Login(LoginResult.LOCKED, locked_until=locked_until)
    staff = (
        await session.scalar(
            select(StaffUser)
            .where(StaffUser.username == name)
            .with_for_update()
            # A staff cookie may have loaded this account into the session already.
            .execution_options(populate_existing=True)
        )
        if name
        else None
    )
    valid = await verify_password(staff.password_hash if staff else None, password)
    if staff is None or not staff.active or not valid:
        await ratelimit.record(session, bucket=FAILURES, key=key)
        return Login(LoginResult.BAD)
    await ratelimit.forget(session, bucket=FAILURES, key=key)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    await session.flush()
    await audit.record(
        session,
        actor=Actor.staff(staff.id, address),
        action="staff.login",
        object_type="staff",
        object_id=staff.id,
    )
    return Login(LoginResult.OK, staff=staff)


async def _owners_left(session: AsyncSession, excluding: int) -> int:
    count = await session.scalar(
        select(func.count()).where(
            StaffUser.role == Role.OWNER, StaffUser.active.is_(True), StaffUser.id != excluding
        )
    )
    return count or 0


async def update_staff(
    session: AsyncSession,
    *,
    staff: StaffUser,
    role: str,
    active: bool,
    actor: Actor,
) -> StaffUser:
    if role not in set(Role):
        raise UserError(N_("Unknown role."))
    if (role == Role.CASHIER) != (staff.role == Role.CASHIER):
        # A cashier belongs to a partner: made and unmade on the partner's page.
        raise UserError(N_("Cashiers are added on their partner's page."))
    losing_owner = staff.role == Role.OWNER and (role != Role.OWNER or not active)
    if losing_owner and await _owners_left(session, staff.id) == 0:
        raise UserError(N_("The club must keep at least one active owner."))
    before = {"role": staff.role, "active": staff.active}
    staff.role = role
    staff.active = active
    if not active:
        await sessions.revoke_all(session, audience="staff", subject_id=staff.id)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="staff.update",
        object_type="staff",
        object_id=staff.id,
        details={"before": before, "after": {"role": role, "active": active}},
    )
    return staff


async def set_password(
    session: AsyncSession,
    *,
    staff: StaffUser,
    password: str,
    actor: Actor,
) -> None:
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    staff.password_hash = await hash_password(password)
    staff.failed_logins = 0
    staff.locked_until = None
    # A new password ends every login made with the old one.
    await sessions.revoke_all(session, audience="staff", subject_id=staff.id)
    await audit.record(
        session,
        actor=actor,
        action="staff.password",
        object_type="staff",
        object_id=staff.id,
    )


CLUB_NAME_MAX = 120


async def save_club(
    session: AsyncSession, *, actor: Actor, name: str, currency: Currency, settings: Settings
) -> Club:
    """The club's name (as typed) and the unit its money is shown in."""
    name = tidy_text(name)
    if len(name) > CLUB_NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise UserError(N_("The club's name can have up to 120 letters."))
    club = await session.get(Club, 1, with_for_update=True)
    if club is None:  # an installation set up without the demo has no row yet
        club = Club(
            id=1,
            name="",
            timezone=settings.timezone,
            default_language=settings.default_language,
            currency=default_currency(settings.timezone),
        )
        session.add(club)
    before = {"name": club.name, "currency": club.currency}
    club.name, club.currency = name, currency
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="club.update",
        object_type="club",
        object_id=1,
        details={"before": before, "after": {"name": name, "currency": str(currency)}},
    )
    return club
