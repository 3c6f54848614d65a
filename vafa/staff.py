"""Staff accounts: creating one, for the admin's staff page, the command line, and
domains that give a login to someone they manage (a partner's cashiers)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vafa import audit
from vafa.actor import Actor
from vafa.database import utcnow
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.i18n.normalize import fold
from vafa.models import StaffUser
from vafa.permissions import Role
from vafa.security.passwords import hash_password, password_problem

USERNAME_MAX = 64


def clean_username(raw: str) -> str:
    username = fold(raw)
    if (
        not username
        or len(username) > USERNAME_MAX
        or not all(ch.isalnum() or ch in "._-" for ch in username)
    ):
        raise UserError(N_("Usernames use letters, digits, dots, dashes and underscores."))
    return username


async def create_staff(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    actor: Actor,
    cashier: bool = False,
) -> StaffUser:
    """A new staff login. A cashier's (`cashier=True`) is made only by the domain that
    binds it to its partner; the staff page cannot make one bound to nothing."""
    username = clean_username(username)
    if role not in set(Role):
        raise UserError(N_("Unknown role."))
    if (role == Role.CASHIER) != cashier:
        raise UserError(N_("Cashiers are added on their partner's page."))
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    exists = await session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    if exists is not None:
        raise UserError(N_("This username is taken."))
    staff = StaffUser(
        username=username,
        password_hash=await hash_password(password),
        role=role,
        created_at=utcnow(),
    )
    session.add(staff)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="staff.create",
        object_type="staff",
        object_id=staff.id,
        details={"username": username, "role": role},
    )
    return staff


