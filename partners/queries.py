"""What the partners staff pages read: the partners, one partner's keys and cashiers,
and who closed a settlement period."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from partners.models import ApiKey, Cashier, Partner
from vafa.errors import NotFound
from vafa.models import StaffUser


async def partner_list(session: AsyncSession) -> list[Partner]:
    """Every partner, the club's own tills first, then in the order they were added."""
    found = await session.scalars(select(Partner).order_by(Partner.home.desc(), Partner.id))
    return list(found.all())


async def partner(session: AsyncSession, partner_id: int) -> Partner:
    found = await session.get(Partner, partner_id)
    if found is None:
        raise NotFound()
    return found


async def keys(session: AsyncSession, partner_id: int) -> list[ApiKey]:
    """The partner's API keys, the newest first (revoked ones too: they say who used
    what when)."""
    found = await session.scalars(
        select(ApiKey).where(ApiKey.partner_id == partner_id).order_by(ApiKey.id.desc())
    )
    return list(found.all())


async def cashiers(session: AsyncSession, partner_id: int) -> list[StaffUser]:
    found = await session.scalars(
        select(StaffUser)
        .join(Cashier, Cashier.staff_id == StaffUser.id)
        .where(Cashier.partner_id == partner_id)
        .order_by(StaffUser.username)
    )
    return list(found.all())


async def staff_names(session: AsyncSession, labels: Iterable[str]) -> dict[str, str]:
    """Usernames of the staff that `labels` name (`staff:3`, as rows record who made
    them); other labels are left out."""
    ids = {
        int(label.removeprefix("staff:"))
        for label in labels
        if label.startswith("staff:") and label.removeprefix("staff:").isdigit()
    }
    if not ids:
        return {}
    found = await session.execute(
        select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(ids))
    )
    return {f"staff:{staff_id}": username for staff_id, username in found.all()}
